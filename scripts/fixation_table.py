"""Rule fixation_table: one scene's fixations exactly as its attention map uses them."""

from meaningmaps.data.fixation_tables import save_fixation_table
from meaningmaps.data.fixations import scene_fixations
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    h, w = sm.params.size
    fix, dropped = scene_fixations(sm.input.fixations, sm.wildcards.scene, h, w, outside=sm.params.outside,
                                   settings=sm.params.settings)
    if dropped:
        print(f"dropped {dropped} fixations outside the image (dataset.fixations_outside: drop)")
    save_fixation_table(sm.output[0], fix)
    print(f"{len(fix)} fixations from {fix['subject'].nunique()} subjects")
