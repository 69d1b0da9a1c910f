# Evaluation: Pearson r, R^2, semipartial R^2 and the saliency benchmark's metrics of every map
# source against attention, per scene; the noise ceiling per scene; then across scenes: means
# with scene-bootstrap CIs, the mean ceiling and paired tests (Holm-adjusted).
# Subpackage evaluation/: src/meaningmaps/evaluation/scores.py (with metrics.py, saliency_metrics.py,
# noise_ceiling.py); the fixation tables and pools they read: rules/attention.smk
# Helpers (rules/common/): sources.smk (MAP_SOURCES, SEMIPARTIAL), study.smk (FIXATION_TABLES,
# fixation_pool_of, eval_scenes, scene_size), resources.smk (LIGHT)


rule noise_ceiling:
    """Split-half r of the scene's attention map (subjects by alternating rank) and 2r / (1 + r)."""
    input:
        tables=FIXATION_TABLES,
    output:
        f"{R}/evaluation/ceiling/{{scene}}.csv",
    params:
        size=scene_size,
        fc=config["attention"]["fc"],
        weight=config["attention"]["weight"],
        wrap=config["attention"]["wrap"],
        splits=config["evaluation"]["ceiling_splits"],
        seed=config["evaluation"]["seed"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/noise_ceiling/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/noise_ceiling.py"


rule score_scene:
    input:
        attention=f"{R}/attention/{{scene}}.npy",
        maps=expand(f"{R}/maps/{{source}}/{{scene}}.npy", source=MAP_SOURCES, allow_missing=True),
        tables=FIXATION_TABLES,
        # the other scenes' fixations (shuffled AUC) and the information-gain baseline, the empirical
        # centre bias: none in a one-scene study
        pool=lambda wc: [fixation_pool_of(wc.scene)] if len(study().scenes) > 1 else [],
        baseline=lambda wc: [f"{R}/maps/center_empirical/{wc.scene}.npy"] if len(study().scenes) > 1 else [],
    output:
        f"{R}/evaluation/scenes/{{scene}}.csv",
    params:
        sources=MAP_SOURCES,
        semipartial=SEMIPARTIAL,
        size=scene_size,
        auc=config["evaluation"]["auc_shuffled"],
        seed=config["evaluation"]["seed"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/score_scene/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/score_scene.py"


rule evaluate:
    input:
        scenes=lambda wc: expand(f"{R}/evaluation/scenes/{{scene}}.csv", scene=eval_scenes()),
        ceiling=lambda wc: expand(f"{R}/evaluation/ceiling/{{scene}}.csv", scene=eval_scenes()),
    output:
        scores=report(f"{R}/evaluation/scores.csv", category="Evaluation", caption="../report/scores.rst"),
        summary=report(f"{R}/evaluation/summary.csv", category="Evaluation", caption="../report/summary.rst"),
        pairwise=report(f"{R}/evaluation/pairwise.csv", category="Evaluation", caption="../report/pairwise.rst"),
        ceiling=report(f"{R}/evaluation/ceiling.csv", category="Evaluation", caption="../report/ceiling.rst"),
    params:
        n_boot=config["evaluation"]["bootstrap"],
        seed=config["evaluation"]["seed"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/evaluate.log",
    benchmark:
        f"{R}/benchmarks/evaluate.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/evaluate.py"
