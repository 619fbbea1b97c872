"""Reading what MMEngine logged for a work dir (``<run>/vis_data/scalars.json``), and keeping
the test loop's one-line metric dump off the console."""
import json
import logging
import os
import os.path as osp
from typing import List, Tuple


def scalars_files(work_dir: str) -> List[str]:
    """The ``vis_data/scalars.json`` of every run in ``work_dir``, in order."""
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir {work_dir} does not exist')
    paths = (osp.join(work_dir, entry, 'vis_data', 'scalars.json')
             for entry in sorted(os.listdir(work_dir)))
    return [path for path in paths if osp.isfile(path)]


def scalar_records(path: str) -> List[dict]:
    """The records of one ``scalars.json``. MMEngine appends one JSON line per record, so a
    run killed while logging can end in a cut line without its newline: that record is
    left out. A bad line anywhere else is an error naming the file and the line."""
    with open(path) as f:
        lines = f.read().split('\n')
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            if number == len(lines):  # the last line, without a newline: cut by a kill
                break
            raise ValueError(f'{path}, line {number}: not a JSON record ({err})') from err
    return records


def read_scalars(work_dir: str) -> Tuple[List[dict], List[dict]]:
    """(training records, validation records) of every run in ``work_dir``, resumed runs
    included, in order. A resumed run re-logs the iterations after its checkpoint: the
    later record of an iteration wins. Training records carry ``loss``; validation records
    the metric keys and ``step`` (the epoch or iteration they were taken at)."""
    train, val = {}, {}
    for path in scalars_files(work_dir):
        for record in scalar_records(path):
            if 'loss' in record:
                train[record['iter']] = record
            else:
                val[record['step']] = record
    return [train[k] for k in sorted(train)], [val[k] for k in sorted(val)]


class _NotTheMetricDump(logging.Filter):
    """MMEngine's LoggerHook logs every ``dataset/column`` value on one line after the
    table; it stays in the log file, not on the console."""

    def filter(self, record):
        message = record.getMessage()
        return not (message.startswith(('Epoch(test)', 'Iter(test)')) and
                    '/meanDic' in message)


def keep_metric_dump_off_the_console(logger):
    for handler in logger.handlers:
        if type(handler) is logging.StreamHandler:  # the console, not the FileHandler
            handler.addFilter(_NotTheMetricDump())
