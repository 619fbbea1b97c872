"""Segmenting a video stream: decoding, inference and drawing + encoding overlap.

Three stages run at once, joined by small queues: a reader thread decodes and preprocesses
frames (NumPy and OpenCV), the calling thread runs the network and turns its logits into
the mask at the frame's size, a writer thread draws the outline (the still-image tools'
:func:`kdas.visualization.draw_overlay`, without the legend strip so the frame keeps its
size) and encodes. The slowest stage sets the pace. Every torch operation runs in the
calling thread: in another thread, torch starts a second OpenMP team beside the network's,
and on 2 cores the PyTorch pipeline then lost 15-27 % of its frame rate
(docs/benchmarks.md, "Where the torch steps run"). In real-time mode the reader never waits
for inference: when a frame arrives before the previous one was taken, the older one is
dropped (and counted), so the output keeps up with a live source instead of falling behind
it. Whatever stops the run (the end of the stream, a bad frame, an error in a stage,
Ctrl-C), the writer is closed, so the frames written so far stay a playable file.
"""
import os
import os.path as osp
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

import cv2
import numpy as np

from ..visualization import draw_overlay

FOURCC_BY_EXTENSION = {'.mp4': 'mp4v', '.avi': 'MJPG', '.mkv': 'XVID'}
_END = object()


class VideoSource:
    """Frames (BGR) from a video file, a camera index ("0") or a stream URL, via OpenCV."""

    def __init__(self, spec: str):
        self.spec = spec
        self.live = spec.isdigit() or '://' in spec
        if not self.live and not osp.isfile(spec):
            raise FileNotFoundError(f'video {spec} does not exist')
        self.capture = cv2.VideoCapture(int(spec) if spec.isdigit() else spec)
        if not self.capture.isOpened():
            raise OSError(f'cannot open video {spec} (not a video OpenCV can decode, or the '
                          'camera / stream is unavailable)')
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 0 < fps < 1000 else None

    def frames(self) -> Iterator[np.ndarray]:
        while True:
            ok, frame = self.capture.read()
            if not ok:
                return
            yield frame

    def release(self):
        self.capture.release()


def paced(frames: Iterator[np.ndarray], fps: float) -> Iterator[np.ndarray]:
    """A file's frames at its own frame rate, as a camera would deliver them."""
    start = time.perf_counter()
    for i, frame in enumerate(frames):
        delay = start + i / fps - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield frame


class VideoSink:
    """A video file opened on its first frame (so a stream without frames leaves no file)."""

    def __init__(self, path: str, fps: float, fourcc: Optional[str] = None):
        ext = osp.splitext(path)[1].lower()
        if fourcc is None:
            if ext not in FOURCC_BY_EXTENSION:
                raise ValueError(f'{path}: unknown video extension {ext!r}; use one of '
                                 f'{", ".join(FOURCC_BY_EXTENSION)} or give --fourcc')
            fourcc = FOURCC_BY_EXTENSION[ext]
        if len(fourcc) != 4:
            raise ValueError(f'a FourCC has 4 characters, got {fourcc!r}')
        self.path, self.fps, self.fourcc = path, fps, fourcc
        self.writer = None
        self.size = None
        self.frames = 0

    def write(self, frame: np.ndarray):
        if self.writer is None:
            self.size = (frame.shape[1], frame.shape[0])
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            self.writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*self.fourcc),
                                          self.fps, self.size)
            if not self.writer.isOpened():
                self.writer = None
                raise OSError(f'cannot write {self.path} with codec {self.fourcc} (this '
                              'OpenCV build lacks the encoder, or the folder is not writable)')
        self.writer.write(frame)
        self.frames += 1

    def close(self):
        if self.writer is not None:
            self.writer.release()
            self.writer = None


@dataclass
class VideoStats:
    frames_read: int = 0
    frames_segmented: int = 0
    frames_written: int = 0
    dropped: int = 0
    seconds: float = 0.  # first decode to last write
    network_s: float = 0.  # the network alone, summed over frames
    decode_s: float = 0.
    preprocess_s: float = 0.
    postprocess_s: float = 0.  # logits -> mask at the frame's size
    draw_encode_s: float = 0.
    stopped_by: str = 'end of stream'
    errors: list = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames_written / self.seconds if self.seconds else 0.

    @property
    def network_fps(self) -> float:
        return self.frames_segmented / self.network_s if self.network_s else 0.

    def summary(self) -> str:
        per = (lambda s, n: f'{1e3 * s / n:.1f} ms' if n else '-')
        lines = [
            f'{self.frames_written} frames written, {self.frames_read} read, '
            f'{self.dropped} dropped (real time); stopped by: {self.stopped_by}',
            f'end to end: {self.fps:.1f} frames/s (decode + preprocess + network + draw + '
            f'encode, overlapped)',
            f'network alone: {self.network_fps:.1f} frames/s',
            f'per frame: decode {per(self.decode_s, self.frames_read)}, preprocess '
            f'{per(self.preprocess_s, self.frames_read)}, network '
            f'{per(self.network_s, self.frames_segmented)}, mask '
            f'{per(self.postprocess_s, self.frames_segmented)}, draw + encode '
            f'{per(self.draw_encode_s, self.frames_written)}',
        ]
        return '\n'.join(lines)


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.05)
            return True
        except queue.Full:
            pass
    return False


