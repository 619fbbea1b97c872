#!/usr/bin/env bash
# The GPU check, on a node with one GPU, from the repository root:
#   bash tools/gpu_check.sh [DATA_ROOT] [OUT_DIR]
# DATA_ROOT: converted polyp data (default data/polyp; data/polyp_sample works for a quick look).
#   1. set-up from the cached wheels (TORCH_CUDA as in the README's GPU section);
#   2. 50 iterations of KDAS (paper objective) at 352 x 352, batch 16, multi-scale schedule,
#      in float32, bf16 and fp16 (tools/analysis_tools/train_speed.py);
#   3. a 1-GPU tools/dist_train.sh run (torchrun + NCCL), 20 iterations, one checkpoint;
#   4. tools/test.py on the GPU with that checkpoint;
#   5. the images per second of each, as a table and as JSON lines in OUT_DIR.
# A failing step is reported and the others still run (a lent GPU's minutes are few: one
# run should show every failure); the exit status is non-zero if any step failed.
# SETUP=0: skip step 1's install and use PYTHON as it is (a node whose environment is already
#   set up, or one without network where the packages were installed by hand).
# REFERENCE_TRAIN_CMD: the public KDAS training loop, if you have it (e.g. its
#   train_kd_paper.py with 50 iterations); it is timed on the same GPU and reported beside.
# The teacher is a random B2 written for timing only; nothing here measures accuracy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${1:-data/polyp}"
OUT="${2:-work_dirs/gpu_check}"
PY="${PYTHON:-.venv/bin/python}"
CFG=configs/kdas/kdas_pvtv2b0_polyp.py
mkdir -p "$OUT"
rows="$OUT/gpu_check.jsonl"
: > "$rows"
step() { printf '\n=== [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
failed=()
# Runs "$@" in a subshell that keeps errexit (a function called from an `if` would not).
attempt() {
  local name=$1 status=0
  shift
  ( "$@" ) &
  wait $! || status=$?
  if [ "$status" != 0 ]; then
    echo "!!! $name failed (exit status $status)" >&2
    failed+=("$name")
  fi
}
# record LABEL IMAGES START: appends the images per second since START to the rows.
record() {
  "$PY" - "$rows" "$1" "$2" "$3" "$(date +%s.%N)" <<'PY'
import json, sys
rows, label, images, start, end = sys.argv[1:]
with open(rows, 'a') as f:
    f.write(json.dumps(dict(label=label, images_per_s=float(images) / (float(end) - float(start)))) + '\n')
PY
}
roots=(train_dataloader.dataset.data_root="$DATA" val_dataloader.dataset.data_root="$DATA"
       test_dataloader.dataset.data_root="$DATA" model.student.backbone.init_cfg=None)

step "1/5 set-up"
if [ "${SETUP:-1}" = 1 ]; then
  bash tools/setup_env.sh
else
  echo "SETUP=0: using $PY as it is"
fi
"$PY" -c 'import torch; assert torch.cuda.is_available(), "no usable GPU"; print(torch.cuda.get_device_name(0))' \
  | tee "$OUT/gpu_name.txt"

step "2/5 KDAS training speed, 352 x 352, batch 16, multi-scale: fp32, bf16 and fp16"
train_speed() {
  local amp=()
  [ "$1" != fp32 ] && amp=(--amp "$1")
  "$PY" tools/analysis_tools/train_speed.py "$CFG" --device cuda --random-teacher \
    --iters 50 --warmup 5 --batch 16 --size 352 "${amp[@]}" --label "KDAS train $1" \
    --out "$rows" --cfg-options "${roots[@]}"
}
for precision in fp32 bf16 fp16; do
  attempt "KDAS train $precision" train_speed "$precision"
done

step "3/5 tools/dist_train.sh with 1 GPU (NCCL), 20 iterations"
dist_train() {
  "$PY" - "$OUT/teacher.pth" <<'PY'
import sys, torch
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
import kdas  # noqa: F401
register_all_modules()
teacher = MODELS.build(Config.fromfile('configs/kdas/kdas_pvtv2b0_polyp.py').model.teacher)
teacher.init_weights()
torch.save(dict(state_dict=teacher.state_dict()), sys.argv[1])
PY
  cat > "$OUT/kdas_20iters.py" <<PY
_base_ = '$PWD/$CFG'
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=20, val_interval=1000)
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
log_processor = dict(by_epoch=False)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=20, save_best=None))
PY
  local start
  start=$(date +%s.%N)
  PYTHON="$PY" bash tools/dist_train.sh "$OUT/kdas_20iters.py" 1 --device cuda \
    --work-dir "$OUT/dist" --cfg-options "${roots[@]}" model.teacher_checkpoint="$OUT/teacher.pth"
  record 'dist_train.sh 1 GPU, 20 iterations (incl. start-up)' $((20 * 16)) "$start"
  grep -h "nccl\|NCCL\|Distributed training" "$OUT"/dist/*/*.log | head -n 3 || true
}
attempt "dist_train.sh" dist_train

step "4/5 tools/test.py on the GPU"
gpu_test() {
  [ -f "$OUT/dist/iter_20.pth" ] || { echo "no checkpoint from step 3" >&2; return 1; }
  local start images
  start=$(date +%s.%N)
  "$PY" tools/test.py configs/polyp_pvt/polyppvt_pvtv2b0_polyp.py "$OUT/dist/iter_20.pth" \
    --device cuda --skip-missing --work-dir "$OUT/test" --cfg-options "${roots[@]:0:3}"
  images=$("$PY" -c 'import json, sys; print(sum(r["images"] for r in json.load(open(sys.argv[1])).values()))' \
    "$OUT/test/polyp_metrics.json")
  record "tools/test.py, $images images (incl. start-up)" "$images" "$start"
}
attempt "tools/test.py" gpu_test

if [ -n "${REFERENCE_TRAIN_CMD:-}" ]; then
  step "reference: $REFERENCE_TRAIN_CMD"
  reference_train() {
    local start
    start=$(date +%s.%N)
    bash -c "$REFERENCE_TRAIN_CMD"
    record 'public KDAS loop, 50 iterations x 3 scales (incl. start-up)' $((50 * 16)) "$start"
  }
  attempt "reference" reference_train
fi

step "5/5 results ($(cat "$OUT/gpu_name.txt"))"
"$PY" - "$rows" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    row = json.loads(line)
    print(f"{row['label']:<62} {row['images_per_s']:8.1f} images/s")
PY
if [ ${#failed[@]} -gt 0 ]; then
  printf '\nfailed steps: %s\n' "$(IFS=,; echo "${failed[*]}")" >&2
  exit 1
fi
