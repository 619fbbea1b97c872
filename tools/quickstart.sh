#!/usr/bin/env bash
# The KDAS quick start on the embedded real sample (data/polyp_sample), on the CPU:
#   1. train a small Polyp-PVT B2 teacher,
#   2. distil the PVTv2-B0 student from it with KDAS,
#   3. evaluate both (the student with its own config, from the KDAS checkpoint),
#   4. print one table, draw the training curves; checkpoints, metric tables, overlays and an
#      HTML report per network stay in WORK_DIR (the last lines say where).
# Usage: bash tools/quickstart.sh [WORK_DIR]   (env: TEACHER_EPOCHS, STUDENT_EPOCHS, PYTHON)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-.venv/bin/python}"
WORK="${1:-work_dirs/quickstart}"
TEACHER_EPOCHS="${TEACHER_EPOCHS:-40}"
STUDENT_EPOCHS="${STUDENT_EPOCHS:-60}"
start=$(date +%s)
step() { printf '\n=== [%s, %ds] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - start ))" "$*"; }

step "1/4 teacher: Polyp-PVT (PVTv2-B2) on the sample, $TEACHER_EPOCHS epochs"
"$PY" tools/train.py configs/quickstart/polyppvt_pvtv2b2_sample.py --work-dir "$WORK/teacher" \
  --cfg-options train_cfg.max_epochs="$TEACHER_EPOCHS" train_cfg.val_interval="$TEACHER_EPOCHS" \
  default_hooks.checkpoint.interval="$TEACHER_EPOCHS"
teacher_ckpt="$(cat "$WORK/teacher/last_checkpoint")"

step "2/4 KDAS: distil the PVTv2-B0 student from $teacher_ckpt, $STUDENT_EPOCHS epochs"
"$PY" tools/train.py configs/quickstart/kdas_pvtv2b0_sample.py --work-dir "$WORK/kdas" \
  --cfg-options model.teacher_checkpoint="$teacher_ckpt" train_cfg.max_epochs="$STUDENT_EPOCHS" \
  train_cfg.val_interval="$STUDENT_EPOCHS" default_hooks.checkpoint.interval="$STUDENT_EPOCHS"
student_ckpt="$(cat "$WORK/kdas/last_checkpoint")"

step "3/4 evaluate both on the sample's Kvasir and CVC-ClinicDB test images"
"$PY" tools/test.py configs/quickstart/polyppvt_pvtv2b2_sample.py "$teacher_ckpt" \
  --work-dir "$WORK/teacher/test" --report "$WORK/teacher/report"
"$PY" tools/test.py configs/quickstart/polyppvt_pvtv2b0_sample.py "$student_ckpt" \
  --work-dir "$WORK/kdas/test" --report "$WORK/kdas/report"

step "4/4 results"
"$PY" tools/analysis_tools/merge_tables.py \
  "teacher B2=$WORK/teacher/test/polyp_metrics.json" \
  "KDAS student B0=$WORK/kdas/test/polyp_metrics.json" --out-dir "$WORK"
"$PY" tools/analysis_tools/plot_curves.py "$WORK/teacher" "$WORK/kdas" --legend teacher KDAS \
  --out "$WORK/curves.png" >/dev/null
step "done"
echo "checkpoints:      $teacher_ckpt, $student_ckpt"
echo "table:            $WORK/merged_metrics.md"
echo "HTML reports:     $WORK/teacher/report/index.html, $WORK/kdas/report/index.html"
echo "                  (every test image's prediction against its mask, worst first)"
echo "training curves:  $WORK/curves.png"
