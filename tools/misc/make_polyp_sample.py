"""Build the small real-data sample shipped in ``data/polyp_sample`` from the full data.

    python tools/misc/make_polyp_sample.py ../shared/data/polyp data/polyp_sample

Takes the first N stems of each split (sorted, so the sample is reproducible), shrinks
images so their longer side is at most --max-side (JPEG, quality 90) and masks alike
(nearest neighbour, PNG 0/255), and writes split files in the same layout.
"""
import argparse
import os
import os.path as osp

import cv2

SETS = (('Kvasir-SEG', 'kvasir'), ('CVC-ClinicDB', 'clinicdb'))


def shrink(img, max_side, interpolation):
    h, w = img.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale == 1.0:
        return img
    return cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=interpolation)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('src')
    parser.add_argument('dst')
    parser.add_argument('--train', type=int, default=24, help='training pairs per set')
    parser.add_argument('--test', type=int, default=8, help='test pairs per set')
    parser.add_argument('--max-side', type=int, default=320)
    args = parser.parse_args()
    os.makedirs(osp.join(args.dst, 'splits'), exist_ok=True)
    for folder, prefix in SETS:
        for sub in ('images', 'masks'):
            os.makedirs(osp.join(args.dst, folder, sub), exist_ok=True)
        images = {osp.splitext(f)[0]: f for f in os.listdir(osp.join(args.src, folder, 'images'))}
        masks = {osp.splitext(f)[0]: f for f in os.listdir(osp.join(args.src, folder, 'masks'))}
        for split, count in (('train', args.train), ('test', args.test)):
            with open(osp.join(args.src, 'splits', f'{prefix}_{split}.txt')) as f:
                stems = sorted(ln.strip() for ln in f if ln.strip())[:count]
            for stem in stems:
                img = cv2.imread(osp.join(args.src, folder, 'images', images[stem]))
                mask = cv2.imread(osp.join(args.src, folder, 'masks', masks[stem]),
                                  cv2.IMREAD_GRAYSCALE)
                img = shrink(img, args.max_side, cv2.INTER_AREA)
                mask = shrink(mask, args.max_side, cv2.INTER_NEAREST)
                mask = ((mask > 127) * 255).astype('uint8')
                cv2.imwrite(osp.join(args.dst, folder, 'images', f'{stem}.jpg'), img,
                            [cv2.IMWRITE_JPEG_QUALITY, 90])
                cv2.imwrite(osp.join(args.dst, folder, 'masks', f'{stem}.png'), mask)
            with open(osp.join(args.dst, 'splits', f'{prefix}_{split}.txt'), 'w') as f:
                f.write('\n'.join(stems) + '\n')
    print(f'wrote the sample to {args.dst}')


if __name__ == '__main__':
    main()
