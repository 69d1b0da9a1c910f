#!/usr/bin/env bash
# Install, then run the test suite (real-data tests skip when ../shared/data is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
