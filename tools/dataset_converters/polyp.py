"""Convert polyp datasets as people download them into kdas's layout.

    python tools/dataset_converters/polyp.py RAW OUT [--skip-invalid] [--partial] [--force]

RAW may hold any of these downloads, side by side:
- each dataset from its own site: Kvasir-SEG (``images/`` + JPEG ``masks/``), CVC-ClinicDB
  and CVC-ColonDB (``Original/`` + ``Ground Truth/`` TIFFs; Kaggle's CVC-ClinicDB with
  ``PNG/`` and ``TIF/`` copies of both, of which the PNG one is used), ETIS-LaribPolypDB,
  CVC-300;
- PraNet's ``TrainDataset/{image,mask}`` (the merged 1450-image training set) and
  ``TestDataset/<set>/{images,masks}``, the download the Polyp-PVT and KDAS READMEs name:
  the training images go back to their datasets (Kvasir-SEG, CVC-ClinicDB) by stem;
- this project's own layout.
Every folder with an image and a mask sub-folder is a source. Sources become
``OUT/<dataset>/{images,masks}``: JPEG and PNG images are copied byte for byte, other images
(TIFF, BMP) are written as PNG; masks are binarised at half their range and written as
0/255 PNG. ``OUT/splits/`` gets the PraNet train/test split of Kvasir-SEG and CVC-ClinicDB
(shipped with kdas, or RAW's own ``splits/``).

Every pair is checked first (missing mask or image, unreadable, truncated or empty file,
image and mask of different sizes, two files of one stem in a folder, a stem in two sources
of one dataset); all problems are reported together, and nothing is written unless there
are none or ``--skip-invalid`` is given. A Kvasir-SEG or CVC-ClinicDB that lacks images of
the standard split is a problem too, unless ``--partial`` (e.g. a sample) is given: the
split files then list what is there. Existing output folders are never overwritten without
``--force``, and with it each is replaced only once its new copy is complete (a kill or a
full disk leaves the old one whole); a source that lies in an output folder (RAW == OUT) is
refused, since replacing the folder would delete it. At the end it says what it wrote and which configs will read it. The work is
done by :func:`kdas.datasets.public_layouts.convert_downloads`.
"""
import argparse
import sys

from kdas.datasets.public_layouts import convert_downloads


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert polyp datasets to kdas layout')
    parser.add_argument('raw', help='folder with the downloaded datasets')
    parser.add_argument('out', help='output root (e.g. data/polyp)')
    parser.add_argument('--skip-invalid', action='store_true',
                        help='convert the valid pairs and skip the rest (exit 0)')
    parser.add_argument('--partial', action='store_true',
                        help='accept Kvasir-SEG / CVC-ClinicDB without every image of the '
                        'standard split (the split files then list the images present)')
    parser.add_argument('--force', action='store_true',
                        help='replace output dataset folders that already exist')
    args = parser.parse_args(argv)
    return convert_downloads(args.raw, args.out, skip_invalid=args.skip_invalid,
                             partial=args.partial, force=args.force)


if __name__ == '__main__':
    sys.exit(main())
