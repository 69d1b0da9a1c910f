"""Rule fixation_table: one scene's fixations exactly as its attention map uses them."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.fixation_tables import save_fixation_table  # noqa: E402
from meaningmaps.fixations import scene_fixations  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    h, w = sm.params.size
    fix, dropped = scene_fixations(sm.input.fixations, sm.wildcards.scene, h, w, outside=sm.params.outside,
                                   settings=sm.params.settings)
    if dropped:
        print(f"dropped {dropped} fixations outside the image (dataset.fixations_outside: drop)")
    save_fixation_table(sm.output[0], fix)
    print(f"{len(fix)} fixations from {fix['subject'].nunique()} subjects")
