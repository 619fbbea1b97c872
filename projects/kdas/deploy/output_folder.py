"""The folder of masks and overlays that ``tools/infer.py`` writes, never over an input.

``OUTPUT/masks/<stem>.png`` is the same layout as a dataset's ``masks/`` folder, so an
OUTPUT pointed at a dataset would write predictions over its ground truth. A folder is
therefore claimed with a marker file on first use: masks are only written into a
``masks/`` folder that is empty or that an earlier run of the tool claimed, and no output
file may be one of the inputs (real paths compared, symlinks and hard links included).
"""
import os.path as osp
from typing import Dict, Iterable, List, Optional

from ..utils.image_files import by_stem
from ..utils.image_files import image_file_names
from ..utils.output_files import (InputFiles, OutputError, ensure_output_dir, same_file,
                                  write_text)

MARKER = '.kdas-infer-output'


def _image_files(folder: str) -> List[str]:
    return image_file_names(folder) if osp.isdir(folder) else []


def create_output_folder(output: str) -> None:
    """Creates ``output/masks`` and ``output/overlays`` and claims the folder (its marker
    file), once :func:`check_output_folder` accepted it and the model has loaded."""
    ensure_output_dir(osp.join(output, 'masks'))
    ensure_output_dir(osp.join(output, 'overlays'))
    if not osp.isfile(osp.join(output, MARKER)):
        write_text(osp.join(output, MARKER), 'masks/ and overlays/ written by tools/infer.py\n',
                   'output marker')


def check_output_folder(output: str, images: Iterable[str],
                        gt_dir: Optional[str] = None) -> Dict[str, dict]:
    """Checks ``output`` before any model is loaded, creating nothing; returns, by stem,
    the ``mask`` and ``overlay`` paths to write for each image.

    Raises :class:`~kdas.utils.output_files.OutputError` (naming the path) when the folder
    cannot be written, when ``masks/`` is the ground-truth or input folder or holds files
    the tool did not write, or when an output file would be an input.
    """
    images = list(images)
    # two inputs of one stem would share their output files
    stems = by_stem(images, 'inputs')
    masks_dir, overlays_dir = osp.join(output, 'masks'), osp.join(output, 'overlays')
    for folder in (masks_dir, overlays_dir):
        for source, what in [(gt_dir, 'the ground-truth folder')] + [
                (osp.dirname(p) or '.', 'the input folder') for p in images[:1]]:
            if source and osp.isdir(folder) and same_file(folder, source):
                raise OutputError(f'{folder} is {what} ({source}): the outputs would '
                                  'overwrite it; choose another OUTPUT')
    claimed = osp.isfile(osp.join(output, MARKER))
    foreign = [] if claimed else _image_files(masks_dir)
    if foreign:
        raise OutputError(
            f'{masks_dir} already holds {len(foreign)} image files that tools/infer.py did '
            f'not write (e.g. {foreign[0]}); is {output} a dataset folder? Its masks would '
            'be overwritten: choose an empty or new OUTPUT')
    plan = {stem: dict(mask=osp.join(masks_dir, f'{stem}.png'),
                       overlay=osp.join(overlays_dir, f'{stem}.jpg')) for stem in stems}
    inputs = InputFiles(images + ([osp.join(gt_dir, n) for n in _image_files(gt_dir)]
                                  if gt_dir else []))
    for paths in plan.values():
        for path in paths.values():
            if osp.isdir(path):
                raise OutputError(f'output {path} is a folder, not a file')
            if osp.exists(path):
                inputs.refuse(path)
    ensure_output_dir(masks_dir, create=False)
    ensure_output_dir(overlays_dir, create=False)
    return plan
