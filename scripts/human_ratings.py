"""Rule human_ratings: per-patch human ratings of one scene (recovered exactly from a .mat)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.atomic import save_csv  # noqa: E402
from meaningmaps.human_ratings import human_ratings  # noqa: E402
from meaningmaps.patch_grid import PatchGrid, ScaleSpec  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    grid = PatchGrid(*sm.params.size, [ScaleSpec(**s) for s in sm.params.specs])
    frame = human_ratings(sm.input.ratings, sm.wildcards.scene, grid)
    save_csv(sm.output[0], frame)
    print(f"{len(frame)} ratings of {frame.groupby(['scale', 'k']).ngroups} patches")
