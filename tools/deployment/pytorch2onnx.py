"""Export a polyp segmenter (e.g. the distilled student) to ONNX.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --output-file student.onnx
        [--shape 352 352] [--verify] [--verify-images DIR]

The graph takes a normalised B x 3 x H x W batch (``input``; the batch axis is dynamic) and
returns the polyp probability map ``prob`` = sigmoid(P1 + P2) at the input size and the
``logits`` it comes from (resize those, not the probabilities, to another image size). The
model's normalisation and threshold are stored as ONNX metadata, so ``tools/infer.py``,
``tools/infer_video.py`` and ``tools/deployment/quantize_onnx.py`` take the file alone. It uses
the dynamo exporter (torch.export), since the TorchScript exporter cannot export Polyp-PVT's
adaptive pooling. ``--verify`` runs ONNX Runtime on real images (the embedded sample by
default) at batch 1 and 2 and fails unless it matches PyTorch within 1e-4.
"""
import argparse
import glob
import os.path as osp
import sys

import cv2
import numpy as np
import torch

from kdas.apis import DeployModel, export_onnx, load_segmenter
from kdas.utils.output_files import ensure_output_dir, refuse_overwrite

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_IMAGES = osp.join(REPO, 'data', 'polyp_sample', 'Kvasir-SEG', 'images')


def preprocess(paths, shape, data_preprocessor):
    """Images resized to ``shape`` and normalised as the model's data preprocessor does."""
    mean = data_preprocessor.mean.view(1, 3, 1, 1)
    std = data_preprocessor.std.view(1, 3, 1, 1)
    batch = []
    for path in paths:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise OSError(f'cannot read {path}')
        img = cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        if data_preprocessor.channel_conversion:
            img = img[..., ::-1]
        batch.append(torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float())
    return (torch.stack(batch) - mean) / std


def verify(model, output_file, inputs, tolerance=1e-4):
    import onnxruntime as ort
    session = ort.InferenceSession(output_file, providers=['CPUExecutionProvider'])
    worst = 0.
    for batch in (inputs[:1], inputs[:2]):
        with torch.no_grad():
            expected = model(batch)[0].numpy()
        got = session.run(['prob'], {'input': batch.numpy()})[0]
        if got.shape != expected.shape:
            raise AssertionError(f'ONNX output {got.shape} != PyTorch {expected.shape}')
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst, worst <= tolerance


def main(argv=None):
    parser = argparse.ArgumentParser(description='Export a polyp segmenter to ONNX')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--output-file', required=True)
    parser.add_argument('--shape', type=int, nargs=2, default=[352, 352], metavar=('H', 'W'))
    parser.add_argument('--verify', action='store_true')
    parser.add_argument('--verify-images', default=DEFAULT_IMAGES,
                        help='folder of images for --verify')
    args = parser.parse_args(argv)
    if any(s % 32 for s in args.shape):
        sys.exit(f'error: --shape {args.shape}: each side must be a multiple of 32')

    try:
        refuse_overwrite(args.output_file, [args.config, args.checkpoint], '--output-file')
        ensure_output_dir(osp.dirname(args.output_file) or '.', create=False)
        segmentor = load_segmenter(args.config, args.checkpoint, device='cpu')
        model = DeployModel(segmentor).eval()
        export_onnx(model, args.output_file, tuple(args.shape))
    except (OSError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    print(f'exported {args.output_file} (input B x 3 x {args.shape[0]} x {args.shape[1]}, '
          'dynamic batch)')
    if args.verify:
        paths = sorted(glob.glob(osp.join(args.verify_images, '*')))[:2]
        if len(paths) < 2:
            sys.exit(f'error: --verify needs two images in {args.verify_images}')
        inputs = preprocess(paths, args.shape, segmentor.data_preprocessor)
        worst, ok = verify(model, args.output_file, inputs)
        print(f'verify on {len(paths)} real images: max |ONNX Runtime - PyTorch| = {worst:.2e} '
              f'({"ok" if ok else "FAILED"}, tolerance 1e-4)')
        if not ok:
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
