"""Segmenting a video stream: decoding, inference and drawing + encoding overlap.

Three stages run at once, joined by small queues: a reader thread decodes and preprocesses
frames (NumPy and OpenCV), the calling thread runs the network and turns its logits into
the mask at the frame's size, a writer thread draws the outline (the still-image tools'
:func:`kdas.visualization.draw_overlay`, without the legend strip so the frame keeps its
size) and encodes. The slowest stage sets the pace. Every torch operation runs in the
calling thread: in another thread, torch starts a second OpenMP team beside the network's,
and the two compete for the cores (docs/benchmarks.md, "Where the torch steps run"). In
real-time mode the reader never waits for inference: when a frame arrives before the
previous one was taken, the older one is dropped (and counted), so the output keeps up
with a live source instead of falling behind it. Whatever stops the run (the end of the
stream, a bad frame, an error in a stage, Ctrl-C, or SIGTERM once :class:`Terminated` is
raised for it), the writer is closed and the file renamed into place, so the frames written
so far stay a playable file. Every write is checked: a mask that cannot be written stops the
run naming the file, and the video is read back on closing, since OpenCV's writer reports
nothing when the disk is full.
"""
import os
import os.path as osp
import queue
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

import cv2
import numpy as np

from ..utils.output_files import (OutputError, commit, ensure_output_dir, temporary_sibling,
                                  write_image)
from ..visualization import draw_overlay

FOURCC_BY_EXTENSION = {'.mp4': 'mp4v', '.avi': 'MJPG', '.mkv': 'XVID'}
MASK_NAME = re.compile(r'\d{6}\.png')  # the name of a frame's mask in the masks folder
STOPPED_BY = {signal.SIGINT: 'interrupted (Ctrl-C)', signal.SIGTERM: 'terminated (SIGTERM)'}
_END = object()


class Terminated(KeyboardInterrupt):
    """SIGTERM (from ``timeout``, systemd, Slurm), raised in the main thread by a handler the
    caller installs, so that it ends :func:`segment_stream` as Ctrl-C does."""
    signum = signal.SIGTERM


def mask_path(masks_dir: str, index: int) -> str:
    """Where frame ``index``'s mask goes (``000042.png``), so frame order is name order."""
    return osp.join(masks_dir, f'{index:06d}.png')


def count_frames(path: str, expected: int) -> int:
    """How many frames OpenCV decodes from the video at ``path``.

    The container's frame count when it says ``expected``; otherwise (a truncated file has
    no index, so the count reads 0 or an estimate) the frames are decoded and counted.
    """
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            return 0
        if int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == expected:
            return expected
        count = 0
        while capture.grab():
            count += 1
        return count
    finally:
        capture.release()


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
    """A video file opened on its first frame (so a stream without frames leaves no file).

    The frames go to a hidden temporary file beside ``path`` (same extension, so OpenCV
    picks the container), renamed over ``path`` by :meth:`close` whatever stopped the run:
    a file already at ``path`` is replaced only by a closed, playable video, and a killed
    process leaves the temporary file, not a broken ``path``. ``frames`` counts the frames
    given to the encoder, ``held`` those the closed file holds.
    """

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
        self.tmp = None
        self.size = None
        self.frames = 0
        self.held = 0

    def write(self, frame: np.ndarray):
        if self.writer is None:
            self._open((frame.shape[1], frame.shape[0]))
        self.writer.write(frame)
        self.frames += 1

    def _open(self, size):
        try:
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            self.tmp = temporary_sibling(self.path)
        except OSError as err:
            raise OutputError(f'cannot write video {self.path}: {err.strerror or err}') from err
        writer = cv2.VideoWriter(self.tmp, cv2.VideoWriter_fourcc(*self.fourcc), self.fps,
                                 size)
        if not writer.isOpened():
            self._discard()
            raise OutputError(f'cannot write {self.path} with codec {self.fourcc} (this '
                              'OpenCV build lacks the encoder, or the folder is not writable '
                              'or full)')
        self.writer, self.size = writer, size

    def _discard(self):
        try:
            os.remove(self.tmp)
        except OSError:
            pass
        self.tmp = None

    def close(self):
        """Finishes the file, checks that it holds every frame, and renames it to ``path``.

        Raises :class:`~kdas.utils.output_files.OutputError` naming ``path`` when it holds
        fewer frames than were written (the file is still put in place if it holds any,
        those frames being all there is) or cannot be renamed.
        """
        if self.writer is None:
            return
        self.writer.release()
        self.writer = None
        self.held = count_frames(self.tmp, self.frames)
        if self.held == 0:
            self._discard()
            raise OutputError(f'{self.path} could not be written: the file holds none of the '
                              f'{self.frames} frames written (disk full?)')
        try:
            commit(self.tmp, self.path)
        except OSError as err:
            self._discard()
            self.held = 0
            raise OutputError(f'cannot write video {self.path}: {err.strerror or err}') from err
        self.tmp = None
        if self.held < self.frames:
            raise OutputError(f'{self.path} holds only {self.held} of {self.frames} frames: '
                              'disk full?')


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
    signal: int = 0  # the signal that stopped the run (SIGINT, SIGTERM), 0 if none
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

    Returns the stats; a failed stage's error (a mask or the video that could not be
    written included, naming the file) is in ``stats.errors`` (the caller decides how to
    report it), and ``stats.stopped_by`` says what ended the run. A ``KeyboardInterrupt``
    (Ctrl-C, or :class:`Terminated`) ends it like the end of the stream, the frames already
    segmented being written, and is recorded in ``stats.signal``; one that comes while the
    file is being finished is recorded too but does not cut that short.
    """
    stats = VideoStats()
    stop = threading.Event()
    to_segment = queue.Queue(maxsize=1 if realtime else queue_size)
    to_write = queue.Queue(maxsize=queue_size)
    if masks_dir:
        ensure_output_dir(masks_dir, 'masks folder')

    def fail(stage, err):
        stats.errors.append(f'{stage}: {err}')
        stop.set()

    def interrupted(err):
        if not stats.signal:
            stats.signal = getattr(err, 'signum', signal.SIGINT)
            stats.stopped_by = STOPPED_BY.get(stats.signal, f'signal {stats.signal}')
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
                # the mask first: a frame whose mask cannot be written is left out of the
                # video too, so the video and the masks folder hold the same frames
                if masks_dir:
                    write_image(mask_path(masks_dir, index), mask.astype(np.uint8) * 255,
                                what='mask')
                sink.write(draw_overlay(frame, mask, legend=False))
                stats.draw_encode_s += time.perf_counter() - start
                stats.frames_written += 1
                stats.seconds = time.perf_counter() - started
        except Exception as err:
            fail('writing', err)
        finally:
            try:
                sink.close()
            except Exception as err:
                fail('writing', err)

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
    except KeyboardInterrupt as err:
        interrupted(err)
    except Exception as err:
        fail('segmenting', err)
    finally:
        # let the writer finish what is queued, unless a stage failed; a signal meanwhile
        # stops the reading but not this, which would leave the file unplayable
        for step in (lambda: _put(to_write, _END, stop), writer.join):
            while True:
                try:
                    step()
                    break
                except KeyboardInterrupt as err:
                    interrupted(err)
        stop.set()
        reader.join(timeout=5)  # a live source may block in its read; the thread is a daemon
    if stats.errors and not stats.signal:
        stats.stopped_by = 'error'
    return stats
