# Compute needs: every rule's threads: and resources: (the profiles add only site settings).
# Snakemake sets OMP_NUM_THREADS (and the BLAS thread variables) of a job to its threads, so torch
# and numpy use what the job was given; SLURM gets them as --cpus-per-task, memory as --mem, run
# time as --time, `gpu` as --gpus. Memory and run time grow with each retry (attempt 2, 3).
# Uses rules/common/sources.smk (MODEL). Workstation GPUs: src/meaningmaps/workflow/gpu_slots.py


def grows(amount):
    """A request that doubles, then triples, when a job is retried (it may have run out of it)."""
    return lambda wildcards, attempt: amount * attempt


DEVICE = MODEL["device"]  # auto | cuda | cpu: whether the model jobs ask for GPUs
TINY_MODEL = bool(MODEL["build_tiny"])  # the demo's and tests' tiny model: small memory requests
GPUS_RATING = 0 if DEVICE == "cpu" else 1
GPUS_FINETUNE = 0 if DEVICE == "cpu" else MODEL["finetune"]["gpus"]
# Light per-scene steps (patches, maps, attention, scores, Q&A data): one core.
LIGHT = dict(mem_mb=grows(4000), runtime=grows(60), gpu=0)
# A job that loads the LLaVA model on a GPU (rating, probe features): 7B in bf16 is about 14 GB.
MODEL_JOB = dict(mem_mb=grows(4000 if TINY_MODEL else 32000), runtime=grows(120), gpu=GPUS_RATING)
# ... and the finetuned ratings under model.merge memory: the base in float32 (28 GB) while merging.
MERGING_JOB = dict(MODEL_JOB, mem_mb=grows(4000 if TINY_MODEL else 48000))
MODEL_THREADS = 2 if TINY_MODEL else 8
# LoRA fine-tuning: one task on one node over model.finetune.gpus GPUs; host memory for every rank's
# copy of the model before DeepSpeed shards it; 12 h (a retry resumes from its checkpoint).
FINETUNE_JOB = dict(mem_mb=grows(8000 if TINY_MODEL else 128000), runtime=720, gpu=GPUS_FINETUNE, nodes=1)
# 8 per GPU (its rank and data loaders); the tiny model: 1, so that folds train side by side on a
# small machine (the kill-and-resume drills need two running fine-tunings at once)
FINETUNE_THREADS = 1 if TINY_MODEL else MODEL_THREADS * max(1, GPUS_FINETUNE)
# The merge, on the CPU (fp32: the 7B model is 28 GB, plus the output copy).
MERGE_JOB = dict(mem_mb=grows(4000 if TINY_MODEL else 64000), runtime=grows(120), gpu=0)
