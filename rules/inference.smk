# Model ratings -> ratings/<source>/shards/<shard>/<scene>.csv (base, finetuned: one model load per shard
# of model.inference.scenes_per_job scenes; each scene's map job, map_from_model_ratings in rules/maps.smk,
# copies its CSV to ratings/<source>/<scene>.csv) or ratings/probe/<scene>.csv, built into maps by map_from_ratings.
#   base       the base model zero-shot (the paper's baseline)
#   finetuned  each scene rated by the merged model of the fold that held it out (or model.finetuned_model)
#   probe      ridge regression from the frozen vision tower's pooled patch features (same folds,
#              or model.probe_model)
# Subpackage model/: src/meaningmaps/model/ratings.py (answer_scoring.py), trained_models.py, probe.py;
# the shards: src/meaningmaps/workflow/shards.py
# Without PATCH_FILES (no source trained here, no probe) the base and finetuned jobs cut their scenes'
# patches and make the views themselves from the images (src/meaningmaps/model/scene_views.py): no
# patches or patch_views jobs (rules/patches.smk, qa.smk) in such a run.
# Helpers (rules/common/): model_inputs.smk (scene_shards, shard_scenes, shard_views, shard_cut, PATCH_FILES,
# scene_shard_dir, finetuned_model_input, base_model, view_settings, INFERENCE), study.smk (folds,
# fold_of), resources.smk (MODEL_JOB, MERGING_JOB, DEVICE...)


rule base_ratings:
    """A shard of scenes rated by the base model zero-shot, one model load for the shard."""
    input:
        unpack(shard_views("base")),
        base=BASE_INPUT,
        prompt=f"{R}/qa/prompt.txt",
        rating_prompt=f"{R}/qa/prompt_rating.txt",
    output:
        directory(f"{R}/ratings/base/shards/{{shard}}"),
    params:
        scenes=shard_scenes("base"),
        model=base_model,
        settings=INFERENCE,
        device=DEVICE,
        expect=view_settings(),
        trained=False,
        **shard_cut("base"),  # the patches cut here when no step needs their files (PATCH_FILES)
    threads: MODEL_THREADS
    resources:
        **MODEL_JOB,
    log:
        f"{R}/logs/ratings/base/{{shard}}.log",
    benchmark:
        f"{R}/benchmarks/ratings/base/{{shard}}.tsv"
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/model_ratings.py"


rule finetuned_ratings:
    """A shard of the scenes one fold's model rates (those it held out), one model load: the fold's
    adapter merged in memory onto the base, or its merged copy (model.merge); or model.finetuned_model
    (an adapter, merged in memory onto model.base, or a merged model). The model's card must agree
    with the prompt and the views (model.prompt, model.image_aspect, model.pad_fill, model.background)."""
    input:
        unpack(shard_views("finetuned")),
        model=finetuned_model_input,
        base=BASE_INPUT if ADAPTER_ON_BASE else [],
        prompt=f"{R}/qa/prompt.txt",
        rating_prompt=f"{R}/qa/prompt_rating.txt",
    output:
        directory(f"{R}/ratings/finetuned/shards/{{shard}}"),
    params:
        scenes=shard_scenes("finetuned"),
        model=lambda wc, input: input.model,
        base=lambda wc, input: base_model(wc, input) if ADAPTER_ON_BASE else None,
        card=lambda wc: content_digest(f"{FINETUNED_MODEL}/meaningmaps_card.json") if FINETUNED_MODEL else None,
        settings=INFERENCE,
        device=DEVICE,
        expect=view_settings(),
        trained=True,
        **shard_cut("finetuned"),  # the patches cut here when no step needs their files (PATCH_FILES)
    threads: MODEL_THREADS
    resources:
        **(MERGING_JOB if ADAPTER_ON_BASE else MODEL_JOB),
    log:
        f"{R}/logs/ratings/finetuned/{{shard}}.log",
    benchmark:
        f"{R}/benchmarks/ratings/finetuned/{{shard}}.tsv"
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/model_ratings.py"


rule probe_features:
    """Frozen vision-tower features (pooled over image tokens) of every patch of a shard of scenes."""
    input:
        unpack(shard_views("probe")),
        base=BASE_INPUT,
    output:
        directory(f"{R}/probe/features/shards/{{shard}}"),
    params:
        scenes=shard_scenes("probe"),
        model=base_model,
        settings=MODEL["probe"],
        device=DEVICE,
    threads: MODEL_THREADS
    resources:
        **MODEL_JOB,
    log:
        f"{R}/logs/probe_features/{{shard}}.log",
    conda:
        "../envs/model.yaml"
    script:
        "../scripts/probe_features.py"


rule probe_fit:
    """Ridge regression (alpha by generalised cross-validation) on one fold's training scenes; the
    saved probe records its base model and pooling (model.probe_model checks them)."""
    input:
        features=lambda wc: sorted({f"{R}/probe/features/shards/{shard_of(scene_shards('probe'), s)}" for s in folds()[wc.fold][0]}),
        labels=lambda wc: expand(f"{R}/qa/labels/{{scene}}.csv", scene=folds()[wc.fold][0]),
        base=BASE_INPUT,
    output:
        f"{R}/probe/{{fold}}/ridge.npz",
    params:
        model=base_model,
        settings=MODEL["probe"],
        feature_files=lambda wc: [f"{R}/probe/features/shards/{shard_of(scene_shards('probe'), s)}/{s}.npz"
                                  for s in folds()[wc.fold][0]],  # in the order of the labels
    threads: 4
    resources:
        mem_mb=grows(16000), runtime=grows(60), gpu=0,
    log:
        f"{R}/logs/probe_fit/{{fold}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/probe_fit.py"


rule probe_ratings:
    """Rated by the probe of the fold that held the scene out, or by model.probe_model."""
    input:
        features=scene_shard_dir("probe", "probe/features"),
        ridge=lambda wc: PROBE_MODEL or f"{R}/probe/{fold_of(wc)}/ridge.npz",
    output:
        f"{R}/ratings/probe/{{scene}}.csv",
    params:
        features=lambda wc, input: f"{input.features}/{wc.scene}.npz",
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/ratings/probe/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/probe_ratings.py"
