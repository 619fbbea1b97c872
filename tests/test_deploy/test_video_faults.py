"""``tools/infer_video.py`` under faults, each on a real process and real files: a SIGTERM
in the middle of a run, an OUTPUT that is the input through a link, an output path under a
file, and a disk that fills up under the masks or the video.

The model is the student the test session trains (``trained``), exported to ONNX, and the
input a video of the embedded sample's images at 64 x 64 (OpenCV's VideoWriter), so a
tool run costs its start-up and little more.
"""
import glob
import hashlib
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import cv2
import pytest

from tests.conftest import REPO, SAMPLE, run_tool

SIZE = (64, 64)
TOOL = 'tools/infer_video.py'
MODEL_LOADED = 'ONNX Runtime on'  # the tool's first line once the model is loaded


def make_video(path, frames, fps=25):
    """An MJPG AVI of ``frames`` frames: the sample's images, in a loop, at 64 x 64."""
    images = [cv2.resize(cv2.imread(p), SIZE, interpolation=cv2.INTER_AREA)
              for p in sorted(glob.glob(osp.join(SAMPLE, 'Kvasir-SEG', 'images', '*.jpg')))]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps, SIZE)
    for i in range(frames):
        writer.write(images[i % len(images)])
    writer.release()
    return str(path)


def decoded_frames(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def masks_in(folder):
    return sorted(n for n in os.listdir(folder) if re.fullmatch(r'\d{6}\.png', n))


def leftovers(folder):
    """Temporary files of an unfinished write."""
    return [n for n in os.listdir(folder) if n.startswith('.kdas-tmp-')]


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope='module')
def onnx_model(tmp_path_factory, trained):
    from kdas.apis import DeployModel, export_onnx, load_segmenter
    cfg, ckpt, _, _ = trained
    path = str(tmp_path_factory.mktemp('onnx') / 'student.onnx')
    export_onnx(DeployModel(load_segmenter(cfg, ckpt, device='cpu')).eval(), path, SIZE)
    return path


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs: a disk that fills up after a few files."""
    if os.geteuid() != 0:
        pytest.skip('mounting a small tmpfs (a disk that fills up) needs root')
    folder = tmp_path / 'disk'
    folder.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f'cannot mount a small tmpfs here: {mounted.stderr.strip()}')
    try:
        yield folder
    finally:
        if subprocess.run(['umount', str(folder)]).returncode != 0:
            subprocess.run(['umount', '-l', str(folder)])


def test_sigterm_ends_the_run_like_ctrl_c_and_keeps_a_playable_video(tmp_path, onnx_model):
    # 12 s of video read at its own frame rate (--realtime): the run is still going when
    # the signal comes, however fast the machine
    clip = make_video(tmp_path / 'clip.avi', 300)
    out, masks = tmp_path / 'overlay.mp4', tmp_path / 'masks'
    proc = subprocess.Popen([sys.executable, TOOL, onnx_model, clip, str(out), '--masks-dir',
                             str(masks), '--realtime', '--threads', '1'], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if masks.is_dir() and len(masks_in(masks)) >= 5:
                break
            time.sleep(0.05)
        assert proc.poll() is None, 'the run ended before the signal:\n' + proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stdout + stderr
    assert 'stopped by: terminated (SIGTERM)' in stdout
    assert 'terminated (SIGTERM)' in stderr and 'before the signal' in stderr
    written = len(masks_in(masks))
    assert 5 <= written < 300
    printed = re.search(r'wrote \S+ \((\d+) frames', stdout)
    assert printed and int(printed.group(1)) == written
    # the file is closed and in place: an mp4 that was not would have no index (moov)
    capture = cv2.VideoCapture(str(out))
    assert capture.isOpened() and int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == written
    capture.release()
    assert decoded_frames(out) == written
    assert not leftovers(tmp_path) and not leftovers(masks)


@pytest.mark.parametrize('link', ['symlink', 'hard link'])
def test_output_onto_its_own_input_is_refused_before_the_model_loads(link, tmp_path,
                                                                     onnx_model):
    clip = make_video(tmp_path / 'clip.avi', 8)
    before = sha256(clip)
    out = tmp_path / 'overlay.avi'
    if link == 'symlink':
        out.symlink_to(clip)
    else:
        os.link(clip, out)
    result = run_tool(TOOL, onnx_model, clip, str(out), check=False)
    assert result.returncode != 0
    assert MODEL_LOADED not in result.stdout
    assert 'error:' in result.stderr and 'would overwrite the input' in result.stderr
    assert clip in result.stderr
    assert sha256(clip) == before


def test_output_paths_that_cannot_be_written_fail_before_the_model_loads(tmp_path,
                                                                        onnx_model):
    clip = make_video(tmp_path / 'clip.avi', 8)
    before = sha256(clip)
    notes = tmp_path / 'notes.txt'
    notes.write_text('a file, not a folder')
    result = run_tool(TOOL, onnx_model, clip, str(notes / 'overlay.avi'), check=False)
    assert result.returncode != 0 and MODEL_LOADED not in result.stdout
    assert f'{notes} is a file' in result.stderr
    # the masks folder may not be the input itself
    result = run_tool(TOOL, onnx_model, clip, str(tmp_path / 'overlay.avi'), '--masks-dir',
                      clip, check=False)
    assert result.returncode != 0 and MODEL_LOADED not in result.stdout
    assert f'is the input video {clip}' in result.stderr
    assert sha256(clip) == before and not (tmp_path / 'overlay.avi').exists()


def test_a_full_disk_under_the_masks_stops_the_run_naming_the_file(tmp_path, tiny_disk,
                                                                  onnx_model):
    clip = make_video(tmp_path / 'clip.avi', 60)
    out, masks = tmp_path / 'overlay.avi', tiny_disk / 'masks'
    result = run_tool(TOOL, onnx_model, clip, str(out), '--masks-dir', str(masks),
                      '--threads', '1', check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    failed = re.search(r'error: writing: cannot write mask (\S+): no space left on the device',
                       result.stderr)
    assert failed and failed.group(1).startswith(str(masks)), result.stderr
    names = os.listdir(masks)
    assert names and not leftovers(masks)
    assert all(os.path.getsize(masks / n) > 0 for n in names)
    assert all(cv2.imread(str(masks / n), cv2.IMREAD_UNCHANGED) is not None for n in names)
    # a frame whose mask could not be written is not in the video either
    assert decoded_frames(out) == len(masks_in(masks)) < 60


def test_a_full_disk_under_the_video_is_reported_with_what_it_holds(tmp_path, tiny_disk,
                                                                   onnx_model):
    clip = make_video(tmp_path / 'clip.avi', 200)
    out = tiny_disk / 'overlay.avi'
    result = run_tool(TOOL, onnx_model, clip, str(out), '--threads', '1', check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    short = re.search(rf'error: writing: {re.escape(str(out))} holds only (\d+) of 200 '
                      r'frames: disk full\?', result.stderr)
    assert short, result.stderr
    # what the disk did take is in place under OUTPUT, and playable
    assert 0 < decoded_frames(out) == int(short.group(1))
    assert not leftovers(tiny_disk)
