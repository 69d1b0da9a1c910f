# Question-answer data: the patch as the model sees it, its label, and the JSONL the model trains on.
# Subpackage model/: src/meaningmaps/model/qa_jsonl.py (views, JSONL), labels.py (labels), splits.py (folds),
# prompting.py (prompt), sentencepiece_ids.py (model.prompt paper's token ids)
# Train and test JSONL are separate jobs so a change to a held-out scene retrains nothing.
# Helpers (rules/common/): model_inputs.smk (BASE_INPUT, base_model, label_input,
# LABELS_FROM_RATINGS, split_jsonls, VIEWS_NEED_BASE, PAD_FILL), study.smk (scene_size), resources.smk (LIGHT); PATCH_SPECS:
# the Snakefile


# The pad colour of the views under model.pad_fill processor: rules/common/model_inputs.smk
# (VIEWS_NEED_BASE, PAD_FILL).


rule pad_fill:
    """The base model's image-processor mean, the pad colour of the views under model.pad_fill processor."""
    input:
        base=BASE_INPUT,
    output:
        PAD_FILL,
    params:
        model=base_model,
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/pad_fill.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/pad_fill.py"


rule patch_views:
    """Each RGBA patch composited on the configured background and, under model.image_aspect pad,
    pasted on a square of model.pad_fill (LLaVA-1.5's expand2square): exactly the image the model sees."""
    input:
        patches=f"{R}/patches/{{scene}}",
        pad_fill=[PAD_FILL] if VIEWS_NEED_BASE else [],
    output:
        directory(f"{R}/qa/images/{{scene}}"),
    params:
        background=MODEL["background"],
        aspect=MODEL["image_aspect"],
        pad_fill=MODEL["pad_fill"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/patch_views/{{scene}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/patch_views.py"


rule qa_scene:
    """Per-patch labels (CSV) and one scene's question-answer rows (LLaVA conversation JSONL)."""
    input:
        source=label_input,
        patches=f"{R}/patches/{{scene}}",
        views=f"{R}/qa/images/{{scene}}",
    output:
        labels=f"{R}/qa/labels/{{scene}}.csv",
        jsonl=f"{R}/qa/scenes/{{scene}}.jsonl",
    params:
        rule=MODEL["labels"]["rule"],
        from_ratings=LABELS_FROM_RATINGS,
        specs=PATCH_SPECS,
        size=scene_size,
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/qa_scene/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/qa_scene.py"


rule qa_split:
    """A fold's training or test set (LLaVA conversation format). The test side feeds the held-out loss."""
    input:
        split_jsonls,
    output:
        f"{R}/qa/splits/{{fold}}/{{side}}.jsonl",
    wildcard_constraints:
        side="train|test",
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/qa_split/{{fold}}_{{side}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/qa_split.py"


rule prompt:
    """The exact prompt texts (with their image placeholder) that training (qa/prompt.txt) and rating
    (qa/prompt_rating.txt) use: model.prompt (llava_v1, chat_template: the same text; paper: the
    paper's training and rating prompts). No newline is added."""
    input:
        base=BASE_INPUT,
    output:
        f"{R}/qa/prompt.txt",
        f"{R}/qa/prompt_rating.txt",
    params:
        model=base_model,
        mode=MODEL["prompt"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/prompt.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/prompt.py"
