"""Rules export_mat, export_log_density: one scene's map in a format other tools read (maps.formats)."""

from meaningmaps.data.map_export import export_map
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    export_map(sm.input[0], sm.params.format, sm.output[0])
    print(f"{sm.input[0]} -> {sm.output[0]} ({sm.params.format})")
