"""Video inference and the int8 graph, on the student trained inside the test session.

A short video is built here from the embedded sample's images (OpenCV's VideoWriter). Its
frames, decoded back, are what both tools see: ``tools/infer_video.py``'s masks must equal
``tools/infer.py``'s masks of the same frames saved as lossless PNG, pixel for pixel, with
the PyTorch backend and with the float32 ONNX graph; the PyTorch masks are in turn
MMSegmentation's ``pred_sem_seg``. The int8 graph is checked against the float32 graph and
against ``tools/test.py``'s scores of the same network.
"""
import json
import os
import os.path as osp
import time

import cv2
import numpy as np
import onnx
import pytest

from kdas.deploy.quantize import TRANSFORMER_OPS
from kdas.deploy.segmenter import OnnxSegmenter
from kdas.deploy.video import VideoSink, VideoSource, paced, segment_stream
from kdas.evaluation.protocol import mask_overlap
from tests.conftest import SAMPLE, run_tool

FRAME_SIZE = (160, 128)  # W x H of the test video: not the network's 64 x 64 input


@pytest.fixture(scope='module')
def video(tmp_path_factory, trained):
    """An 8-frame MJPG video of sample images, and its frames as decoded."""
    root = tmp_path_factory.mktemp('video')
    _, _, images, _ = trained
    path = str(root / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 25, FRAME_SIZE)
    for image in images[:8]:
        writer.write(cv2.resize(cv2.imread(image), FRAME_SIZE, interpolation=cv2.INTER_AREA))
    writer.release()
    frames_dir = root / 'frames'
    frames_dir.mkdir()
    capture = cv2.VideoCapture(path)
    count = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        cv2.imwrite(str(frames_dir / f'{count:06d}.png'), frame)
        count += 1
    assert count == 8
    return path, str(frames_dir), count


@pytest.fixture(scope='module')
def onnx_student(tmp_path_factory, trained):
    cfg, ckpt, _, _ = trained
    path = str(tmp_path_factory.mktemp('onnx') / 'student.onnx')
    run_tool('tools/deployment/pytorch2onnx.py', cfg, ckpt, '--output-file', path, '--shape',
             '64', '64', '--verify')
    return path


def read_video(path):
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


def read_masks(folder, count):
    return [cv2.imread(osp.join(folder, f'{i:06d}.png'), cv2.IMREAD_UNCHANGED) > 0
            for i in range(count)]


@pytest.mark.parametrize('backend', ['pytorch', 'onnx'])
def test_video_masks_equal_the_still_image_tool(backend, tmp_path, trained, video,
                                                onnx_student, mmseg_outputs_of):
    cfg, ckpt, _, _ = trained
    clip, frames_dir, count = video
    model = [onnx_student] if backend == 'onnx' else [cfg, ckpt]
    out = tmp_path / 'overlay.avi'
    result = run_tool('tools/infer_video.py', *model, clip, str(out), '--masks-dir',
                      str(tmp_path / 'masks'))
    assert f'{count} frames written' in result.stdout
    assert 'end to end:' in result.stdout and 'network alone:' in result.stdout
    written = read_video(str(out))
    assert len(written) == count
    assert all(f.shape[:2] == (FRAME_SIZE[1], FRAME_SIZE[0]) for f in written)

    run_tool('tools/infer.py', *model, frames_dir, str(tmp_path / 'still'))
    video_masks = read_masks(tmp_path / 'masks', count)
    still_masks = read_masks(tmp_path / 'still' / 'masks', count)
    for i, (a, b) in enumerate(zip(video_masks, still_masks)):
        assert np.array_equal(a, b), f'frame {i}: video and still-image masks differ'
    fractions = [m.mean() for m in video_masks]
    assert 0 < np.mean(fractions) < 0.9, f'degenerate masks: {fractions}'

    frames = sorted(osp.join(frames_dir, f) for f in os.listdir(frames_dir))
    mmseg = mmseg_outputs_of(cfg, ckpt, frames)
    for i, path in enumerate(frames):
        expected = mmseg[osp.splitext(osp.basename(path))[0]]
        if backend == 'pytorch':
            assert np.array_equal(video_masks[i], expected)
        else:  # ONNX Runtime differs from PyTorch by ~1e-7: a pixel may flip at 0.5
            assert mask_overlap(video_masks[i], expected)[0] > 0.99

    # the outline is drawn on the frames that have a mask; the rest of the frame is kept
    source = read_video(clip)
    changed = [np.abs(w.astype(int) - s.astype(int)).max(axis=2) > 40
               for w, s in zip(written, source)]
    for i, mask in enumerate(video_masks):
        if mask.any():
            assert changed[i][mask].mean() > 0.5, f'frame {i}: the polyp is not drawn'
        assert changed[i][~mask].mean() < 0.1, f'frame {i}: the background changed'


def test_bad_video_input_is_reported_and_leaves_no_file(tmp_path, onnx_student):
    not_video = tmp_path / 'notes.mp4'
    not_video.write_text('not a video')
    out = tmp_path / 'out.mp4'
    result = run_tool('tools/infer_video.py', onnx_student, str(not_video), str(out),
                      check=False)
    assert result.returncode != 0
    assert 'notes.mp4' in result.stderr
    assert not out.exists()
    missing = run_tool('tools/infer_video.py', onnx_student, str(tmp_path / 'nothing.mp4'),
                       str(out), check=False)
    assert missing.returncode != 0 and 'does not exist' in missing.stderr


