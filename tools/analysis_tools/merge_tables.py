"""Print one table from several ``polyp_metrics.json`` files written by tools/test.py.

    python tools/analysis_tools/merge_tables.py teacher=WORK/teacher/polyp_metrics.json \
        student=WORK/kdas/polyp_metrics.json [--out merged.md]
"""
import argparse
import json
import sys

from kdas.evaluation.report import format_table, write_reports


def main(argv=None):
    parser = argparse.ArgumentParser(description='Merge polyp metric tables')
    parser.add_argument('tables', nargs='+', help='LABEL=path/to/polyp_metrics.json')
    parser.add_argument('--out-dir', help='also write merged JSON/CSV/Markdown here')
    args = parser.parse_args(argv)
    rows = {}
    for item in args.tables:
        label, sep, path = item.partition('=')
        if not sep:
            sys.exit(f'error: expected LABEL=PATH, got {item!r}')
        try:
            with open(path) as f:
                table = json.load(f)
        except (OSError, ValueError) as err:
            sys.exit(f'error: cannot read {path}: {err}')
        for dataset, row in table.items():
            rows[f'{label} / {dataset}'] = row
    print(format_table(rows, all_columns=False))
    if args.out_dir:
        write_reports(rows, args.out_dir, stem='merged_metrics')


if __name__ == '__main__':
    main()
