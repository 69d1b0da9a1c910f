"""The package's shape: the no-model subpackages never import the model stack, and every rule file
names the subpackage its stage lives in."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import REPO

SRC = REPO / "src" / "meaningmaps"
NO_MODEL = ("data", "maps", "evaluation", "workflow")  # and the top-level modules
MODEL_STACK = ("torch", "transformers", "peft", "deepspeed", "accelerate")


def _no_model_modules() -> list[str]:
    names = [f"meaningmaps.{p.stem}" for p in SRC.glob("*.py") if p.stem not in ("__init__", "cli")]
    for pkg in NO_MODEL:
        names += [f"meaningmaps.{pkg}.{p.stem}" for p in sorted((SRC / pkg).glob("*.py")) if p.stem != "__init__"]
    return sorted(names)


def test_no_model_subpackages_import_no_model_stack():
    """Importing every module of data/, maps/, evaluation/, workflow/ and the top level loads none of
    torch, transformers, peft, deepspeed (the light rules run in envs/core.yaml, which has none)."""
    modules = _no_model_modules()
    assert len(modules) > 30
    code = (f"import sys; sys.path.insert(0, {str(REPO / 'src')!r}); "
            + "; ".join(f"import {m}" for m in modules)
            + f"; print(sorted(k for k in {MODEL_STACK!r} if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", (out.stdout, out.stderr[-800:])


def test_no_model_subpackages_have_no_lazy_model_imports():
    """Nor inside a function (which the import test above cannot see)."""
    pattern = re.compile(rf"^\s*(?:import|from)\s+({'|'.join(MODEL_STACK)})\b", re.M)
    files = [p for pkg in NO_MODEL for p in (SRC / pkg).glob("*.py")] + list(SRC.glob("*.py"))
    offenders = [f"{p.relative_to(REPO)}: {m.group(0).strip()}" for p in files for m in pattern.finditer(p.read_text())]
    assert offenders == []


def test_every_rule_file_names_its_modules_and_they_exist():
    """Each rule file's header says where its code lives (`Modules: src/meaningmaps/...`); the paths exist."""
    for smk in sorted((REPO / "rules").glob("*.smk")):
        lines = smk.read_text().splitlines()
        header = "\n".join(lines[: next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))])
        paths = re.findall(r"src/meaningmaps/[\w/]+\.py", header)
        assert paths, f"{smk.name}: the header names no module (src/meaningmaps/...)"
        for path in paths:
            assert (REPO / path).is_file(), f"{smk.name} names {path}, which does not exist"
