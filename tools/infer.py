"""Segment polyps in an image or a folder of images.

    python tools/infer.py CONFIG CHECKPOINT INPUT OUTPUT [--threshold T] [--device cpu]
    python tools/infer.py MODEL.onnx INPUT OUTPUT [--threads 2]

Writes, for each image, ``OUTPUT/masks/<stem>.png`` (0/255, the image's original size: the
deployed mask, MMSegmentation's ``pred_sem_seg``, or ``probability > T`` with
``--threshold``; an exported graph, float32 or int8, runs the same computation in ONNX
Runtime, see kdas.deploy.segmenter) and
``OUTPUT/overlays/<stem>.jpg`` (kdas.visualization.draw_overlay: the predicted region and
outline over the image at full brightness, a legend below; with ``--gt-dir`` hits, misses
and false positives in three colours, the truth's outline and the image's Dice). An
unreadable or truncated image is reported by name and skipped; the exit status is 1 if any
failed. OUTPUT is checked before the model loads: it may not be the input or ground-truth
folder, and its ``masks/`` must be empty or written by an earlier run of this tool (so an
OUTPUT pointed at a dataset folder loses no mask). Every file is written atomically; a failed
write stops the tool with an error naming the file.
"""
import argparse
import os.path as osp
import sys

import numpy as np
import torch
from tqdm import tqdm

from kdas.datasets.transforms import read_polyp_mask
from kdas.deploy.output_folder import check_output_folder, create_output_folder
from kdas.deploy.segmenter import add_model_paths, open_segmenter, split_model_paths
from kdas.evaluation.protocol import dice
from kdas.utils import keep_freed_memory, select_device
from kdas.utils.image_files import ImageFileError, image_inputs, index_by_stem, read_image
from kdas.utils.output_files import write_image
from kdas.visualization import draw_overlay


def main(argv=None):
    parser = argparse.ArgumentParser(description='Polyp segmentation inference')
    add_model_paths(parser, 'an image or a folder of images, OUTPUT a folder')
    parser.add_argument('--threshold', type=float, default=None,
                        help='probability above which a pixel is polyp (default: the '
                        "model's own, decode_head.threshold, as in pred_sem_seg)")
    parser.add_argument('--gt-dir', help='ground-truth masks (paired by file stem): the '
                        'overlays then show hits, misses and false positives, with the Dice')
    parser.add_argument('--device', default='auto',
                        help="auto (the GPU if there is one), cuda, cuda:N or cpu (configs; "
                        "an ONNX graph runs on the CPU)")
    parser.add_argument('--threads', type=int, help='CPU threads for the network '
                        '(default: PyTorch\'s own choice; 2 for ONNX Runtime)')
    args = parser.parse_args(argv)
    onnx = split_model_paths(parser, args)
    if onnx:
        args.device = 'cpu'
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.threshold is not None and not 0 < args.threshold < 1:
        sys.exit('error: --threshold must lie strictly between 0 and 1')

    if not onnx and not args.device.startswith('cuda:'):
        args.device = select_device(args.device)
    try:
        images = image_inputs(args.input)
        gt_index = index_by_stem(args.gt_dir, 'ground-truth') if args.gt_dir else {}
        outputs = check_output_folder(args.output, images, args.gt_dir)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    if args.device == 'cpu':
        keep_freed_memory()  # every image reuses the last one's activations: no page faults
    try:
        segment = open_segmenter(args.model, args.checkpoint, args.device, args.threads or 2)
        create_output_folder(args.output)
    except (OSError, RuntimeError, ValueError) as err:
        sys.exit(f'error: {err}')
    failed = []
    for path in tqdm(images, desc='segmenting', unit='img'):
        try:
            image = read_image(path)
        except ImageFileError as err:
            failed.append(path)
            tqdm.write(f'skipped {path}: {err}')
            continue
        prediction = segment(image)
        if args.threshold is None:
            mask = prediction.mask
        else:
            mask = prediction.prob.numpy() > args.threshold
        mask = mask.astype(np.uint8) * 255
        stem = osp.splitext(osp.basename(path))[0]
        gt, gt_problem = None, None
        if stem in gt_index:
            try:
                gt = read_polyp_mask(osp.join(args.gt_dir, gt_index[stem]), mask.shape)
            except (OSError, ValueError) as err:
                gt_problem = err
        caption = '' if gt is None else f'Dice {dice(mask > 0, gt):.3f}'
        try:
            write_image(outputs[stem]['mask'], mask, what='mask')
            write_image(outputs[stem]['overlay'], draw_overlay(image, mask > 0, gt,
                                                               caption=caption), what='overlay')
        except OSError as err:
            sys.exit(f'error: {err}')
        if gt_problem is not None:
            failed.append(path)
            tqdm.write(f'{path}: mask written, overlay without ground truth: {gt_problem}')
    print(f'{len(images) - len(failed)} of {len(images)} images segmented into {args.output}')
    if failed:
        print(f'{len(failed)} failed: {", ".join(failed)}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
