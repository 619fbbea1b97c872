"""Segment polyps in a video: a file, a camera index or a stream URL.

    python tools/infer_video.py CONFIG CHECKPOINT INPUT OUTPUT [--masks-dir DIR] [--realtime]
    python tools/infer_video.py MODEL.onnx INPUT OUTPUT [--threads 2] ...

Writes OUTPUT (a video, same size and frame rate as the input) with the predicted polyp
filled and outlined as ``tools/infer.py`` draws it (no legend strip, so the frame keeps its
size), and with ``--masks-dir`` each frame's mask as ``<frame index>.png`` (0/255, the same
mask ``tools/infer.py`` writes for that frame as an image). The masks are MMSegmentation's
``pred_sem_seg`` (PyTorch) or the same computation on an exported graph (ONNX Runtime,
float32 or int8; preprocessing read from the graph's metadata). Decoding, inference and
drawing + encoding run at once; ``--realtime`` drops frames rather than fall behind (a file
is then read at its own frame rate, as a camera delivers it). At the end it prints the
frames per second end to end and of the network alone. Exit status 1 if the run stopped
on an error; the frames written before it stay a playable file.
"""
import argparse
import sys

import torch

from kdas.deploy.segmenter import add_model_paths, open_segmenter, split_model_paths
from kdas.deploy.video import VideoSink, VideoSource, paced, segment_stream
from kdas.utils import keep_freed_memory, select_device


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Polyp segmentation of a video')
    add_model_paths(parser, 'a video file, a camera index (0) or a stream URL')
    parser.add_argument('--masks-dir', help='also write every frame\'s mask here')
    parser.add_argument('--realtime', action='store_true',
                        help='drop frames rather than fall behind the source')
    parser.add_argument('--fourcc', help='output codec (default: mp4v for .mp4, MJPG for '
                        '.avi, XVID for .mkv)')
    parser.add_argument('--threads', type=int, default=2,
                        help='threads for the network (PyTorch intra-op / ONNX Runtime)')
    parser.add_argument('--device', default='auto',
                        help='auto, cuda, cuda:N or cpu (configs; ONNX runs on the CPU)')
    args = parser.parse_args(argv)
    split_model_paths(parser, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.model.endswith('.onnx'):
        args.device = 'cpu'
    elif not args.device.startswith('cuda:'):
        args.device = select_device(args.device)
    if args.device == 'cpu':
        keep_freed_memory()
    try:
        source = VideoSource(args.input)
        fps = source.fps or 30.
        sink = VideoSink(args.output, fps, args.fourcc)
        segmenter = open_segmenter(args.model, args.checkpoint, args.device, args.threads)
    except (FileNotFoundError, OSError, RuntimeError, ValueError) as err:
        sys.exit(f'error: {err}')
    frames = source.frames()
    if args.realtime and not source.live:
        frames = paced(frames, fps)
    print(f'{segmenter.backend} on {args.device}, network input {segmenter.input_size[1]}x'
          f'{segmenter.input_size[0]}; source {args.input} at {fps:g} frames/s'
          f'{"" if source.fps else " (unknown, assumed)"}'
          f'{", real time" if args.realtime else ""}', flush=True)
    try:
        stats = segment_stream(segmenter, frames, sink, masks_dir=args.masks_dir,
                               realtime=args.realtime, name=args.input)
    finally:
        source.release()
    if stats.frames_read == 0 and not stats.errors:
        stats.errors.append(f'{args.input}: no frame could be decoded (empty, truncated or '
                            'not a video); no output written')
    if stats.frames_written:
        size = sink.size
        print(f'wrote {args.output} ({stats.frames_written} frames, {size[0]}x{size[1]}, '
              f'{fps:g} frames/s)')
    print(stats.summary())
    for error in stats.errors:
        print(f'error: {error}', file=sys.stderr)
    return 1 if stats.errors else 0


if __name__ == '__main__':
    sys.exit(main())
