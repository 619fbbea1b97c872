"""Training curves of one or several runs in one figure (after MMSegmentation's
``analyze_logs.py``, reading MMEngine's ``scalars.json`` of every run in a work dir).

    python tools/analysis_tools/plot_curves.py WORK_DIR [WORK_DIR ...] --out curves.png
        [--legend NAME ...] [--losses loss decode.loss_structure_p1 ...] [--metrics mDice ...]

Left: the loss terms over iterations (default: every logged term containing "loss", as
it enters the total). Right: the validation metrics over iterations (default: mDice and
each dataset's mDice), when the runs validated. Resumed runs continue their curves. Prints
what it plotted: per run and series, the number of points and the last value.
"""
import argparse
import os.path as osp
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from kdas.utils import read_scalars  # noqa: E402

LOSS_PREFIXES = ('loss', 'decode.loss', 'distill.loss')
DEFAULT_METRICS = ('mDice', )


def series(work_dir, losses=None, metrics=None):
    """{name: (iterations, values)} of the losses and of the validation metrics."""
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


def plot(runs, out, width=12., height=4.5, dpi=100):
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
    fig.savefig(out)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Plot training curves of work dirs')
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--out', required=True, help='image file (PNG, SVG, PDF)')
    parser.add_argument('--legend', nargs='+', help='one name per work dir')
    parser.add_argument('--losses', nargs='+', help='loss keys (default: every loss term)')
    parser.add_argument('--metrics', nargs='+', help='validation keys (default: mDice and '
                        'each dataset\'s meanDic)')
    args = parser.parse_args(argv)
    if args.legend and len(args.legend) != len(args.work_dirs):
        sys.exit('error: --legend needs one name per work dir')
    runs = []
    for i, work_dir in enumerate(args.work_dirs):
        label = args.legend[i] if args.legend else osp.basename(osp.normpath(work_dir))
        try:
            losses, metrics = series(work_dir, args.losses, args.metrics)
        except (FileNotFoundError, ValueError) as err:
            sys.exit(f'error: {err}')
        runs.append((label, losses, metrics))
        for key, (x, y) in {**losses, **metrics}.items():
            last = f'{y[-1]:.4f} at iteration {x[-1]}' if y else 'no points'
            print(f'{label}: {key}: {len(y)} points, last {last}')
    plot(runs, args.out)
    print(f'written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