def _get(q: queue.Queue, stop: threading.Event):
    while True:
        try:
            return q.get(timeout=0.05)
        except queue.Empty:
            if stop.is_set():
                return _END


def segment_stream(segmenter, frames: Iterator[np.ndarray], sink: VideoSink,
                   masks_dir: Optional[str] = None, realtime: bool = False,
                   name: str = 'the stream', queue_size: int = 4) -> VideoStats:
    """Runs the three stages until ``frames`` ends or a stage fails.

    Args:
        segmenter: a :class:`kdas.deploy.segmenter.FrameSegmenter`; its ``preprocess``
            runs in the reader thread, its ``logits`` and ``postprocess`` in the calling
            thread, so the masks are the ones its ``__call__`` (and ``tools/infer.py``) gives.
        frames: BGR frames, all of one size.
        sink: where the overlays go.
        masks_dir: also write each frame's mask, ``<frame index>.png`` (0/255).
        realtime: drop a frame rather than wait for inference.
        name: the source, for messages.

    Returns the stats; a failed stage's error is in ``stats.errors`` (the caller decides
    how to report it), and ``stats.stopped_by`` says what ended the run.
    """
    stats = VideoStats()
    stop = threading.Event()
    to_segment = queue.Queue(maxsize=1 if realtime else queue_size)
    to_write = queue.Queue(maxsize=queue_size)
    if masks_dir:
        os.makedirs(masks_dir, exist_ok=True)

    def fail(stage, err):
        stats.errors.append(f'{stage}: {err}')
        stop.set()

    def read():
        size = None
        try:
            iterator = iter(frames)
            while not stop.is_set():
                start = time.perf_counter()
                frame = next(iterator, None)
                if frame is None:
                    break
                stats.decode_s += time.perf_counter() - start
                index = stats.frames_read
                stats.frames_read += 1
                if size is None:
                    size = frame.shape
                elif frame.shape != size:
                    raise ValueError(
                        f'{name}: frame {index} is {frame.shape[1]}x{frame.shape[0]}, the '
                        f'stream started at {size[1]}x{size[0]}; the output holds the '
                        'frames before it')
                start = time.perf_counter()
                inputs = segmenter.preprocess(frame)
                stats.preprocess_s += time.perf_counter() - start
                if realtime:
                    # keep the newest frame: the one waiting (if any) is dropped
                    while True:
                        try:
                            to_segment.put_nowait((index, frame, inputs))
                            break
                        except queue.Full:
                            try:
                                to_segment.get_nowait()
                                stats.dropped += 1
                            except queue.Empty:
                                pass
                elif not _put(to_segment, (index, frame, inputs), stop):
                    break
        except Exception as err:
            # a bad frame ends the stream: the frames before it are still segmented and
            # written, so the error is recorded without stopping the other stages
            stats.errors.append(f'reading: {err}')
        finally:
            _put(to_segment, _END, stop)

    def write():
        try:
            while True:
                item = _get(to_write, stop)
                if item is _END:
                    break
                index, frame, mask = item
                start = time.perf_counter()
                sink.write(draw_overlay(frame, mask, legend=False))
                if masks_dir:
                    cv2.imwrite(osp.join(masks_dir, f'{index:06d}.png'),
                                mask.astype(np.uint8) * 255)
                stats.draw_encode_s += time.perf_counter() - start
                stats.frames_written += 1
                stats.seconds = time.perf_counter() - started
        except Exception as err:
            fail('writing', err)
        finally:
            sink.close()

    started = time.perf_counter()
    reader = threading.Thread(target=read, name='kdas-video-reader', daemon=True)
    writer = threading.Thread(target=write, name='kdas-video-writer', daemon=True)
    reader.start()
    writer.start()
    try:
        while True:
            item = _get(to_segment, stop)
            if item is _END:
                break
            index, frame, inputs = item
            start = time.perf_counter()
            logits = segmenter.logits(inputs)
            stats.network_s += time.perf_counter() - start
            start = time.perf_counter()
            mask, _prob = segmenter.postprocess(logits, frame.shape[:2])
            stats.postprocess_s += time.perf_counter() - start
            stats.frames_segmented += 1
            if not _put(to_write, (index, frame, mask), stop):
                break
    except KeyboardInterrupt:
        stats.stopped_by = 'interrupted (Ctrl-C)'
        stop.set()
    except Exception as err:
        fail('segmenting', err)
    finally:
        # let the writer finish what is queued, unless a stage failed
        _put(to_write, _END, stop)
        writer.join()
        stop.set()
        reader.join(timeout=5)  # a live source may block in its read; the thread is a daemon
    if stats.errors:
        stats.stopped_by = 'error'
    return stats
