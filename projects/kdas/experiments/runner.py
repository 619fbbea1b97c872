"""Training and testing the experiment's rows, one after another, resumably.

Each row trains with ``tools/train.py`` (resuming from its last checkpoint when it was
interrupted) and is tested with ``tools/test.py --per-image``; a finished row is skipped,
and a finished row without per-image scores is tested again (a minute). Several instances
may share a work root (two lanes with one thread each on a 2-core machine): a row being
trained by a live instance is locked, and the others move on to the next row.
"""
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Optional

from .rows import resolve_row, row_precision, validates_every_epoch
from .work_root import WorkRoot, last_checkpoint

STALE_EMPTY_LOCK_S = 10.


class RowFailed(RuntimeError):
    """A row cannot run (its teacher row is not finished, or a training failed)."""


class Runner:
    """Runs rows of ``root`` with the repository's ``tools/`` (``repo``: its root), on the
    data under ``data_root``; ``threads`` sets OMP_NUM_THREADS for each run (None: all)."""

    def __init__(self, root: WorkRoot, data_root: str, repo: str,
                 threads: Optional[int] = None):
        self.root, self.data_root, self.repo, self.threads = root, data_root, repo, threads

    def run_row(self, name: str) -> None:
        work = self.root.row_dir(name)
        if self.root.is_tested(name):
            if not osp.isfile(self.root.metrics_path(name, per_image=True)):
                print(f'[{name}] re-testing for per-image scores')
                self.test_row(name)
            print(f'[{name}] done already ({self.root.metrics_path(name)})')
            return
        os.makedirs(work, exist_ok=True)
        if not claim(work):
            print(f'[{name}] being trained by another instance, skipped')
            return
        try:
            self.train_and_test(name)
        finally:
            os.remove(osp.join(work, 'row.lock'))

    def train_and_test(self, name: str) -> None:
        row = resolve_row(name)
        work = self.root.row_dir(name)
        options = [f'randomness.seed={row.seed}'] + [
            f'{loader}.dataset.data_root={self.data_root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        ]
        if validates_every_epoch(name):
            options.append('train_cfg.val_interval=1')
        if row.teacher:
            if not self.root.is_tested(row.teacher):
                raise RowFailed(f'[{name}] needs the finished {row.teacher} row first')
            teacher = last_checkpoint(self.root.row_dir(row.teacher))
            options.append(f'model.teacher_checkpoint={teacher}')
        cmd = [sys.executable, 'tools/train.py', row.config, '--work-dir', work,
               '--cfg-options', *options]
        if row_precision(name):
            cmd += ['--amp', row_precision(name)]
        if last_checkpoint(work):
            cmd.append('--resume')
        print(f'[{name}] {" ".join(cmd)}', flush=True)
        self._run(cmd, name)
        self.test_row(name)

    def test_row(self, name: str) -> None:
        work = self.root.row_dir(name)
        self._run([sys.executable, 'tools/test.py', resolve_row(name).config,
                   last_checkpoint(work), '--work-dir', osp.join(work, 'test'), '--per-image',
                   '--cfg-options', f'test_dataloader.dataset.data_root={self.data_root}'],
                  name)

    def _run(self, cmd, name):
        env = dict(os.environ, OMP_NUM_THREADS=str(self.threads)) if self.threads else None
        result = subprocess.run(cmd, cwd=self.repo, env=env)
        if result.returncode:
            raise RowFailed(f'[{name}] {cmd[1]} exited with {result.returncode}; run again to '
                            'resume from its last checkpoint')


def claim(work: str) -> bool:
    """Takes the row's lock file; False while another live instance holds it."""
    lock = osp.join(work, 'row.lock')
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(lock) as f:
                    holder = int(f.read().strip() or 0)
                if holder <= 0:
                    # empty: its writer was killed between creating and writing it, unless
                    # it is writing it right now
                    if time.time() - os.stat(lock).st_mtime < STALE_EMPTY_LOCK_S:
                        return False
                    raise ProcessLookupError
                os.kill(holder, 0)
                return False  # held by a live process
            except (ValueError, ProcessLookupError):
                os.remove(lock)  # left by a killed instance
                continue
            except FileNotFoundError:
                continue  # released meanwhile
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True
