#!/usr/bin/env bash
# Issue 15, CPU side, BEFORE the device call (needs PyPI; run it in the repo root of the checkout the
# device tool sends): the pinned wheels that the device image lacks or holds in another version
# (it has python 3.12, torch 2.11+cu130, transformers 5.17, no deepspeed, pydantic or jsonschema;
# /work/.library/device/KINDS.md), for python 3.12 x86-64, into .whl/ (ignored through
# .git/info/exclude; about 30 MB). Versions: envs/constraints.txt and the packages they need.
# bench/device_run.sh installs them there with --no-index --no-deps into /tmp/site.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
EXCLUDE=$(git rev-parse --git-path info/exclude)
grep -qx '/.whl/' "$EXCLUDE" 2>/dev/null || echo '/.whl/' >> "$EXCLUDE"
mkdir -p .whl
PY=${PY:-python3}
pin() { grep -E "^$1==" envs/constraints.txt | head -1; }
PKGS=(
  "$(pin transformers)" "$(pin tokenizers)" "$(pin huggingface_hub)" "$(pin peft)" "$(pin accelerate)"
  "$(pin safetensors)" "$(pin jsonschema)"
  # what they need beyond the device image (versions as in the project's tested environment)
  httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5 hf_xet==1.8.0 click==8.5.1 typer==0.29.2
  annotated_doc==0.0.7 jsonschema_specifications==2025.9.1 referencing==0.37.0 rpds_py==2026.9.1
  pydantic==2.14.4 pydantic_core==2.50.5 annotated_types==0.8.0 typing_inspection==0.4.5
  typing_extensions==4.16.0 hjson==3.1.0
)
$PY -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${PKGS[@]}"
# deepspeed publishes a source archive only: build its pure-python wheel here (no ops compiled).
DS_BUILD_OPS=0 $PY -m pip wheel --no-deps --no-build-isolation -w .whl "$(pin deepspeed)"
ls -la .whl && du -sh .whl
