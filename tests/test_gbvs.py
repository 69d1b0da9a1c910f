"""GBVS (maps/gbvs.py) against Harel's MATLAB toolbox run under GNU Octave on the demo's scenes.

The reference (tests/data/gbvs_octave/demo_reference.npz) was made by the toolbox itself
(make_reference.py / make_reference.m there; toolbox version and rerun steps in its README).
Tolerance: max |difference| <= 1e-6 of the map's maximum. The demo's scenes are 512 x 384, so
every resize of the method is by 1/2, 1/4 or 16: there MATLAB's and Octave's ``imresize`` agree
to rounding, and both ``imresize`` settings must match the Octave maps. At shrink factors that are
not 1/n they differ (Octave's does not normalise its kernel weights; test_imresize_* below).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from meaningmaps.maps.gbvs import CHANNEL_NAMES, GBVSParams, distance_matrix, gbvs
from meaningmaps.maps.gbvs_features import my_subsample
from meaningmaps.maps.imresize import imresize

REF_FILE = Path(__file__).parent / "data" / "gbvs_octave" / "demo_reference.npz"
TOL = 1e-6


@pytest.fixture(scope="module")
def ref():
    return np.load(REF_FILE)


@pytest.fixture(scope="module")
def demo_pixels(tmp_path_factory):
    """The demo scenes' pixels as the workflow reads them (load_rgb of the files make_demo_study
    writes), made without the slow rating matrices: each scene's image is the first draw of its
    own generator, saved as make_demo_study saves it. The reference's sha256 checks that these are
    the pixels the toolbox was given."""
    from meaningmaps.data.demo import GREY_SCENE, RGBA_SCENE, render_scene
    from meaningmaps.data.images import load_rgb

    folder = tmp_path_factory.mktemp("gbvs_demo")
    out = {}
    for i in range(1, 9):
        rgb, _, _ = render_scene(np.random.default_rng([2017, i]), 384, 512)
        path = folder / f"scene_{i:02d}.{'png' if i in (GREY_SCENE, RGBA_SCENE) else 'jpg'}"
        if i == GREY_SCENE:
            Image.fromarray(rgb, "RGB").convert("L").save(path, format="PNG")
        elif i == RGBA_SCENE:
            Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]), "RGBA").save(path, format="PNG")
        else:
            Image.fromarray(rgb, "RGB").save(path, format="JPEG", quality=92)
        out[path.stem] = load_rgb(path)
        if i == GREY_SCENE:  # also as MATLAB's imread reads it: one channel (no DKL channel)
            with Image.open(path) as im:
                out[f"{path.stem}_grey"] = np.asarray(im)
    return out


def _digest(rgb):
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()).hexdigest()


@pytest.mark.parametrize("mode", ["matlab", "octave"])
def test_demo_maps_match_the_toolbox(ref, demo_pixels, mode):
    stride = int(ref["stride"])
    worst = 0.0
    for scene, rgb in demo_pixels.items():
        assert _digest(rgb) == str(ref[f"{scene}/sha256"]), f"{scene}: not the pixels the reference was made from"
        out = gbvs(rgb, GBVSParams(imresize=mode))
        assert ("grey" in scene) == (rgb.ndim == 2)
        small, big = ref[f"{scene}/master_map"], ref[f"{scene}/master_map_resized"]
        assert out["master_map"].shape == small.shape == (24, 32)
        assert out["master_map_resized"].shape == rgb.shape[:2]
        d_small = np.abs(out["master_map"] - small).max() / small.max()
        d_big = np.abs(out["master_map_resized"][::stride, ::stride] - big).max() / big.max()
        assert d_small <= TOL and d_big <= TOL, (scene, d_small, d_big)
        worst = max(worst, d_small, d_big)
    assert len(demo_pixels) == 9
    print(f"imresize={mode}: worst max|diff|/max over 9 inputs {worst:.2e}")


def test_intermediate_steps_match_the_toolbox(ref, demo_pixels):
    """Step by step on scene_01: pyramid (single precision mySubsample: bit for bit), feature
    maps at salmapsize, graph activations with their power-iteration counts, channel maps."""
    out = gbvs(demo_pixels["scene_01"], GBVSParams(imresize="octave"), keep=True)
    for k in "LRGB":
        np.testing.assert_array_equal(out["pyramid"][k][4], ref[f"scene_01/img_{k}_4"])
    n_act = 0
    for (c, t, lev), m in out["val"].items():
        tag = f"scene_01/val_{CHANNEL_NAMES[c]}_{t}_{lev}"
        np.testing.assert_allclose(m, ref[tag], rtol=0, atol=TOL * np.abs(ref[tag]).max())
        if (c, t, lev) in out["act"]:
            a = ref[tag.replace("val_", "act_")]
            np.testing.assert_allclose(out["act"][c, t, lev], a, rtol=0, atol=TOL * a.max())
            assert out["iters"][c, t, lev] == int(ref[tag.replace("val_", "iters_")].item())
            n_act += 1
    assert n_act == 24  # D: 3 types, I: 1, O: 4 angles; levels 2, 3, 4
    for c, m in out["feat"].items():
        np.testing.assert_allclose(m, ref[f"scene_01/feat_{CHANNEL_NAMES[c]}"], rtol=0, atol=TOL)


def test_imresize_octave_and_matlab_at_a_non_integer_shrink(ref):
    """Octave's imresize at 150x200 -> 24x32 and 23x37; MATLAB's (normalised weights) differs from
    it by ~1e-4 there, and keeps a constant image constant, which Octave's does not."""
    a = (np.mod(np.arange(150 * 200) * 7919, 1000) / 1000).reshape(150, 200, order="F")
    for shape in ((24, 32), (23, 37)):
        want = ref[f"imresize/150x200_to_{shape[0]}x{shape[1]}"]
        np.testing.assert_allclose(imresize(a, shape, normalize=False), want, rtol=0, atol=1e-12)
        diff = np.abs(imresize(a, shape, normalize=True) - want).max()
        assert 1e-5 < diff < 1e-3
    ones = np.ones((150, 200))
    np.testing.assert_allclose(imresize(ones, (24, 32), normalize=True), 1.0, rtol=0, atol=1e-14)
    assert np.abs(imresize(ones, (24, 32), normalize=False) - 1).max() > 1e-5


