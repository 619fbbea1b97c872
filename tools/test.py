"""Evaluate a checkpoint on every test set of a config and print one table.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--per-image] [--all-columns]
                         [--skip-missing] [--show-dir DIR] [--report DIR]
                         [--device auto|cuda|cpu]
                         [--cfg-options k=v ...]

The table (a row per dataset: mDice, mIoU, wFm, Sm, meanEm, MAE, Dice@0.5; with
--all-columns also maxEm, maxDice, maxIoU, sensitivity, specificity and IoU@0.5) is printed
and written, every column, to the work dir as polyp_metrics.json / .csv / .md. A checkpoint saved by a KDAS run works with the
student's config and with the KDAS config alike.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import DictAction
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from kdas.datasets.polyp import select_present_test_sets
from kdas.utils import load_run_config, load_weights, prepare_cpu_distributed, select_device
from kdas.utils.launch import DEVICES, finish_distributed
from kdas.utils.logs import keep_metric_dump_off_the_console
from kdas.utils.output_files import OutputError, ensure_output_dir


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a polyp segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the metric tables are written')
    parser.add_argument('--per-image', action='store_true',
                        help='also write per-image scores')
    parser.add_argument('--all-columns', action='store_true',
                        help='print every column (the JSON/CSV/Markdown files always have '
                        'them all)')
    parser.add_argument('--skip-missing', action='store_true',
                        help='skip test sets whose folder does not exist (instead of failing)')
    parser.add_argument('--show-dir', help='save prediction overlays to this directory')
    parser.add_argument('--report', metavar='DIR',
                        help='write a static HTML report (DIR/index.html): the table and '
                        'every image\'s overlay with its Dice, worst first, per dataset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    parser.add_argument('--device', choices=DEVICES, default='auto',
                        help='where to run (default: the GPU if there is one; a GPU that is '
                        'there but unusable stops the run)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None):
    args = parse_args(argv)
    select_device(args.device)
    try:
        cfg = load_run_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    except (FileNotFoundError, KeyError, SyntaxError, TypeError, ValueError) as err:
        sys.exit(f'error: config {args.config}: {err}')
    if not osp.isfile(args.checkpoint):
        sys.exit(f'error: checkpoint {args.checkpoint} does not exist')
    # Not cfg.load_from: MMEngine loads that with strict=False, so a checkpoint of another
    # network would be evaluated with random weights after a warning.
    cfg.load_from = None
    if cfg.model.type == 'DistillationSegmentor':
        cfg.model.teacher_checkpoint = None  # the teacher plays no part in testing
    try:
        skipped = select_present_test_sets(cfg.test_dataloader.dataset, args.skip_missing)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    if skipped:
        print(f'warning: {skipped}')
    try:  # before anything is built: a bad output path fails in a second
        ensure_output_dir(cfg.work_dir, 'work dir')
        for folder, what in ((args.report, '--report folder'), (args.show_dir, '--show-dir')):
            if folder:
                ensure_output_dir(folder, what)
    except OutputError as err:
        sys.exit(f'error: {err}')
    cfg.test_evaluator = dict(cfg.test_evaluator, output_dir=cfg.work_dir,
                              per_image=args.per_image, all_columns=args.all_columns)
    if args.report:
        title = f'{osp.basename(args.config)}: {osp.basename(args.checkpoint)}'
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='PolypReportHook', out_dir=args.report, title=title)]
    if args.show_dir:
        cfg.default_hooks.visualization.update(draw=True, interval=1, show=False)
        cfg.visualizer.save_dir = args.show_dir
    prepare_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    keep_metric_dump_off_the_console(runner.logger)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    try:
        load_weights(model, args.checkpoint, what='segmentor',
                     hint='Is it a checkpoint of this config\'s network?')
    except (FileNotFoundError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    try:
        runner.test()
    except OutputError as err:  # an overlay, report or metrics file that could not be written
        sys.exit(f'error: {err}')
    finish_distributed()


if __name__ == '__main__':
    main()
