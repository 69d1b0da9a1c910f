# Attention maps: fixation map smoothed with Torralba's antonioGaussian (MIT saliency benchmark).
# Subpackage maps/: src/meaningmaps/maps/attention.py; the fixations are read by src/meaningmaps/data/fixations.py


rule attention:
    input:
        fixations=lambda wc: study().fixations,
        checked=inputs_checked,  # waits for the input check (rules/checks.smk)
    output:
        npy=f"{R}/attention/{{scene}}.npy",
        png=f"{R}/previews/attention/{{scene}}.png",
    params:
        content=lambda wc: content_digest(study().fixations),
        size=scene_size,
        fc=config["attention"]["fc"],
        weight=config["attention"]["weight"],
        wrap=config["attention"]["wrap"],
        outside=config["dataset"]["fixations_outside"],
        # dataset.fixation_csv and attention.fixation_numbers, the CSV origin decided once for the file
        settings=lambda wc: study().fixation_settings,
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
