import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

from kdas.utils.safe_checkpoint import safe_torch_load


class _RunsCode:
    """Unpickling this calls os.system: what a hostile checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class _WalksToEval:
    """Tries the getattr route: getattr(HistoryBuffer.__init__, '__globals__')."""

    def __reduce__(self):
        return getattr, (HistoryBuffer.__init__, '__globals__')


@pytest.mark.parametrize('loader', [safe_torch_load, lambda f: _load_checkpoint(f, 'cpu')])
def test_malicious_checkpoint_is_refused_and_runs_nothing(tmp_path, loader):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict=dict(w=torch.zeros(2)), payload=_RunsCode(marker)), path)
    with pytest.raises(RuntimeError, match='refusing to load checkpoint .*evil.pth'):
        loader(str(path))
    assert not marker.exists()


def test_getattr_cannot_reach_arbitrary_attributes(tmp_path):
    path = tmp_path / 'walk.pth'
    torch.save(dict(payload=_WalksToEval()), path)
    with pytest.raises(RuntimeError, match="attribute '__init__' .* not on the allow-list"):
        safe_torch_load(str(path))


def test_mmengine_training_state_loads(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(np.float64(0.5))
    state = dict(state_dict=dict(w=torch.ones(3)), meta=dict(seed=0),
                 message_hub=dict(log_scalars=dict(loss=buffer),
                                  runtime_info=dict(arr=np.arange(3), f=np.float32(2.0))))
    path = tmp_path / 'ok.pth'
    torch.save(state, path)
    loaded = safe_torch_load(str(path))
    assert torch.equal(loaded['state_dict']['w'], torch.ones(3))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 0.5
    assert loaded['message_hub']['runtime_info']['arr'].tolist() == [0, 1, 2]


def test_missing_and_truncated_checkpoints_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        safe_torch_load(str(tmp_path / 'nothere.pth'))
    good = tmp_path / 'good.pth'
    torch.save(dict(w=torch.zeros(1000)), good)
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(RuntimeError, match='cut.pth.*unreadable'):
        safe_torch_load(str(cut))


def test_plain_pickle_is_not_a_checkpoint(tmp_path):
    path = tmp_path / 'plain.pkl'
    path.write_bytes(pickle.dumps(_RunsCode(tmp_path / 'x'), protocol=2))
    with pytest.raises(RuntimeError, match='plain.pkl'):
        safe_torch_load(str(path))
    assert not (tmp_path / 'x').exists()
