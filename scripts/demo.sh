#!/usr/bin/env bash
# Install, make the synthetic demo study, and run the whole workflow on it (no network, no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
[ -f demo/data/fixations.csv ] || .venv/bin/python -m meaningmaps.data.demo demo/data > /dev/null
.venv/bin/snakemake --cores "${CORES:-2}" --configfile demo/config.yaml "$@"
echo "figure: demo/results/figures/comparison.png (summary: demo/results/evaluation/summary.csv)"
