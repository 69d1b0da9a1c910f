#!/usr/bin/env bash
# Install, then run the test suite (real-data tests skip when ../shared/data is absent).
#   bash scripts/test.sh            every test (what CI runs; about 24 minutes on 2 cores)
#   bash scripts/test.sh --fast     the tests not marked slow: no workflow run, no training (about 2 minutes)
# Further arguments go to pytest (e.g. -k patch_grid, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
marks=()
if [ "${1:-}" = "--fast" ]; then
    shift
    marks=(-m "not slow")
fi
bash scripts/install.sh
.venv/bin/python -m pytest -q -p no:cacheprovider "${marks[@]}" "$@"
