#!/usr/bin/env bash
# Install meaningmaps and its pinned dependencies into ./.venv (Python 3.11+). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "meaningmaps needs Python >= 3.11"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
echo "installed: $(.venv/bin/python -c 'import meaningmaps, snakemake; print("meaningmaps", meaningmaps.__version__, "snakemake", snakemake.__version__)')"
