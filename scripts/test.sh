#!/usr/bin/env bash
# Install, then run the test suite (real-data tests skip when ../shared/data is absent).
#   bash scripts/test.sh            every test (what CI runs)
#   bash scripts/test.sh --fast     the tests not marked slow: no workflow run, no training
# The test files run in TEST_WORKERS processes (default 2; pytest-xdist, --dist loadfile: a file's
# tests and the study its module fixtures build stay in one process). TEST_WORKERS=1: one process.
# Further arguments go to pytest (e.g. -k patch_grid, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
marks=()
if [ "${1:-}" = "--fast" ]; then
    shift
    marks=(-m "not slow")
fi
bash scripts/install.sh
workers=(-n "${TEST_WORKERS:-2}" --dist loadfile)
if [ "${TEST_WORKERS:-2}" = "1" ]; then
    workers=(-p no:xdist)
fi
.venv/bin/python -m pytest -q -p no:cacheprovider "${workers[@]}" "${marks[@]}" "$@"
