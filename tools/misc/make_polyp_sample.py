"""Build the small real-data sample shipped in ``data/polyp_sample`` from the full data.

    python tools/misc/make_polyp_sample.py ../shared/data/polyp data/polyp_sample
        [--train 24] [--test 8] [--max-side 320]

Takes the first N stems of each split (sorted, so the sample is reproducible), shrinks
images so their longer side is at most --max-side (JPEG, quality 90) and masks alike
(nearest neighbour, PNG 0/255), and writes split files in the same layout
(kdas.datasets.sample). DST may not overlap SRC.
"""
import argparse
import sys

from kdas.datasets.sample import make_sample


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('src')
    parser.add_argument('dst')
    parser.add_argument('--train', type=int, default=24, help='training pairs per set')
    parser.add_argument('--test', type=int, default=8, help='test pairs per set')
    parser.add_argument('--max-side', type=int, default=320)
    args = parser.parse_args(argv)
    try:
        pairs = make_sample(args.src, args.dst, args.train, args.test, args.max_side)
    except (OSError, ValueError) as err:  # the project's file errors are OSErrors
        sys.exit(f'error: {err}')
    print(f'wrote the sample to {args.dst}: {pairs} pairs')
    return 0


if __name__ == '__main__':
    sys.exit(main())
