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

from .rows import ROWS, resolve_row
from .runner import RowFailed, Runner
from .tables import all_tables, update_doc
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
    args = parser.parse_args(argv)
    for name in args.rows:
        try:
            resolve_row(name)
        except ValueError as err:
            parser.error(str(err))
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
