"""Rules map_from_ratings, map_from_model_ratings: the meaning map (the toolkit's or the paper's builder) from one
scene's per-patch ratings; for the ratings rated a shard of scenes per job, also the scene's ratings CSV copied,
byte for byte, from its shard's folder to ratings/<source>/<scene>.csv."""

import shutil

import numpy as np

from meaningmaps.atomic import atomic_path, save_npy
from meaningmaps.maps.meaning_map import map_from_ratings
from meaningmaps.maps.patch_grid import ScaleSpec
from meaningmaps.maps.preview import save_map_preview
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    specs = [ScaleSpec(**s) for s in sm.params.specs]
    paper = sm.params.builder == "paper"
    m = map_from_ratings(sm.params.file, tuple(sm.params.size), specs,
                         sm.params.paper_sigma if paper else sm.params.sigma,
                         builder=sm.params.builder, power=sm.params.paper_power, unparsable=sm.params.unparsable)
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
    if "ratings" in sm.output.keys():  # rule map_from_model_ratings
        with atomic_path(sm.output.ratings) as tmp:
            shutil.copyfile(sm.params.file, tmp)
