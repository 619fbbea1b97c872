"""The user-facing tools, run as a user runs them."""
import json
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest

from kdas.utils.safe_checkpoint import safe_torch_load
from tests.conftest import REPO, free_port, run_tool, write_tiny_config

STUDENT = 'configs/quickstart/polyppvt_pvtv2b0_sample.py'


def read_log(work_dir):
    logs = sorted(
        osp.join(root, f) for root, _, files in os.walk(work_dir) for f in files
        if f.endswith('.log'))
    return '\n'.join(open(p).read() for p in logs)


def test_sigkill_after_a_checkpoint_then_resume_loses_nothing(tmp_path):
    cfg = write_tiny_config(tmp_path, STUDENT, iters=8, ckpt_interval=2)
    work = tmp_path / 'work'
    cmd = [sys.executable, 'tools/train.py', cfg, '--work-dir', str(work)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while not (work / 'iter_2.pth').exists() or not (work / 'last_checkpoint').exists():
        assert proc.poll() is None, 'training ended before its first checkpoint'
        assert time.time() < deadline, 'no checkpoint within 300 s'
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (work / 'iter_8.pth').exists()
    saved = int(re.search(r'iter_(\d+)', (work / 'last_checkpoint').read_text()).group(1))

    run_tool('tools/train.py', cfg, '--work-dir', str(work), '--resume')
    log = read_log(work)
    assert f'resumed epoch: 0, iter: {saved}' in log
    assert (work / 'iter_8.pth').exists()
    ckpt = safe_torch_load(str(work / 'iter_8.pth'))
    assert ckpt['meta']['iter'] == 8
    # The resumed run trained only the remaining iterations.
    resumed_log = log[log.index(f'resumed epoch: 0, iter: {saved}'):]
    assert f'Iter(train) [{saved + 1}/8]' in resumed_log
    assert f'Iter(train) [{saved}/8]' not in resumed_log


def dist_train_two_processes(cfg, work):
    """tools/dist_train.sh CONFIG 2 as a user runs it; returns the run's log."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()))
    result = subprocess.run(['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', str(work)],
                            cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return read_log(work)


def test_two_process_cpu_training_writes_one_checkpoint(tmp_path):
    # Two scales per batch, so that the multi-scale DDP wrapper is exercised too.
    cfg = write_tiny_config(tmp_path, STUDENT, epochs=1,
                            extra='model = dict(train_rates=(1.0, 1.5), train_base_size=64)\n')
    work = tmp_path / 'work'
    log = dist_train_two_processes(cfg, work)
    assert 'Distributed training: True' in log and 'GPU number: 2' in log  # i.e. 2 processes
    # 48 training pairs, batch 2: 24 iterations alone, 12 per rank when both train.
    assert 'Epoch(train) [1][12/12]' in log
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == ['epoch_1.pth']
    # One optimiser step per scale: 12 iterations x 2 scales.
    state = safe_torch_load(str(work / 'epoch_1.pth'))['optimizer']['state']
    assert int(state[0]['step']) == 24


def test_two_process_kdas_training_through_the_distillation_segmentor(tmp_path):
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS
    kdas_cfg = 'configs/quickstart/kdas_pvtv2b0_sample.py'
    teacher = MODELS.build(Config.fromfile(osp.join(REPO, kdas_cfg)).model.teacher)
    teacher.init_weights()
    teacher_path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), teacher_path)
    cfg = write_tiny_config(tmp_path, kdas_cfg, iters=3, extra=(
        f'model = dict(train_rates=(1.0, 1.5), train_base_size=64, balance_terms=True, '
        f'teacher_checkpoint="{teacher_path}")\n'))
    work = tmp_path / 'work'
    log = dist_train_two_processes(cfg, work)
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    assert 'distill.loss_at' in log and 'distill.loss_sgm' in log
    state = safe_torch_load(str(work / 'iter_3.pth'))
    assert int(state['optimizer']['state'][0]['step']) == 6  # 3 iterations x 2 scales
    assert not any(k.startswith(('teacher', 'student.')) for k in state['state_dict'])
    # balanced terms: running means averaged over both processes, saved with the weights
    assert set(state['model_train_state']['balance_running_means']) == {
        '_seg', 'loss_at', 'loss_sgm'}


def test_test_tool_prints_one_table_and_writes_it(tmp_path):
    cfg = write_tiny_config(tmp_path, STUDENT, iters=1)
    work = tmp_path / 'work'
    run_tool('tools/train.py', cfg, '--work-dir', str(work))
    result = run_tool('tools/test.py', cfg, str(work / 'iter_1.pth'), '--work-dir',
                      str(tmp_path / 'test'), '--per-image')
    assert 'mDice' in result.stdout + result.stderr
    table = json.loads((tmp_path / 'test' / 'polyp_metrics.json').read_text())
    assert list(table) == ['Kvasir'] and table['Kvasir']['images'] == 8
    per_image = json.loads((tmp_path / 'test' / 'polyp_metrics_per_image.json').read_text())
    assert len(per_image['Kvasir']) == 8


def test_test_tool_names_missing_test_sets(tmp_path):
    result = run_tool('tools/test.py', 'configs/kdas/kdas_pvtv2b0_polyp.py',
                      str(tmp_path / 'none.pth'), check=False)
    assert result.returncode != 0 and 'none.pth' in result.stderr
    fake = tmp_path / 'ckpt.pth'
    fake.write_bytes(b'x')
    result = run_tool('tools/test.py', 'configs/kdas/kdas_pvtv2b0_polyp.py', str(fake),
                      '--cfg-options', f'test_dataloader.dataset.data_root={tmp_path}',
                      check=False)
    assert result.returncode != 0
    assert 'test set folders not found' in result.stderr and 'CVC-300' in result.stderr


def test_paper_config_without_weights_or_teacher_says_what_to_run(tmp_path):
    result = run_tool('tools/train.py', 'configs/kdas/kdas_pvtv2b0_polyp.py', '--work-dir',
                      str(tmp_path / 'w'), '--cfg-options',
                      f'model.teacher_checkpoint={tmp_path}/teacher.pth', check=False)
    assert result.returncode != 0 and 'Traceback' not in result.stderr
    err = result.stderr
    assert f'teacher checkpoint {tmp_path}/teacher.pth does not exist' in err
    assert 'python tools/train.py configs/polyp_pvt/polyppvt_pvtv2b2_polyp.py' in err
    assert 'backbone weights pretrained/pvt_v2_b0_mmseg.pth do not exist' in err
    assert 'tools/model_converters/pvt2mmseg.py pvt_v2_b0.pth' in err
    assert not (tmp_path / 'w').exists()
    # No teacher at all: the same, before anything is built.
    result = run_tool('tools/train.py', 'configs/kdas/kdas_pvtv2b0_polyp.py', '--cfg-options',
                      'model.teacher_checkpoint=None', 'model.student.backbone.init_cfg=None',
                      check=False)
    assert result.returncode != 0 and 'model.teacher_checkpoint is not set' in result.stderr


def test_train_speed_reports_the_iterations_it_timed(tmp_path):
    out = tmp_path / 'speed.jsonl'
    out.write_text('{"label": "an earlier row"}\n')
    result = run_tool('tools/analysis_tools/train_speed.py',
                      'configs/quickstart/kdas_pvtv2b0_sample.py', '--device', 'cpu',
                      '--random-teacher', '--iters', '3', '--warmup', '1', '--batch', '2',
                      '--size', '64', '--workers', '0', '--amp', 'bf16', '--out', str(out))
    earlier, row = (json.loads(line) for line in out.read_text().splitlines())
    assert earlier == {'label': 'an earlier row'}
    assert row['iters'] == 3 and row['batch'] == 2 and row['precision'] == 'bf16'
    assert row['images_per_s'] == pytest.approx(2 / row['s_per_iter_median'])
    assert 'random teacher: timing only' in result.stdout


def train_two_epochs_then_resume_the_second(tmp_path, extra):
    """(weights after 2 uninterrupted epochs, weights after epoch 2 resumed from epoch 1)."""
    import shutil
    tmp_path.mkdir()
    cfg = write_tiny_config(tmp_path, STUDENT, epochs=2, ckpt_interval=1, extra=extra)
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    run_tool('tools/train.py', cfg, '--work-dir', str(straight))
    resumed.mkdir()
    shutil.copy(straight / 'epoch_1.pth', resumed / 'epoch_1.pth')
    run_tool('tools/train.py', cfg, '--work-dir', str(resumed), '--resume',
             str(resumed / 'epoch_1.pth'))
    return [safe_torch_load(str(d / 'epoch_2.pth'))['state_dict'] for d in (straight, resumed)]


# A persistent data worker (whose generators would run on across epochs) and drop path
# (drawn in the training process) both make epoch 2 depend on the random state.
RANDOM_RUN = ('train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=True)\n'
              "default_hooks['checkpoint']['max_keep_ckpts'] = 2\n")


def test_a_resumed_run_trains_exactly_what_the_uninterrupted_run_trained(tmp_path):
    import torch
    straight, resumed = train_two_epochs_then_resume_the_second(tmp_path / 'seeded', RANDOM_RUN)
    assert straight.keys() == resumed.keys()
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key

    # Control: MMEngine's own seeding (DefaultSampler, no IterationSeedHook) resumes into
    # other draws, so the comparison above can tell the two apart.
    straight, resumed = train_two_epochs_then_resume_the_second(
        tmp_path / 'mmengine', RANDOM_RUN + 'train_dataloader.update(sampler=dict('
        "type='DefaultSampler', shuffle=True))\ncustom_hooks = []\n")
    assert any(not torch.equal(straight[k], resumed[k]) for k in straight)
