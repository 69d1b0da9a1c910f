"""The gbvs map source through snakemake: maps equal to Harel's toolbox (run under Octave) on the
demo's scenes, and meaning vs salience in the evaluation both ways."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from .conftest import REPO, demo_config

pytestmark = pytest.mark.slow  # runs the workflow

REF = np.load(Path(__file__).parent / "data" / "gbvs_octave" / "demo_reference.npz")


def test_gbvs_source_in_the_demo_workflow(tmp_path):
    from meaningmaps.data.demo import make_demo_study

    make_demo_study(tmp_path / "data", n_scenes=3)
    cfg = demo_config(tmp_path)
    cfg["model"]["enabled"] = False
    assert cfg["gbvs"]["enabled"] and ["human", "gbvs"] in cfg["evaluation"]["semipartial"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [str(Path(sys.executable).with_name("snakemake")), "-s", str(REPO / "Snakefile"),
           "--configfile", "config.yaml", "--cores", "2"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-4000:]

    res = tmp_path / "results"
    stride = int(REF["stride"])
    for scene, ref_name in (("scene_01", "scene_01"), ("scene_02", "scene_02_grey"), ("scene_03", "scene_03")):
        m = np.load(res / "maps" / "gbvs" / f"{scene}.npy")
        assert m.dtype == np.float32 and m.shape == (384, 512)
        want = REF[f"{ref_name}/master_map_resized"]
        # float32 storage: 6e-8 of the map's maximum (1) at most
        assert np.abs(m[::stride, ::stride] - want).max() <= 1e-6 * want.max()
    log = (res / "logs" / "maps" / "gbvs" / "scene_02.log").read_text()
    assert "greyscale" in log  # the greyscale PNG went in as one channel, as MATLAB's imread reads it

    summary = pd.read_csv(res / "evaluation" / "summary.csv").set_index("source")
    assert np.isfinite(summary.loc["human", "mean_sr2_over_gbvs"])
    assert np.isfinite(summary.loc["gbvs", "mean_sr2_over_human"])
    assert np.isfinite(summary.loc["salience", "mean_sr2_over_human"])  # the imported map still works