def test_a_frame_of_another_size_stops_the_run_and_keeps_a_playable_file(tmp_path,
                                                                        onnx_student, video):
    clip, _, _ = video
    frames = read_video(clip)
    odd = cv2.resize(frames[0], (96, 96))
    stream = frames[:3] + [odd] + frames[3:]
    out = str(tmp_path / 'partial.avi')
    stats = segment_stream(OnnxSegmenter(onnx_student), iter(stream),
                           VideoSink(out, 25), name='camera')
    assert stats.stopped_by == 'error'
    assert any('frame 3 is 96x96' in e and '160x128' in e for e in stats.errors)
    kept = read_video(out)
    assert len(kept) == stats.frames_written == 3


class SlowSegmenter(OnnxSegmenter):
    """Slower than the source, as a large model on a live feed."""

    def logits(self, inputs):
        time.sleep(0.01)
        return super().logits(inputs)


class BrokenSegmenter(OnnxSegmenter):
    """Fails on its fourth frame."""
    calls = 0

    def logits(self, inputs):
        if self.calls == 3:
            raise RuntimeError('inference failed')
        self.calls += 1
        return super().logits(inputs)


def test_realtime_mode_drops_frames_instead_of_falling_behind(tmp_path, onnx_student, video):
    clip, _, _ = video
    frames = read_video(clip) * 8  # 64 frames delivered at 400 frames/s
    stats = segment_stream(SlowSegmenter(onnx_student, threads=1), paced(iter(frames), 400),
                           VideoSink(
        str(tmp_path / 'live.avi'), 25), realtime=True)
    assert not stats.errors
    assert stats.frames_read == 64
    assert stats.dropped > 0
    assert stats.frames_written == stats.frames_segmented == 64 - stats.dropped
    assert len(read_video(str(tmp_path / 'live.avi'))) == stats.frames_written


def test_int8_graph_is_verified_against_float32_and_test_tool(tmp_path, trained,
                                                              onnx_student):
    cfg, ckpt, _, _ = trained
    int8 = str(tmp_path / 'student.int8.onnx')
    result = run_tool('tools/deployment/quantize_onnx.py', onnx_student, '--output-file', int8,
                      '--calib-data', SAMPLE, '--calib-count', '16', '--verify-data', SAMPLE,
                      '--tolerance', '1', check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    graph = onnx.load(int8)
    ops = {n.op_type for n in graph.graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= ops
    int8_weights = [i for i in graph.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert len(int8_weights) >= 40  # every Conv and Gemm weight
    meta = {p.key: p.value for p in graph.metadata_props}
    assert 'kdas.mean' in meta and 'int8' in meta['kdas.quantization']
    # a transformer: only the operators with weights (LayerNorm and GELU have no int8 kernels)
    assert f'ops {",".join(TRANSFORMER_OPS)},' in meta['kdas.quantization'] + ','
    assert f': {", ".join(TRANSFORMER_OPS)} in int8' in result.stdout

    rows = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[1] in ('float32', 'int8'):
            rows[(parts[0], parts[1])] = [float(v) for v in parts[2:]]
    # the float32 graph's scores are tools/test.py's scores of the same network
    run_tool('tools/test.py', cfg, ckpt, '--work-dir', str(tmp_path / 'test'))
    table = json.loads((tmp_path / 'test' / 'polyp_metrics.json').read_text())
    fp32 = rows[('Kvasir', 'float32')]
    assert fp32[0] == pytest.approx(table['Kvasir']['meanDic'], abs=1e-3)
    assert fp32[1] == pytest.approx(table['Kvasir']['Dice@0.5'], abs=1e-2)
    assert fp32[2] == pytest.approx(table['Kvasir']['mae'], abs=1e-3)
    assert fp32[3] == 1
    # int8 masks agree with float32 masks (Dice), the table's last column
    assert rows[('Kvasir', 'int8')][3] > 0.8
    # int8 moves the scores a little; a tolerance it cannot meet refuses it, and says so
    gap = abs(rows[('Kvasir', 'float32')][0] - rows[('Kvasir', 'int8')][0])
    assert 0 < gap < 0.05
    strict = run_tool('tools/deployment/quantize_onnx.py', onnx_student, '--output-file',
                      str(tmp_path / 'again.int8.onnx'), '--calib-data', SAMPLE,
                      '--calib-count', '16', '--verify-data', SAMPLE, '--tolerance',
                      f'{gap / 2:.6f}', check=False)
    assert strict.returncode == 1 and 'REFUSED' in strict.stderr


class FailingSink(VideoSink):
    """A disk that fills up after two frames."""

    def write(self, frame):
        if self.frames == 2:
            raise OSError('No space left on device')
        super().write(frame)


def test_a_failing_stage_stops_every_stage_and_closes_the_file(tmp_path, onnx_student, video):
    clip, _, _ = video
    frames = read_video(clip) * 4
    segmenter = OnnxSegmenter(onnx_student, threads=1)
    out = str(tmp_path / 'full.avi')
    stats = segment_stream(segmenter, iter(frames), FailingSink(out, 25))
    assert stats.stopped_by == 'error'
    assert stats.errors == ['writing: No space left on device']
    assert len(read_video(out)) == 2
    out = str(tmp_path / 'broken.avi')
    stats = segment_stream(BrokenSegmenter(onnx_student, threads=1), iter(frames),
                           VideoSink(out, 25))
    assert stats.errors == ['segmenting: inference failed']
    assert len(read_video(out)) == stats.frames_written == 3
