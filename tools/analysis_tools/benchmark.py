"""Parameters, FLOPs, latency and throughput of polyp segmenters, PyTorch and ONNX Runtime.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] [--threads 2 [1]]
        [--name NAME] [--add NAME:CONFIG[:CHECKPOINT] ...] [--no-teacher]
        [--shape 352 352] [--batch 16] [--repeats 20] [--trials 3] [--no-onnx]
        [--int8] [--bf16] [--video] [--profile] [--reference] [--tuned-allocator] [--floor]
        [--out results.json]

A distillation config benchmarks its student and its teacher side by side (``--no-teacher``:
the student alone); ``--add`` puts more networks beside them, e.g. the CNN students of
configs/students/, and ``--threads 2 1`` measures every row at each thread count. Each row is
measured ``--trials`` times, each time in a fresh process, the rows taking turns; a
measurement is the median of ``--repeats`` timed calls at batch 1 after warm-up (latency)
and at ``--batch`` (throughput, images per second); the table shows the median over trials.
``--reference`` adds the public reference code's formulation of each network (explicit
matmul-softmax attention, token <-> image transposes with their copies, ``no_grad``
instead of ``inference_mode``) with the same weights, so that the ratio comes from one run.
The row "kdas, freed memory kept" is this project's code as ``tools/infer.py`` runs it on
the CPU, with ``kdas.utils.keep_freed_memory`` (glibc keeps large freed blocks instead of
unmapping them); ``--tuned-allocator`` applies that to every row, so the ratio compares the
code alone. A network without a PVTv2 backbone has no public formulation: its latency is set
against the first network's reference row (the public student). CUDA rows are added when a
GPU is present. ``--bf16`` adds eager PyTorch under bfloat16 autocast (oneDNN; fast where
the CPU has AMX or AVX-512 BF16). ``--profile`` prints the operators that dominate each
student's CPU time (and the int8 graph's, with ``--int8``). Every table names the CPU and
its AVX-512 VNNI / BF16 and AMX support.

``--int8`` adds the statically quantised graph (kdas.deploy.quantize, calibrated on the
embedded sample's training images). ``--video`` adds the video pipeline of
``tools/infer_video.py`` for each CPU runtime of every network but the teachers, at the
first thread count: a ``--video-frames`` clip at the input size (mp4v), decoded, segmented,
drawn and encoded to mp4v with the stages overlapped; frames per second end to end and of
the network alone.

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
from kdas.benchmarking.measurements import Settings, networks_of
from kdas.utils.output_files import OutputError, ensure_output_dir, write_text

SAMPLE = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'data',
                  'polyp_sample')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark polyp segmenters')
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--name', help='row name of CONFIG\'s network (default: student / '
                        'teacher for a distillation config, else model)')
    parser.add_argument('--add', nargs='+', default=[], metavar='NAME:CONFIG[:CHECKPOINT]',
                        help='more networks to measure beside CONFIG\'s')
    parser.add_argument('--no-teacher', action='store_true',
                        help='leave out the teachers of distillation configs')
    parser.add_argument('--threads', type=int, nargs='+', default=[2])
    parser.add_argument('--shape', type=int, nargs=2, default=[352, 352])
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--repeats', type=int, default=20, help='timed calls per trial')
    parser.add_argument('--trials', type=int, default=3,
                        help='fresh-process measurements per row (the median is reported)')
    parser.add_argument('--no-onnx', action='store_true')
    parser.add_argument('--int8', action='store_true', help='add the int8 ONNX graph')
    parser.add_argument('--bf16', action='store_true',
                        help='add eager PyTorch under bfloat16 autocast')
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
    args = parser.parse_args(argv)
    if min(args.threads) < 1:
        parser.error('--threads must be at least 1')
    return args


def networks(args):
    found = networks_of(args.config, args.checkpoint, args.name)
    for item in args.add:
        name, _, rest = item.partition(':')
        config, _, checkpoint = rest.partition(':')
        if not name or not config:
            raise ValueError(f'--add {item!r}: expected NAME:CONFIG[:CHECKPOINT]')
        found += networks_of(config, checkpoint or None, name)
    for network in found:
        if network.checkpoint and not osp.isfile(network.checkpoint):
            raise FileNotFoundError(f'checkpoint {network.checkpoint} of {network.name} does '
                                    'not exist')
    names = [n.name for n in found]
    if len(set(names)) != len(names):
        raise ValueError(f'two networks share a name: {", ".join(names)}')
    return [n for n in found if not (args.no_teacher and n.part == 'teacher')]


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.out:  # before minutes of measuring, not after
            ensure_output_dir(osp.dirname(osp.abspath(args.out)))
        chosen = networks(args)
    except (OutputError, OSError, KeyError, SyntaxError, TypeError, ValueError) as err:
        sys.exit(f'error: {err}')
    settings = Settings(shape=tuple(args.shape), batch=args.batch, repeats=args.repeats,
                        tuned_allocator=args.tuned_allocator, sample_dir=SAMPLE)
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    try:
        result = run_benchmark(
            settings, chosen, runtimes_for(args.reference, not args.no_onnx, args.int8,
                                           args.tuned_allocator, args.bf16),
            devices, args.threads, args.trials, video=args.video,
            video_frames=args.video_frames, floor=args.floor)
    except (OSError, RuntimeError, ValueError) as err:
        sys.exit(f'error: {err}')
    if args.profile:
        for network in chosen:
            if network.part != 'teacher':
                print(profile_report(settings, network, args.threads[0],
                                     onnx=not args.no_onnx, int8=args.int8))
    print(format_report(result, settings, args.reference))
    if args.out:
        try:
            write_text(args.out, json.dumps(result.rows + result.video_rows +
                                            result.floor_rows, indent=1), what='benchmark rows')
        except OutputError as err:
            sys.exit(f'error: {err}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
