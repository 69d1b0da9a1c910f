"""Make tests/data/gbvs_octave/demo_reference.npz: Harel's GBVS toolbox under GNU Octave on the
demo's scenes (see README.md here for the toolbox version and how to rerun).

    python tests/data/gbvs_octave/make_reference.py /path/to/gbvs-toolbox

The demo study (``make_demo_study``, seed 2017) is written to a temporary folder; each scene is
read as the workflow reads it (``load_rgb``: H x W x 3 uint8; the greyscale scene as 3 equal
channels) and saved as a PNG, so Octave's ``imread`` gets exactly those pixels (no JPEG decoder
in between). ``make_reference.m`` runs ``gbvs(img)`` with ``makeGBVSParams`` defaults.

Stored per scene (``<scene>/...``): ``master_map`` (float64, 24 x 32), ``master_map_resized``
sampled every ``STRIDE`` px in both directions (float64; 5 is prime to the 16x upsampling, so all
of its phases are covered), ``sha256`` of the input pixels (``scene_02_grey``: the demo's
greyscale PNG itself, which ``imread`` reads as one channel); and for ``DUMP_SCENE`` the
intermediates (``act_*``, ``val_*``, ``feat_*``, ``iters_*``, the level-4 pyramid). Also Octave's
``imresize(A, [24 32])`` and ``[23 37]`` of ``A = reshape(mod((0:29999) * 7919, 1000), 150, 200) /
1000`` (``imresize/...``): shrink factors that are not 1/n, where Octave's imresize differs from
MATLAB's. ``itti/<scene>/...``: the same two maps of the Itti-Koch variant
(``useIttiKochInsteadOfGBVS = 1``, nothing else changed) for ``ITTI_SCENES``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.io as sio
from PIL import Image

HERE = Path(__file__).resolve().parent
STRIDE = 5
DUMP_SCENE = "scene_01"
ITTI_SCENES = ["scene_01", "scene_04"]


def pixel_digest(rgb: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()).hexdigest()


def main(toolbox: str) -> None:
    from meaningmaps.data.demo import make_demo_study
    from meaningmaps.data.images import load_rgb

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        info = make_demo_study(tmp / "demo")
        pngs = {}
        for scene, rel in info["images"].items():
            rgb = load_rgb(tmp / "demo" / rel)
            pngs[scene] = (tmp / "png" / f"{scene}.png", pixel_digest(rgb))
            pngs[scene][0].parent.mkdir(exist_ok=True)
            Image.fromarray(rgb).save(pngs[scene][0])
        grey = tmp / "demo" / info["images"]["scene_02"]  # the demo's greyscale PNG, as it is:
        with Image.open(grey) as im:  # imread gives one channel, so gbvs() skips the colour channel
            assert im.mode == "L", im.mode
            grey_digest = pixel_digest(np.asarray(im))
        pngs["scene_02_grey"] = (tmp / "png" / "scene_02_grey.png", grey_digest)
        grey_png = pngs["scene_02_grey"][0]
        grey_png.write_bytes(grey.read_bytes())
        out = tmp / "out"
        runs = ((1, [DUMP_SCENE], out), (0, [s for s in pngs if s != DUMP_SCENE], out),
                (2, ITTI_SCENES, tmp / "itti"))
        for dump, scenes, folder in runs:
            files = ", ".join(f"'{pngs[s][0]}'" for s in scenes)
            subprocess.run(["octave", "--no-gui", "-q", "--path", str(HERE), "--eval",
                            f"make_reference('{toolbox}', '{folder}', {dump}, {files})"], check=True)
        subprocess.run(["octave", "--no-gui", "-q", "--eval",
                        "pkg load image; A = reshape(mod((0:150*200-1)*7919, 1000), 150, 200) / 1000; "
                        f"B = imresize(A, [24 32], 'bicubic'); C = imresize(A, [23 37], 'bicubic'); "
                        f"save('-v7', '{out}/imresize.mat', 'B', 'C')"], check=True)
        ims = sio.loadmat(out / "imresize.mat")
        arrays = {"imresize/150x200_to_24x32": ims["B"], "imresize/150x200_to_23x37": ims["C"]}
        for scene, (_, digest) in pngs.items():
            ref = sio.loadmat(out / f"{scene}.mat")
            arrays[f"{scene}/master_map"] = ref["master_map"]
            arrays[f"{scene}/master_map_resized"] = ref["master_map_resized"][::STRIDE, ::STRIDE]
            arrays[f"{scene}/sha256"] = np.array(digest)
            if scene == DUMP_SCENE:
                for key, val in ref.items():
                    if key.startswith(("act_", "val_", "feat_", "iters_")) or key.endswith("_4") and key.startswith("img_"):
                        arrays[f"{scene}/{key}"] = val
        for scene in ITTI_SCENES:
            ref = sio.loadmat(tmp / "itti" / f"{scene}.mat")
            arrays[f"itti/{scene}/master_map"] = ref["master_map"]
            arrays[f"itti/{scene}/master_map_resized"] = ref["master_map_resized"][::STRIDE, ::STRIDE]
        np.savez_compressed(HERE / "demo_reference.npz", stride=np.array(STRIDE), **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
