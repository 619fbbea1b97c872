"""Checking a video run's output paths before its model loads: nothing may be written over
the input, and every output must be writable, so that a wrong path fails at once."""
import os.path as osp
from typing import Optional

from ..utils.output_files import OutputError, ensure_output_dir, refuse_overwrite, same_file
from .video import MASK_NAME


def check_video_outputs(output: str, masks_dir: Optional[str], source: str,
                        live: bool) -> None:
    """Raises :class:`OutputError` when OUTPUT is the input video (or a link to it) or cannot
    be written, or when the masks folder is OUTPUT, the input, or a folder holding the input
    under a mask's name (``000042.png``, which a frame's mask would replace). ``live``: the
    source is a camera or a stream, with no file to protect."""
    inputs = [] if live else [source]
    refuse_overwrite(output, inputs, 'OUTPUT')
    ensure_output_dir(osp.dirname(osp.abspath(output)), 'folder of OUTPUT', create=False)
    if not masks_dir:
        return
    if same_file(masks_dir, output):
        raise OutputError(f'--masks-dir {masks_dir} is OUTPUT; give a folder of its own')
    for video in inputs:
        if same_file(masks_dir, video):
            raise OutputError(f'--masks-dir {masks_dir} is the input video {video}')
        # the entry the user gave and the file it leads to: a mask would replace either
        for entry in {osp.abspath(video), osp.realpath(video)}:
            folder, name = osp.split(entry)
            if MASK_NAME.fullmatch(name) and osp.isdir(masks_dir) and \
                    same_file(folder, masks_dir):
                raise OutputError(f'--masks-dir {masks_dir} holds the input {video}, which '
                                  'a frame\'s mask would overwrite; choose another folder')
    ensure_output_dir(masks_dir, 'masks folder', create=False)
