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


def read_scalars(work_dir: str) -> Tuple[List[dict], List[dict]]:
    """(training records, validation records) of every run in ``work_dir``, resumed runs
    included, in order. A resumed run re-logs the iterations after its checkpoint: the
    later record of an iteration wins. Training records carry ``loss``; validation records
    the metric keys and ``step`` (the epoch or iteration they were taken at)."""
    train, val = {}, {}
    for path in scalars_files(work_dir):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
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
