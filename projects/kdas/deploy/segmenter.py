"""One image (a BGR frame) in, the deployed polyp mask out: PyTorch or ONNX Runtime.

Both backends follow MMSegmentation's own path step by step, so that a mask is what
``mmseg.apis.inference_model`` gives as ``pred_sem_seg``: the test pipeline's ``Resize``
(``cv2.resize``, bilinear, aspect ratio not kept), BGR -> RGB, ``(x - mean) / std`` in
float32, the network's logits at the input size, ``F.interpolate`` of the *logits* back
to the frame's size, sigmoid, ``> threshold``. Doing it here rather than through
``inference_model`` skips building the test pipeline for every call (mmseg rebuilds it each
time) and lets the network's own time be measured apart from the rest.
"""
import os.path as osp
import time
from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .export import ONNX_METADATA_KEYS
from .loading import load_segmenter


class Prediction(NamedTuple):
    mask: np.ndarray  # H x W bool, the frame's size
    prob: torch.Tensor  # H x W float32 probabilities, the frame's size
    network_s: float  # seconds in the network alone


class FrameSegmenter:
    """Preprocessing and postprocessing shared by the backends; ``logits`` is theirs.

    Args:
        input_size: (H, W) the network sees.
        mean, std: per-channel normalisation, in the network's channel order.
        bgr_to_rgb: whether frames (BGR, as OpenCV reads them) are flipped first.
        threshold: probability above which a pixel is polyp.
    """
    backend = ''

    def __init__(self, input_size: Tuple[int, int], mean, std, bgr_to_rgb: bool,
                 threshold: float):
        self.input_size = tuple(int(s) for s in input_size)
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
        self.bgr_to_rgb = bool(bgr_to_rgb)
        self.threshold = float(threshold)

    def preprocess(self, frame: np.ndarray) -> torch.Tensor:
        """A 1 x 3 x H x W normalised batch, as mmseg's pipeline and data preprocessor make it."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f'a frame must be H x W x 3 uint8 (BGR), got {frame.shape} '
                             f'{frame.dtype}')
        h, w = self.input_size
        resized = cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR)
        chw = resized.transpose(2, 0, 1)
        if self.bgr_to_rgb:
            chw = chw[::-1]
        # NumPy rather than torch: the same float32 operations (so the same values), but
        # single-threaded, so that the video's decoding thread does not start an OpenMP
        # team of its own beside the network's. In place: one 352 x 352 frame's temporaries
        # are above glibc's mmap threshold, so each would be mapped and unmapped per frame.
        x = chw.astype(np.float32, order='C')
        x -= self.mean
        x /= self.std
        return torch.from_numpy(x[None])

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """1 x 1 x H x W logits at the input size."""
        raise NotImplementedError

    def postprocess(self, logits: torch.Tensor, shape) -> Tuple[np.ndarray, torch.Tensor]:
        logits = F.interpolate(logits, size=tuple(shape), mode='bilinear', align_corners=False)
        prob = logits[0, 0].sigmoid()
        return (prob > self.threshold).numpy(), prob

    def __call__(self, frame: np.ndarray) -> Prediction:
        inputs = self.preprocess(frame)
        start = time.perf_counter()
        logits = self.logits(inputs)
        network_s = time.perf_counter() - start
        mask, prob = self.postprocess(logits, frame.shape[:2])
        return Prediction(mask, prob, network_s)


def _test_resize_size(cfg) -> Tuple[int, int]:
    """(H, W) of the test pipeline's ``Resize`` (its ``scale`` is (W, H), ratio not kept)."""
    for step in cfg.test_pipeline:
        if step.get('type') == 'Resize':
            if step.get('keep_ratio', False):
                raise ValueError('the test pipeline keeps the aspect ratio; the video and '
                                 'ONNX paths expect a fixed input size (keep_ratio=False)')
            w, h = step['scale']
            return h, w
    raise ValueError('the config\'s test_pipeline has no Resize step')


