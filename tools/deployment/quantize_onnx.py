"""Static INT8 quantisation of an exported polyp segmenter (ONNX Runtime), with its proof.

    python tools/deployment/quantize_onnx.py student.onnx --output-file student.int8.onnx \
        [--calib-data data/polyp_sample] [--calib-count 64] \
        [--verify-data ../shared/data/polyp] [--tolerance 0.005]

Calibrates activation ranges on ``--calib-count`` images spread over the *training* split
of ``--calib-data`` (a data root as ``tools/dataset_converters/polyp.py`` lays it out),
then quantises the network (per-channel int8 weights, uint8 activations, QDQ): Conv and
Gemm in a transformer, also Relu, Clip, Add and MaxPool in a convolutional network
(kdas.deploy.quantize says which operators stay in float32 and why). The
graph keeps its inputs, outputs and metadata: ``tools/infer.py`` and ``tools/infer_video.py``
take it as they take the float32 graph.

``--verify-data ROOT`` then scores both graphs on every test set under ROOT with the
project's protocol and prints mDice, Dice@0.5 and MAE of each, and the Dice of the int8
masks against the float32 masks. The exit status is 1 unless the int8 mDice is within
``--tolerance`` of float32 on every test set: the file is kept, but must not be deployed.
"""
import argparse
import os.path as osp
import sys
import time

from kdas.deploy.evaluate import calibration_images, evaluate_segmenters, verification_report
from kdas.deploy.quantize import quantize_int8
from kdas.deploy.segmenter import OnnxSegmenter
from kdas.utils.output_files import OutputError, ensure_output_dir, refuse_overwrite

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(REPO, 'data', 'polyp_sample')


def main(argv=None):
    parser = argparse.ArgumentParser(description='INT8 quantisation of an exported segmenter')
    parser.add_argument('model', help='float32 graph from tools/deployment/pytorch2onnx.py')
    parser.add_argument('--output-file', required=True)
    parser.add_argument('--calib-data', default=SAMPLE,
                        help='data root whose training split calibrates (default: the '
                        'embedded sample; use your full training data for deployment)')
    parser.add_argument('--calib-count', type=int, default=64)
    parser.add_argument('--calib-method', default='MinMax',
                        choices=['MinMax', 'Entropy', 'Percentile'])
    parser.add_argument('--verify-data', help='data root whose test sets compare the graphs')
    parser.add_argument('--verify-limit', type=int,
                        help='score only the first N images of each test set')
    parser.add_argument('--tolerance', type=float, default=0.005,
                        help='largest mDice loss accepted on any test set')
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args(argv)
    try:
        refuse_overwrite(args.output_file, [args.model], '--output-file')
        ensure_output_dir(osp.dirname(args.output_file) or '.', create=False)
    except OutputError as err:
        sys.exit(f'error: {err}')

    try:
        fp32 = OnnxSegmenter(args.model, args.threads)
        images = calibration_images(args.calib_data, args.calib_count)
        start = time.perf_counter()
        quantised = quantize_int8(args.model, args.output_file, images, fp32.preprocess,
                                  calibrate_method=args.calib_method)
    except (FileNotFoundError, OSError, RuntimeError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'wrote {args.output_file}: {", ".join(quantised)} in int8, calibrated on '
          f'{len(images)} training images of {args.calib_data} '
          f'({time.perf_counter() - start:.0f} s)')
    if not args.verify_data:
        return 0
    int8 = OnnxSegmenter(args.output_file, args.threads)
    try:
        scores, agreement = evaluate_segmenters(dict(float32=fp32, int8=int8),
                                                args.verify_data, args.verify_limit)
    except (FileNotFoundError, OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    report, ok = verification_report(scores, agreement, args.tolerance)
    print(report)
    if ok:
        print('int8 accepted: within tolerance on every test set')
        return 0
    print(f'int8 REFUSED: mDice moved by more than {args.tolerance} on a test set; deploy the '
          'float32 graph', file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
