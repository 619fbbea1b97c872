"""The choices behind --resume, the fp16 side of the divergence guard, and the files
the checkpoint hook keeps, on constructed checkpoints and short real runs."""
import os
import stat
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from kdas.engine.divergence_guard_hook import DivergenceGuardHook, TrainingDivergedError
from kdas.engine.resume import configure_resume, resume_candidates
from kdas.utils.output_files import write_text
from kdas.utils.safe_checkpoint import safe_torch_load
from tests.conftest import run_tool, write_tiny_config

STUDENT = 'configs/quickstart/polyppvt_pvtv2b0_sample.py'


def fake_checkpoint(path, optimizer=True):
    state = dict(state_dict=dict(w=torch.ones(2)), meta=dict(iter=1), message_hub=dict())
    if optimizer:
        state['optimizer'] = dict(state={})
    torch.save(state, path)
    time.sleep(0.02)  # distinct modification times


def test_resume_follows_the_run_not_the_highest_number_in_the_folder(tmp_path):
    # An earlier run left epoch_7 and epoch_8; this run saved epoch_2 and epoch_3.
    for name in ('epoch_7.pth', 'epoch_8.pth', 'epoch_2.pth', 'epoch_3.pth'):
        fake_checkpoint(tmp_path / name)
    write_text(str(tmp_path / 'last_checkpoint'), str(tmp_path / 'epoch_3.pth'))
    cfg = Config(dict(work_dir=str(tmp_path)))
    configure_resume(cfg, 'auto')
    assert cfg.load_from == str(tmp_path / 'epoch_3.pth')
    # Killed after writing epoch_4 and before pointing last_checkpoint at it.
    time.sleep(0.02)
    fake_checkpoint(tmp_path / 'epoch_4.pth')
    order = resume_candidates(str(tmp_path), str(tmp_path / 'last_checkpoint'))
    assert order[:2] == [str(tmp_path / 'epoch_4.pth'), str(tmp_path / 'epoch_3.pth')]


def test_a_checkpoint_saved_without_its_optimiser_still_resumes(tmp_path):
    fake_checkpoint(tmp_path / 'epoch_1.pth', optimizer=False)
    cfg = Config(dict(work_dir=str(tmp_path)))
    messages = configure_resume(cfg, 'auto')
    assert cfg.resume and cfg.load_from == str(tmp_path / 'epoch_1.pth'), messages


def guard_run(scales, losses):
    """Feeds the guard iterations with these loss scales after each step (None: no fp16)."""
    guard = DivergenceGuardHook(max_skipped_steps=2)
    scaler = SimpleNamespace(scale=65536.)
    scaler.get_scale = lambda: scaler.scale
    optim = SimpleNamespace(loss_scaler=scaler) if scales[0] is not None else SimpleNamespace()
    warnings = []
    runner = SimpleNamespace(optim_wrapper=optim, iter=0, epoch=0,
                             logger=SimpleNamespace(warning=warnings.append),
                             message_hub=SimpleNamespace(get_info=lambda key: None))
    for scale, loss in zip(scales, losses):
        guard.before_train_iter(runner, runner.iter)
        if scale is not None:
            scaler.scale = scale
        guard.after_train_iter(runner, runner.iter, outputs=dict(loss=torch.tensor(loss)))
        runner.iter += 1
    return warnings


def test_fp16_steps_the_loss_scaler_skipped_pass_but_a_run_of_them_does_not():
    nan = float('nan')
    warnings = guard_run([32768., 16384., 16384.], [nan, nan, 1.0])
    assert len(warnings) == 2 and 'lowered its scale to 16384' in warnings[1]
    with pytest.raises(TrainingDivergedError, match='iteration 3'):
        guard_run([32768., 16384., 8192.], [nan, nan, nan])  # more than 2 in a row
    with pytest.raises(TrainingDivergedError, match='iteration 1'):
        guard_run([65536.], [nan])  # the scale did not move: the step was not skipped
    with pytest.raises(TrainingDivergedError, match='iteration 1'):
        guard_run([None], [float('inf')])  # no loss scaler: float32 or bf16


def test_a_fixed_checkpoint_name_is_replaced_not_removed_and_outputs_keep_umask_modes(
        tmp_path):
    cfg = write_tiny_config(tmp_path, STUDENT, iters=4, ckpt_interval=2, extra=(
        "default_hooks['checkpoint'].update(max_keep_ckpts=1, filename_tmpl='latest.pth')\n"))
    work = tmp_path / 'work'
    run_tool('tools/train.py', cfg, '--work-dir', str(work))
    assert safe_torch_load(str(work / 'latest.pth'))['meta']['iter'] == 4
    assert (work / 'last_checkpoint').read_text() == str(work / 'latest.pth')
    umask = os.umask(0)
    os.umask(umask)
    for name in ('latest.pth', 'last_checkpoint'):
        assert stat.S_IMODE(os.stat(work / name).st_mode) == 0o666 & ~umask, name
