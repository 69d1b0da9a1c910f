# The comparison and summary figures (final targets) and a gallery of scenes, hooked into
# `snakemake --report`. Subpackage evaluation/: src/meaningmaps/evaluation/figures.py
# Helpers (rules/common/): sources.smk (MAP_SOURCES, REFERENCE, SEMIPARTIAL), study.smk
# (eval_scenes, gallery_scenes, study, content_digest), resources.smk (LIGHT)


if DS.get("fixations"):
    ruleorder: figures > map_gallery
else:
    ruleorder: map_gallery > figures


rule figures:
    input:
        scores=f"{R}/evaluation/scores.csv",
        summary=f"{R}/evaluation/summary.csv",
        attention=lambda wc: expand(f"{R}/attention/{{scene}}.npy", scene=eval_scenes()),
        maps=lambda wc: expand(f"{R}/maps/{{source}}/{{scene}}.npy", source=MAP_SOURCES, scene=eval_scenes()),
    output:
        png=report(f"{R}/figures/comparison.png", category="Figures", caption="../report/comparison.rst"),
        pdf=f"{R}/figures/comparison.pdf",
        summary_png=report(f"{R}/figures/summary.png", category="Figures", caption="../report/summary_figure.rst"),
        summary_pdf=f"{R}/figures/summary.pdf",
        gallery=report(f"{R}/figures/gallery.png", category="Figures", caption="../report/gallery.rst"),
    params:
        content=lambda wc: {s: content_digest(p) for s, p in study().images.items()},
        sources=MAP_SOURCES,
        images=lambda wc: {s: str(p) for s, p in study().images.items()},
        reference=REFERENCE,
        semipartial=SEMIPARTIAL,
        n_gallery=config["figures"]["gallery_scenes"],
        scenes=lambda wc: eval_scenes(),
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/figures.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/figures.py"


rule map_gallery:
    """A study without fixations (no evaluation): scene image | the map of each source, for the first
    figures.gallery_scenes scenes."""
    input:
        maps=lambda wc: expand(f"{R}/maps/{{source}}/{{scene}}.npy", source=MAP_SOURCES, scene=gallery_scenes()),
    output:
        gallery=report(f"{R}/figures/gallery.png", category="Figures", caption="../report/gallery.rst"),
    params:
        content=lambda wc: {s: content_digest(study().images[s]) for s in gallery_scenes() if s in study().images},
        sources=MAP_SOURCES,
        images=lambda wc: {s: str(study().images[s]) for s in gallery_scenes() if s in study().images},
        scenes=lambda wc: gallery_scenes(),
    threads: 1
    resources:
        **LIGHT,
    log:
        f"{R}/logs/map_gallery.log",
    localrule: True
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/map_gallery.py"
