"""The synthetic demo study: deterministic, loadable, and carrying a real meaning -> attention signal."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
from PIL import Image

from meaningmaps.data import demo, mat_writer
from meaningmaps.data.rating_matrix import assign_scales, build_rating_matrix, load_rating_matrix, recover_patch_ratings
from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec
from meaningmaps.matlab import matlab_round

N_SCENES = 3  # scene_01 JPEG, scene_02 grey PNG, scene_03 RGBA PNG
W, H = 512, 384


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_a")
    return out, demo.make_demo_study(out, n_scenes=N_SCENES)


def _grid(info) -> PatchGrid:
    return PatchGrid(info["height"], info["width"],
                     [ScaleSpec(s, p["n"], p["diameter_px"]) for s, p in info["patches"].items()])


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_layout_and_summary(study):
    out, info = study
    assert info["scenes"] == ["scene_01", "scene_02", "scene_03"]
    assert info["images"] == {"scene_01": "images/scene_01.jpg", "scene_02": "images/scene_02.png",
                              "scene_03": "images/scene_03.png"}
    assert (info["width"], info["height"]) == (W, H)
    assert {s: p["diameter_px"] for s, p in info["patches"].items()} == {"fine": 44.0, "coarse": 102.0}
    for scene in info["scenes"]:
        for rel in (info["images"][scene], f"ratings/{scene}.mat", f"maps/salience/{scene}.png",
                    f"truth/meaning/{scene}.npy"):
            assert (out / rel).is_file(), rel
    assert not list(out.rglob(".*")), "temporary files left behind"


def test_patch_grids_cover_every_pixel(study):
    _, info = study
    grid = _grid(info)
    for scale in ("fine", "coarse"):
        assert grid.coverage(scale).min() > 0, scale
        assert len(grid.patches[scale]) == info["patches"][scale]["n_patches"]
    # 3 and 7 degrees at 14.5 px/deg, MATLAB-rounded
    assert [s.diameter for s in demo.demo_scale_specs(H, W)] == [
        float(matlab_round(3 * 14.5)), float(matlab_round(7 * 14.5))]


def test_deterministic(study, tmp_path):
    out, _ = study
    demo.make_demo_study(tmp_path / "b", n_scenes=N_SCENES)
    first, second = _tree(out), _tree(tmp_path / "b")
    assert sorted(first) == sorted(second)
    for rel in first:
        assert first[rel] == second[rel], f"{rel} differs between two runs with the same seed"
    # another seed (through the CLI): different scene and fixations
    assert demo.main([str(tmp_path / "c"), "--scenes", "1", "--seed", "2018"]) == 0
    other = tmp_path / "c"
    assert (other / "images/scene_01.jpg").read_bytes() != first["images/scene_01.jpg"]
    fa = pd.read_csv(out / "fixations.csv")
    fc = pd.read_csv(other / "fixations.csv")
    assert len(fc) == len(fa[fa.scene == "scene_01"])
    assert not fc.equals(fa[fa.scene == "scene_01"].reset_index(drop=True))


def test_rating_matrices_recover_per_patch_ratings(study):
    out, info = study
    grid = _grid(info)
    for i, scene in enumerate(info["scenes"], start=1):
        path = out / "ratings" / f"{scene}.mat"
        by_scale = assign_scales(load_rating_matrix(path), grid, path)
        assert set(by_scale) == {"fine", "coarse"}
        # the lists the generator drew for this scene
        rng = np.random.default_rng([info["seed"], i])
        _, meaning, _ = demo.render_scene(rng, H, W)
        drawn = demo.patch_ratings(rng, meaning, grid, info["raters"])
        for scale in ("fine", "coarse"):
            got = recover_patch_ratings(by_scale[scale], grid, scale, path)
            assert len(got) == len(grid.patches[scale])
            for k, (vals, want) in enumerate(zip(got, drawn[scale]), start=1):
                assert vals.size == 3, (scene, scale, k)
                assert np.all((vals >= 1) & (vals <= 6) & (vals == np.rint(vals))), (scene, scale, k)
                assert np.array_equal(vals, np.sort(want)), (scene, scale, k)
            # ratings follow the hidden meaning
            m = [meaning[p.rows, p.cols][p.mask].mean() for p in grid.patches[scale]]
            r = [v.mean() for v in got]
            assert np.corrcoef(m, r)[0, 1] > 0.6, (scene, scale)


def test_fixations_inside_and_driven_by_meaning(study):
    out, info = study
    fix = pd.read_csv(out / "fixations.csv")
    assert list(fix.columns) == ["scene", "x", "y", "duration", "subject"]
    assert len(fix) == N_SCENES * 12 * 12
    assert sorted(fix.subject.unique()) == [f"s{i:02d}" for i in range(1, 13)]
    assert fix.groupby(["scene", "subject"]).size().eq(12).all()
    assert fix.x.between(1, W).all() and fix.y.between(1, H).all()
    for rounding in (np.rint, matlab_round):
        for col, size in (("x", W), ("y", H)):
            r = np.asarray(rounding(fix[col].to_numpy()))
            assert ((r >= 1) & (r <= size)).all(), (rounding, col)
    assert fix.duration.between(150, 600).all()
    assert 200 < fix.duration.mean() < 400
    rng = np.random.default_rng(0)
    for scene, g in fix.groupby("scene"):
        meaning = np.load(out / "truth" / "meaning" / f"{scene}.npy")
        assert meaning.shape == (H, W)
        at_fix = meaning[np.rint(g.y).astype(int) - 1, np.rint(g.x).astype(int) - 1].mean()
        at_random = meaning[rng.integers(0, H, 20000), rng.integers(0, W, 20000)].mean()
        assert at_fix > 2 * at_random, (scene, at_fix, at_random)


def test_image_formats_and_salience(study):
    out, info = study
    with Image.open(out / "images/scene_01.jpg") as im:
        assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (W, H))
    with Image.open(out / "images/scene_02.png") as im:
        assert (im.format, im.mode, im.size) == ("PNG", "L", (W, H))
    with Image.open(out / "images/scene_03.png") as im:
        assert (im.format, im.mode, im.size) == ("PNG", "RGBA", (W, H))
        assert np.all(np.asarray(im)[:, :, 3] == 255)
    objects = pd.read_csv(out / "truth" / "objects.csv")
    for scene in info["scenes"]:
        with Image.open(out / "maps" / "salience" / f"{scene}.png") as im:
            assert (im.mode, im.size) == ("L", (W, H))
            sal = np.asarray(im, dtype=np.float64)
        assert sal.max() == 255
        kinds = set(objects[objects.scene == scene].kind)
        assert {"face", "text", "stripes", "blob", "noise"} <= kinds
        # salience and meaning disagree: the meaningless noise patch out-shines the faces
        def mean_inside(kind, scene=scene, sal=sal):
            rows = objects[(objects.scene == scene) & (objects.kind == kind)]
            return np.mean([sal[o.row_min - 1:o.row_max, o.col_min - 1:o.col_max].mean()
                            for o in rows.itertuples()])
        assert mean_inside("noise") > mean_inside("face"), scene
        assert demo.MEANING["noise"] < demo.MEANING["face"]


@pytest.mark.parametrize("compress", [False, True])
def test_fast_mat_writer_matches_savemat(compress):
    # small grid whose coarse layer leaves pixels uncovered, so empty cells are exercised too
    grid = PatchGrid(60, 80, [ScaleSpec("fine", 20, 30), ScaleSpec("coarse", 6, 60)])
    assert grid.coverage("coarse").min() == 0
    rng = np.random.default_rng(1)
    cells = build_rating_matrix(grid, {s: [rng.integers(1, 7, 3) for _ in grid.patches[s]]
                                       for s in grid.patches})
    ref = io.BytesIO()
    scipy.io.savemat(ref, {"rating_matrix": cells}, do_compression=compress)
    mine = mat_writer.cell_matrix_bytes(cells, compress=compress)
    assert mine is not None
    assert mine[116:] == ref.getvalue()[116:]  # identical but for the text header
    back = scipy.io.loadmat(io.BytesIO(mine))["rating_matrix"]
    assert back.shape == cells.shape
    assert all(np.array_equal(a, b) and a.shape == b.shape for a, b in zip(back.ravel(), cells.ravel()))
    # a cell array it does not handle falls back (None), not garbage
    odd = cells.copy()
    odd[0, 0, 0] = np.array([[1, 2]], dtype=np.int64)
    assert mat_writer.cell_matrix_bytes(odd) is None
