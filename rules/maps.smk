# Map sources -> maps/<source>/<scene>.npy (float32, H x W; the folder holds nothing else, so it is itself an
# input: dataset.maps, pysaliency, MATLAB) and a colour preview previews/maps/<source>/<scene>.png.
# Subpackage maps/: src/meaningmaps/maps/meaning_map.py (ratings -> map, with smoothing.py),
# center_bias.py, empirical_center.py; GBVS salience: gbvs.py (with gbvs_features.py, gbvs_dkl.py,
# imresize.py); maps made elsewhere: src/meaningmaps/data/external_maps.py
# Helpers (rules/common/): sources.smk (RATING_SOURCES, EXTERNAL_SOURCES, one_of), model_inputs.smk
# (ratings_shard, SHARDED_RATINGS, MAP_JOB_PER_SHARD, map_shard_rules), study.smk (study, scene_size,
# content_digest, fixation_pool_of), input_check.smk (inputs_checked), resources.smk (LIGHT)


rule map_from_ratings:
    """The toolkit's map builder on a scene's per-patch ratings; the model sources by
    meaning_map.builder (toolkit or the paper's) on the patches.grid patches. Human and probe
    ratings: ratings/<source>/<scene>.csv; base and finetuned: their shards' map jobs below."""
    input:
        ratings=f"{R}/ratings/{{source}}/{{scene}}.csv",
    output:
        npy=f"{R}/maps/{{source}}/{{scene}}.npy",
        png=f"{R}/previews/maps/{{source}}/{{scene}}.png",
    wildcard_constraints:
        source=one_of([s for s in RATING_SOURCES if s not in SHARDED_RATINGS]),
    params:
        file=lambda wc, input: input.ratings,
        specs=lambda wc: SPECS if wc.source == "human" else PATCH_SPECS,
        size=scene_size,
        sigma=config["meaning_map"]["sigma"],
        builder=lambda wc: "toolkit" if wc.source == "human" else config["meaning_map"]["builder"],
        paper_sigma=config["meaning_map"]["paper_sigma"],
        paper_power=config["meaning_map"]["paper_power"],
        unparsable="error",
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/maps/{{source}}/{{scene}}.log",
    benchmark:
        f"{R}/benchmarks/maps/{{source}}/{{scene}}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/map_from_ratings.py"


# The base and finetuned ratings are rated a shard of scenes per job (rules/inference.smk): the map
# job of a shard (MAP_JOB_PER_SHARD, rules/common/model_inputs.smk) reads its scenes' CSVs from the
# shard's folder, makes their maps as map_from_ratings does, and also writes each CSV where a user
# looks for it, ratings/<source>/<scene>.csv (the same bytes): one rule per shard, named
# maps_<source>_shard_<shard>. Under the SLURM profile they run 50 to a group job (group map_shards).
if MAP_JOB_PER_SHARD:
    for _source in [s for s in RATING_SOURCES if s in SHARDED_RATINGS]:
        for _name, _shard, _scenes in map_shard_rules(_source):

            rule:
                name:
                    _name
                input:
                    shard=f"{R}/ratings/{_source}/shards/{_shard}",
                output:
                    npy=[f"{R}/maps/{_source}/{s}.npy" for s in _scenes],
                    png=[f"{R}/previews/maps/{_source}/{s}.png" for s in _scenes],
                    ratings=[f"{R}/ratings/{_source}/{s}.csv" for s in _scenes],
                params:
                    scenes=_scenes,
                    files=[f"{R}/ratings/{_source}/shards/{_shard}/{s}.csv" for s in _scenes],
                    specs=PATCH_SPECS,
                    sizes=[list(study().sizes[s]) for s in _scenes],
                    sigma=config["meaning_map"]["sigma"],
                    builder=config["meaning_map"]["builder"],
                    paper_sigma=config["meaning_map"]["paper_sigma"],
                    paper_power=config["meaning_map"]["paper_power"],
                    unparsable=INFERENCE["unparsable"] if INFERENCE["mode"] == "generate" else "error",
                group:
                    "map_shards"  # the rules have no names to list in a profile's groups (profiles/slurm)
                threads: 1
                resources:
                    **LIGHT,
                log:
                    f"{R}/logs/maps/{_source}/shards/{_shard}.log",
                benchmark:
                    f"{R}/benchmarks/maps/{_source}/shards/{_shard}.tsv"
                conda:
                    "../envs/core.yaml"
                script:
                    "../scripts/map_from_ratings.py"

