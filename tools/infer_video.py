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
frames per second end to end and of the network alone.

Nothing is written over the input: OUTPUT may not be the input video (nor a link to it),
nor may the masks folder hold it, and both output paths are checked before the model is
loaded. The video is written beside OUTPUT and renamed to it when it is closed, and read
back then, so a full disk is reported rather than left as a short file. Exit status 1 if
the run stopped on an error (a mask or the video that could not be written included, named
in the message); 130 on Ctrl-C and 143 on SIGTERM (``timeout``, systemd, Slurm), which end
the run the same way. Whatever stops it, the frames written before stay a playable OUTPUT
(the error says so when a full disk kept some of them out).
"""
import argparse
import signal
import sys
import threading

import torch

from kdas.deploy.segmenter import add_model_paths, open_segmenter, split_model_paths
from kdas.deploy.video import (STOPPED_BY, Terminated, VideoSink, VideoSource, paced,
                               segment_stream)
from kdas.deploy.video_outputs import check_video_outputs
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


def _terminate(signum, frame):
    raise Terminated()


def _stopped(err: KeyboardInterrupt, what: str) -> int:
    signum = getattr(err, 'signum', signal.SIGINT)
    print(f'{STOPPED_BY.get(signum, f"signal {signum}")} {what}', file=sys.stderr)
    return 128 + signum


def main(argv=None):
    """Runs the tool; while it runs, SIGTERM is handled as Ctrl-C (in the main thread)."""
    args = parse_args(argv)
    handle = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if handle else None
    try:
        try:
            prepared = prepare(args)
        except KeyboardInterrupt as err:
            return _stopped(err, f'before the first frame: {args.output} was not written')
        try:
            return run(args, *prepared)
        except KeyboardInterrupt as err:  # segment_stream records one until the file is closed
            return _stopped(err, f'after {args.output} was closed')
    finally:
        if handle:
            signal.signal(signal.SIGTERM, previous)


def prepare(args):
    """The source, the sink and the model, the output paths checked before the model is
    loaded; exits with ``error: ...`` when one of them cannot be had."""
    torch.set_num_threads(args.threads)
    if args.model.endswith('.onnx'):
        args.device = 'cpu'
    elif not args.device.startswith('cuda:'):
        args.device = select_device(args.device)
    if args.device == 'cpu':
        keep_freed_memory()
    try:
        source = VideoSource(args.input)
        check_video_outputs(args.output, args.masks_dir, args.input, source.live)
        sink = VideoSink(args.output, source.fps or 30., args.fourcc)
        segmenter = open_segmenter(args.model, args.checkpoint, args.device, args.threads)
    except (FileNotFoundError, OSError, RuntimeError, ValueError) as err:
        sys.exit(f'error: {err}')
    return source, sink, segmenter


def run(args, source, sink, segmenter) -> int:
    """Segments the stream, prints the outcome and returns the exit status."""
    fps = sink.fps
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
    if sink.held:
        size = sink.size
        print(f'wrote {args.output} ({sink.held} frames, {size[0]}x{size[1]}, {fps:g} '
              'frames/s)')
    print(stats.summary(), flush=True)
    if stats.signal:
        print(f'{stats.stopped_by}: {args.output} holds the {sink.held} frames written '
              'before the signal', file=sys.stderr)
    for error in stats.errors:
        print(f'error: {error}', file=sys.stderr)
    if stats.errors:
        return 1
    return 128 + stats.signal if stats.signal else 0


if __name__ == '__main__':
    sys.exit(main())
