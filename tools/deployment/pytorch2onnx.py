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
import os.path as osp
import sys

from kdas.apis import DeployModel, export_onnx, load_segmenter
from kdas.deploy.export import preprocess_images, verify_onnx
from kdas.utils.image_files import image_file_names
from kdas.utils.output_files import ensure_output_dir, refuse_overwrite

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_IMAGES = osp.join(REPO, 'data', 'polyp_sample', 'Kvasir-SEG', 'images')


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
        try:
            names = image_file_names(args.verify_images)[:2]
        except OSError as err:
            sys.exit(f'error: --verify-images {args.verify_images}: {err}')
        if len(names) < 2:
            sys.exit(f'error: --verify needs two images in {args.verify_images}')
        paths = [osp.join(args.verify_images, name) for name in names]
        try:
            inputs = preprocess_images(paths, args.shape, segmentor.data_preprocessor)
        except OSError as err:
            sys.exit(f'error: {err}')
        try:
            worst, ok = verify_onnx(model, args.output_file, inputs)
        except RuntimeError as err:
            sys.exit(f'error: {err}')
        print(f'verify on {len(paths)} real images: max |ONNX Runtime - PyTorch| = {worst:.2e} '
              f'({"ok" if ok else "FAILED"}, tolerance 1e-4)')
        if not ok:
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
