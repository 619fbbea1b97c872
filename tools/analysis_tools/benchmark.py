"""Parameters, FLOPs, latency and throughput of polyp segmenters, PyTorch and ONNX Runtime.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] [--threads 2]
        [--shape 352 352] [--batch 16] [--repeats 20] [--trials 3] [--no-onnx]
        [--int8] [--video] [--profile] [--reference] [--tuned-allocator] [--floor]
        [--out results.json]

A distillation config benchmarks its student and its teacher side by side. Each row is
measured ``--trials`` times, each time in a fresh process, the rows taking turns; a
measurement is the median of ``--repeats`` timed calls at batch 1 after warm-up (latency)
and at ``--batch`` (throughput, images per second); the table shows the median over trials.
``--reference`` adds the public reference code's formulation of each network (explicit
matmul-softmax attention, token <-> image transposes with their copies, ``no_grad``
instead of ``inference_mode``) with the same weights, so that the ratio comes from one run.
The row "kdas, freed memory kept" is this project's code as ``tools/infer.py`` runs it on
the CPU, with ``kdas.utils.keep_freed_memory`` (glibc keeps large freed blocks instead of
unmapping them); ``--tuned-allocator`` applies that to every row, so the ratio compares the
code alone. CUDA rows are added when a GPU is present. ``--profile`` prints the operators that
dominate the first network's CPU time (and the int8 graph's, with ``--int8``).

``--int8`` adds the statically quantised graph (kdas.deploy.quantize, calibrated on the
embedded sample's training images). ``--video`` adds the video pipeline of
``tools/infer_video.py`` for each CPU runtime of the first network: a ``--video-frames``
clip at the input size (mp4v), decoded, segmented, drawn and encoded to mp4v with the
stages overlapped; frames per second end to end and of the network alone.

``--floor`` measures ONNX Runtime's rate on a large float32 and a large uint8 x int8 matrix
product on this machine and prints each network's FLOPs at those rates: a latency no
runtime of that arithmetic gets below (with ``--reference``, as a fraction of the
reference's latency). The measuring code is kdas.benchmarking.
"""
import argparse
import json
import os.path as osp
import sys

import torch

from kdas.benchmarking.benchmark import (format_report, profile_report, run_benchmark,
                                         runtimes_for)
from kdas.benchmarking.measurements import Settings
from kdas.utils.output_files import OutputError, ensure_output_dir, write_text

SAMPLE = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'data',
                  'polyp_sample')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark polyp segmenters')
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--shape', type=int, nargs=2, default=[352, 352])
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--repeats', type=int, default=20, help='timed calls per trial')
    parser.add_argument('--trials', type=int, default=3,
                        help='fresh-process measurements per row (the median is reported)')
    parser.add_argument('--no-onnx', action='store_true')
    parser.add_argument('--int8', action='store_true', help='add the int8 ONNX graph')
    parser.add_argument('--video', action='store_true',
                        help='add the video pipeline (tools/infer_video.py) per CPU runtime')
    parser.add_argument('--video-frames', type=int, default=150)
    parser.add_argument('--reference', action='store_true',
                        help='also time the public code\'s formulation, in the same run')
    parser.add_argument('--tuned-allocator', action='store_true',
                        help='keep_freed_memory() in every measuring process')
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--floor', action='store_true',
                        help='the latency floor each network\'s FLOPs set at ONNX Runtime\'s '
                        'large-matrix-product rates (float32 and int8) on this machine')
    parser.add_argument('--out', help='write the rows as JSON')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.out:
        try:  # before minutes of measuring, not after
            ensure_output_dir(osp.dirname(osp.abspath(args.out)))
        except OutputError as err:
            sys.exit(f'error: {err}')
    torch.set_num_threads(args.threads)
    settings = Settings(config=args.config, checkpoint=args.checkpoint, shape=tuple(args.shape),
                        batch=args.batch, repeats=args.repeats, threads=args.threads,
                        tuned_allocator=args.tuned_allocator, sample_dir=SAMPLE)
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    result = run_benchmark(
        settings, runtimes_for(args.reference, not args.no_onnx, args.int8,
                               args.tuned_allocator),
        devices, args.trials, video=args.video, video_frames=args.video_frames,
        floor=args.floor)
    if args.profile:
        print(profile_report(settings, onnx=not args.no_onnx, int8=args.int8))
    print(format_report(result, settings, args.reference))
    if args.out:
        write_text(args.out, json.dumps(result.rows + result.video_rows + result.floor_rows,
                                        indent=1), what='benchmark rows')
    return 0


if __name__ == '__main__':
    sys.exit(main())
