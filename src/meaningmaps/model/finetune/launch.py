"""Launch a fine-tuning run (:mod:`meaningmaps.model.finetune`) on one node or across SLURM nodes.

Single node (one rank per visible GPU; ``cpu_ranks`` ranks on a CPU-only machine)::

    python -m torch.distributed.run --nproc_per_node N --master_port <free port> \\
        -m meaningmaps.model.finetune --spec spec.json

Several SLURM nodes (``SLURM_NNODES > 1``; run from the batch script, which runs on the first node)::

    srun --ntasks-per-node=1 python -m torch.distributed.run --nnodes $SLURM_NNODES --nproc_per_node N \\
        --rdzv_backend c10d --rdzv_endpoint <first node>:29500 --rdzv_id $SLURM_JOB_ID \\
        -m meaningmaps.model.finetune --spec spec.json

where ``<first node>`` is the first line of ``scontrol show hostnames $SLURM_JOB_NODELIST`` and N is
the GPU count of the launching node (the nodes are assumed alike). ``python -m
torch.distributed.run`` is ``torchrun`` run by this interpreter (so the same environment is used on
every node). Before starting the ranks, the launcher computes the run's digest once
(:func:`meaningmaps.model.finetune.checkpoints.run_digest`: the content of the training and held-out data,
the prompt, the settings, the rank count and the base model), discards the checkpoints of any other
run and hands the digest to the ranks (``--run-key``). A failed run raises :class:`FinetuneFailed`; its
checkpoints stay in ``output_dir/checkpoints/<digest>`` and launching the same spec on the same data
again resumes from the latest one (so a preempted job can simply be requeued, e.g. ``sbatch --requeue``).

Command line: ``python -m meaningmaps.model.finetune.launch spec.json [--nproc N] [--cpu-ranks K]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

import meaningmaps

from ..loading import no_gpu_error
from .checkpoints import discard_other_runs, latest_checkpoint, run_digest
from .spec import FinetuneSpec

RDZV_PORT = 29500


class FinetuneFailed(RuntimeError):
    """The training subprocess exited with an error (its checkpoints are kept)."""

    def __init__(self, returncode: int, cmd: list[str], spec: FinetuneSpec, run_key: str):
        self.returncode = returncode
        self.cmd = cmd
        ckpt = latest_checkpoint(spec.checkpoints_dir(run_key))
        where = (f"the latest complete checkpoint is {ckpt}; launching the same spec on the same data again "
                 "resumes from it" if ckpt is not None
                 else f"no checkpoint was written yet in {spec.checkpoints_dir(run_key)}")
        super().__init__(f"fine-tuning failed (exit status {returncode}) for output_dir {spec.output_dir}: "
                         f"{where}. Command: {' '.join(cmd)}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slurm_head_node(env=None) -> str:
    """The first host of the job's node list (``scontrol show hostnames $SLURM_JOB_NODELIST``)."""
    env = os.environ if env is None else env
    out = subprocess.run(["scontrol", "show", "hostnames", env["SLURM_JOB_NODELIST"]], check=True,
                         capture_output=True, text=True).stdout.split()
    if not out:
        raise RuntimeError(f"scontrol listed no hosts for SLURM_JOB_NODELIST={env['SLURM_JOB_NODELIST']!r}")
    return out[0]


def ranks_per_node(nproc: int | None = None, cpu_ranks: int = 1, device: str = "auto") -> int:
    """Ranks on this node: ``nproc``, else one per visible GPU, else ``cpu_ranks`` (``device``:
    model.device; cuda without a visible GPU is an error, cpu ignores GPUs)."""
    if nproc is not None:
        return int(nproc)
    import torch  # heavy: loaded only when the GPUs must be counted

    n = torch.cuda.device_count() if torch.cuda.is_available() and device != "cpu" else 0
    if n == 0 and device == "cuda":
        raise no_gpu_error("the fine-tuning job")
    return n if n > 0 else int(cpu_ranks)


def node_count(env=None) -> int:
    env = os.environ if env is None else env
    return int(env.get("SLURM_NNODES", "1") or 1)


