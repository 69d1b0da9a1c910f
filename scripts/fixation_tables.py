"""Rule fixation_tables: every scene's fixations, exactly as its attention map uses them, from one
read of the study's fixation file; one table per scene, and the study's dropped-fixation summary."""

from pathlib import Path

from meaningmaps.data.fixation_tables import write_scene_tables
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    summary = write_scene_tables(Path(sm.output[0]), sm.input.fixations, sm.params.sizes,
                                 outside=sm.params.outside, settings=sm.params.settings)
    print(summary)
