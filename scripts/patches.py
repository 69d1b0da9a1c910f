"""Rule patches: cut one scene into the toolkit's patch PNGs and index.csv."""

from meaningmaps.maps.patch_files import write_scene_patches
from meaningmaps.maps.patch_grid import ScaleSpec
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    specs = [ScaleSpec(**s) for s in sm.params.specs]
    index = write_scene_patches(sm.input.image, sm.output[0], specs, sm.params.compress_level)
    print(f"{len(index)} patches: " + ", ".join(f"{s} {n}" for s, n in index.groupby("scale").size().items()))
