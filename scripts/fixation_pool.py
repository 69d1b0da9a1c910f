"""Rule fixation_pool: every scene's fixations pooled onto one image size (counts per pixel, and
summed durations under attention.weight: duration), from which each scene of that size subtracts
its own for its leave-one-out maps (empirical centre bias, shuffled AUC)."""

from pathlib import Path

from meaningmaps.data.fixation_tables import read_scene_tables
from meaningmaps.maps.empirical_center import pooled_fixation_maps, save_pool
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    h, w = (int(v) for v in sm.wildcards.size.split("x"))
    sizes = {s: tuple(v) for s, v in sm.params.sizes.items()}
    tables = read_scene_tables(Path(sm.input[0]), list(sizes))
    pool = pooled_fixation_maps(tables, sizes, (h, w), weight=sm.params.weight)
    save_pool(sm.output[0], pool)
    print(f"{pool['n_fixations']} fixations of {pool['n_scenes']} scene(s) pooled onto {h} x {w} "
          f"({len(pool['rescaled'])} rescaled from another size)")
