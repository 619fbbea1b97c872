"""Training curves of one or several work dirs in one figure: the logged loss terms and the
validation scores over iterations, read from MMEngine's ``scalars.json`` of every run (after
MMSegmentation's ``analyze_logs.py``)."""
import io
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from ..utils.logs import read_scalars  # noqa: E402
from ..utils.output_files import write_bytes  # noqa: E402

LOSS_PREFIXES = ('loss', 'decode.loss', 'distill.loss')
DEFAULT_METRICS = ('mDice', )
Series = Dict[str, Tuple[List[float], List[float]]]


def series(work_dir: str, losses: Optional[Sequence[str]] = None,
           metrics: Optional[Sequence[str]] = None) -> Tuple[Series, Series]:
    """{name: (iterations, values)} of the losses and of the validation metrics. Default
    losses: every logged term that enters the total; default metrics: mDice and each
    dataset's mDice."""
    train, val = read_scalars(work_dir)
    if not train:
        raise ValueError(f'{work_dir} holds no training log (*/vis_data/scalars.json)')
    loss_keys = losses or [k for k in train[-1] if k.startswith(LOSS_PREFIXES)]
    out_losses = {k: ([r['iter'] for r in train if k in r], [r[k] for r in train if k in r])
                  for k in loss_keys}
    # Validation records carry the epoch (or the iteration) in "step"; place them at the
    # last iteration logged in that epoch.
    by_epoch = 'epoch' in train[-1] and all(v['step'] <= train[-1]['epoch'] for v in val)
    last_iter = {}
    for r in train:
        last_iter[r.get('epoch')] = r['iter']
    metric_keys = metrics or [k for k in (val[-1] if val else {})
                              if k in DEFAULT_METRICS or k.endswith('/meanDic')]
    out_metrics = {}
    for k in metric_keys:
        points = [(last_iter.get(v['step'], v['step']) if by_epoch else v['step'], v[k])
                  for v in val if k in v]
        out_metrics[k] = ([p[0] for p in points], [p[1] for p in points])
    return out_losses, out_metrics


def plot(runs: Sequence[Tuple[str, Series, Series]], out: str, width: float = 12.,
         height: float = 4.5, dpi: int = 100) -> None:
    """``runs``: [(label, losses, metrics)]; one colour per run, one line style per key."""
    has_val = any(metrics for _, _, metrics in runs)
    fig, axes = plt.subplots(1, 2 if has_val else 1, figsize=(width, height), dpi=dpi,
                             squeeze=False)
    styles = ['-', '--', ':', '-.', (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3))]
    for index, (label, losses, metrics) in enumerate(runs):
        colour = f'C{index % 10}'
        for j, (key, (x, y)) in enumerate(losses.items()):
            axes[0, 0].plot(x, y, linestyle=styles[j % len(styles)], color=colour,
                            label=f'{label}: {key}')
        for j, (key, (x, y)) in enumerate(metrics.items()):
            axes[0, 1].plot(x, y, linestyle=styles[j % len(styles)], color=colour, marker='o',
                            markersize=3, label=f'{label}: {key}')
    axes[0, 0].set(title='training loss terms', xlabel='iteration', ylabel='loss')
    if has_val:
        axes[0, 1].set(title='validation', xlabel='iteration', ylabel='score')
    for ax in axes[0]:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out)


def save_figure(fig, path: str) -> str:
    """Writes ``fig`` to ``path`` atomically, in the format its extension names, and closes
    it: a full disk leaves the previous figure whole and raises an error naming the file."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=osp.splitext(path)[1][1:].lower() or 'png')
    plt.close(fig)
    return write_bytes(path, buffer.getvalue(), what='figure')
