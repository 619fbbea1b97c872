"""Convert a public PVTv2 ImageNet checkpoint (or a PVTv2 classifier trained with
mmpretrain and ``configs/pvtv2_cls``) to a backbone checkpoint for
``init_cfg=dict(type='Pretrained', checkpoint=DST)``.

    python tools/model_converters/pvt2mmseg.py SRC DST [--arch b0]
"""
import argparse
import sys

import torch

from kdas.utils.checkpoint import extract_state_dict
from kdas.utils.official_format import convert_pvt_v2
from kdas.utils.safe_checkpoint import safe_torch_load


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert a PVTv2 ImageNet checkpoint')
    parser.add_argument('src', help='PVTv2 checkpoint (.pth)')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--arch', choices=['b0', 'b1', 'b2', 'b3', 'b4', 'b5'],
                        help='PVTv2 variant; inferred from the shapes when omitted')
    args = parser.parse_args(argv)
    try:
        state_dict = extract_state_dict(safe_torch_load(args.src))
        converted = convert_pvt_v2(state_dict, args.arch, source=args.src)
    except (OSError, RuntimeError, ValueError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    torch.save(converted, args.dst)
    print(f'converted {len(converted)} backbone tensors from {args.src} to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
