"""The light install: `pip install meaningmaps[workflow]` (the package and snakemake, no extras
beyond) has no torch and no DeepSpeed, and runs the workflow without the model steps.

A fresh venv WITHOUT --system-site-packages (so nothing of this checkout's .venv can help), the
package installed non-editable with the tested versions of envs/constraints.txt (pip may use its
cache and the package index), then that venv's snakemake on a 2-scene demo study with
`model.enabled: false`, through to figures/comparison.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from meaningmaps.data.demo import make_demo_study

from .conftest import REPO, demo_config

pytestmark = pytest.mark.slow

HEAVY = ("torch", "deepspeed", "transformers", "peft", "accelerate")


def _run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def _package_source(dest):
    """What pip needs to build the package, copied out of the checkout: pip builds a local
    directory in place, and setuptools would leave build/ and an egg-info in the checkout."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


def test_light_install_runs_the_workflow_without_torch(tmp_path):
    timings = {}
    t0 = time.perf_counter()
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])
    py, bindir = venv / "bin" / "python", venv / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    src = _package_source(tmp_path / "pkg")
    _run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "-c", REPO / "envs" / "constraints.txt", f"{src}[workflow]"], env=env, timeout=1200)
    timings["install"] = time.perf_counter() - t0

    # Installed (not editable, not this checkout's), with snakemake, and nothing of the model steps.
    probe = _run([py, "-c", "import importlib.util as u, json, meaningmaps, snakemake; print(json.dumps("
                  "[meaningmaps.__file__, snakemake.__version__, {m: u.find_spec(m) is not None for m in "
                  f"{HEAVY!r}}}]))"], env=env, cwd=tmp_path)
    where, snakemake_version, found = yaml.safe_load(probe.stdout)
    assert where.startswith(str(venv)), where
    pinned = [line.split("==")[1].strip() for line in (REPO / "envs" / "constraints.txt").read_text().splitlines()
              if line.startswith("snakemake==")]
    assert [snakemake_version] == pinned
    assert found == {m: False for m in HEAVY}, found
    torch = subprocess.run([py, "-c", "import torch"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert torch.returncode != 0 and "No module named 'torch'" in torch.stderr

    # The no-model workflow, run by that venv's snakemake.
    t1 = time.perf_counter()
    root = tmp_path / "study"
    make_demo_study(root / "data", n_scenes=2)
    cfg = demo_config(root)
    cfg["model"]["enabled"] = False
    cfg["evaluation"]["bootstrap"] = 200
    configfile = root / "config.yaml"
    configfile.write_text(yaml.safe_dump(cfg))
    proc = _run([bindir / "snakemake", "-s", REPO / "Snakefile", "--configfile", configfile, "--cores", "2"],
                cwd=root, env=env, timeout=1200)
    timings["workflow"] = time.perf_counter() - t1
    figure = root / "results" / "figures" / "comparison.png"
    assert figure.is_file() and figure.stat().st_size > 0, proc.stderr[-3000:]
    assert not (root / "results" / "models").exists()  # no model step ran
    print(f"light install {timings['install']:.0f} s, no-model workflow {timings['workflow']:.0f} s")
