#!/usr/bin/env bash
# Install meaningmaps and its pinned dependencies into ./.venv (Python 3.11+). Idempotent.
# torch==2.13.0 goes first (on these machines: the CPU build from local disk; never a bare
# `torch`, which pulls a multi-GB CUDA build), then deepspeed without build isolation (its sdist
# build imports torch) and with no ops precompiled (DeepSpeed compiles what it needs on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "meaningmaps needs Python >= 3.11"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" --upgrade pip
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" setuptools wheel
DS_BUILD_OPS=0 "${PIP[@]}" --no-build-isolation deepspeed==0.19.8
"${PIP[@]}" -e ".[model,test,slurm]"
echo "installed: $(.venv/bin/python -c 'import meaningmaps, snakemake, torch, transformers; print("meaningmaps", meaningmaps.__version__, "snakemake", snakemake.__version__, "torch", torch.__version__, "transformers", transformers.__version__)')"
