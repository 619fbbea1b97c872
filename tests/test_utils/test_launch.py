"""Where a run goes: never silently to the CPU when a GPU was asked for or is unusable."""
import pytest
import torch

from kdas.utils import launch
from tests.conftest import run_tool


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.delenv('CUDA_VISIBLE_DEVICES', raising=False)


def test_cpu_build_of_torch_is_named(monkeypatch, no_cuda):
    monkeypatch.setattr(torch.version, 'cuda', None)
    with pytest.raises(SystemExit, match='CPU-only build.*TORCH_CUDA=cuXYZ'):
        launch.select_device('cuda')


def test_driver_too_old_stops_even_auto(monkeypatch, no_cuda):
    monkeypatch.setattr(torch.version, 'cuda', '13.0')
    monkeypatch.setattr(launch, 'gpu_hardware_visible', lambda: True)

    def init():
        raise RuntimeError('The NVIDIA driver on your system is too old (found version 12020)')

    monkeypatch.setattr(torch.cuda, 'init', init)
    for requested in ('auto', 'cuda'):
        with pytest.raises(SystemExit) as err:
            launch.select_device(requested)
        message = str(err.value)
        assert 'driver on your system is too old (found version 12020)' in message
        assert 'TORCH_CUDA=cu126' in message and '--device cpu' in message


def test_hidden_gpus_are_named(monkeypatch, no_cuda):
    monkeypatch.setattr(torch.version, 'cuda', '13.0')
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
    with pytest.raises(SystemExit, match="CUDA_VISIBLE_DEVICES='' hides every GPU"):
        launch.select_device('cuda')


def test_no_gpu_machine_runs_on_the_cpu_and_says_so(monkeypatch, no_cuda, capsys):
    monkeypatch.setattr(launch, 'gpu_hardware_visible', lambda: False)
    assert launch.select_device('auto') == 'cpu'
    assert 'no GPU on this machine: running on the CPU' in capsys.readouterr().err
    assert launch.select_device('cpu') == 'cpu'
    import os
    assert os.environ['CUDA_VISIBLE_DEVICES'] == ''


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without a usable GPU')
def test_train_tool_asked_for_a_gpu_stops_before_building_anything(tmp_path):
    result = run_tool('tools/train.py', 'configs/quickstart/polyppvt_pvtv2b0_sample.py',
                      '--device', 'cuda', '--work-dir', str(tmp_path / 'w'), check=False)
    assert result.returncode != 0
    assert 'a GPU was asked for (--device cuda) but cannot be used' in result.stderr
    assert 'Traceback' not in result.stderr and not (tmp_path / 'w').exists()
