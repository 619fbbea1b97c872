"""Convert an ImageNet CNN classifier to the backbone checkpoint of a CNN student, for
``init_cfg=dict(type='Pretrained', checkpoint=DST)`` (configs/_base_/models/students/).

    python tools/model_converters/cnn2mmseg.py SRC DST --arch resnet18_v1c|mobilenet_v2

SRC: MMSegmentation's ``open-mmlab://resnet18_v1c`` file, or MMPretrain's MobileNetV2
ImageNet classifier. The classifier's keys are dropped; every other key and shape must be
the backbone's, or nothing is written.
"""
import argparse
import sys

from kdas.models.official_format import CNN_BACKBONES, convert_cnn_backbone, convert_file


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert an ImageNet CNN classifier')
    parser.add_argument('src', help='checkpoint to convert (.pth)')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--arch', required=True, choices=tuple(CNN_BACKBONES))
    args = parser.parse_args(argv)
    return convert_file(args.src, args.dst, convert_cnn_backbone, args.arch, keep_meta=False)


if __name__ == '__main__':
    sys.exit(main())
