"""Training curves of one or several runs in one figure (kdas.visualization.training_curves).

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

from kdas.utils.logs import scalars_files
from kdas.utils.output_files import OutputError, refuse_overwrite
from kdas.visualization.training_curves import plot, series


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
    try:
        refuse_overwrite(args.out, [path for work_dir in args.work_dirs
                                    for path in scalars_files(work_dir)], what='--out')
    except (FileNotFoundError, OutputError) as err:
        sys.exit(f'error: {err}')
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
    try:
        plot(runs, args.out)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
