# Shared definitions: map sources, the study (scenes and files), wildcard helpers.

# Map sources: rating sources go through the toolkit's map builder; external ones are imported.
RATING_SOURCES = ["human"] if DS.get("ratings") else []
EXTERNAL_SOURCES = sorted((DS.get("maps") or {}).keys())
CENTER_SOURCES = ["center"] if config["evaluation"]["center_bias"] else []
MAP_SOURCES = RATING_SOURCES + EXTERNAL_SOURCES + CENTER_SOURCES
check_source_names(config, MAP_SOURCES)


def one_of(names):
    """A wildcard regex matching exactly these names (or nothing)."""
    return "|".join(names) if names else "(?!x)x"


wildcard_constraints:
    scene=SCENE_PATTERN,


_study = []


def STUDY():
    """The study's scenes and files, discovered once (after the download, when there is one)."""
    if DOWNLOAD:
        checkpoints.download.get()
    if not _study:
        _study.append(discover(config))
    return _study[0]


def scene_size(wildcards):
    return list(STUDY().sizes[wildcards.scene])


def all_targets(wildcards):
    study = STUDY()
    targets = []
    if study.images:
        targets += expand(f"{R}/patches/{{scene}}", scene=study.scenes)
    targets += expand(f"{R}/ratings/{{source}}/{{scene}}.csv", source=RATING_SOURCES, scene=study.scenes)
    targets += expand(f"{R}/maps/{{source}}/{{scene}}.npy", source=MAP_SOURCES, scene=study.scenes)
    if study.fixations is not None:
        targets += expand(f"{R}/attention/{{scene}}.npy", scene=study.scenes)
        if MAP_SOURCES:
            targets += [f"{R}/evaluation/scores.csv", f"{R}/evaluation/summary.csv",
                        f"{R}/figures/comparison.png", f"{R}/figures/comparison.pdf",
                        f"{R}/figures/gallery.png"]
    return targets
