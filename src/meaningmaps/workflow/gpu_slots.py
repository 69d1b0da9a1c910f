"""Which GPUs a job may use: its own, on a workstation as on a cluster.

On SLURM each job gets its GPUs from the scheduler (``CUDA_VISIBLE_DEVICES`` is set in the job). A
workstation run (``snakemake --profile profiles/local``) limits the GPU jobs running at once to the
number of GPUs (the profile's ``resources: gpu``), but Snakemake's local executor does not say
which GPU a job should take, so every job would land on GPU 0. :func:`claim_gpus` gives a job its
own: it takes an exclusive lock (``flock``) on one lock file per GPU, the first ``n`` free ones,
and sets ``CUDA_VISIBLE_DEVICES`` before torch starts. The locks are held until the process ends
(the kernel drops them even when the job is killed), so the next job finds the GPU free again.
Nothing is claimed when ``CUDA_VISIBLE_DEVICES`` is already set or the machine has no GPU.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_held: list = []  # open lock files: the locks last as long as the process


def gpu_count() -> int:
    """The machine's NVIDIA GPUs (``nvidia-smi -L``; 0 without the tool or a GPU). No torch import:
    CUDA_VISIBLE_DEVICES must be set before torch initialises CUDA."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return 0
    try:
        out = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def lock_dir() -> Path:
    """One folder per user for the machine's GPU locks (``MEANINGMAPS_GPU_LOCKS`` overrides)."""
    default = Path(tempfile.gettempdir()) / f"meaningmaps-gpu-locks-{os.getuid()}"
    path = Path(os.environ.get("MEANINGMAPS_GPU_LOCKS", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def claim_gpus(n: int, total: int | None = None, locks: Path | None = None) -> list[int] | None:
    """Claim ``n`` free GPUs of ``total`` (default: :func:`gpu_count`) for this process and set
    ``CUDA_VISIBLE_DEVICES`` to them. Returns the GPU indices, or None when nothing was claimed
    (none asked for, already assigned by the scheduler, or no GPU on this machine). Raises
    RuntimeError when fewer than ``n`` are free (more GPU jobs than the profile's ``gpu`` allows)."""
    if n <= 0 or os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return None
    total = gpu_count() if total is None else total
    if total == 0:
        return None
    locks = locks or lock_dir()
    mine = []
    for index in range(total):
        fh = open(locks / f"gpu{index}.lock", "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            continue
        _held.append(fh)
        mine.append(index)
        if len(mine) == n:
            break
    if len(mine) < n:
        raise RuntimeError(f"this job needs {n} GPU(s) but only {len(mine)} of the machine's {total} are free: more "
                           "GPU jobs run at once than there are GPUs. Run with --resources gpu=<number of GPUs> "
                           "(profiles/local sets it), or set CUDA_VISIBLE_DEVICES.")
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in mine)
    return mine
