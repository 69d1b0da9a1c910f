#!/usr/bin/env bash
# The linters CI runs (after scripts/install.sh): ruff over the Python (rules in pyproject.toml) and
# Snakemake's own lint over the Snakefile and rules/ (the demo config, so nothing is downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/snakemake --lint --configfile demo/config.yaml
