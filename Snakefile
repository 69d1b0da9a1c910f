# meaningmaps: automatic meaning maps (Henderson & Hayes 2017), from data to the comparison figure.
#
#   snakemake --cores 2 --configfile demo/config.yaml      # the embedded demo
#   snakemake --profile profiles/slurm                     # the real study on a cluster
#
# Each stage is one file in rules/ and one module in src/meaningmaps/ (see README.md).
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from meaningmaps.config import SCHEMA_PATH, check_cross_keys, scale_specs  # noqa: E402
from meaningmaps.dataset import SCENE_PATTERN, discover  # noqa: E402


# The real study's config.yaml is the default; a --configfile replaces it rather than being
# merged into it (a merge would leak the real study's paths into another dataset's config).
if not workflow.config_settings.configfiles:

    configfile: "config.yaml"


validate(config, schema=str(SCHEMA_PATH))
check_cross_keys(config, "config")

R = config["results"].rstrip("/")
DS = config["dataset"]
SPECS = [dict(name=s.name, n=s.n, diameter=s.diameter) for s in scale_specs(config)]
DOWNLOAD = config["download"]["enabled"]
DOWNLOAD_DIR = f"{config['download']['dest']}/{config['download']['node']}"

# Map sources: rating sources go through the toolkit's map builder; external ones are imported.
RATING_SOURCES = ["human"] if DS.get("ratings") else []
EXTERNAL_SOURCES = sorted((DS.get("maps") or {}).keys())
CENTER_SOURCES = ["center"] if config["evaluation"]["center_bias"] else []
MAP_SOURCES = RATING_SOURCES + EXTERNAL_SOURCES + CENTER_SOURCES


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


report: "report/workflow.rst"


include: "rules/download.smk"
include: "rules/patches.smk"
include: "rules/ratings.smk"
include: "rules/maps.smk"
include: "rules/attention.smk"
include: "rules/evaluation.smk"
include: "rules/figures.smk"


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


rule all:
    default_target: True
    input:
        all_targets,
