# Question-answer data: the patch as the model sees it, its label, and the JSONL the model trains on.
# Modules: src/meaningmaps/qa_jsonl.py (views, JSONL), labels.py (labels), folds.py + splits.py (splits)
# Train and test JSONL are separate jobs so a change to a held-out scene retrains nothing.


rule patch_views:
    """Each RGBA patch composited on the configured background: exactly the image the model sees."""
    input:
        patches=f"{R}/patches/{{scene}}",
    output:
        directory(f"{R}/qa/images/{{scene}}"),
    params:
        background=MODEL["background"],
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
        source=MODEL["labels"]["from"],
        specs=SPECS,
        size=scene_size,
    log:
        f"{R}/logs/qa_scene/{{scene}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/qa_scene.py"


rule qa_split:
    """A fold's training or test set, in the LLaVA conversation and the HF messages formats."""
    input:
        split_jsonls,
    output:
        llava=f"{R}/qa/splits/{{fold}}/{{side}}.jsonl",
        hf=f"{R}/qa/splits/{{fold}}/{{side}}.hf.jsonl",
    wildcard_constraints:
        side="train|test",
    log:
        f"{R}/logs/qa_split/{{fold}}_{{side}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/qa_split.py"
