"""Rule human_ratings: per-patch human ratings of one scene (recovered exactly from a .mat)."""

from meaningmaps.atomic import save_csv
from meaningmaps.data.human_ratings import human_ratings
from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    grid = PatchGrid(*sm.params.size, [ScaleSpec(**s) for s in sm.params.specs])
    frame = human_ratings(sm.input.ratings, sm.wildcards.scene, grid)
    save_csv(sm.output[0], frame)
    print(f"{len(frame)} ratings of {frame.groupby(['scale', 'k']).ngroups} patches")
