"""tools/gpu_check.sh's control flow, on a machine without a GPU: the GPU commands are
played by a stand-in interpreter (the script's PYTHON), everything else runs for real."""
import json
import os
import os.path as osp
import stat
import subprocess
import sys

from tests.conftest import REPO

# Stands in for python where gpu_check.sh would need a GPU: the CUDA probe, the timed
# training (bf16 fails, as a kernel that a GPU lacks would), the torchrun training and the
# test on the GPU. Snippets on stdin (the script's own bookkeeping) run in the real python.
FAKE_PYTHON = r'''#!/usr/bin/env bash
if [ "$1" = -c ] && [[ "$2" == *cuda.is_available* ]]; then echo "Stand-in GPU"; exit 0; fi
if [ "$1" = - ]; then
  case "$2" in *teacher.pth) touch "$2"; cat >/dev/null; exit 0;; esac
  exec "$REAL_PYTHON" "$@"
fi
if [ "$1" = -c ]; then exec "$REAL_PYTHON" "$@"; fi
arg() { local want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
case "$1" in
  tools/analysis_tools/train_speed.py)
    [ "$(arg --amp "$@")" = bf16 ] && { echo "RuntimeError: no kernel" >&2; exit 7; }
    echo "{\"label\": \"$(arg --label "$@")\", \"images_per_s\": 100.0}" >> "$(arg --out "$@")";;
  -m)  # torch.distributed.run ... train.py CONFIG --launcher pytorch ... --work-dir DIR
    mkdir -p "$(arg --work-dir "$@")" && touch "$(arg --work-dir "$@")/iter_20.pth";;
  tools/test.py)
    mkdir -p "$(arg --work-dir "$@")"
    echo '{"Kvasir": {"images": 8}, "CVC-ClinicDB": {"images": 8}}' \
      > "$(arg --work-dir "$@")/polyp_metrics.json";;
  *) echo "unexpected: $*" >&2; exit 9;;
esac
'''


def test_a_failing_step_is_reported_and_the_others_still_run(tmp_path):
    fake = tmp_path / 'python'
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = tmp_path / 'check'
    env = dict(os.environ, SETUP='0', PYTHON=str(fake), REAL_PYTHON=sys.executable)
    proc = subprocess.run(['bash', 'tools/gpu_check.sh', 'data/polyp_sample', str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert '!!! KDAS train bf16 failed (exit status 7)' in proc.stderr
    assert 'failed steps: KDAS train bf16' in proc.stderr
    rows = [json.loads(line) for line in open(out / 'gpu_check.jsonl')]
    labels = [r['label'] for r in rows]
    assert labels[:2] == ['KDAS train fp32', 'KDAS train fp16']
    assert labels[2] == 'dist_train.sh 1 GPU, 20 iterations (incl. start-up)'
    assert labels[3] == 'tools/test.py, 16 images (incl. start-up)'
    assert all(r['images_per_s'] > 0 for r in rows)
    assert 'Stand-in GPU' in proc.stdout and 'SETUP=0' in proc.stdout
    assert osp.isfile(out / 'kdas_20iters.py')


def test_every_step_passing_exits_zero(tmp_path):
    fake = tmp_path / 'python'
    fake.write_text(FAKE_PYTHON.replace('= bf16 ]', '= never ]'))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, SETUP='0', PYTHON=str(fake), REAL_PYTHON=sys.executable)
    proc = subprocess.run(['bash', 'tools/gpu_check.sh', 'data/polyp_sample',
                           str(tmp_path / 'check')],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'failed' not in proc.stderr
    assert proc.stdout.count('images/s') == 5
