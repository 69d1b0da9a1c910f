"""Rule refuse_inputs: the input check found problems; fail with one error that lists them (the
first jobs of every scene chain depend on this rule only then, so none of them starts)."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.input_checks import refusal  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    raise refusal(json.loads(Path(sm.input[0]).read_text()))
