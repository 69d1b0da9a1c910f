# Start-up checks: the refusals that look at the whole config and the files it names, made while
# Snakemake parses the workflow, i.e. before the first job of any scene, so a bad config stops in
# the first seconds with a message naming the key and the fix (rather than after hours of jobs, or
# in a job of its own that the rest of the DAG would have to wait for). Their cost does not grow
# with the number of scenes. Checks of the config alone are made where it is read: validate_config
# (the Snakefile), check_source_names (rules/common/sources.smk); the input files are checked by
# the input check's jobs (rules/checks.smk).
# Made once, by the process that plans the run: a job re-parses the workflow (workflow.remote_exec:
# a SLURM job; workflow.subprocess_exec: a job Snakemake starts as a subprocess), but its config
# and files were checked when it was planned.
# Uses rules/common/sources.smk, study.smk, model_inputs.smk, resources.smk.
# The given models: src/meaningmaps/model/trained_models.py, probe.py; the paths:
# src/meaningmaps/workflow/path_safety.py
from meaningmaps.config import config_source
from meaningmaps.errors import InputError
from meaningmaps.workflow.path_safety import check_config_paths

if not IN_JOB:
    # Scores of a model against the scenes it was trained on would be in-sample.
    if TRAINED_SOURCES and RATING_SCHEME == ALL and DS.get("fixations"):
        raise InputError(config_source(workflow.config_settings),
                         f"model.scheme: all alone rates every scene with the model trained on it, so the "
                         f"{', '.join(TRAINED_SOURCES)} scores against the fixations would be in-sample.",
                         "use model.scheme: [kfold, all] (the folds rate and estimate the accuracy; all is the model "
                         "to share), or rate with a trained model: model.finetuned_model / model.probe_model.")
    # A given model: its kind, its card against this config, its base.
    if FINETUNED_MODEL and "finetuned" in MODEL_SOURCES:
        from meaningmaps.model.trained_models import check_trained_model

        check_trained_model(FINETUNED_MODEL, view_settings(), BASE)
    if PROBE_MODEL and "probe" in MODEL_SOURCES:
        from meaningmaps.model.probe import check_probe

        check_probe(PROBE_MODEL, BASE, MODEL["probe"]["pooling"])
    # No output replaces or deletes an input: results (and the download and built-model folders) apart
    # from every configured input. After the given-model checks, whose messages say more about a path
    # that holds no model.
    check_config_paths(config, config_source(workflow.config_settings))
    # --resources gpu=0, as profiles/local sets on a machine without a GPU: no model job could start
    _gpu_limit = getattr(workflow.global_resources.get("gpu"), "value", workflow.global_resources.get("gpu"))
    if MODEL_SOURCES and DEVICE != "cpu" and _gpu_limit == 0:
        raise InputError(config_source(workflow.config_settings),
                         f"the model jobs ask for GPUs (model.device: {DEVICE}), but this run allows none "
                         "(--resources gpu=0: profiles/local found no GPU on this machine).",
                         "set model.device: cpu to run the model steps on the CPU, or run on a machine with GPUs.")
