# Fixations and attention maps. One job reads the study's fixation file for every scene (rule
# fixation_tables: fixations/scenes/<scene>.csv, each scene's fixations exactly as its maps use
# them); one job per image size pools every scene's fixations (rule fixation_pool), from which
# each scene's leave-one-out maps subtract its own (empirical centre bias, shuffled AUC): no
# per-scene job reads every scene, so a study of N scenes costs N, not N x N.
# Attention maps: fixation map smoothed with Torralba's antonioGaussian (MIT saliency benchmark).
# Subpackage maps/: src/meaningmaps/maps/attention.py, empirical_center.py (the pools); the fixations
# are read by src/meaningmaps/data/fixations.py into src/meaningmaps/data/fixation_tables.py
# Helpers (rules/common/): study.smk (FIXATION_TABLES, study, scene_size, content_digest),
# input_check.smk (inputs_checked), resources.smk (LIGHT)


rule attention:
    input:
        tables=FIXATION_TABLES,  # the scene's fixations as selected by rule fixation_tables
    output:
        npy=f"{R}/attention/{{scene}}.npy",
        png=f"{R}/previews/attention/{{scene}}.png",
    params:
        size=scene_size,
        fc=config["attention"]["fc"],
        weight=config["attention"]["weight"],
        wrap=config["attention"]["wrap"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/attention/{{scene}}.log",
    benchmark:
        f"{R}/benchmarks/attention/{{scene}}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/attention.py"


rule fixation_tables:
    """Every scene's fixations exactly as its attention map uses them (fixations.study_fixations,
    one read of the study's fixation file): fixations/scenes/<scene>.csv, for the attention maps
    and every map or score made from fixations; the log holds the study's dropped-fixation summary."""
    input:
        fixations=lambda wc: study().fixations,
        checked=inputs_checked,  # waits for the input check (rules/checks.smk)
    output:
        directory(FIXATION_TABLES),
    params:
        content=lambda wc: content_digest(study().fixations),
        sizes=lambda wc: {s: list(study().sizes[s]) for s in study().scenes},
        outside=config["dataset"]["fixations_outside"],
        settings=lambda wc: study().fixation_settings,
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/fixation_tables.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/fixation_tables.py"


rule fixation_pool:
    """Every scene's fixations pooled onto one image size (h x w): counts (and summed durations)
    per pixel, from which each scene of that size subtracts its own for its leave-one-out maps."""
    input:
        FIXATION_TABLES,
    output:
        f"{R}/fixations/pooled/{{size}}.npz",
    wildcard_constraints:
        size=r"\d+x\d+",
    params:
        sizes=lambda wc: {s: list(study().sizes[s]) for s in study().scenes},
        weight=config["attention"]["weight"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/fixation_pool/{{size}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/fixation_pool.py"
