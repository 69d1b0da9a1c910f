# LoRA fine-tuning (HF Trainer + DeepSpeed) of one fold's model, then a standalone merged model.
# Subpackage model/finetune/: src/meaningmaps/model/finetune/launch.py (torchrun/srun), train.py (the worker),
# settings.py (model.finetune, from the config schema), checkpoints.py, data.py, loss_curve.py; model/: card.py,
# merge.py, release.py
# Checkpoints live in models/<fold>/checkpoints/<run digest> (not an output): a killed job resumes
# from the latest one; a run whose training data (content), prompt, settings or base model differ
# discards them and trains from scratch; a finished run removes them.
# Helpers (rules/common/): model_inputs.smk (heldout_inputs, train_views, BASE_INPUT, base_model,
# model_record), study.smk (RATING_SCHEME), resources.smk (FINETUNE_JOB, MERGE_JOB, DEVICE...)


rule finetune:
    input:
        unpack(heldout_inputs),
        train=f"{R}/qa/splits/{{fold}}/train.jsonl",
        views=train_views,
        prompt=f"{R}/qa/prompt.txt",
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
        prompt_mode=MODEL["prompt"],
        record=model_record,
        device=DEVICE,
    threads: FINETUNE_THREADS
    resources:
        **FINETUNE_JOB,
    log:
        f"{R}/logs/finetune/{{fold}}.log",
    benchmark:
        f"{R}/benchmarks/finetune/{{fold}}.tsv"
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/finetune.py"


rule merge:
    """Adapter loaded onto a fresh base and merged into a standalone safetensors model (with its card)."""
    input:
        adapter=f"{R}/models/{{fold}}/adapter",
        base=BASE_INPUT,
    output:
        directory(f"{R}/models/{{fold}}/merged"),
    params:
        base=base_model,
        dtype="bf16" if MODEL["finetune"]["bf16"] else "fp32",
    threads: MODEL_THREADS
    resources:
        **MERGE_JOB,
    log:
        f"{R}/logs/merge/{{fold}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/merge.py"


rule release_model:
    """models/all/release: the adapter trained on every scene, with the cross-validated scores of the
    recipe (the evaluation summary of the finetuned source) in its card. The folder to share."""
    input:
        adapter=f"{R}/models/all/adapter",
        summary=[f"{R}/evaluation/summary.csv"] if DS.get("fixations") and RATING_SCHEME != ALL else [],
    output:
        directory(f"{R}/models/all/release"),
    params:
        scheme=RATING_SCHEME,
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/release_model.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/release_model.py"