class TorchSegmenter(FrameSegmenter):
    """A config and checkpoint, loaded strictly (:func:`kdas.deploy.loading.load_segmenter`)."""
    backend = 'PyTorch'

    def __init__(self, config, checkpoint: Optional[str], device: str = 'cpu'):
        from mmengine.config import Config

        cfg = Config.fromfile(config) if isinstance(config, str) else config
        self.model = load_segmenter(cfg, checkpoint, device=device)
        self.device = device
        pre = self.model.data_preprocessor
        super().__init__(_test_resize_size(cfg), pre.mean.flatten().tolist(),
                         pre.std.flatten().tolist(), pre.channel_conversion,
                         self.model.decode_head.threshold)

    def logits(self, inputs):
        h, w = self.input_size
        meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))
        with torch.no_grad():
            out = self.model.encode_decode(inputs.to(self.device), [meta])
        if self.device != 'cpu':
            torch.cuda.synchronize(self.device)
        return out.float().cpu()


class OnnxSegmenter(FrameSegmenter):
    """An exported graph (``tools/deployment/pytorch2onnx.py``, float32 or int8) in ONNX
    Runtime; its preprocessing and threshold come from the graph's metadata."""
    backend = 'ONNX Runtime'

    def __init__(self, path: str, threads: int = 2):
        import onnxruntime as ort

        if not osp.isfile(path):
            raise FileNotFoundError(f'ONNX model {path} does not exist')
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # ONNX Runtime's threads otherwise spin between runs, taking the cores that decoding,
        # drawing and encoding need (docs/benchmarks.md, "Video").
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        try:
            self.session = ort.InferenceSession(path, options,
                                                providers=['CPUExecutionProvider'])
        except Exception as err:  # ORT raises its own exception types for a bad file
            raise RuntimeError(f'ONNX Runtime cannot load {path}: {err}') from err
        meta = self.session.get_modelmeta().custom_metadata_map
        outputs = [o.name for o in self.session.get_outputs()]
        missing = [k for k in ONNX_METADATA_KEYS if k not in meta]
        if missing or 'logits' not in outputs:
            raise RuntimeError(
                f'{path} lacks {", ".join(missing) or "the logits output"}: it was not '
                'exported by this version of tools/deployment/pytorch2onnx.py; export it again')
        shape = self.session.get_inputs()[0].shape
        if not all(isinstance(s, int) for s in shape[2:]):
            raise RuntimeError(f'{path}: input size {shape[2:]} is not fixed')

        def floats(key):
            return [float(v) for v in meta[key].split(',')]

        super().__init__(shape[2:], floats('kdas.mean'), floats('kdas.std'),
                         meta['kdas.bgr_to_rgb'] == '1', float(meta['kdas.threshold']))
        self.path = path

    def logits(self, inputs):
        out = self.session.run(['logits'], {'input': inputs.numpy()})[0]
        return torch.from_numpy(out)


MODEL_USAGE = '%(prog)s (CONFIG CHECKPOINT | MODEL.onnx) INPUT OUTPUT [options]'


def add_model_paths(parser, input_help: str):
    """The positional arguments of the inference tools: a config with its checkpoint, or
    an exported graph alone, then INPUT and OUTPUT; :func:`split_model_paths` reads them."""
    parser.usage = MODEL_USAGE
    parser.add_argument('paths', nargs='+', metavar='PATH',
                        help='CONFIG CHECKPOINT INPUT OUTPUT, or MODEL.onnx INPUT OUTPUT; '
                        f'INPUT is {input_help}')


def split_model_paths(parser, args):
    """Sets ``args.model``, ``args.checkpoint`` (None for a graph), ``args.input`` and
    ``args.output``; returns whether the model is an ONNX graph."""
    onnx = args.paths[0].endswith('.onnx')
    if len(args.paths) != (3 if onnx else 4):
        parser.error('give CONFIG CHECKPOINT INPUT OUTPUT, or MODEL.onnx INPUT OUTPUT')
    if onnx:
        (args.model, args.input, args.output), args.checkpoint = args.paths, None
    else:
        args.model, args.checkpoint, args.input, args.output = args.paths
    return onnx


def open_segmenter(model: str, checkpoint: str = None, device: str = 'cpu',
                   threads: int = 2) -> FrameSegmenter:
    """``model.onnx`` alone, or a config with its checkpoint."""
    if model.endswith('.onnx'):
        if checkpoint is not None:
            raise ValueError(f'{model} is an ONNX graph: it takes no checkpoint '
                             f'(got {checkpoint})')
        if device != 'cpu':
            raise ValueError('the ONNX backend runs on the CPU (CPUExecutionProvider); '
                             f'--device {device} applies to configs')
        return OnnxSegmenter(model, threads)
    if checkpoint is None:
        raise ValueError(f'{model} is a config: give its checkpoint too')
    return TorchSegmenter(model, checkpoint, device)
