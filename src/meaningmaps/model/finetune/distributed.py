"""This rank of a fine-tuning job: its place in the job (torchrun's environment) and, on a CPU,
its distributed state.

On a CPU-only machine (tests) the ranks talk over gloo: accelerate's own set-up would leave the
DeepSpeed process-group backend unset and see a single process, so :func:`setup_distributed` creates
the state itself (``PartialState(backend="gloo")`` with ``ACCELERATE_USE_DEEPSPEED=true``) and the
``TrainingArguments`` use it (``accelerator_config={"use_configured_state": True}``). On GPUs the
Trainer sets up nccl and DeepSpeed itself.
"""

from __future__ import annotations

import os

from accelerate import PartialState


def world_size_from_env() -> int:
    """The number of ranks of this job (torchrun's WORLD_SIZE; 1 when run directly)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_main_rank() -> bool:
    """Rank 0 (torchrun's RANK; rank 0 when run directly): the rank that logs and writes the outputs."""
    return int(os.environ.get("RANK", "0") or 0) == 0


def setup_distributed(use_cuda: bool) -> bool:
    """Create the accelerate state (DeepSpeed flavour) before TrainingArguments, on the CPU with gloo.
    Returns whether it did (the arguments must then use it)."""
    if use_cuda:
        return False  # TrainingArguments sets up nccl + DeepSpeed itself
    _skip_cpu_shm_op()
    os.environ["ACCELERATE_USE_DEEPSPEED"] = "true"
    PartialState(backend="gloo")
    return True


def _skip_cpu_shm_op() -> None:
    """On the CPU, DeepSpeed's communication backend compiles a shared-memory C++ op (about 1.5 minutes
    on first use) that serves only ``inference_all_reduce``; training uses torch.distributed's
    collectives (gloo) either way. Mark it unavailable so it is not built (DeepSpeed then uses the
    plain all-reduce there too). Set ``MEANINGMAPS_DS_SHM_OP=1`` to keep DeepSpeed's default."""
    if os.environ.get("MEANINGMAPS_DS_SHM_OP") == "1":
        return
    try:
        import deepspeed.ops  # heavy, and needed here only on a CPU

        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    except (ImportError, AttributeError, TypeError):
        pass
