"""Rule refuse_inputs: the input check found problems; fail with one error that lists them (the
first jobs of every scene chain depend on this rule only then, so none of them starts)."""
import json
from pathlib import Path

from meaningmaps.data.input_checks import refusal
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    raise refusal(json.loads(Path(sm.input[0]).read_text()))
