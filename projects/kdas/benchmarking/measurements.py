"""One measurement of one network under one runtime and thread count: latency at batch 1
and the time of a batch, or the video pipeline's frame rates. Each runs in a fresh process
(see :mod:`.benchmark`), so these are module-level functions of picklable arguments."""
import contextlib
import os
import tempfile
from dataclasses import dataclass, replace
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config
from torch.utils.flop_counter import FlopCounterMode

from ..deploy.evaluate import calibration_images
from ..deploy.export import DeployModel, ProbabilityModel, export_onnx
from ..models.backbones.pvt_v2 import PVTv2
from ..utils.allocator import keep_freed_memory
from ..utils.checkpoint import load_weights
from .reference_formulation import reference_formulation
from .timing import median_seconds

EAGER = 'PyTorch eager (kdas)'
BF16 = 'PyTorch eager bf16 (oneDNN)'
REFERENCE = 'PyTorch eager (reference)'
KEPT = 'PyTorch eager (kdas, freed memory kept)'
ONNX = 'ONNX Runtime'
INT8 = 'ONNX Runtime int8'
ONNX_RUNTIMES = (ONNX, INT8)


@dataclass(frozen=True)
class Settings:
    """What every measurement shares: the input (H, W), the batch of the throughput, timed
    calls per measurement, whether every process keeps freed memory, and the images that
    calibrate int8 and make the clip."""
    shape: Tuple[int, int]
    batch: int
    repeats: int
    tuned_allocator: bool
    sample_dir: str


@dataclass(frozen=True)
class Network:
    """One network of a benchmark: its row name, the config it is built from, the weights
    it loads (None: its initialisation), and which part of the config it is (``student``
    or ``teacher`` of a distillation config, else ``model``)."""
    name: str
    config: str
    checkpoint: Optional[str] = None
    part: str = 'model'


def networks_of(config: str, checkpoint: Optional[str] = None,
                name: Optional[str] = None) -> List[Network]:
    """A distillation config's student and teacher (``checkpoint`` loads the student), or a
    plain config's model, named ``name`` when given."""
    cfg = Config.fromfile(config)
    if cfg.model.type == 'DistillationSegmentor':
        return [Network(name or 'student', config, checkpoint, 'student'),
                Network(f'{name}-teacher' if name else 'teacher', config, None, 'teacher')]
    return [Network(name or 'model', config, checkpoint, 'model')]


def build_network(network: Network) -> torch.nn.Module:
    """The segmentor of ``network`` in eval mode; its checkpoint loads strictly."""
    from mmengine.logging import MMLogger
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    MMLogger.get_current_instance().setLevel('WARNING')  # no per-parameter init report
    cfg = Config.fromfile(network.config)
    model_cfg = cfg.model if network.part == 'model' else cfg.model[network.part]
    # Timing needs no ImageNet weights: the network's own initialisation stands in for them.
    model_cfg.backbone.init_cfg = None
    model = MODELS.build(model_cfg)
    model.init_weights()
    if network.checkpoint:
        load_weights(model, network.checkpoint, what=network.name)
    return model.eval()


def build_with_its_config(network: Network) -> torch.nn.Module:
    """The segmentor of ``network``, built with every other network of its config, in
    order (a distillation config's student, then its teacher), as a process that loads the
    config holds them: what the process built before moves the allocator's state and so
    the latency of what it times (docs/benchmarks.md, "The allocator")."""
    parts = [n.part for n in networks_of(network.config)]
    built = {part: build_network(replace(network, part=part,
                                         checkpoint=network.checkpoint if part == network.part
                                         else None))
             for part in parts}
    return built[network.part]


def has_reference_formulation(segmentor) -> bool:
    """Whether the public code's formulation applies: a PVTv2 backbone."""
    return isinstance(segmentor.backbone, PVTv2)


def eager_runner(net, reference: bool, bf16: bool = False):
    # The reference scripts run under no_grad; ours under inference_mode.
    ctx = reference_formulation if reference else contextlib.nullcontext
    grad_mode = torch.no_grad if reference else torch.inference_mode

    def precision():
        return torch.autocast('cpu', dtype=torch.bfloat16) if bf16 else \
            contextlib.nullcontext()

    def run(x):
        with ctx(), grad_mode(), precision():
            return net(x)

    return run