def test_imresize_matches_matlab_results_quoted_by_octave():
    """MATLAB results (uint8, +-1) that Octave's image package quotes in its imresize tests."""
    a = np.array([[116, 227, 153, 69, 146, 194, 59, 130, 139, 106],
                  [2, 47, 137, 249, 90, 75, 16, 24, 158, 44],
                  [155, 68, 46, 84, 166, 156, 69, 204, 32, 152],
                  [71, 221, 137, 230, 210, 153, 192, 115, 30, 118],
                  [107, 143, 108, 52, 51, 73, 101, 21, 175, 90],
                  [54, 158, 143, 77, 26, 168, 113, 229, 165, 225],
                  [9, 47, 133, 135, 130, 207, 236, 43, 19, 73],
                  [129, 60, 59, 243, 64, 181, 249, 56, 32, 86]], dtype=float)
    half = np.array([[105, 140, 126, 81, 109], [110, 134, 153, 114, 93],
                     [108, 108, 94, 127, 146], [67, 126, 162, 149, 62]])
    got = np.clip(np.floor(imresize(a, (4, 5)) + 0.5), 0, 255)
    assert np.abs(got - half).max() <= 1
    up = imresize(a, (12, 15))
    assert np.abs(np.clip(np.floor(up + 0.5), 0, 255)[0, :5] - [116, 187, 237, 171, 94]).max() <= 1
    assert np.abs(np.clip(np.floor(up + 0.5), 0, 255)[11, -5:] - [159, 42, 31, 59, 91]).max() <= 1


