"""Rule gbvs_map: GBVS salience of one scene image (maps/gbvs.py), out.master_map_resized as float32."""

import time

import numpy as np
from PIL import Image

from meaningmaps.atomic import save_npy
from meaningmaps.data.images import load_rgb
from meaningmaps.maps.gbvs import GBVSParams, gbvs
from meaningmaps.maps.preview import save_map_preview
from meaningmaps.workflow.rule_support import logged

GREY_MODES = ("1", "L", "LA", "I;16", "I;16L", "I;16B", "I;16N", "I")

with logged(snakemake):
    sm = snakemake
    params = GBVSParams.from_config(sm.params.settings)
    rgb = load_rgb(sm.input.image)
    with Image.open(sm.input.image) as im:
        grey = im.mode in GREY_MODES
    image = rgb[:, :, 0] if grey else rgb  # MATLAB's imread gives a greyscale file one channel
    t0 = time.perf_counter()
    out = gbvs(image, params, where=sm.input.image)
    m = out["master_map_resized"]
    print(f"gbvs/{sm.wildcards.scene}: {'greyscale' if grey else 'RGB'} {m.shape[1]}x{m.shape[0]} (WxH), "
          f"master_map {out['master_map'].shape[1]}x{out['master_map'].shape[0]}, channels "
          f"{params.channels}, imresize {params.imresize}, {time.perf_counter() - t0:.2f} s")
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
