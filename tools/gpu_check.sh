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
for precision in fp32 bf16 fp16; do
  amp=(); [ "$precision" != fp32 ] && amp=(--amp "$precision")
  "$PY" tools/analysis_tools/train_speed.py "$CFG" --device cuda --random-teacher \
    --iters 50 --warmup 5 --batch 16 --size 352 "${amp[@]}" --label "KDAS train $precision" \
    --out "$rows" --cfg-options "${roots[@]}"
done

step "3/5 tools/dist_train.sh with 1 GPU (NCCL), 20 iterations"
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
start=$(date +%s.%N)
PYTHON="$PY" bash tools/dist_train.sh "$OUT/kdas_20iters.py" 1 --device cuda \
  --work-dir "$OUT/dist" --cfg-options "${roots[@]}" model.teacher_checkpoint="$OUT/teacher.pth"
"$PY" - "$rows" "$start" "$(date +%s.%N)" <<'PY'
import json, sys
rows, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
with open(rows, 'a') as f:
    f.write(json.dumps(dict(label='dist_train.sh 1 GPU, 20 iterations (incl. start-up)',
                            images_per_s=20 * 16 / (end - start))) + '\n')
PY
grep -h "nccl\|NCCL\|Distributed training" "$OUT"/dist/*/*.log | head -n 3 || true

step "4/5 tools/test.py on the GPU"
start=$(date +%s.%N)
"$PY" tools/test.py configs/polyp_pvt/polyppvt_pvtv2b0_polyp.py "$OUT/dist/iter_20.pth" \
  --device cuda --skip-missing --work-dir "$OUT/test" --cfg-options "${roots[@]:0:3}"
"$PY" - "$rows" "$start" "$(date +%s.%N)" "$OUT/test/polyp_metrics.json" <<'PY'
import json, sys
rows, start, end, table = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
images = sum(r['images'] for r in json.load(open(table)).values())
with open(rows, 'a') as f:
    f.write(json.dumps(dict(label=f'tools/test.py, {images} images (incl. start-up)',
                            images_per_s=images / (end - start))) + '\n')
PY

if [ -n "${REFERENCE_TRAIN_CMD:-}" ]; then
  step "reference: $REFERENCE_TRAIN_CMD"
  start=$(date +%s.%N)
  bash -c "$REFERENCE_TRAIN_CMD"
  "$PY" - "$rows" "$start" "$(date +%s.%N)" <<'PY'
import json, sys
rows, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
with open(rows, 'a') as f:
    f.write(json.dumps(dict(label='public KDAS loop, 50 iterations x 3 scales (incl. start-up)',
                            images_per_s=50 * 16 / (end - start))) + '\n')
PY
fi

step "5/5 results ($(cat "$OUT/gpu_name.txt"))"
"$PY" - "$rows" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    row = json.loads(line)
    print(f"{row['label']:<62} {row['images_per_s']:8.1f} images/s")
PY
