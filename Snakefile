# meaningmaps: automatic meaning maps (Henderson & Hayes 2017), from data to the comparison figure.
#
#   snakemake --cores 2 --configfile demo/config.yaml      # the embedded demo
#   snakemake --profile profiles/slurm                     # the real study on a cluster
#
# Each stage is one file in rules/ and one module in src/meaningmaps/ (see README.md).
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.1")  # workflow.subprocess_exec (IN_JOB below)

# The package's source: importable here and in every job's scripts (they inherit PYTHONPATH: a
# local job, a SLURM job, a conda environment), with or without the package installed.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from meaningmaps.workflow.rule_support import share_import_path  # noqa: E402

share_import_path(Path(workflow.basedir) / "src")
from meaningmaps.config import (  # noqa: E402
    SCHEMA_PATH,
    apply_finetune_recipe,
    patch_specs,
    scale_specs,
    validate_config,
)
from meaningmaps import file_facts  # noqa: E402
from meaningmaps.workflow.group_check import use_linear_group_check  # noqa: E402

# Snakemake's checks that no group job depends on itself, one short walk per group (Snakemake's own
# walk all above a group, per job: N^2 in a model study under profiles/slurm; workflow/group_check.py).
use_linear_group_check()


# The real study's config.yaml is the default; a --configfile replaces it rather than being
# merged into it (a merge would leak the real study's paths into another dataset's config).
if not workflow.config_settings.configfiles:

    configfile: "config.yaml"


# Fail in the first second on a typo, naming the key (ours: one line), then let Snakemake's own
# validation fill the schema's defaults into the config.
validate_config(config, workflow.config_settings)  # messages name the config file(s) given
apply_finetune_recipe(config)  # model.finetune.recipe: before the defaults are filled in
validate(config, schema=str(SCHEMA_PATH))

R = config["results"].rstrip("/")
# This process runs one job (a SLURM job, or a job Snakemake started as a subprocess): it parses the
# workflow again, but the run was planned, and checked, by the process that started it.
IN_JOB = workflow.remote_exec or workflow.subprocess_exec
# Content digests and image sizes, remembered across runs by each file's identity (path, size,
# mtime, ctime, inode): a start-up reads only the files that changed. Jobs read the store only.
file_facts.use_store(f"{R}/.cache/file_facts.json", write=not IN_JOB)
DS = config["dataset"]
SPECS = [dict(name=s.name, n=s.n, diameter=s.diameter) for s in scale_specs(config)]  # the raters' (toolkit) grid
# The patches the model sees (patches.grid): the same as SPECS unless the paper's grid is asked for.
PATCH_SPECS = SPECS if config["patches"]["grid"] == "toolkit" else [vars(s) for s in patch_specs(config)]
DOWNLOAD = config["download"]["enabled"]
DOWNLOAD_DIR = f"{config['download']['dest']}/{config['download']['node']}"

# What the rules share, by concern (rules/common/, no rules there): the map sources and wildcards;
# the study (scenes, folds, what a run makes); the model steps' inputs; every rule's compute needs;
# the input check's helpers. Then the start-up checks: the refusals made before any job.
include: "rules/common/sources.smk"
include: "rules/common/study.smk"
include: "rules/common/model_inputs.smk"
include: "rules/common/resources.smk"
include: "rules/common/input_check.smk"
include: "rules/common/startup_checks.smk"


report: "report/workflow.rst"


include: "rules/download.smk"
include: "rules/checks.smk"
include: "rules/patches.smk"
include: "rules/ratings.smk"
include: "rules/model.smk"
include: "rules/qa.smk"
include: "rules/finetune.smk"
include: "rules/inference.smk"
include: "rules/maps.smk"
include: "rules/export.smk"
include: "rules/attention.smk"
include: "rules/evaluation.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        all_targets,  # rules/common/study.smk
