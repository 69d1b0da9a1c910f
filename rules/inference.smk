# Model ratings per scene -> ratings/<source>/<scene>.csv, built into maps by map_from_ratings.
#   base       the base model zero-shot (the paper's baseline)
#   finetuned  each scene rated by the merged model of the fold that held it out (or model.finetuned_model)
#   probe      ridge regression from the frozen vision tower's pooled patch features (same folds,
#              or model.probe_model)
# Modules: src/meaningmaps/model_ratings.py (answer_scoring.py), trained_models.py, probe.py


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
    """Rated by the merged model of the fold that held the scene out, or by model.finetuned_model (an
    adapter merged in memory onto model.base, or a merged model). The model's card must agree with
    the prompt and the views (model.prompt, model.image_aspect, model.pad_fill, model.background)."""
    input:
        unpack(scene_model_inputs),
        model=lambda wc: FINETUNED_MODEL or f"{R}/models/{fold_of(wc)}/merged",
        base=BASE_INPUT if FINETUNED_MODEL else [],
        prompt=f"{R}/qa/prompt.txt",
    output:
        f"{R}/ratings/finetuned/{{scene}}.csv",
    params:
        model=lambda wc, input: input.model,
        base=lambda wc, input: base_model(wc, input) if FINETUNED_MODEL else None,
        card=lambda wc: content_digest(f"{FINETUNED_MODEL}/meaningmaps_card.json") if FINETUNED_MODEL else None,
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
    """Ridge regression (alpha by generalised cross-validation) on one fold's training scenes; the
    saved probe records its base model and pooling (model.probe_model checks them)."""
    input:
        features=lambda wc: expand(f"{R}/probe/features/{{scene}}.npz", scene=FOLDS()[wc.fold][0]),
        labels=lambda wc: expand(f"{R}/qa/labels/{{scene}}.csv", scene=FOLDS()[wc.fold][0]),
        base=BASE_INPUT,
    output:
        f"{R}/probe/{{fold}}/ridge.npz",
    params:
        model=base_model,
        settings=MODEL["probe"],
    log:
        f"{R}/logs/probe_fit/{{fold}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/probe_fit.py"


rule probe_ratings:
    """Rated by the probe of the fold that held the scene out, or by model.probe_model."""
    input:
        features=f"{R}/probe/features/{{scene}}.npz",
        ridge=lambda wc: PROBE_MODEL or f"{R}/probe/{fold_of(wc)}/ridge.npz",
    output:
        f"{R}/ratings/probe/{{scene}}.csv",
    log:
        f"{R}/logs/ratings/probe/{{scene}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/probe_ratings.py"
