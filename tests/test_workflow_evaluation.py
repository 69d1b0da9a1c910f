"""The evaluation through the workflow: noise ceiling, empirical centre bias, benchmark metrics,
Holm-adjusted tests, the summary figure and the defaults of a study without human ratings."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
import yaml

from meaningmaps.config import validate_config
from meaningmaps.data.dataset import discover
from meaningmaps.data.demo import make_demo_study
from meaningmaps.data.fixations import scene_fixations
from meaningmaps.evaluation import metrics
from meaningmaps.evaluation.noise_ceiling import scene_ceiling
from meaningmaps.maps.empirical_center import empirical_center_map, fixated_pixels, pool_other_scenes

from .conftest import demo_config
from .test_workflow import snakemake
from .test_workflow import write_config as write

pytestmark = pytest.mark.slow  # runs the workflow: left out by scripts/test.sh --fast

SCENES = ["scene_01", "scene_02", "scene_03"]
H, W = 384, 512


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The 3-scene demo without the model steps, run once."""
    root = tmp_path_factory.mktemp("eval")
    make_demo_study(root / "data", n_scenes=3)
    cfg = demo_config(root)
    cfg["model"] = {"enabled": False}
    cfg["evaluation"].update(bootstrap=500, ceiling_splits=2)
    cfg["maps"] = {"formats": ["mat", "log_density"]}
    configfile = write(root / "config.yaml", cfg)
    snakemake(root, configfile)
    return root, configfile, cfg


def _fix(cfg, scene):
    """A scene's fixations as rule attention reads them (the study's fixation settings)."""
    settings = discover(validate_config(cfg)).fixation_settings
    return scene_fixations(cfg["dataset"]["fixations"], scene, H, W, settings=settings)[0]


def test_outputs_and_columns(study):
    root, _, _ = study
    ev = root / "results" / "evaluation"
    ceiling = pd.read_csv(ev / "ceiling.csv")
    assert list(ceiling.columns) == ["scene", "n_subjects", "split_half_r", "ceiling"]
    assert list(ceiling.scene) == SCENES and (ceiling.n_subjects == 12).all()
    np.testing.assert_allclose(ceiling.ceiling, 2 * ceiling.split_half_r / (1 + ceiling.split_half_r), rtol=1e-15)
    summary = pd.read_csv(ev / "summary.csv").set_index("source")
    assert set(summary.index) == {"human", "salience", "gbvs", "center", "center_empirical"}
    assert summary["mean_ceiling"].to_numpy() == pytest.approx([ceiling.ceiling.mean()] * 5, abs=1e-15)
    assert {"mean_nss", "mean_auc_judd", "mean_auc_shuffled", "mean_information_gain", "r2_ci_low"} <= set(summary)
    pairwise = pd.read_csv(ev / "pairwise.csv")
    assert len(pairwise) == 10  # every pair of the 5 sources
    np.testing.assert_allclose(pairwise.p_t_holm, metrics.holm(pairwise.p_t), rtol=1e-15)
    assert {"p_wilcoxon_holm", "t_r2", "p_t_r2_holm"} <= set(pairwise)
    for name in ("summary.png", "summary.pdf", "comparison.png", "gallery.png"):
        assert (root / "results" / "figures" / name).stat().st_size > 1000


def test_maps_formats_write_every_map_in_a_folder_of_its_own(study):
    """maps.formats: formats/mat/<source>/ and formats/log_density/<source>/ hold one file per scene, the
    .mat the map itself (one variable), the log density pysaliency's density of it."""
    import scipy.io
    from scipy.special import logsumexp

    from .reference import pysaliency_log_density

    root, _, _ = study
    res = root / "results"
    for source in ("human", "salience", "center", "center_empirical"):
        for fmt, suffix in (("mat", ".mat"), ("log_density", ".npy")):
            folder = res / "formats" / fmt / source
            assert sorted(p.name for p in folder.iterdir()) == [f"{s}{suffix}" for s in SCENES], (fmt, source)
        for scene in SCENES:
            m = np.load(res / "maps" / source / f"{scene}.npy")
            mat = scipy.io.loadmat(res / "formats" / "mat" / source / f"{scene}.mat")
            assert [k for k in mat if not k.startswith("__")] == ["map"]
            np.testing.assert_array_equal(mat["map"], m.astype(np.float64))
            ld = np.load(res / "formats" / "log_density" / source / f"{scene}.npy")
            np.testing.assert_allclose(ld, pysaliency_log_density(m, 1e-20), rtol=1e-14, atol=0)
            assert np.isfinite(ld).all() and abs(logsumexp(ld)) < 1e-12


def test_cli_score_equals_the_workflow(study, tmp_path):
    """`meaningmaps score` on the maps the workflow scored (no Snakemake, no dataset paths from the config):
    the same scores, summary, pairwise tests and ceiling, digit for digit."""
    import subprocess
    import sys
    from pathlib import Path

    root, configfile, _ = study
    res = root / "results"
    cli = str(Path(sys.executable).with_name("meaningmaps"))
    # the workflow's gbvs maps as a folder named gbvs: the config then makes no gbvs source of its own
    cfg = yaml.safe_load(configfile.read_text())
    cfg["gbvs"] = {"enabled": False}
    scorefile = tmp_path / "score-config.yaml"
    scorefile.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([cli, "score", f"human={res / 'maps' / 'human'}", str(root / "data" / "maps" / "salience"),
                           f"gbvs={res / 'maps' / 'gbvs'}", "--fixations", str(root / "data" / "fixations.csv"),
                           "--configfile", str(scorefile), "--out", str(tmp_path / "scored")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if "scene(s) with fixations and a map in every folder" in x)
    assert line.startswith("3 scene(s)"), line
    assert set(line.split("; sources ", 1)[1].split(", ")) == {"human", "salience", "gbvs", "center", "center_empirical"}
    for name, key in (("scores", ["scene", "source"]), ("summary", ["source"]), ("pairwise", ["source_a", "source_b"]),
                      ("ceiling", ["scene"])):
        want = pd.read_csv(res / "evaluation" / f"{name}.csv")
        got = pd.read_csv(tmp_path / "scored" / f"{name}.csv")
        assert list(got.columns) == list(want.columns), name
        key = [k for k in key if k in want.columns]
        pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                      want.sort_values(key).reset_index(drop=True), check_exact=True, obj=name)
    assert (tmp_path / "scored" / "summary.png").stat().st_size > 1000


