# Human per-patch ratings: recovered exactly from a toolkit rating matrix, or checked from a CSV.
# Subpackage data/: src/meaningmaps/data/human_ratings.py (with rating_matrix.py)
# Helpers (rules/common/): study.smk (study, scene_size, content_digest), input_check.smk
# (inputs_checked), resources.smk (LIGHT); SPECS: the Snakefile


rule human_ratings:
    input:
        ratings=lambda wc: study().ratings[wc.scene],
        checked=inputs_checked,  # waits for the input check (rules/checks.smk)
    output:
        f"{R}/ratings/human/{{scene}}.csv",
    params:
        content=lambda wc: content_digest(study().ratings[wc.scene]),
        specs=SPECS,
        size=scene_size,
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/human_ratings/{{scene}}.log",
    benchmark:
        f"{R}/benchmarks/human_ratings/{{scene}}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/human_ratings.py"
