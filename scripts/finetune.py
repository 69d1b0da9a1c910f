"""Rule finetune: LoRA fine-tuning of one fold's model (torchrun + DeepSpeed over the job's GPUs)."""

import sys
from pathlib import Path

from meaningmaps.model.finetune.launch import launch
from meaningmaps.model.finetune.spec import FinetuneSpec
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    spec = FinetuneSpec(base_model=sm.params.base, train_jsonl=sm.input.train, image_root=sm.params.image_root,
                        output_dir=sm.params.out_dir, prompt_mode=sm.params.prompt_mode,
                        prompt=Path(sm.input.prompt).read_text(), eval_jsonl=sm.input.get("heldout"),
                        settings=dict(sm.params.settings), record=dict(sm.params.record))
    spec_path = spec.to_json(Path(sm.params.out_dir) / "spec.json")  # the run's one spec file
    adapter = launch(spec_path, cpu_ranks=spec.settings.cpu_ranks, stdout=sys.stdout, device=sm.params.device)
    print(f"adapter: {adapter}")
