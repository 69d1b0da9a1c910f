"""Rule pad_fill: the base model's image-processor mean, which every scene's views are padded with
(model.pad_fill processor), read with one processor load for the whole study."""
import json

from meaningmaps.atomic import save_text
from meaningmaps.model.qa_jsonl import resolve_pad_fill
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    fill = [int(v) for v in resolve_pad_fill("pad", "processor", sm.params.model)]
    print(f"pad fill {fill} (the image processor mean of {sm.params.model})")
    save_text(sm.output[0], json.dumps({"fill": fill, "model": str(sm.params.model)}) + "\n")
