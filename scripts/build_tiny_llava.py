"""Rule build_tiny_llava: write a tiny random LLaVA where model.base points (offline demo/tests).

With the input ``tokenizer`` (config model.build_tiny.tokenizer) the model gets LLaVA-1.5's own text
vocabulary; without it, the small word-level one.
"""

from meaningmaps.model.tiny_llava import build_tiny_llava_atomic
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    given = sm.input.get("tokenizer", [])
    tokenizer = given if isinstance(given, str) else (given[0] if given else None)
    print(build_tiny_llava_atomic(sm.output[0], tokenizer=tokenizer, **sm.params.shape))
