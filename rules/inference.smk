# Model ratings per scene -> ratings/<source>/<scene>.csv, built into maps by map_from_ratings.
#   base       the base model zero-shot (the paper's baseline)
#   finetuned  each scene rated by the merged model of the fold that held it out
#   probe      ridge regression from the frozen vision tower's pooled patch features (same folds)
# Modules: src/meaningmaps/model_ratings.py (answer_scoring.py), probe.py


rule base_ratings:
    input:
        unpack(scene_model_inputs),
        base=BASE_INPUT,
        prompt=f"{R}/qa/prompt.txt",
    output:
        f"{R}/ratings/base/{{scene}}.csv",
    params:
        model=base_model,
        settings=INFERENCE,
        expect=view_settings(),
        trained=False,
    log:
        f"{R}/logs/ratings/base/{{scene}}.log",
    benchmark:
        f"{R}/benchmarks/ratings/base/{{scene}}.tsv"
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/model_ratings.py"


rule finetuned_ratings:
    """Rated by the merged model of the fold that held the scene out; its card must agree with the
    prompt and the views (model.prompt, model.image_aspect, model.pad_fill, model.background)."""
    input:
        unpack(scene_model_inputs),
        model=lambda wc: f"{R}/models/{fold_of(wc)}/merged",
        prompt=f"{R}/qa/prompt.txt",
    output:
        f"{R}/ratings/finetuned/{{scene}}.csv",
    params:
        model=lambda wc, input: input.model,
        settings=INFERENCE,
        expect=view_settings(),
        trained=True,
    log:
        f"{R}/logs/ratings/finetuned/{{scene}}.log",
    benchmark:
        f"{R}/benchmarks/ratings/finetuned/{{scene}}.tsv"
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/model_ratings.py"


rule probe_features:
    """Frozen vision-tower features of every patch of one scene (pooled over image tokens)."""
    input:
        unpack(scene_model_inputs),
        base=BASE_INPUT,
    output:
        f"{R}/probe/features/{{scene}}.npz",
    params:
        model=base_model,
        settings=MODEL["probe"],
        device=INFERENCE["device"],
    log:
        f"{R}/logs/probe_features/{{scene}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/probe_features.py"


rule probe_fit:
    """Ridge regression (alpha by generalised cross-validation) on one fold's training scenes."""
    input:
        features=lambda wc: expand(f"{R}/probe/features/{{scene}}.npz", scene=FOLDS()[wc.fold][0]),
        labels=lambda wc: expand(f"{R}/qa/labels/{{scene}}.csv", scene=FOLDS()[wc.fold][0]),
    output:
        f"{R}/probe/{{fold}}/ridge.npz",
    params:
        settings=MODEL["probe"],
    log:
        f"{R}/logs/probe_fit/{{fold}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/probe_fit.py"


rule probe_ratings:
    input:
        features=f"{R}/probe/features/{{scene}}.npz",
        ridge=lambda wc: f"{R}/probe/{fold_of(wc)}/ridge.npz",
    output:
        f"{R}/ratings/probe/{{scene}}.csv",
    log:
        f"{R}/logs/ratings/probe/{{scene}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/probe_ratings.py"
