"""Train and evaluate every row of docs/results.md under the CPU budget, resumably.

    python tools/analysis_tools/reproduce_results.py --data-root ../shared/data/polyp \
        --work-root ~/.cache/kdas/results [--rows teacher student-s0 ...] [--table-only]
        [--update-doc docs/results.md] [--figures docs/figures] [--threads 1]

The rows, the runner, the tables and the figures are kdas.experiments; see its cli module.
"""
import os.path as osp
import sys

from kdas.experiments.cli import main

if __name__ == '__main__':
    sys.exit(main(repo=osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))
