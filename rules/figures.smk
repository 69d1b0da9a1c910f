# The comparison and summary figures (final targets) and a gallery of scenes, hooked into
# `snakemake --report`. Module: src/meaningmaps/figures.py


if DS.get("fixations"):
    ruleorder: figures > map_gallery
else:
    ruleorder: map_gallery > figures


rule figures:
    input:
        scores=f"{R}/evaluation/scores.csv",
        summary=f"{R}/evaluation/summary.csv",
        attention=lambda wc: expand(f"{R}/attention/{{scene}}.npy", scene=EVAL_SCENES()),
        maps=lambda wc: expand(f"{R}/maps/{{source}}/{{scene}}.npy", source=MAP_SOURCES, scene=EVAL_SCENES()),
    output:
        png=report(f"{R}/figures/comparison.png", category="Figures", caption="../report/comparison.rst"),
        pdf=f"{R}/figures/comparison.pdf",
        summary_png=report(f"{R}/figures/summary.png", category="Figures", caption="../report/summary_figure.rst"),
        summary_pdf=f"{R}/figures/summary.pdf",
        gallery=report(f"{R}/figures/gallery.png", category="Figures", caption="../report/gallery.rst"),
    params:
        content=lambda wc: {s: content_digest(p) for s, p in STUDY().images.items()},
        sources=MAP_SOURCES,
        images=lambda wc: {s: str(p) for s, p in STUDY().images.items()},
        reference=REFERENCE,
        n_gallery=config["figures"]["gallery_scenes"],
        scenes=lambda wc: EVAL_SCENES(),
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
        maps=lambda wc: expand(f"{R}/maps/{{source}}/{{scene}}.npy", source=MAP_SOURCES, scene=GALLERY_SCENES()),
    output:
        gallery=report(f"{R}/figures/gallery.png", category="Figures", caption="../report/gallery.rst"),
    params:
        content=lambda wc: {s: content_digest(STUDY().images[s]) for s in GALLERY_SCENES() if s in STUDY().images},
        sources=MAP_SOURCES,
        images=lambda wc: {s: str(STUDY().images[s]) for s in GALLERY_SCENES() if s in STUDY().images},
        scenes=lambda wc: GALLERY_SCENES(),
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