def test_ceiling_and_center_empirical_are_made_from_the_attention_fixations(study):
    root, _, cfg = study
    res = root / "results"
    tables = {s: _fix(cfg, s) for s in SCENES}
    ceiling = pd.read_csv(res / "evaluation" / "ceiling.csv").set_index("scene")
    row = scene_ceiling(tables["scene_02"], "scene_02", H, W, fc=6, random_splits=2, seed=0)
    assert ceiling.loc["scene_02", "split_half_r"] == pytest.approx(row["split_half_r"], abs=1e-15)
    sizes = dict.fromkeys(SCENES, (H, W))
    expected = empirical_center_map(tables, sizes, "scene_02", fc=6).astype(np.float32)
    np.testing.assert_array_equal(np.load(res / "maps" / "center_empirical" / "scene_02.npy"), expected)


def test_scores_are_the_metrics_of_the_saved_maps(study):
    root, _, cfg = study
    res = root / "results"
    tables = {s: _fix(cfg, s) for s in SCENES}
    sizes = dict.fromkeys(SCENES, (H, W))
    scores = pd.read_csv(res / "evaluation" / "scores.csv").set_index(["scene", "source"])
    att = np.load(res / "attention" / "scene_03.npy").astype(np.float64)
    human = np.load(res / "maps" / "human" / "scene_03.npy").astype(np.float64)
    base = np.load(res / "maps" / "center_empirical" / "scene_03.npy").astype(np.float64)
    fixated = fixated_pixels(tables["scene_03"], H, W)
    other = fixated_pixels(pool_other_scenes(tables, sizes, "scene_03"), H, W)
    row = scores.loc[("scene_03", "human")]
    assert row["n_fixated"] == fixated.sum()
    assert row["nss"] == pytest.approx(metrics.nss(human, fixated), abs=1e-13)
    assert row["auc_judd"] == pytest.approx(metrics.auc_judd(human, fixated), abs=1e-13)
    assert row["kl_divergence"] == pytest.approx(metrics.kl_divergence(human, att), abs=1e-13)
    assert row["information_gain"] == pytest.approx(metrics.information_gain(human, fixated, base), abs=1e-13)
    assert row["auc_shuffled"] == pytest.approx(
        metrics.auc_shuffled(human, fixated, other, seed=metrics.scene_seed(0, "scene_03")), abs=1e-13)
    assert scores.loc[("scene_03", "center_empirical"), "information_gain"] == 0.0


def test_report_has_the_summary_figure_and_pairwise_table(study):
    root, configfile, _ = study
    snakemake(root, configfile, "--report", str(root / "report.zip"))
    names = zipfile.ZipFile(root / "report.zip").namelist()
    for name in ("summary.png", "pairwise.csv", "ceiling.csv", "gallery.png"):
        assert any(n.endswith(name) for n in names), name


def test_without_human_ratings_the_defaults_name_existing_sources(study, tmp_path):
    root, _, demo = study
    dataset = {k: v for k, v in demo["dataset"].items() if k not in ("images", "ratings")}  # fixations, maps
    cfg = {"results": str(tmp_path / "res"), "dataset": dataset,
           "evaluation": {"bootstrap": 200, "auc_shuffled": {"splits": 10}}}
    snakemake(tmp_path, write(tmp_path / "config.yaml", cfg))
    scores = pd.read_csv(tmp_path / "res" / "evaluation" / "scores.csv").set_index("source")
    assert scores.loc["salience", "sr2_over_center"].notna().all()
    assert scores.loc["salience", "sr2_over_center_empirical"].notna().all()
    log = (tmp_path / "res" / "logs" / "figures.log").read_text()
    assert "reference source: salience" in log


def test_misspelled_explicit_reference_is_refused(study, tmp_path):
    root, _, cfg = study
    bad = dict(cfg, results=str(tmp_path / "res"), figures={"reference_source": "salince"})
    proc = snakemake(tmp_path, write(tmp_path / "bad.yaml", bad), "-n", check=False)
    assert proc.returncode != 0 and "salince" in proc.stdout + proc.stderr


def test_one_scene_study_refuses_center_empirical_clearly(study, tmp_path):
    root, _, cfg = study
    one = dict(cfg, results=str(tmp_path / "res"))
    one["dataset"] = dict(cfg["dataset"], scenes=["scene_01"])
    target = f"{tmp_path}/res/maps/center_empirical/scene_01.npy"
    proc = snakemake(tmp_path, write(tmp_path / "one.yaml", one), target, check=False)
    assert proc.returncode != 0
    assert "no other scene" in proc.stdout + proc.stderr + (tmp_path / "res" / "logs" / "maps" / "center_empirical"
                                                            / "scene_01.log").read_text()
