# Evaluation: Pearson r, R^2 and semipartial R^2 of every map source against attention, per
# scene; then across scenes: mean r with a scene-bootstrap CI and paired tests.
# Module: src/meaningmaps/evaluation.py (with metrics.py)


rule score_scene:
    input:
        attention=f"{R}/attention/{{scene}}.npy",
        maps=expand(f"{R}/maps/{{source}}/{{{{scene}}}}.npy", source=MAP_SOURCES),
    output:
        f"{R}/evaluation/scenes/{{scene}}.csv",
    params:
        sources=MAP_SOURCES,
        semipartial=config["evaluation"]["semipartial"],
    log:
        f"{R}/logs/score_scene/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/score_scene.py"


rule evaluate:
    input:
        lambda wc: expand(f"{R}/evaluation/scenes/{{scene}}.csv", scene=EVAL_SCENES()),
    output:
        scores=report(f"{R}/evaluation/scores.csv", category="Evaluation", caption="../report/scores.rst"),
        summary=report(f"{R}/evaluation/summary.csv", category="Evaluation", caption="../report/summary.rst"),
        pairwise=f"{R}/evaluation/pairwise.csv",
    params:
        n_boot=config["evaluation"]["bootstrap"],
        seed=config["evaluation"]["seed"],
    log:
        f"{R}/logs/evaluate.log",
    benchmark:
        f"{R}/benchmarks/evaluate.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/evaluate.py"
