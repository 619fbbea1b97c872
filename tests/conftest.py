import os
import os.path as osp
import subprocess
import sys

import pytest
from mmseg.utils import register_all_modules

import kdas  # noqa: F401  (registers kdas's components)

# Models are built outside a Runner here, so mmseg must be the default registry scope.
register_all_modules(init_default_scope=True)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = os.environ.get('KDAS_SHARED', osp.join(osp.dirname(REPO), 'shared'))
SAMPLE = osp.join(REPO, 'data', 'polyp_sample')
STUDENT = 'configs/quickstart/polyppvt_pvtv2b0_sample.py'


def shared_path(*parts):
    """A path under ../shared, or a skip saying why (a user's clone has no ../shared)."""
    path = osp.join(SHARED, *parts)
    if not osp.exists(path):
        pytest.skip(f'{path} not found: this test needs the project\'s shared reference '
                    'files (present in CI; set KDAS_SHARED to point elsewhere)')
    return path


@pytest.fixture
def reference_dir():
    return shared_path('reference')


@pytest.fixture
def polyp_data():
    return shared_path('data', 'polyp')


def free_port() -> int:
    """A TCP port nobody listens on now, for a torchrun rendezvous."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_tool(*args, timeout=900, env=None, check=True):
    """Runs ``python tools/...`` from the repository root and returns the result."""
    full_env = dict(os.environ, **(env or {}))
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True,
                            text=True, timeout=timeout, env=full_env)
    if check and result.returncode != 0:
        raise AssertionError(f'{args} failed ({result.returncode}):\n{result.stdout[-4000:]}'
                             f'\n{result.stderr[-4000:]}')
    return result


@pytest.fixture
def real_polyp_root():
    """Real polyp data: ../shared/data/polyp when present, else the embedded sample."""
    shared = osp.join(SHARED, 'data', 'polyp')
    return shared if osp.isdir(shared) else SAMPLE


def small_training_config(config, work_dir, data_root, size=64, iters=3, **model_overrides):
    """A config trained for a few iterations on real data at a small size (CPU-friendly)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.work_dir = str(work_dir)
    # From scratch: the paper configs' ImageNet weights are not part of the repository.
    student = cfg.model.student if cfg.model.type == 'DistillationSegmentor' else cfg.model
    student.backbone.init_cfg = None
    for pipeline in (cfg.train_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline):
        for t in pipeline:
            if t['type'] == 'Resize':
                t['scale'] = (size, size)
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = data_root
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = data_root
        cfg[loader].dataset.subsets = [
            dict(name='Kvasir', folder='Kvasir-SEG', split='splits/kvasir_test.txt')]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', by_epoch=False,
                                        interval=iters)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_processor = dict(by_epoch=False)
    cfg.merge_from_dict(dict(model=dict(train_rates=(1.0, ), train_base_size=size,
                                        **model_overrides)))
    return cfg


def write_tiny_config(tmp_path, base, size=64, iters=None, epochs=None, ckpt_interval=None,
                      extra=''):
    """A config file that inherits ``base`` and trains at ``size`` px for a few
    iterations (or epochs) on the embedded sample, for the tools' tests."""
    lines = [
        f"_base_ = '{osp.join(REPO, base)}'",
        f"data_root = '{SAMPLE}'",
        "train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,",
        "    dataset=dict(data_root=data_root, pipeline=[",
        f"        dict(t, scale=({size}, {size})) if t['type'] == 'Resize' else t",
        "        for t in _base_.train_pipeline]))",
        # test_pipeline is what mmseg.apis.inference_model runs: the same as the loader's.
        "test_pipeline = [",
        f"    dict(t, scale=({size}, {size})) if t['type'] == 'Resize' else t",
        "    for t in _base_.test_pipeline]",
        "val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(",
        "    data_root=data_root, subsets=[_base_.seen_test_sets[0]], pipeline=test_pipeline))",
        "test_dataloader = val_dataloader",
        "default_hooks = dict(logger=dict(interval=1))",
    ]
    if iters is not None:
        lines += [
            f"train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={iters},"
            f" val_interval={iters})",
            "log_processor = dict(by_epoch=False)",
            "default_hooks.update(checkpoint=dict(by_epoch=False, interval="
            f"{ckpt_interval or iters}, max_keep_ckpts=10, save_best=None))",
        ]
    if epochs is not None:
        lines += [f"train_cfg = dict(max_epochs={epochs}, val_interval={epochs})",
                  f"default_hooks.update(checkpoint=dict(interval={ckpt_interval or epochs},"
                  " save_best=None))"]
    path = osp.join(str(tmp_path), 'tiny_config.py')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n' + extra)
    return path


@pytest.fixture(scope='session')
def trained(tmp_path_factory):
    """(config, checkpoint, test image paths, their masks) of a student trained for 48
    iterations on the embedded sample at 64 px (its maps are neither constant nor all
    polyp), validated once at the end."""
    root = tmp_path_factory.mktemp('trained')
    cfg = write_tiny_config(root, STUDENT, size=64, iters=48)
    run_tool('tools/train.py', cfg, '--work-dir', str(root / 'work'))
    stems = open(osp.join(SAMPLE, 'splits', 'kvasir_test.txt')).read().split()
    images = [osp.join(SAMPLE, 'Kvasir-SEG', 'images', f'{s}.jpg') for s in stems]
    masks = [osp.join(SAMPLE, 'Kvasir-SEG', 'masks', f'{s}.png') for s in stems]
    return cfg, str(root / 'work' / 'iter_48.pth'), images, masks


@pytest.fixture(scope='session')
def mmseg_outputs_of():
    """MMSegmentation's own inference, as a function: (config, checkpoint, image paths) ->
    stem -> pred_sem_seg (bool H x W)."""

    def infer(cfg, ckpt, images):
        from mmseg.apis import inference_model, init_model
        model = init_model(cfg, ckpt, device='cpu')
        return {osp.splitext(osp.basename(p))[0]:
                inference_model(model, p).pred_sem_seg.data[0].numpy().astype(bool)
                for p in images}

    return infer
