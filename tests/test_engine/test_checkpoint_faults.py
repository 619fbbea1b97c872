"""Faults injected into real training processes: a kill at every file operation of a
checkpoint save, a full disk, a divergence; then what ``--resume`` makes of the folder."""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import torch

from kdas.utils.safe_checkpoint import safe_torch_load
from tests.conftest import REPO, run_tool, write_tiny_config

STUDENT = 'configs/quickstart/polyppvt_pvtv2b0_sample.py'
KEEP_ONE = "default_hooks['checkpoint']['max_keep_ckpts'] = 1\n"

# Runs a tool under an audit hook that counts the file operations on checkpoint files of
# one folder (opening, renaming, removing a *.pth, last_checkpoint or temporary file, or
# opening the folder itself to fsync it) and SIGKILLs the process just before the
# operation numbered KILL_AT (0: never). Each operation is reported on stderr as
# "[op N] event path".
KILLER = r'''
import os, runpy, signal, sys
folder, kill_at = os.path.realpath(sys.argv[1]), int(sys.argv[2])
sys.argv = sys.argv[3:]
count = 0

def checkpoint_path(path):
    path = os.path.realpath(os.fsdecode(path))
    name = os.path.basename(path)
    return path == folder or (os.path.dirname(path) == folder and (
        name.endswith('.pth') or name.startswith(('last_checkpoint', '.kdas-tmp-'))))

def audit(event, args):
    global count
    if event not in ('open', 'os.rename', 'os.remove') or not args:
        return
    if not isinstance(args[0], (str, bytes, os.PathLike)) or not checkpoint_path(args[0]):
        return
    count += 1
    target = os.fsdecode(args[1]) if event == 'os.rename' else ''
    os.write(2, f'[op {count}] {event} {os.fsdecode(args[0])} {target}\n'.encode())
    if count == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

sys.path.insert(0, os.path.dirname(sys.argv[0]))
sys.addaudithook(audit)
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def train_under_killer(tmp_path, cfg, work, kill_at):
    killer = tmp_path / 'killer.py'
    killer.write_text(KILLER)
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '2'))
    return subprocess.run(
        [sys.executable, str(killer), str(work), str(kill_at), 'tools/train.py', cfg,
         '--work-dir', str(work)], cwd=REPO, capture_output=True, text=True, timeout=600,
        env=env)


def operations(stderr):
    return re.findall(r'^\[op (\d+)\] (\S+) (\S+) ?(\S*)$', stderr, re.M)


def state_dict(path):
    return safe_torch_load(str(path))['state_dict']


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_a_kill_at_any_file_operation_of_a_checkpoint_save_loses_nothing(tmp_path):
    # 4 iterations, a checkpoint every 2, one kept: the second save supersedes the first.
    cfg = write_tiny_config(tmp_path, STUDENT, iters=4, ckpt_interval=2, extra=KEEP_ONE)
    reference = tmp_path / 'reference'
    counted = train_under_killer(tmp_path, cfg, reference, kill_at=0)
    assert counted.returncode == 0, counted.stderr[-3000:]
    ops = operations(counted.stderr)
    assert sorted(f for f in os.listdir(reference) if f.endswith('.pth')) == ['iter_4.pth']
    expected = state_dict(reference / 'iter_4.pth')
    # The second save: every operation after the first save's write of last_checkpoint
    # (and the folder's fsync that goes with it); it includes the removal of iter_2.pth.
    def pointer_or_folder(op):
        _, _, path, target = op
        return 'last_checkpoint' in path + target or osp.realpath(path) == str(reference)
    first_pointer = next(i for i, op in enumerate(ops) if 'last_checkpoint' in op[2] + op[3])
    start = next(i for i in range(first_pointer, len(ops)) if not pointer_or_folder(ops[i]))
    second_save = [int(n) for n, *_ in ops[start:]]
    assert ('os.remove', str(reference / 'iter_2.pth')) in [op[1:3] for op in ops[start:]]

    for kill_at in [int(ops[0][0])] + second_save:
        work = tmp_path / f'killed_at_{kill_at}'
        killed = train_under_killer(tmp_path, cfg, work, kill_at)
        assert killed.returncode == -9, (kill_at, killed.stderr[-2000:])
        assert not (work / 'iter_4.pth').exists() or kill_at >= second_save[0]
        resumed = run_tool('tools/train.py', cfg, '--work-dir', str(work), '--resume')
        said = resumed.stdout + resumed.stderr
        assert 'Traceback' not in said, (kill_at, said[-3000:])
        if kill_at < second_save[0]:
            assert 'no checkpoint to resume from' in said, kill_at
        else:
            assert re.search(r'resuming from \S+iter_(2|4)\.pth', said), (kill_at, said)
        # Every run finishes with its final checkpoint, the uninterrupted run's weights.
        assert_same_weights(state_dict(work / 'iter_4.pth'), expected)
        assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == ['iter_4.pth']
        assert not [f for f in os.listdir(work) if f.startswith('.kdas-tmp-')]
        pointer = (work / 'last_checkpoint').read_text().strip()
        assert osp.realpath(pointer) == osp.realpath(work / 'iter_4.pth')


@pytest.fixture(scope='module')
def two_checkpoints(tmp_path_factory):
    """A work dir holding iter_2.pth and iter_4.pth of a 4-iteration run."""
    root = tmp_path_factory.mktemp('resume')
    cfg = write_tiny_config(root, STUDENT, iters=4, ckpt_interval=2)
    work = root / 'work'
    run_tool('tools/train.py', cfg, '--work-dir', str(work))
    return cfg, work


def copy_run(two_checkpoints, tmp_path):
    cfg, work = two_checkpoints
    copy = tmp_path / 'work'
    shutil.copytree(work, copy)
    (copy / 'last_checkpoint').write_text(str(copy / 'iter_4.pth'))
    return cfg, copy


def test_resume_skips_a_truncated_newest_checkpoint_and_names_it(two_checkpoints, tmp_path):
    cfg, work = copy_run(two_checkpoints, tmp_path)
    newest = work / 'iter_4.pth'
    newest.write_bytes(newest.read_bytes()[:newest.stat().st_size // 2])
    result = run_tool('tools/train.py', cfg, '--work-dir', str(work), '--resume')
    said = result.stdout + result.stderr
    assert f'skipped {newest}: checkpoint {newest} is unreadable' in said
    assert f'resuming from {work / "iter_2.pth"}' in said
    assert 'resumed epoch: 0, iter: 2' in said
    assert_same_weights(state_dict(newest), state_dict(two_checkpoints[1] / 'iter_4.pth'))


def test_resume_skips_a_last_checkpoint_naming_a_deleted_file(two_checkpoints, tmp_path):
    cfg, work = copy_run(two_checkpoints, tmp_path)
    (work / 'iter_4.pth').unlink()
    result = run_tool('tools/train.py', cfg, '--work-dir', str(work), '--resume')
    said = result.stdout + result.stderr
    assert f'skipped {work / "iter_4.pth"}: checkpoint {work / "iter_4.pth"} does not exist' \
        in said
    assert f'resuming from {work / "iter_2.pth"}' in said
    assert_same_weights(state_dict(work / 'iter_4.pth'),
                        state_dict(two_checkpoints[1] / 'iter_4.pth'))


def test_resume_with_nothing_to_resume_says_so(tmp_path):
    cfg = write_tiny_config(tmp_path, STUDENT, iters=1)
    work = tmp_path / 'empty'
    result = run_tool('tools/train.py', cfg, '--work-dir', str(work), '--resume')
    assert f'no checkpoint to resume from in {work}; training from scratch' in result.stdout
    assert (work / 'iter_1.pth').is_file()


def test_resume_from_a_bad_path_stops(two_checkpoints, tmp_path):
    cfg, _ = two_checkpoints
    for bad, reason in [(tmp_path / 'absent.pth', 'does not exist'),
                        (tmp_path / 'junk.pth', 'unreadable')]:
        if 'junk' in bad.name:
            bad.write_bytes(b'not a checkpoint')
        result = run_tool('tools/train.py', cfg, '--work-dir', str(tmp_path / 'w'),
                          '--resume', str(bad), check=False)
        assert result.returncode != 0 and 'Traceback' not in result.stderr
        assert f'error: cannot resume from {bad}' in result.stderr and reason in result.stderr
        assert not (tmp_path / 'w').exists()  # stopped before the runner was built


def nan_free(path):
    return not any(v.is_floating_point() and not torch.isfinite(v).all()
                   for v in state_dict(path).values())


def test_a_diverged_run_stops_non_zero_and_saves_no_nan_weights(tmp_path):
    cfg = write_tiny_config(tmp_path, STUDENT, epochs=2, ckpt_interval=1)
    work = tmp_path / 'work'
    result = run_tool('tools/train.py', cfg, '--work-dir', str(work), '--cfg-options',
                      'optim_wrapper.optimizer.lr=1000.0', check=False)
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr
    match = re.search(r'error: training diverged at iteration (\d+) '
                      r'\(epoch (\d)\): loss=nan', result.stderr)
    assert match, result.stderr[-3000:]
    assert 'decode.loss_structure_p1=nan' in result.stderr[match.start():]  # and the terms
    saved = sorted(f for f in os.listdir(work) if f.endswith('.pth'))
    for name in saved:
        assert nan_free(work / name), name
    if saved:
        assert f'the last checkpoint saved before it is {work / saved[-1]}' in result.stderr
    else:
        assert 'no checkpoint was saved before it' in result.stderr


def test_nonsense_schedules_are_refused(tmp_path):
    cfg = write_tiny_config(tmp_path, STUDENT, epochs=1)
    for setting in ('train_cfg.max_epochs=0', 'train_cfg.max_epochs=-3'):
        result = run_tool('tools/train.py', cfg, '--work-dir', str(tmp_path / 'w'),
                          '--cfg-options', setting, check=False)
        assert result.returncode != 0 and 'Traceback' not in result.stderr
        value = setting.split('=')[1]
        assert f'train_cfg.max_epochs={value}: must be an integer >= 1' in result.stderr
    assert not (tmp_path / 'w').exists()


def small_tmpfs(path, size):
    """Mounts a tmpfs of ``size`` at ``path`` (a full disk on demand), or skips."""
    if os.geteuid() != 0 or not shutil.which('mount'):
        pytest.skip('mounting a small tmpfs (a full disk) needs root')
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs',
                              str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here: {mounted.stderr.strip()}')


def test_a_full_disk_during_a_save_names_the_file_and_keeps_the_last_checkpoint(tmp_path):
    # One checkpoint of the student with its optimiser state is about 44 MB: the disk
    # holds the first save, and the second runs out of space.
    cfg = write_tiny_config(tmp_path, STUDENT, iters=4, ckpt_interval=2, extra=KEEP_ONE)
    disk = tmp_path / 'disk'
    small_tmpfs(disk, '64m')
    try:
        work = disk / 'work'
        result = run_tool('tools/train.py', cfg, '--work-dir', str(work), check=False)
        assert result.returncode != 0
        assert (f'error: cannot save checkpoint {work / "iter_4.pth"}: no space left on the '
                'device' in result.stderr), result.stderr[-3000:]
        assert 'Traceback' not in result.stderr
        assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == ['iter_2.pth']
        assert safe_torch_load(str(work / 'iter_2.pth'))['meta']['iter'] == 2
        assert not [f for f in os.listdir(work) if f.startswith('.kdas-tmp-')]
        assert open(work / 'last_checkpoint').read().strip() == str(work / 'iter_2.pth')
    finally:
        subprocess.run(['umount', str(disk)], check=False)
