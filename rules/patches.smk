# Patch grid: the Hayes toolkit's fine and coarse circular patches of one scene, as RGBA PNGs.
# Subpackage maps/: src/meaningmaps/maps/patch_grid.py (grid, masks) and patch_files.py (writing).
# Helpers (rules/common/): study.smk (study, content_digest), input_check.smk (inputs_checked),
# resources.smk (LIGHT); PATCH_SPECS: the Snakefile


rule patches:
    input:
        image=lambda wc: study().images[wc.scene],
        checked=inputs_checked,  # waits for the input check (rules/checks.smk)
    output:
        directory(f"{R}/patches/{{scene}}"),
    params:
        content=lambda wc: content_digest(study().images[wc.scene]),
        specs=PATCH_SPECS,
        compress_level=config["patches"]["png_compress_level"],
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/patches/{{scene}}.log",
    benchmark:
        f"{R}/benchmarks/patches/{{scene}}.tsv"
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/patches.py"
