"""Rule build_tiny_llava: write a tiny random LLaVA where model.base points (offline demo/tests).

With the input ``tokenizer`` (config model.build_tiny.tokenizer) the model gets LLaVA-1.5's own text
vocabulary; without it, the small word-level one.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

from meaningmaps.rule_support import logged  # noqa: E402
from meaningmaps.tiny_llava import build_tiny_llava_atomic  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    given = sm.input.get("tokenizer", [])
    tokenizer = given if isinstance(given, str) else (given[0] if given else None)
    print(build_tiny_llava_atomic(sm.output[0], tokenizer=tokenizer, **sm.params.shape))