def build_command(spec_path, nproc: int, env=None, head_node: str | None = None,
                  port: int | None = None, run_key: str | None = None) -> list[str]:
    """The launch command: single node, or the srun multi-node form when ``SLURM_NNODES > 1`` in env."""
    env = os.environ if env is None else env
    worker = ["-m", "meaningmaps.model.finetune", "--spec", str(Path(spec_path).resolve())]
    if run_key:
        worker += ["--run-key", run_key]
    run = [sys.executable, "-m", "torch.distributed.run"]
    nnodes = node_count(env)
    if nnodes > 1:
        head = head_node or slurm_head_node(env)
        return ["srun", "--ntasks-per-node=1", *run, "--nnodes", str(nnodes),
                "--nproc_per_node", str(nproc), "--rdzv_backend", "c10d",
                "--rdzv_endpoint", f"{head}:{RDZV_PORT}", "--rdzv_id", str(env["SLURM_JOB_ID"]), *worker]
    return [*run, "--nproc_per_node", str(nproc), "--master_port", str(port or free_port()), *worker]


def package_root() -> str:
    """The folder that holds this ``meaningmaps`` package (``src/`` of the workflow)."""
    return str(Path(meaningmaps.__file__).resolve().parent.parent)


def child_env(env) -> dict:
    """``env`` for the ranks: the package importable (``PYTHONPATH`` starts with its folder). A rule's
    script finds the package through its own ``sys.path``; the processes torchrun starts with ``-m
    meaningmaps.model.finetune`` do not inherit that, and under ``--software-deployment-method conda`` the
    environment has the dependencies but not the package."""
    env = dict(env)
    paths = [package_root(), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def rank_threads(env, nproc: int) -> int:
    """CPU threads per rank: the job's threads (``OMP_NUM_THREADS``, which Snakemake sets to the rule's
    ``threads``) shared by the node's ranks, at least 1."""
    try:
        total = int(env.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
    except ValueError:
        total = os.cpu_count() or 1
    return max(1, total // max(1, nproc))


def launch(spec_path, nproc: int | None = None, cpu_ranks: int = 1, *, env: dict | None = None,
           stdout=None, device: str = "auto") -> Path:
    """Run the fine-tuning of a spec file to the end; returns ``output_dir/adapter``.

    ``nproc``: ranks per node (default: the visible GPUs, or ``cpu_ranks`` without a GPU). ``env``:
    the subprocess's environment (default: this one). Raises :class:`FinetuneFailed` on failure.
    """
    spec = FinetuneSpec.from_json(spec_path)  # fails early on a bad spec
    env = child_env(os.environ if env is None else env)
    nproc = ranks_per_node(nproc, cpu_ranks, device)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # the ranks too
    env["OMP_NUM_THREADS"] = str(rank_threads(env, nproc))
    run_key = run_digest(spec, nproc * node_count(env))  # also fails early on missing data
    discard_other_runs(spec.checkpoints_root, keep=spec.checkpoints_dir(run_key))
    cmd = build_command(spec_path, nproc, env, run_key=run_key)
    print("[meaningmaps.model.finetune.launch] " + " ".join(cmd), flush=True)
    # stdout: a file (the rule's log) that gets the ranks' output and errors; None inherits ours.
    if stdout is not None:
        stdout.flush()
    stderr = subprocess.STDOUT if stdout is not None else None
    rc = subprocess.run(cmd, env=env, stdout=stdout, stderr=stderr).returncode
    if rc != 0:
        raise FinetuneFailed(rc, cmd, spec, run_key)
    if not (spec.adapter_dir / "adapter_config.json").is_file():
        raise FinetuneFailed(-1, cmd, spec, run_key)
    return spec.adapter_dir


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", help="FinetuneSpec JSON file")
    ap.add_argument("--nproc", type=int, default=None, help="ranks per node (default: visible GPUs)")
    ap.add_argument("--cpu-ranks", type=int, default=1, help="ranks on a CPU-only machine")
    a = ap.parse_args(argv)
    try:
        print(launch(a.spec, a.nproc, a.cpu_ranks))
    except FinetuneFailed as exc:
        print(f"meaningmaps.model.finetune.launch: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
