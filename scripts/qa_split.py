"""Rule qa_split: one fold's training or test JSONL (LLaVA and HF messages formats)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.qa_jsonl import concat_jsonl  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    n = concat_jsonl(list(sm.input), sm.output.llava, sm.output.hf)
    print(f"{sm.wildcards.fold} {sm.wildcards.side}: {n} rows from {len(sm.input)} scene(s)")
