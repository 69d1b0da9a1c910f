# Input check: every input file of the study checked up front, with the loaders of the jobs it
# feeds, before any scene's chain starts. Subpackage data/: src/meaningmaps/data/input_checks.py
#
# check_scenes (one job per chunk of checks.scenes_per_job scenes, a scene's chunk fixed by its
# name): each scene's image, ratings and maps; records their problems instead of failing, so that
# every scene is checked. check_inputs (a local checkpoint): every
# scene's fixations (one file for all scenes), then the verdict of all checks. The first job of
# every scene chain (patches, human_ratings, fixation_tables, import_map, gbvs_map, center_map,
# build_tiny_llava) takes the input inputs_checked() (rules/common/input_check.smk): it waits for the verdict, and depends
# on refuse_inputs, which fails with one error listing every problem, when there are problems.
# retries: 0: a bad file stays bad, so the SLURM profile's `retries: 2` must not run a check three
# times. Helpers: rules/common/input_check.smk (the chunks, inputs_checked); LIGHT: resources.smk


rule check_scenes:
    """A chunk of scenes (checks.scenes_per_job): each scene's image, ratings and maps checked as
    their jobs will read them; problems recorded in the report, not raised."""
    input:
        unpack(chunk_check_files),
    output:
        f"{R}/checks/scenes/{{chunk}}.json",
    wildcard_constraints:
        chunk=SHARD_PATTERN,
    params:
        scenes=chunk_check_scenes,  # with the files' content digests
        specs=SPECS,
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/checks/scenes/{{chunk}}.log",
    benchmark:
        f"{R}/benchmarks/checks/scenes/{{chunk}}.tsv"
    retries: 0
    priority: 100
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/check_scenes.py"


checkpoint check_inputs:
    input:
        scenes=check_reports,
        fixations=lambda wc: [str(study().fixations)] if study().fixations else [],
    output:
        INPUTS_REPORT,
    params:
        content=lambda wc: content_digest(study().fixations) if study().fixations else None,
        sizes=lambda wc: {s: list(study().sizes[s]) for s in study().scenes},
        outside=config["dataset"]["fixations_outside"],
        settings=lambda wc: study().fixation_settings,
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/checks/inputs.log",
    benchmark:
        f"{R}/benchmarks/checks/inputs.tsv"
    localrule: True
    retries: 0
    priority: 100
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/check_inputs.py"


rule refuse_inputs:
    """Only when the input check found problems: fails with one error that lists them."""
    input:
        INPUTS_REPORT,
    output:
        INPUTS_REFUSED,
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/checks/refused.log",
    localrule: True
    retries: 0
    priority: 100
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/refuse_inputs.py"
