"""Convert a public Polyp-PVT / KDAS checkpoint (teacher or student) to kdas's format.

    python tools/model_converters/polyppvt2mmseg.py SRC DST [--arch b0]

The result loads into ``configs/polyp_pvt/*`` (``load_from``, ``tools/test.py``) and as a
KDAS ``teacher_checkpoint``. Missing, extra or mis-shaped keys stop the conversion with a
list of them.
"""
import argparse
import sys

from kdas.models.official_format import ARCH_NAMES, convert_file, convert_polyp_pvt


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert a public Polyp-PVT / KDAS checkpoint')
    parser.add_argument('src', help='checkpoint to convert (.pth)')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--arch', choices=ARCH_NAMES,
                        help='PVTv2 variant; inferred from the shapes when omitted')
    args = parser.parse_args(argv)
    return convert_file(args.src, args.dst, convert_polyp_pvt, args.arch, keep_meta=True)


if __name__ == '__main__':
    sys.exit(main())
