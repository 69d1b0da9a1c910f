"""Map files made elsewhere in every format (external_maps): each reads to the same float64 array as
its .npy, map_size reads the header, and each refusal names the file and the fix."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.io
from PIL import Image

from meaningmaps.config import validate_config
from meaningmaps.data.dataset import discover
from meaningmaps.data.external_maps import MAP_SUFFIXES, imported_map, load_map, map_size, map_source_settings
from meaningmaps.data.input_checks import check_scene_files, scene_map_settings
from meaningmaps.errors import InputError

H, W = 16, 24
RNG = np.random.default_rng(7)
#: 8x8 blocks of one value: JPEG (quality 100) stores these exactly, so a JPEG round-trips too.
BLOCKS8 = np.kron(RNG.integers(1, 255, (H // 8, W // 8)), np.ones((8, 8))).astype(np.uint8)
VALUES16 = RNG.integers(0, 65536, (H, W)).astype(np.uint16)
FLOATS = RNG.random((H, W)).astype(np.float32)


def _image(mode_values, fmt, **kw):
    def write(path):
        Image.fromarray(mode_values).save(path, fmt, **kw)
    return write


FORMATS = {
    "npz": (".npz", FLOATS, lambda p: np.savez(p, density=FLOATS)),
    "npz compressed": (".npz", FLOATS, lambda p: np.savez_compressed(p, FLOATS)),
    "mat double": (".mat", FLOATS, lambda p: scipy.io.savemat(p, {"map": FLOATS.astype(np.float64)})),
    "mat with scalars": (".mat", FLOATS, lambda p: scipy.io.savemat(p, {"sigma": 10.0, "map": FLOATS, "v": [1, 2]})),
    "png 8-bit": (".png", BLOCKS8, _image(BLOCKS8, "PNG")),
    "png 16-bit": (".png", VALUES16, _image(VALUES16, "PNG")),
    "jpg grey": (".jpg", BLOCKS8, _image(BLOCKS8, "JPEG", quality=100)),
    "jpeg rgb equal channels": (".jpeg", BLOCKS8, _image(np.dstack([BLOCKS8] * 3), "JPEG", quality=100)),
    "tif 8-bit": (".tif", BLOCKS8, _image(BLOCKS8, "TIFF")),
    "tiff 16-bit": (".tiff", VALUES16, _image(VALUES16, "TIFF")),
    "tif float (mode F)": (".tif", FLOATS, _image(FLOATS, "TIFF")),
}


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_reads_as_its_npy(tmp_path, name):
    suffix, values, write = FORMATS[name]
    assert suffix in MAP_SUFFIXES
    path = tmp_path / f"scene{suffix}"
    write(path)
    np.save(tmp_path / "scene.npy", values)
    want = load_map(tmp_path / "scene.npy", (H, W))
    got = load_map(path, (H, W))
    assert got.dtype == np.float64 and np.array_equal(got, want), name
    assert map_size(path) == (H, W)


def _message(call, *args, **kw) -> str:
    with pytest.raises(InputError) as info:
        call(*args, **kw)
    message = str(info.value)
    assert "Fix: " in message, message
    return message


def test_npz_with_several_arrays_needs_variable(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, log_density=FLOATS, centre=FLOATS * 2)
    for call in (load_map, map_size):
        message = _message(call, path, source="deepgaze")
        assert re.search(r"a\.npz: holds 2 arrays \(log_density 16 x 24 float32, centre 16 x 24 float32\); which one "
                         r"is the map is not guessed\. Fix: set dataset\.maps\.deepgaze\.variable", message), message
    assert np.array_equal(load_map(path, variable="centre"), FLOATS.astype(np.float64) * 2)
    assert map_size(path, variable="centre") == (H, W)
    message = _message(load_map, path, variable="density", source="deepgaze")
    assert "has no array 'density' (dataset.maps.deepgaze.variable)" in message and "log_density, centre" in message


def test_npz_of_objects_refused_unread(tmp_path):
    path = tmp_path / "o.npz"
    np.savez(path, m=np.array([{"map": 1}], dtype=object))
    assert "pickled Python objects" in _message(load_map, path)


def test_mat_with_several_maps_needs_variable(tmp_path):
    path = tmp_path / "s.mat"
    scipy.io.savemat(path, {"gbvs": FLOATS, "itti": FLOATS + 1, "sigma": 3.0})
    message = _message(load_map, path, source="salience")
    assert re.search(r"s\.mat: holds 2 2-D numeric variables \(gbvs 16 x 24 single, itti 16 x 24 single\); which "
                     r"one is the map is not guessed\. Fix: set dataset\.maps\.salience\.variable", message), message
    assert "<name>" in _message(map_size, path)  # no source known: the key's placeholder
    assert np.array_equal(load_map(path, variable="itti"), (FLOATS + 1).astype(np.float64))
    message = _message(load_map, path, variable="nope", source="salience")
    assert "has no variable 'nope' (dataset.maps.salience.variable)" in message and "gbvs, itti, sigma" in message
    scipy.io.savemat(path, {"note": "text", "sigma": 3.0})
    assert "holds no 2-D numeric variable (it holds note 1 char, sigma 1 x 1 double)" in _message(load_map, path)
    assert "is a MATLAB char, not a numeric matrix" in _message(load_map, path, variable="note")
    assert "'-v7'" in _message(load_map, path)


def test_colour_images_refused_and_grey_ones_taken(tmp_path):
    grey = np.dstack([BLOCKS8] * 3)
    colour = grey.copy()
    colour[..., 0] = 255 - colour[..., 0]  # a colour map (e.g. jet): red is not green
    Image.fromarray(colour).save(tmp_path / "jet.png")
    message = _message(load_map, tmp_path / "jet.png")
    assert message.startswith(f"{tmp_path / 'jet.png'}: is a colour image: its colours are not map values.")
    assert "greyscale" in message.split("Fix: ")[1]
    noisy = grey.copy()
    noisy[3, 4, 2] += 2  # a greyscale map saved as colour JPEG: channels off by a few codes
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    message = _message(load_map, tmp_path / "noisy.png")
    assert "differ by at most 2 codes, as in a greyscale map saved as a colour JPEG" in message, message
    palette = Image.fromarray(colour).quantize(16)
    palette.save(tmp_path / "p.png")
    assert "is a colour image" in _message(load_map, tmp_path / "p.png")
    Image.fromarray(grey).quantize(16).save(tmp_path / "pg.png")  # a palette of greys is fine
    with Image.open(tmp_path / "pg.png") as im:
        want = np.asarray(im.convert("L"), dtype=np.float64)
    assert np.array_equal(load_map(tmp_path / "pg.png"), want)


def test_multipage_tiff_refused(tmp_path):
    frames = [Image.fromarray(BLOCKS8), Image.fromarray(255 - BLOCKS8)]
    frames[0].save(tmp_path / "two.tif", save_all=True, append_images=frames[1:])
    assert "has 2 pages" in _message(load_map, tmp_path / "two.tif")


def test_variable_setting_carried_from_config_to_discovery(tmp_path):
    (tmp_path / "m").mkdir()
    for scene in ("a", "b"):
        scipy.io.savemat(tmp_path / "m" / f"{scene}.mat", {"gbvs": FLOATS, "itti": FLOATS + 1})
    np.save(tmp_path / "m" / "c.npy", FLOATS)  # formats may be mixed in one folder
    pd_fix = tmp_path / "fix.csv"
    pd_fix.write_text("scene,x,y\na,5,5\nb,5,5\nc,5,5\n")
    ds = {"fixations": str(pd_fix), "fixation_csv": {"origin": 1}, "maps": {"sal": {"folder": str(tmp_path / "m")}}}
    with pytest.raises(InputError, match=r"a\.mat: holds 2 2-D numeric variables .*dataset\.maps\.sal\.variable"):
        discover(validate_config({"dataset": ds}))
    ds["maps"]["sal"]["variable"] = "itti"
    study = discover(validate_config({"dataset": ds}))
    assert study.map_settings["sal"]["variable"] == "itti" and study.sizes == {s: (H, W) for s in "abc"}
    assert map_source_settings({"x": "f"})["x"]["variable"] is None
    settings = scene_map_settings(study.maps, study.map_settings, "a")
    assert settings == {"sal": (str(tmp_path / "m" / "a.mat"), None, False, "itti")}
    report = check_scene_files("b", (H, W), [], maps={"sal": (str(tmp_path / "m" / "c.npy"), None, False)})
    assert report["checked"][0]["problem"] is None  # the (path, transform, resize) form still works


def test_import_and_input_check_use_the_variable(tmp_path):
    path = tmp_path / "a.mat"
    scipy.io.savemat(path, {"gbvs": FLOATS, "itti": FLOATS + 1})
    got = imported_map(path, (H, W), source="sal", transform="none", variable="itti")
    assert np.array_equal(got, (FLOATS + 1).astype(np.float64))
    report = check_scene_files("a", (H, W), [], maps={"sal": (str(path), "none", False, "itti")})
    assert report["checked"][0]["problem"] is None
    report = check_scene_files("a", (H, W), [], maps={"sal": (str(path), "none", False, None)})
    assert "dataset.maps.sal.variable" in report["checked"][0]["problem"]["message"]


# --- maps out: the formats other tools read (maps.formats, meaningmaps.data.map_export) ----------------

def test_log_density_is_pysaliencys_density_and_sums_to_one(tmp_path):
    from scipy.special import logsumexp

    from meaningmaps.data.map_export import MINIMUM_VALUE, export_map, log_density

    from .reference import pysaliency_log_density

    maps = {"positive": FLOATS + 1, "with zeros": np.where(FLOATS > 0.5, FLOATS, 0).astype(np.float32),
            "negative (shifted)": (FLOATS - 0.7).astype(np.float32)}
    for name, m in maps.items():
        np.save(tmp_path / "m.npy", m)
        export_map(tmp_path / "m.npy", "log_density", tmp_path / "ld.npy")
        got = np.load(tmp_path / "ld.npy")
        assert got.dtype == np.float64 and got.shape == (H, W), name
        np.testing.assert_allclose(got, pysaliency_log_density(m, MINIMUM_VALUE), rtol=1e-14, atol=0)
        assert np.isfinite(got).all(), name  # zeros: finite, log(1e-20 / sum)
        assert abs(np.exp(got).sum() - 1) < 1e-12 and abs(logsumexp(got)) < 1e-12, name
        np.testing.assert_array_equal(got, log_density(m))
    zero = maps["with zeros"]
    got = log_density(zero)
    total = float(zero.astype(np.float64).sum())
    assert got[zero == 0] == pytest.approx(np.log(1e-20) - np.log(total), rel=1e-12)
    # without the added minimum, pysaliency's SaliencyMapNormalizingModel default, zeros are -inf
    assert np.isinf(pysaliency_log_density(zero, 0.0)[zero == 0]).all()


def test_mat_export_is_one_double_variable_read_back_as_the_map(tmp_path):
    from meaningmaps.data.map_export import MAT_VARIABLE, export_map

    np.save(tmp_path / "scene.npy", FLOATS)
    export_map(tmp_path / "scene.npy", "mat", tmp_path / "scene.mat")
    assert scipy.io.whosmat(str(tmp_path / "scene.mat")) == [(MAT_VARIABLE, (H, W), "double")]
    data = {k: v for k, v in scipy.io.loadmat(tmp_path / "scene.mat").items() if not k.startswith("__")}
    assert list(data) == ["map"]  # one variable, as pysaliency's SaliencyMapModelFromDirectory requires
    np.testing.assert_array_equal(data["map"], FLOATS.astype(np.float64))
    np.testing.assert_array_equal(load_map(tmp_path / "scene.mat", (H, W)), load_map(tmp_path / "scene.npy", (H, W)))


def test_mat_export_reads_in_octave(tmp_path):
    import shutil
    import subprocess

    from meaningmaps.data.map_export import export_map

    octave = shutil.which("octave-cli") or shutil.which("octave")
    if octave is None:
        pytest.skip("Octave is not installed")
    np.save(tmp_path / "scene.npy", FLOATS)
    export_map(tmp_path / "scene.npy", "mat", tmp_path / "scene.mat")
    script = ("s = load('scene.mat'); f = fieldnames(s); m = s.map; "
              "printf('%s|%d|%s|%d %d|%.17g|%.17g\\n', strjoin(f', ','), numel(f), class(m), size(m, 1), size(m, 2), "
              "m(2, 3), sum(m(:)));")
    proc = subprocess.run([octave, "--no-gui", "--quiet", "--eval", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    names, count, cls, shape, value, total = proc.stdout.strip().splitlines()[-1].split("|")
    assert (names, count, cls, shape) == ("map", "1", "double", f"{H} {W}")
    assert float(value) == float(FLOATS[1, 2])  # MATLAB's m(2, 3): row 2, column 3 (1-based)
    assert float(total) == pytest.approx(float(FLOATS.astype(np.float64).sum()), rel=1e-14)


def test_readme_pysaliency_snippet_runs(tmp_path, monkeypatch):
    """README 'Maps in other tools': the pysaliency code, on a results folder laid out as the workflow
    writes it (maps/, formats/log_density/, fixations/) and a folder of DeepGaze-style log densities."""
    pytest.importorskip("pysaliency")
    from meaningmaps.data.demo import make_demo_study
    from meaningmaps.data.fixation_tables import save_fixation_table
    from meaningmaps.data.fixations import scene_fixations
    from meaningmaps.data.map_export import export_map
    from meaningmaps.maps.center_bias import center_bias_map

    from .conftest import REPO

    text = (REPO / "README.md").read_text()
    section = text.split("## Maps in other tools (pysaliency, MATLAB)", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    make_demo_study(tmp_path / "data", n_scenes=3)
    res, h, w = tmp_path / "results", 384, 512
    rng = np.random.default_rng(0)
    for scene in ("scene_01", "scene_02", "scene_03"):
        table, _ = scene_fixations(tmp_path / "data" / "fixations.csv", scene, h, w, settings={"origin": 1})
        save_fixation_table(res / "fixations" / "scenes" / f"{scene}.csv", table)
        for source, m in (("human", rng.random((h, w)) + 1), ("center_empirical", center_bias_map(h, w, 0.25))):
            (res / "maps" / source).mkdir(parents=True, exist_ok=True)
            np.save(res / "maps" / source / f"{scene}.npy", m.astype(np.float32))
            export_map(res / "maps" / source / f"{scene}.npy", "log_density",
                       res / "formats" / "log_density" / source / f"{scene}.npy")
        gauss = center_bias_map(h, w, 0.2).astype(np.float64)
        (tmp_path / "my_study" / "deepgaze").mkdir(parents=True, exist_ok=True)
        np.save(tmp_path / "my_study" / "deepgaze" / f"{scene}.npy", np.log(gauss / gauss.sum()))
    monkeypatch.chdir(tmp_path)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["meaning (human)", "DeepGaze"], lines
    for line in lines:
        values = [float(v) for v in re.findall(r"(-?\d+\.\d+)", line)]
        assert len(values) == 2 and all(np.isfinite(values)), line
