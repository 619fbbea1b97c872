"""tools/setup_env.sh's choices (torch build, mmcv ops), without installing anything."""
import os
import subprocess

import pytest

from tests.conftest import REPO

CHOICE_VARS = ('TORCH_CUDA', 'TORCH_INDEX_URL', 'MMCV_CUDA_OPS')


def plan(**env):
    base = {k: v for k, v in os.environ.items() if k not in CHOICE_VARS}
    result = subprocess.run(['bash', 'tools/setup_env.sh'], cwd=REPO, capture_output=True,
                            text=True, timeout=60,
                            env=dict(base, KDAS_SETUP_PLAN='1', KDAS_CACHE='/cache', **env))
    lines = dict(ln.split(': ', 1) for ln in result.stdout.splitlines() if ': ' in ln)
    return result.returncode, lines, result.stderr


def test_default_builds_cpu_ops_with_no_gpu_visible_to_the_build():
    rc, lines, _ = plan()
    assert rc == 0
    assert lines['torch'] == 'torch==2.14.1 torchvision==0.29.1'
    assert lines['torch index'] == 'PyPI (default)'
    assert lines['mmcv ops'] == 'cpu'
    env = lines['mmcv build env'].split()
    # mmcv's setup.py picks CUDAExtension if torch sees a GPU or FORCE_CUDA=1
    assert 'FORCE_CUDA=0' in env and 'CUDA_VISIBLE_DEVICES=' in env and 'MMCV_WITH_OPS=1' in env
    assert lines['mmcv wheel cache'] == '/cache/wheels/torch-2.14.1-cpu'


def test_the_same_cpu_ops_wheel_serves_every_torch_cuda_variant():
    for variant in ('cpu', 'cu126', 'cu130'):
        rc, lines, _ = plan(TORCH_CUDA=variant)
        assert rc == 0
        assert lines['torch index'] == f'https://download.pytorch.org/whl/{variant}'
        assert lines['torch'].endswith(f'--index-url https://download.pytorch.org/whl/{variant}')
        assert lines['mmcv ops'] == 'cpu'
        assert lines['mmcv wheel cache'] == '/cache/wheels/torch-2.14.1-cpu'


def test_cuda_kernels_only_when_asked():
    rc, lines, _ = plan(MMCV_CUDA_OPS='1')
    assert rc == 0 and lines['mmcv ops'] == 'cuda'
    assert 'FORCE_CUDA=1' in lines['mmcv build env'].split()
    assert lines['mmcv wheel cache'] == '/cache/wheels/torch-2.14.1-cuda'
    rc, lines, _ = plan(TORCH_CUDA='cu126', TORCH_INDEX_URL='file:///mirror/torch')
    assert lines['torch index'] == 'file:///mirror/torch'


@pytest.mark.parametrize('env,message', [(dict(TORCH_CUDA='12.6'), 'TORCH_CUDA=12.6'),
                                         (dict(MMCV_CUDA_OPS='yes'), 'MMCV_CUDA_OPS=yes')])
def test_bad_choices_are_refused(env, message):
    rc, _, err = plan(**env)
    assert rc == 2 and message in err
