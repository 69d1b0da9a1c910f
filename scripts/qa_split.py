"""Rule qa_split: one fold's training or test JSONL (LLaVA conversation format)."""

from meaningmaps.model.qa_jsonl import concat_jsonl
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    n = concat_jsonl(list(sm.input), sm.output[0])
    print(f"{sm.wildcards.fold} {sm.wildcards.side}: {n} rows from {len(sm.input)} scene(s)")