def export_graph(net: ProbabilityModel, shape, tmp_dir: str, sample_dir: str,
                 int8: bool = False) -> str:
    """The deployment graph of ``net``, quantised (calibrated on 32 sample images) with
    ``int8``; latency does not depend on the calibration's quality."""
    path = os.path.join(tmp_dir, 'model.onnx')
    export_onnx(DeployModel(net.segmentor).eval(), path, shape)
    if not int8:
        return path
    from ..deploy.quantize import quantize_int8
    from ..deploy.segmenter import OnnxSegmenter
    int8_path = os.path.join(tmp_dir, 'model.int8.onnx')
    quantize_int8(path, int8_path, calibration_images(sample_dir, 32),
                  OnnxSegmenter(path).preprocess)
    return int8_path


def onnx_session(net, shape, threads: int, tmp_dir: str, sample_dir: str, profile=False,
                 int8=False):
    import onnxruntime as ort
    path = export_graph(net, shape, tmp_dir, sample_dir, int8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(tmp_dir, 'ort')
    return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def measure(settings: Settings, network: Network, runtime: str, device: str, threads: int):
    """(latency at batch 1, time of a ``settings.batch`` batch), in seconds."""
    torch.set_num_threads(threads)
    if settings.tuned_allocator or runtime == KEPT:
        keep_freed_memory()
    net = ProbabilityModel(build_with_its_config(network)).eval().to(device)
    with tempfile.TemporaryDirectory() as tmp_dir:
        if runtime in ONNX_RUNTIMES:
            session = onnx_session(net, settings.shape, threads, tmp_dir, settings.sample_dir,
                                   int8=runtime == INT8)

            def run(x):
                return session.run(['prob'], {'input': x.cpu().numpy()})
        else:
            run = eager_runner(net, reference=runtime == REFERENCE, bf16=runtime == BF16)
        sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
        one = torch.randn(1, 3, *settings.shape, device=device)
        many = torch.randn(settings.batch, 3, *settings.shape, device=device)
        latency = median_seconds(run, one, settings.repeats, sync)
        batch_time = median_seconds(run, many, max(3, settings.repeats // 4), sync)
    return latency, batch_time


def flops(net, shape) -> int:
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        net(torch.randn(1, 3, *shape))
    return counter.get_total_flops()


def write_clip(path: str, shape, frames: int, sample_dir: str) -> None:
    """A clip of sample images at ``shape`` (H, W), mp4v, 30 frames/s."""
    import cv2
    from ..deploy.video import count_frames
    images = [cv2.resize(cv2.imread(p), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
              for p in calibration_images(sample_dir, 16)]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 30, (shape[1], shape[0]))
    for i in range(frames):
        writer.write(images[i % len(images)])
    writer.release()
    written = count_frames(path, frames)  # OpenCV's writer reports no failure itself
    if written != frames:
        raise RuntimeError(f'the benchmark clip {path} holds {written} of its {frames} frames')


def measure_video(settings: Settings, network: Network, runtime: str, clip: str,
                  threads: int):
    """(frames/s end to end, frames/s of the network alone, frames written) of the video
    pipeline of tools/infer_video.py on ``clip``."""
    from ..deploy.segmenter import OnnxSegmenter, TorchSegmenter
    from ..deploy.video import VideoSink, VideoSource, segment_stream
    torch.set_num_threads(threads)
    keep_freed_memory()  # as tools/infer_video.py runs on the CPU
    with tempfile.TemporaryDirectory() as tmp_dir:
        if runtime in ONNX_RUNTIMES:
            net = ProbabilityModel(build_with_its_config(network))
            segmenter = OnnxSegmenter(
                export_graph(net.eval(), settings.shape, tmp_dir, settings.sample_dir,
                             int8=runtime == INT8), threads)
        else:
            cfg = Config.fromfile(network.config)
            cfg.test_pipeline = [dict(t, scale=settings.shape[::-1]) if t['type'] == 'Resize'
                                 else t for t in cfg.test_pipeline]
            segmenter = TorchSegmenter(cfg, network.checkpoint)
        source = VideoSource(clip)
        stats = segment_stream(segmenter, source.frames(),
                               VideoSink(os.path.join(tmp_dir, 'out.mp4'), source.fps))
        source.release()
    if stats.errors:
        raise RuntimeError('; '.join(stats.errors))
    return stats.fps, stats.network_fps, stats.frames_written
