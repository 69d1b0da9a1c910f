"""Rule merge: the fold's adapter merged into a fresh base, saved as a standalone model."""

from meaningmaps.model.merge import merge_adapter
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    print(merge_adapter(sm.params.base, sm.input.adapter, sm.output[0], dtype=sm.params.dtype))