def test_subsample_edge_kernels_and_small_maps():
    """mySubsample keeps maps of <= 10 px on a side; odd and even sides use the 31 / 26 end
    kernels: a constant map stays constant (every kernel sums to its divisor)."""
    small = np.arange(100.0).reshape(10, 10)
    np.testing.assert_array_equal(my_subsample(small), small)
    for shape in ((11, 12), (12, 11), (13, 13), (16, 17)):
        out = my_subsample(np.full(shape, 0.25))
        assert out.shape == (shape[0] // 2, shape[1] // 2)
        np.testing.assert_array_equal(out, 0.25)


def test_distance_matrix_is_the_toolbox_graph():
    """graphsalinit's squared distances between lattice points, column-major node order."""
    d = distance_matrix((3, 4))
    # node 1 is (row 2, col 1), node 3 is (row 1, col 2) (0-based, column-major)
    assert d[1, 3] == 1 + 1 and d[0, 11] == 2 ** 2 + 3 ** 2 and np.all(np.diag(d) == 0)
    cyc = distance_matrix((3, 4), cyclic_type=1)
    assert cyc[0, 11] == 1 + 1


def test_bad_settings_and_small_images_are_refused():
    from meaningmaps.errors import InputError

    with pytest.raises(ValueError, match="F and M are video"):
        gbvs(np.zeros((200, 200, 3), np.uint8), GBVSParams(channels="DIOF"))
    with pytest.raises(ValueError, match="multilevels"):
        gbvs(np.zeros((200, 200, 3), np.uint8), GBVSParams(multilevels=(1, 2)))
    with pytest.raises(InputError, match="128 x 128"):
        gbvs(np.zeros((100, 300, 3), np.uint8))
    with pytest.raises(InputError, match="flat.png: GBVS: the Markov chain's power iteration did not converge"):
        gbvs(np.full((200, 300, 3), 128, np.uint8), where="flat.png")  # 2-valued noise map: a periodic chain
    with pytest.raises(ValueError, match="unknown GBVS settings"):
        GBVSParams.from_config({"salmapmaxsiz": 30})


def test_config_defaults_are_the_toolbox_defaults_and_semipartials_go_both_ways():
    """config key gbvs: its defaults are makeGBVSParams's; with the gbvs source, the default
    semipartial pairs compare the reference (meaning) and gbvs (salience) both ways."""
    from meaningmaps.config import validate_config
    from meaningmaps.errors import InputError
    from meaningmaps.workflow.source_defaults import semipartial_pairs

    cfg = validate_config({"dataset": {"images": "x"}, "gbvs": {"enabled": True}})
    settings = {k: v for k, v in cfg["gbvs"].items() if k != "enabled"}
    assert GBVSParams.from_config(settings) == GBVSParams()
    assert GBVSParams() == GBVSParams(salmapmaxsize=32, channels="DIO", levels=(2, 3, 4), sigma_frac_act=0.15,
                                      sigma_frac_norm=0.06, num_norm_iters=1, tol=1e-4, cyclic_type=2,
                                      blurfrac=0.02, gaborangles=(0, 45, 90, 135))
    pairs = semipartial_pairs(cfg, ["human", "gbvs", "center"], ["center"])
    assert pairs == [["human", "center"], ["human", "gbvs"], ["gbvs", "human"]]
    assert semipartial_pairs(cfg, ["human", "center"], ["center"]) == [["human", "center"]]
    with pytest.raises(InputError, match="rename the imported"):
        validate_config({"dataset": {"images": "x", "maps": {"gbvs": "m"}}, "gbvs": {"enabled": True}})
    validate_config({"dataset": {"images": "x", "maps": {"gbvs": "m"}}})  # GBVS maps made elsewhere, as before


def test_itti_koch_variant_matches_the_toolbox(ref, demo_pixels):
    """useIttiKochInsteadOfGBVS = 1 (centre-surround activation, Itti's normalisation, ittiblurfrac)."""
    stride = int(ref["stride"])
    for scene in ("scene_01", "scene_04"):
        out = gbvs(demo_pixels[scene], GBVSParams(use_itti_koch_instead_of_gbvs=True))
        small, big = ref[f"itti/{scene}/master_map"], ref[f"itti/{scene}/master_map_resized"]
        assert np.abs(out["master_map"] - small).max() <= TOL * small.max()
        assert np.abs(out["master_map_resized"][::stride, ::stride] - big).max() <= TOL * big.max()


def test_summary_figure_shows_meaning_and_salience_semipartials_both_ways(tmp_path):
    import pandas as pd
    from matplotlib.figure import Figure

    from meaningmaps.evaluation import figures

    summary = pd.DataFrame({
        "source": ["human", "gbvs", "center"], "n_scenes": 3, "mean_r": [0.7, 0.6, 0.5],
        "ci_low": [0.6, 0.5, 0.4], "ci_high": [0.8, 0.7, 0.6], "mean_r2": [0.49, 0.36, 0.25],
        "r2_ci_low": [0.4, 0.3, 0.2], "r2_ci_high": [0.6, 0.45, 0.3],
        "mean_sr2_over_gbvs": [0.2, np.nan, np.nan], "mean_sr2_over_human": [np.nan, 0.05, np.nan]})
    pairs = [["human", "gbvs"], ["gbvs", "human"], ["human", "center"]]
    values = figures.semipartial_values(summary, pairs)
    assert values[:2] == [("human", "gbvs", 0.2), ("gbvs", "human", 0.05)] and np.isnan(values[2][2])
    labels = figures.draw_semipartials(Figure().subplots(), values)
    assert labels == ["human beyond gbvs", "gbvs beyond human", "human beyond center"]
    figures.summary_figure(summary, tmp_path / "s.png", tmp_path / "s.pdf", "human", semipartial=pairs)
    wide = Image.open(tmp_path / "s.png").size[0]
    figures.summary_figure(summary, tmp_path / "t.png", tmp_path / "t.pdf", "human")
    assert wide > Image.open(tmp_path / "t.png").size[0]  # the third panel is there
