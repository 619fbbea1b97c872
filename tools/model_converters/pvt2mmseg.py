"""Convert a public PVTv2 ImageNet checkpoint (or a PVTv2 classifier trained with
mmpretrain and ``configs/pvtv2_cls``) to a backbone checkpoint for
``init_cfg=dict(type='Pretrained', checkpoint=DST)``.

    python tools/model_converters/pvt2mmseg.py SRC DST [--arch b0]
"""
import argparse
import sys

from kdas.models.official_format import ARCH_NAMES, convert_file, convert_pvt_v2


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert a PVTv2 ImageNet checkpoint')
    parser.add_argument('src', help='checkpoint to convert (.pth)')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--arch', choices=ARCH_NAMES,
                        help='PVTv2 variant; inferred from the shapes when omitted')
    args = parser.parse_args(argv)
    return convert_file(args.src, args.dst, convert_pvt_v2, args.arch, keep_meta=False)


if __name__ == '__main__':
    sys.exit(main())
