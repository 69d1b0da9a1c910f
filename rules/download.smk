# Data in: fetch the OSF project (OSF API v2), verify every file's hash, resume, write a manifest.
# Subpackage data/: src/meaningmaps/data/osf.py
# Helpers (rules/common/): DOWNLOAD_DIR: the Snakefile; LIGHT: resources.smk


checkpoint download:
    output:
        manifest=f"{DOWNLOAD_DIR}/manifest.json",
    params:
        node=config["download"]["node"],
        api_base=config["download"]["api_base"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/download.log",
    benchmark:
        f"{R}/benchmarks/download.tsv"
    localrule: True
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/download.py"
