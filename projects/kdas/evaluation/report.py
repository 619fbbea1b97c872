"""One table over datasets: printed, and written as JSON, CSV and Markdown."""
import csv
import io
import json
import os.path as osp
from typing import Dict, Optional

from prettytable import PrettyTable

from ..utils.output_files import write_text
from .protocol import FIXED_THRESHOLD_COLUMNS, REFERENCE_COLUMNS

# Display names of the reference columns (JSON files keep the reference's own names).
DISPLAY_NAMES = dict(meanDic='mDice', meanIoU='mIoU', mae='MAE', maxDic='maxDice')
COLUMNS = REFERENCE_COLUMNS + FIXED_THRESHOLD_COLUMNS
# What the console shows by default: fits a 100-column terminal.
SHORT_COLUMNS = ('meanDic', 'meanIoU', 'wFm', 'Sm', 'meanEm', 'mae', 'Dice@0.5')
NOTE = ('mDice, mIoU, meanEm: means over 256 thresholds of the 8-bit map (the published\n'
        'protocol); Dice@0.5: the deployed mask, sigmoid(logits) > 0.5.')


def display(column: str) -> str:
    return DISPLAY_NAMES.get(column, column)


def present_columns(results: Dict[str, dict]):
    """The columns every row has (Dice@0.5 / IoU@0.5 need the deployed masks)."""
    return [c for c in COLUMNS if all(c in row for row in results.values())]


def format_table(results: Dict[str, dict], digits: int = 4, all_columns: bool = True) -> str:
    """The table as text; ``all_columns=False`` keeps :data:`SHORT_COLUMNS`."""
    columns = [c for c in present_columns(results) if all_columns or c in SHORT_COLUMNS]
    table = PrettyTable(['dataset', 'images'] + [display(c) for c in columns])
    for name, row in results.items():
        table.add_row([name, row.get('images', '')] +
                      [f'{row[c]:.{digits}f}' for c in columns])
    return f'{table.get_string()}\n{NOTE}'


def write_reports(results: Dict[str, dict], out_dir: str, stem: str = 'polyp_metrics',
                  per_image: Optional[Dict[str, dict]] = None) -> Dict[str, str]:
    """Writes ``{stem}.json`` (reference column names), ``.csv`` and ``.md``; with
    ``per_image``, also ``{stem}_per_image.json``. Returns the paths by format. Each file
    is written atomically (see :mod:`kdas.utils.output_files`), in UTF-8."""
    paths = {ext: osp.join(out_dir, f'{stem}.{ext}') for ext in ('json', 'csv', 'md')}
    columns = present_columns(results)
    header = ['dataset', 'images'] + [display(c) for c in columns]
    write_text(paths['json'], json.dumps(results, indent=1), what='metrics table')
    table = io.StringIO(newline='')
    writer = csv.writer(table)
    writer.writerow(header)
    for name, row in results.items():
        writer.writerow([name, row.get('images', '')] + [f'{row[c]:.6f}' for c in columns])
    write_text(paths['csv'], table.getvalue(), what='metrics table')
    lines = ['| ' + ' | '.join(header) + ' |\n', '|' + '---|' * len(header) + '\n']
    for name, row in results.items():
        cells = [name, str(row.get('images', ''))] + [f'{row[c]:.4f}' for c in columns]
        lines.append('| ' + ' | '.join(cells) + ' |\n')
    lines.append(f'\n{NOTE}\n')
    write_text(paths['md'], ''.join(lines), what='metrics table')
    if per_image is not None:
        paths['per_image'] = osp.join(out_dir, f'{stem}_per_image.json')
        write_text(paths['per_image'], json.dumps(per_image, indent=1),
                   what='per-image metrics')
    return paths
