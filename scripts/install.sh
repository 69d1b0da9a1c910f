#!/usr/bin/env bash
# Install meaningmaps with all its extras into ./.venv (Python 3.11+), at the tested versions of
# envs/constraints.txt (passed to every pip install; pyproject.toml itself has only ranges).
# Idempotent. torch==2.13.0 goes first: pip installs whichever build of it its configured index
# offers (PyPI's Linux x86-64 wheel is the CUDA build, several GB of NVIDIA libraries; a machine
# whose pip config lists a local CPU wheel gets that; README "Installing the package" shows how to
# force the CPU build). Then deepspeed, without build isolation (its sdist build imports torch)
# and with no ops precompiled (DeepSpeed compiles what it needs on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "meaningmaps needs Python >= 3.11"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check -c envs/constraints.txt)
"${PIP[@]}" --upgrade pip
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" setuptools wheel
DS_BUILD_OPS=0 "${PIP[@]}" --no-build-isolation deepspeed==0.19.8
"${PIP[@]}" -e ".[model,test,slurm]"
echo "installed: $(.venv/bin/python -c 'import meaningmaps, snakemake, torch, transformers; print("meaningmaps", meaningmaps.__version__, "snakemake", snakemake.__version__, "torch", torch.__version__, "transformers", transformers.__version__)')"
