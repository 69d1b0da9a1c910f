# The maps in the formats other tools read (maps.formats): formats/<format>/<source>/<scene>, one
# file per scene in each folder, as pysaliency and MATLAB code expect a folder of maps.
#   mat          MATLAB v5 .mat, one variable `map` (double)
#   log_density  float64 .npy, log p with exp summing to 1 (pysaliency's ModelFromDirectory, DeepGaze)
# Subpackage data/: src/meaningmaps/data/map_export.py (export_paths: the targets, in rule all)
# Helpers (rules/common/): resources.smk (LIGHT)


rule export_mat:
    """A map as a MATLAB v5 .mat file (one variable, `map`)."""
    input:
        f"{R}/maps/{{source}}/{{scene}}.npy",
    output:
        f"{R}/formats/mat/{{source}}/{{scene}}.mat",
    params:
        format="mat",
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/export/mat/{{source}}/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/export_map.py"


rule export_log_density:
    """A map as a log density (pysaliency's conversion of a saliency map to a density; zeros get 1e-20)."""
    input:
        f"{R}/maps/{{source}}/{{scene}}.npy",
    output:
        f"{R}/formats/log_density/{{source}}/{{scene}}.npy",
    params:
        format="log_density",
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/export/log_density/{{source}}/{{scene}}.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/export_map.py"
