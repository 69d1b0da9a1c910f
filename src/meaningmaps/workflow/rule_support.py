"""What every rule script shares: the import path, the log file, and errors the user can read."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import traceback

from .gpu_slots import claim_gpus


def share_import_path(src) -> None:
    """Put the package's ``src`` folder first on ``PYTHONPATH``, so that every job's script imports
    the package without setting up a path of its own: the jobs inherit the variable (a local job, a
    SLURM job, whose Snakemake reads the Snakefile again, a conda environment)."""
    paths = [str(src), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


@contextlib.contextmanager
def logged(snakemake):
    """Send the job's output to its ``log:`` file; on failure write the traceback there too and
    re-raise with the original streams restored, so Snakemake prints the readable message."""
    log_path = snakemake.log[0] if snakemake.log else None
    gpus = _own_gpus(snakemake)  # before torch starts: a workstation job takes GPUs of its own
    if log_path is None:
        yield
        return
    old_out, old_err = sys.stdout, sys.stderr
    with open(log_path, "w") as fh:
        sys.stdout = sys.stderr = fh
        handler = logging.StreamHandler(fh)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        start = time.time()
        if gpus:
            print(f"GPUs {gpus} of this machine claimed for this job (CUDA_VISIBLE_DEVICES)", flush=True)
        print(f"threads: {snakemake.threads} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')})", flush=True)
        try:
            yield
            print(f"done in {time.time() - start:.2f} s", flush=True)
        except BaseException:
            traceback.print_exc(file=fh)
            raise
        finally:
            logging.getLogger().removeHandler(handler)
            sys.stdout, sys.stderr = old_out, old_err


def to_console(text: str) -> None:
    """Print ``text`` in the job's log and, inside :func:`logged`, also on the process's own stderr:
    for what the user must see on the console, not only in a log (a local job's stderr is
    Snakemake's, the terminal's; a cluster job's is its scheduler log)."""
    print(text, flush=True)
    if sys.stderr is not sys.__stderr__ and sys.__stderr__ is not None:
        print(text, file=sys.__stderr__, flush=True)


def _own_gpus(snakemake) -> list[int] | None:
    """The GPUs claimed for a GPU job outside a scheduler that assigns them (gpu_slots)."""
    try:
        n = int(snakemake.resources.get("gpu", 0) or 0)
    except (AttributeError, TypeError, ValueError):
        return None
    return claim_gpus(n)
