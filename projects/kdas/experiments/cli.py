"""The command line of the CPU-budget experiment (tools/analysis_tools/reproduce_results.py).

Trains and tests the requested rows one after another (finished rows are skipped, an
interrupted one resumes), then prints the Markdown table of every tested row and, on
request, writes the tables into docs/results.md between its markers and draws the figures.
With ``--table-only`` it trains nothing: the same work root gives the same tables.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

from .rows import ROWS, TEACHERS, resolve_row, row_base
from .runner import RowFailed, Runner
from .tables import all_tables, pairs_table, update_doc
from .work_root import WorkRoot


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train and test the rows of docs/results.md under the CPU budget, '
        'resumably, and print their tables')
    parser.add_argument('--data-root', required=True)
    parser.add_argument('--work-root', default=osp.expanduser('~/.cache/kdas/results'))
    parser.add_argument('--rows', nargs='+', default=list(ROWS),
                        help='rows to run (default: every row); NAME-sK: seed K of a row, '
                        'NAME-bf16[-sK]: trained under bfloat16 autocast')
    parser.add_argument('--table-only', action='store_true', help='train nothing')
    parser.add_argument('--update-doc', metavar='MD',
                        help='write the tables into MD between its marker comments '
                        '(docs/results.md)')
    parser.add_argument('--figures', metavar='DIR',
                        help='also draw results_curves.png, results_bars.png and '
                        'results_validation.png into DIR (docs/figures)')
    parser.add_argument('--threads', type=int,
                        help='CPU threads per training run (OMP_NUM_THREADS); default: all')
    parser.add_argument('--pair', nargs='+', metavar='A:B', default=[],
                        help='also print objective A minus objective B per image over their '
                        'shared seeds, with its paired interval (A, B: row names without a '
                        'seed, e.g. cwd-mobilenetv2-lr1e3:student-lr1e3)')
    args = parser.parse_args(argv)
    for name in args.rows:
        try:
            resolve_row(name)
        except ValueError as err:
            parser.error(str(err))
    pairs = [tuple(pair.split(':')) for pair in args.pair]
    for pair, names in zip(args.pair, pairs):
        if len(names) != 2:
            parser.error(f'--pair {pair}: expected A:B')
        for name in names:
            try:
                resolve_row(name)
            except ValueError as err:
                parser.error(f'--pair {pair}: {err}')
            if row_base(name)[1] or name != row_base(name)[0] or name in TEACHERS:
                parser.error(f'--pair {pair}: {name} is not an objective (a row name '
                             'without -sK, not a teacher)')
    args.pair = pairs
    args.data_root = osp.abspath(args.data_root)
    return args


def main(repo: str, argv: Optional[Sequence[str]] = None) -> int:
    """``repo``: the repository root, whose tools/ and configs/ the rows run with."""
    args = parse_args(argv)
    root = WorkRoot(args.work_root)
    if not args.table_only:
        runner = Runner(root, args.data_root, repo, args.threads)
        try:
            for name in args.rows:
                runner.run_row(name)
        except RowFailed as err:
            print(f'error: {err}', file=sys.stderr)
            return 1
    tables = all_tables(root)
    print('\n\n'.join(tables.values()))
    if args.pair:
        print('\n' + pairs_table(root, args.pair))
    if args.update_doc:
        try:
            update_doc(args.update_doc, tables)
        except (OSError, ValueError) as err:
            print(f'error: {err}', file=sys.stderr)
            return 1
        print(f'updated {args.update_doc}')
    if args.figures:
        from .figures import draw_figures  # matplotlib only when drawing
        try:
            for path in draw_figures(root, args.figures):
                print(f'drew {path}')
        except OSError as err:
            print(f'error: {err}', file=sys.stderr)
            return 1
    return 0
