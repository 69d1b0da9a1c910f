"""Rules map_from_ratings, maps_<source>_shard_<shard> and map_from_model_ratings: the meaning map (the toolkit's
or the paper's builder) from a scene's per-patch ratings, for one scene or for each scene of a shard; for the
ratings rated a shard of scenes per job, also each scene's ratings CSV copied, byte for byte, from its shard's
folder to ratings/<source>/<scene>.csv."""

import shutil

import numpy as np

from meaningmaps.atomic import atomic_path, save_npy
from meaningmaps.maps.meaning_map import map_from_ratings
from meaningmaps.maps.patch_grid import ScaleSpec
from meaningmaps.maps.preview import save_map_preview
from meaningmaps.workflow.rule_support import logged


def each(files):
    """A job's file or files, as a list (one scene's job names one file per output, a shard's a list)."""
    return [files] if isinstance(files, str) else list(files)


with logged(snakemake):
    sm = snakemake
    specs = [ScaleSpec(**s) for s in sm.params.specs]
    paper = sm.params.builder == "paper"
    shard = "files" in sm.params.keys()  # a shard's map job: its scenes' files and sizes
    files = sm.params.files if shard else [sm.params.file]
    sizes = sm.params.sizes if shard else [sm.params.size]
    copies = each(sm.output.ratings) if "ratings" in sm.output.keys() else [None] * len(files)
    for file, size, npy, png, copy in zip(files, sizes, each(sm.output.npy), each(sm.output.png), copies, strict=True):
        m = map_from_ratings(file, tuple(size), specs, sm.params.paper_sigma if paper else sm.params.sigma,
                             builder=sm.params.builder, power=sm.params.paper_power, unparsable=sm.params.unparsable)
        save_npy(npy, m.astype(np.float32))
        save_map_preview(m, png)
        if copy is not None:  # a model source's ratings, where a user looks for them
            with atomic_path(copy) as tmp:
                shutil.copyfile(file, tmp)
        if shard:
            print(f"{npy}", flush=True)