else:  # a map job per scene: it copies the scene's ratings from its shard's folder

    use rule map_from_ratings as map_from_model_ratings with:
        input:
            shard=ratings_shard,
        output:
            npy=f"{R}/maps/{{source}}/{{scene}}.npy",
            png=f"{R}/previews/maps/{{source}}/{{scene}}.png",
            ratings=f"{R}/ratings/{{source}}/{{scene}}.csv",
        wildcard_constraints:
            source=one_of([s for s in RATING_SOURCES if s in SHARDED_RATINGS]),
        params:  # the model sources' values of map_from_ratings' specs and builder, as constants (no function per job)
            file=lambda wc, input: f"{input.shard}/{wc.scene}.csv",
            specs=PATCH_SPECS,
            builder=config["meaning_map"]["builder"],
            unparsable=INFERENCE["unparsable"] if INFERENCE["mode"] == "generate" else "error",


rule import_map:
    """A map made elsewhere (dataset.maps; .npy, .npz, .mat or a greyscale image, the array its
    variable names): exponentiated (transform: exp) and resampled (resize: true) as its source says,
    checked for size, NaN, constancy and a log density's look."""
    input:
        map=lambda wc: study().maps[wc.source][wc.scene],
        checked=inputs_checked,  # waits for the input check (rules/checks.smk)
    output:
        npy=f"{R}/maps/{{source}}/{{scene}}.npy",
        png=f"{R}/previews/maps/{{source}}/{{scene}}.png",
    wildcard_constraints:
        source=one_of(EXTERNAL_SOURCES),
    params:
        content=lambda wc: content_digest(study().maps[wc.source][wc.scene]),
        size=scene_size,
        transform=lambda wc: study().map_settings[wc.source]["transform"],
        resize=lambda wc: study().map_settings[wc.source]["resize"],
        variable=lambda wc: study().map_settings[wc.source]["variable"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/maps/{{source}}/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/import_map.py"


rule center_map:
    """The centre-bias baseline: an isotropic Gaussian at the image centre (after the input check,
    like every map: a refused study leaves no maps)."""
    input:
        checked=inputs_checked,  # waits for the input check (rules/checks.smk)
    output:
        npy=f"{R}/maps/center/{{scene}}.npy",
        png=f"{R}/previews/maps/center/{{scene}}.png",
    params:
        size=scene_size,
        sigma_fraction=config["evaluation"]["center_sigma_fraction"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/maps/center/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/center_map.py"


rule center_empirical:
    """The empirical centre bias: the attention map of every other scene's fixations (leave one
    scene out; same fc/weight/wrap as rule attention). Also the information-gain baseline."""
    input:
        tables=FIXATION_TABLES,
        pool=lambda wc: fixation_pool_of(wc.scene),
    output:
        npy=f"{R}/maps/center_empirical/{{scene}}.npy",
        png=f"{R}/previews/maps/center_empirical/{{scene}}.png",
    params:
        size=scene_size,
        fc=config["attention"]["fc"],
        weight=config["attention"]["weight"],
        wrap=config["attention"]["wrap"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/maps/center_empirical/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/center_empirical.py"


rule gbvs_map:
    """GBVS salience of the scene image (Harel's toolbox, gbvs.m with config gbvs: its
    makeGBVSParams settings): out.master_map_resized at the image size. A greyscale image file is
    given as one channel, as MATLAB's imread reads it (no colour channel)."""
    input:
        image=lambda wc: study().images[wc.scene],
        checked=inputs_checked,  # waits for the input check (rules/checks.smk)
    output:
        npy=f"{R}/maps/gbvs/{{scene}}.npy",
        png=f"{R}/previews/maps/gbvs/{{scene}}.png",
    params:
        content=lambda wc: content_digest(study().images[wc.scene]),
        settings={k: v for k, v in config["gbvs"].items() if k != "enabled"},
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/maps/gbvs/{{scene}}.log",
    benchmark:
        f"{R}/benchmarks/maps/gbvs/{{scene}}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/gbvs_map.py"
