"""Segment polyps in an image or a folder of images.

    python tools/infer.py CONFIG CHECKPOINT INPUT OUTPUT [--threshold T] [--device cpu]

Writes, for each image, ``OUTPUT/masks/<stem>.png`` (0/255, the image's original size: the
deployed mask, MMSegmentation's ``pred_sem_seg``, or ``probability > T`` with
``--threshold``) and
``OUTPUT/overlays/<stem>.jpg`` (kdas.visualization.draw_overlay: the predicted region and
outline over the image at full brightness, a legend below; with ``--gt-dir`` hits, misses
and false positives in three colours, the truth's outline and the image's Dice). An
unreadable image is reported by name and skipped; the exit status is 1 if any failed.
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np
from mmseg.apis import inference_model
from tqdm import tqdm

from kdas.apis import load_segmenter
from kdas.datasets.polyp import IMAGE_EXTENSIONS, index_by_stem
from kdas.datasets.transforms import binarize_polyp_mask
from kdas.utils import keep_freed_memory, select_device
from kdas.visualization import draw_overlay
from kdas.visualization.visualizer import dice


def list_inputs(path):
    if osp.isdir(path):
        return [osp.join(path, f) for f in sorted(os.listdir(path))
                if osp.splitext(f)[1].lower() in IMAGE_EXTENSIONS]
    if osp.isfile(path):
        return [path]
    sys.exit(f'error: {path} is neither an image nor a folder')


def read_ground_truth(path, shape):
    """A ground-truth mask, binarised, checked against its image's size."""
    mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if mask is None:
        raise OSError(f'cannot read ground-truth mask {path}')
    if mask.shape[:2] != shape:
        raise ValueError(f'ground-truth mask {path} is {mask.shape[1]}x{mask.shape[0]}, its '
                         f'image {shape[1]}x{shape[0]}')
    return binarize_polyp_mask(mask).astype(bool)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Polyp segmentation inference')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='an image or a folder of images')
    parser.add_argument('output', help='output folder')
    parser.add_argument('--threshold', type=float, default=None,
                        help='probability above which a pixel is polyp (default: the '
                        "model's own, decode_head.threshold, as in pred_sem_seg)")
    parser.add_argument('--gt-dir', help='ground-truth masks (paired by file stem): the '
                        'overlays then show hits, misses and false positives, with the Dice')
    parser.add_argument('--device', default='auto',
                        help="auto (the GPU if there is one), cuda, cuda:N or cpu")
    args = parser.parse_args(argv)
    if args.threshold is not None and not 0 < args.threshold < 1:
        sys.exit('error: --threshold must lie strictly between 0 and 1')

    if not args.device.startswith('cuda:'):
        args.device = select_device(args.device)
    images = list_inputs(args.input)
    gt_index = {}
    if args.gt_dir:
        try:
            gt_index = index_by_stem(args.gt_dir, 'ground-truth')
        except (FileNotFoundError, ValueError) as err:
            sys.exit(f'error: {err}')
    if not images:
        sys.exit(f'error: no images in {args.input}')
    if args.device == 'cpu':
        keep_freed_memory()  # every image reuses the last one's activations: no page faults
    try:
        model = load_segmenter(args.config, args.checkpoint, device=args.device)
    except (FileNotFoundError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    os.makedirs(osp.join(args.output, 'masks'), exist_ok=True)
    os.makedirs(osp.join(args.output, 'overlays'), exist_ok=True)
    failed = []
    for path in tqdm(images, desc='segmenting', unit='img'):
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            failed.append(path)
            tqdm.write(f'skipped {path}: unreadable (corrupt or not an image)')
            continue
        result = inference_model(model, image)
        # mmseg's postprocess_result has already applied the sigmoid: seg_logits holds
        # probabilities and pred_sem_seg the mask at the model's threshold.
        if args.threshold is None:
            mask = result.pred_sem_seg.data[0].cpu().numpy().astype(bool)
        else:
            mask = result.seg_logits.data[0].cpu().numpy() > args.threshold
        mask = mask.astype(np.uint8) * 255
        stem = osp.splitext(osp.basename(path))[0]
        cv2.imwrite(osp.join(args.output, 'masks', f'{stem}.png'), mask)
        gt = None
        if stem in gt_index:
            try:
                gt = read_ground_truth(osp.join(args.gt_dir, gt_index[stem]), mask.shape)
            except (OSError, ValueError) as err:
                failed.append(path)
                tqdm.write(f'{path}: mask written, overlay without ground truth: {err}')
        caption = '' if gt is None else f'Dice {dice(mask > 0, gt):.3f}'
        cv2.imwrite(osp.join(args.output, 'overlays', f'{stem}.jpg'),
                    draw_overlay(image, mask > 0, gt, caption=caption))
    print(f'{len(images) - len(failed)} of {len(images)} images segmented into {args.output}')
    if failed:
        print(f'{len(failed)} failed: {", ".join(failed)}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
