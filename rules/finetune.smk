# LoRA fine-tuning (HF Trainer + DeepSpeed) of one fold's model, then a standalone merged model.
# Modules: src/meaningmaps/finetune.py (worker), finetune_launch.py (torchrun/srun), merge.py
# Checkpoints live in models/<fold>/checkpoints (not an output): a killed job resumes from the
# latest one; they are discarded when the training data or settings change.


rule finetune:
    input:
        train=f"{R}/qa/splits/{{fold}}/train.jsonl",
        views=train_views,
        base=BASE_INPUT,
    output:
        adapter=directory(f"{R}/models/{{fold}}/adapter"),
        loss_csv=f"{R}/models/{{fold}}/loss.csv",
        loss_png=report(f"{R}/models/{{fold}}/loss.png", category="Fine-tuning", caption="../report/loss.rst"),
    params:
        base=base_model,
        image_root=f"{R}/qa/images",
        out_dir=f"{R}/models/{{fold}}",
        settings=MODEL["finetune"],
    log:
        f"{R}/logs/finetune/{{fold}}.log",
    benchmark:
        f"{R}/benchmarks/finetune/{{fold}}.tsv"
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/finetune.py"


rule merge:
    """Adapter loaded onto a fresh base and merged into a standalone safetensors model."""
    input:
        adapter=f"{R}/models/{{fold}}/adapter",
        base=BASE_INPUT,
    output:
        directory(f"{R}/models/{{fold}}/merged"),
    params:
        base=base_model,
        dtype="bf16" if MODEL["finetune"]["bf16"] else "fp32",
    log:
        f"{R}/logs/merge/{{fold}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/merge.py"
