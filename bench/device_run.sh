#!/usr/bin/env bash
# Issue 15: THE command a GPU session runs on the device machine (one H100/H200), from the repo root:
#   run(command="bash bench/device_run.sh", carry=[".whl"], timeout_s=420)
# after `bash bench/device_wheels.sh` on the CPU side (the pinned transformers/peft/deepspeed/... wheels
# the image lacks). Everything lands in $OUT: gpu_speed.json (raw numbers, written after every
# section), log.txt, env.txt, trace_cached.json.gz, trace_tree.json.gz. The python run stops at
# LIMIT seconds (default 360), leaving a 15-minute device budget room for one rerun; the sections run
# most important first (profile, tree vs cached scoring, load and merge, probe, fine-tuning variants),
# and study_time is recomputed from whatever was measured even after a timeout.
# Then, here: copy $OUT/gpu_speed.json to bench/results/<card>.json and write the BENCHMARKS table.
# A rerun of some sections only: SECTIONS="train study_time" bash bench/device_run.sh.
# COMPILE=1 adds torch.compile to score_variants (its warm-up can take minutes on the 7B model).
# CPU rehearsal of this script (tiny shape; no page-cache drop on a shared machine):
#   OUT=/tmp/dr PY=.venv/bin/python DROP_CACHES= GPU_SPEED_ARGS="--preset tiny --score-patches 16 --batch-sizes 8
#   --probe-patches 16 --train-steps 3 --train-warmup 1 --train-variants gc-4 nogc-4" bash bench/device_run.sh
set -u -o pipefail
OUT=${OUT:-/tmp/out}
PY=${PY:-python3}
DROP_CACHES=${DROP_CACHES-1}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "wheel install failed" | tee "$OUT/log.txt"; exit 1; }
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
{ nvidia-smi; "$PY" -c "import sys, torch, transformers, peft, accelerate; print(sys.version); print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0)); print('transformers', transformers.__version__, 'peft', peft.__version__, 'accelerate', accelerate.__version__)"; "$PY" -c "import deepspeed; print('deepspeed', deepspeed.__version__)"; df -h /tmp; free -g; } > "$OUT/env.txt" 2>&1
SECTIONS=${SECTIONS:-profile score_variants load_merge probe train}
timeout -k 10 "${LIMIT:-360}" "$PY" bench/gpu_speed.py --out "$OUT/gpu_speed.json" --sections $SECTIONS \
  --score-patches 128 --batch-sizes 32 --probe-patches 256 --repeats 3 \
  --load-repeats 2 --merge-repeats 1 ${DROP_CACHES:+--drop-caches} --work-dir /tmp \
  --train-steps 5 --train-warmup 2 --train-variants nogc-16 gc2-16 gc-16 gc2-32 nogc-32 liger-gc-16 \
  ${COMPILE:+--compile} ${RESUME:+--resume} ${GPU_SPEED_ARGS:-} 2>&1 | tee -a "$OUT/log.txt"
rc=${PIPESTATUS[0]}
"$PY" bench/gpu_speed.py --out "$OUT/gpu_speed.json" --sections study_time --resume ${GPU_SPEED_ARGS:-} 2>&1 | tail -40 | tee -a "$OUT/log.txt"
echo "gpu_speed exit status $rc (124: stopped at LIMIT; the sections finished by then are in gpu_speed.json)" | tee -a "$OUT/log.txt"
exit "$rc"
