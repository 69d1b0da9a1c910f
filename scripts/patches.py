"""Rule patches: cut one scene into the toolkit's patch PNGs and index.csv."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.patch_files import write_scene_patches  # noqa: E402
from meaningmaps.patch_grid import ScaleSpec  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    specs = [ScaleSpec(**s) for s in sm.params.specs]
    index = write_scene_patches(sm.input.image, sm.output[0], specs, sm.params.compress_level)
    print(f"{len(index)} patches: " + ", ".join(f"{s} {n}" for s, n in index.groupby("scale").size().items()))
