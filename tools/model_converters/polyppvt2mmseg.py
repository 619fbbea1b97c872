"""Convert a public Polyp-PVT / KDAS checkpoint (teacher or student) to kdas's format.

    python tools/model_converters/polyppvt2mmseg.py SRC DST [--arch b0]

The result loads into ``configs/polyp_pvt/*`` (``load_from``, ``tools/test.py``) and as a
KDAS ``teacher_checkpoint``. Missing, extra or mis-shaped keys stop the conversion with a
list of them.
"""
import argparse
import sys

import torch

from kdas.utils.checkpoint import extract_state_dict
from kdas.utils.official_format import convert_polyp_pvt
from kdas.utils.safe_checkpoint import safe_torch_load


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--arch', choices=['b0', 'b1', 'b2', 'b3', 'b4', 'b5'],
                        help='PVTv2 variant; inferred from the shapes when omitted')
    args = parser.parse_args(argv)
    try:
        state_dict = extract_state_dict(safe_torch_load(args.src))
        converted = convert_polyp_pvt(state_dict, args.arch, source=args.src)
    except (OSError, RuntimeError, ValueError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    torch.save(dict(state_dict=converted, meta=dict(converted_from=args.src)), args.dst)
    print(f'converted {len(converted)} tensors from {args.src} to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
