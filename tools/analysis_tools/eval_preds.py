"""Score a folder of saved soft predictions (8-bit PNGs, as polyp papers publish them)
against a folder of masks with the polyp protocol, and print and write the table.

    python tools/analysis_tools/eval_preds.py PRED_DIR GT_DIR [--mask-dir DIR]
                                              [--out result.json] [--name NAME] [--per-image]

Predictions and masks pair by file stem. ``--out`` writes a JSON object of reference column
name (meanDic, meanIoU, wFm, Sm, meanEm, mae, maxEm, maxDic, maxIoU, meanSen, maxSen,
meanSpe, maxSpe) to value; with ``--per-image`` it also holds each image's scores.

Dice@0.5 and IoU@0.5 score the deployed masks, which a min-max normalised 8-bit map does not
determine: pass them with ``--mask-dir`` (0/255 PNGs, e.g. ``tools/infer.py``'s ``masks/``),
otherwise those two columns are left out.
"""
import argparse
import json
import os.path as osp
import sys
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np
from tqdm import tqdm

from kdas.datasets.polyp import index_by_stem
from kdas.evaluation.protocol import aggregate, binarize_mask, score_image
from kdas.evaluation.report import format_table


def read_gray(path):
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise OSError(f'cannot read {path} (missing, corrupt or not an image)')
    if img.ndim == 3:
        img = img[..., 0]
    if img.dtype != np.uint8:
        raise ValueError(f'{path}: expected an 8-bit image, got {img.dtype}')
    return img


def score_pair(pred_path, gt_path, mask_path=None):
    pred, gt = read_gray(pred_path), read_gray(gt_path)
    mask = None if mask_path is None else read_gray(mask_path)
    for path, image in ((pred_path, pred), (mask_path, mask)):
        if image is not None and image.shape != gt.shape:
            raise ValueError(f'{path} is {image.shape[1]}x{image.shape[0]} but its ground '
                             f'truth {gt_path} is {gt.shape[1]}x{gt.shape[0]}')
    return score_image(pred, binarize_mask(gt),
                       mask=None if mask is None else binarize_mask(mask))


def main(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate saved polyp predictions')
    parser.add_argument('pred_dir')
    parser.add_argument('gt_dir')
    parser.add_argument('--mask-dir', help='deployed 0/255 masks, for Dice@0.5 and IoU@0.5')
    parser.add_argument('--out', help='JSON file for the results')
    parser.add_argument('--name', help='dataset name in the table (default: GT_DIR name)')
    parser.add_argument('--per-image', action='store_true')
    parser.add_argument('--workers', type=int, default=1, help='parallel processes')
    args = parser.parse_args(argv)

    try:
        preds = index_by_stem(args.pred_dir, 'prediction')
        masks = index_by_stem(args.gt_dir, 'mask')
        deployed = index_by_stem(args.mask_dir, 'deployed mask') if args.mask_dir else None
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    for folder, found, what in ((args.pred_dir, preds, 'prediction'),
                                (args.mask_dir, deployed, 'deployed mask')):
        missing = sorted(set(masks) - set(found)) if found is not None else []
        if missing:
            sys.exit(f'error: {len(missing)} masks in {args.gt_dir} have no {what} in '
                     f'{folder}: {", ".join(missing[:10])}')
    stems = sorted(masks)
    pairs = [(osp.join(args.pred_dir, preds[s]), osp.join(args.gt_dir, masks[s]),
              osp.join(args.mask_dir, deployed[s]) if deployed else None) for s in stems]
    try:
        progress = dict(total=len(pairs), desc='scoring', unit='img', disable=None)
        if args.workers > 1:
            with ProcessPoolExecutor(args.workers) as pool:
                scores = list(tqdm(pool.map(score_pair, *zip(*pairs)), **progress))
        else:
            scores = [score_pair(*pair) for pair in tqdm(pairs, **progress)]
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')

    name = args.name or osp.basename(osp.normpath(args.gt_dir))
    result = dict(images=len(stems), **aggregate(scores))
    print(format_table({name: result}))
    if args.out:
        out = dict(result)
        if args.per_image:
            out['per_image'] = {s: sc.summary() for s, sc in zip(stems, scores)}
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1)
        print(f'written to {args.out}')


if __name__ == '__main__':
    main()
