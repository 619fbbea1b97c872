"""Writing output files so that nothing is lost: checked, atomic, never over an input.

Every file the project writes for a user goes through these functions:

- a write goes to a hidden temporary file in the destination's folder and is then renamed
  over the destination (``os.replace``, atomic on POSIX), so the destination is either
  the complete new file or what was there before, never a partial file, even when the
  process is killed or the disk fills up; files that are costly to redo (checkpoints,
  graphs, tables) are fsynced first, so that they also survive a crash of the machine;
- a failed write (full disk, a path under a file, no permission) raises
  :class:`OutputError`, an ``OSError`` whose message names the file and the reason, and
  removes the temporary file;
- :func:`refuse_overwrite` compares real paths (symlinks resolved, hard links by inode)
  so that no tool writes over a file it reads.
"""
import contextlib
import errno
import os
import os.path as osp
import tempfile
from typing import Iterable, Iterator, Optional

TEMP_PREFIX = '.kdas-tmp-'
# mkstemp creates files readable by their owner only, and a rename keeps that; outputs get
# the mode open() would give them. Read once: os.umask can only be read by setting it, which
# would race with other threads creating files.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class OutputError(OSError):
    """A file could not be written; the message names it and says why."""


def describe_os_error(err: BaseException) -> str:
    """The reason of a failed write, in words."""
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return 'no space left on the device'
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__


def fsync_path(path: str) -> None:
    """fsyncs a file, or a folder (so that a rename in it reaches the disk)."""
    fd = os.open(path or '.', os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_output_dir(folder: str, what: str = 'output folder', create: bool = True) -> str:
    """Checks that files can be written in ``folder``, creating it if ``create``.

    Meant to run before a model is loaded, so a bad output path fails in a second, not
    after minutes; ``create=False`` checks the nearest folder that exists instead and
    creates nothing, for tools that make their output folders only once the model loaded.
    Raises :class:`OutputError` naming the folder.
    """
    folder = folder or '.'
    parent = folder
    while parent and not osp.exists(parent):
        parent = osp.dirname(parent)
    if parent and not osp.isdir(parent):
        raise OutputError(f'{what} {folder} cannot be created: {parent} is a file')
    try:
        if create:
            os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder if create else
                                     (parent or '.'))
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise OutputError(f'{what} {folder} is not writable: {describe_os_error(err)}') from err
    return folder


def temporary_sibling(path: str, suffix: Optional[str] = None) -> str:
    """A fresh hidden file name beside ``path`` (same folder, so a rename is atomic). The
    suffix defaults to ``path``'s extension, for writers that choose a format by it."""
    folder, name = osp.split(osp.abspath(path))
    if suffix is None:
        suffix = osp.splitext(name)[1]
    fd, tmp = tempfile.mkstemp(prefix=f'{TEMP_PREFIX}{name}.', suffix=suffix, dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
    finally:
        os.close(fd)
    return tmp


def commit(tmp: str, path: str, durable: bool = True) -> None:
    """Renames ``tmp`` over ``path``; ``durable`` fsyncs the file first and the folder
    after, so that the new file also survives a crash of the machine."""
    if durable:
        fsync_path(tmp)
    os.replace(tmp, path)
    if durable:
        fsync_path(osp.dirname(osp.abspath(path)))


@contextlib.contextmanager
def atomic_output(path: str, what: str = 'file', suffix: Optional[str] = None,
                  durable: bool = True, verb: str = 'write', note: str = '') -> Iterator[str]:
    """Yields a temporary path to write ``path``'s content to; on success it replaces
    ``path`` atomically, on any error it is removed and ``path`` is left as it was.

    Errors while writing or committing become :class:`OutputError` naming ``path``.
    ``durable=False`` skips the fsyncs (see :func:`commit`): for files written by the
    hundred, such as per-image masks, where a disk flush each would set the pace; the
    write is still atomic and checked. The error reads ``cannot {verb} {what} {path}:
    {reason}{note}``.
    """
    def failed(err):
        return OutputError(f'cannot {verb} {what} {path}: {describe_os_error(err)}{note}')

    try:
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        tmp = temporary_sibling(path, suffix)
    except OSError as err:
        raise failed(err) from err
    try:
        yield tmp
        commit(tmp, path, durable)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(err, OSError) and not isinstance(err, OutputError):
            raise failed(err) from err
        raise


def write_bytes(path: str, data: bytes, what: str = 'file', durable: bool = True) -> str:
    """Writes ``data`` to ``path`` atomically; returns ``path``."""
    with atomic_output(path, what, durable=durable) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)
    return path


def write_text(path: str, text: str, what: str = 'file') -> str:
    return write_bytes(path, text.encode('utf-8'), what)


def append_line(path: str, line: str, what: str = 'file') -> str:
    """Appends ``line`` and a newline to ``path`` (created if missing) by writing the whole
    file anew atomically: a kill or a full disk leaves the lines before it whole, which an
    ``open(path, 'a')`` does not (it can leave half a line). A symbolic link is written
    through, to the file it names. One writer per file: two processes appending at once can
    lose a line."""
    path = osp.realpath(path)
    try:
        with open(path, 'rb') as f:
            before = f.read()
    except FileNotFoundError:
        before = b''
    except OSError as err:
        raise OutputError(f'cannot read {what} {path} to append to it: '
                          f'{describe_os_error(err)}') from err
    if before and not before.endswith(b'\n'):
        before += b'\n'
    return write_bytes(path, before + line.encode('utf-8') + b'\n', what)


def write_image(path: str, image, params: Iterable[int] = (), what: str = 'image',
                durable: bool = False) -> str:
    """``cv2.imwrite`` that cannot fail silently: the image is encoded in memory (by the
    extension of ``path``) and written atomically (not fsynced by default: images are
    written by the hundred, see :func:`atomic_output`)."""
    import cv2
    ok, encoded = cv2.imencode(osp.splitext(path)[1] or '.png', image, list(params))
    if not ok:
        raise OutputError(f'cannot encode {what} {path} (extension not supported by OpenCV)')
    return write_bytes(path, encoded.tobytes(), what, durable)


def same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: the same real path (symlinks resolved), or the
    same inode (hard links)."""
    if osp.realpath(a) == osp.realpath(b):
        return True
    try:
        return osp.samefile(a, b)
    except OSError:
        return False


def _identities(path: str) -> set:
    ids = {osp.realpath(path)}
    try:
        st = os.stat(path)
        ids.add((st.st_dev, st.st_ino))
    except OSError:
        pass
    return ids


def refuse_overwrite(output: str, inputs: Iterable[str], what: str = 'output') -> None:
    """Raises :class:`OutputError` if ``output`` is one of ``inputs`` (symlinks and hard
    links included) or an existing folder."""
    if osp.isdir(output):
        raise OutputError(f'{what} {output} is a folder, not a file')
    InputFiles(inputs).refuse(output, what)


class InputFiles:
    """The files a tool reads, to refuse any output that is one of them (by real path
    and by inode), in constant time per output."""

    def __init__(self, paths: Iterable[str]):
        self.by_identity = {}
        for path in paths:
            if path:
                for identity in _identities(path):
                    self.by_identity.setdefault(identity, path)

    def find(self, output: str) -> Optional[str]:
        for identity in _identities(output):
            if identity in self.by_identity:
                return self.by_identity[identity]
        return None

    def refuse(self, output: str, what: str = 'output') -> None:
        source = self.find(output)
        if source is not None:
            shown = source if osp.realpath(source) == osp.realpath(output) else \
                f'{source} (the same file as {output})'
            raise OutputError(f'{what} {output} would overwrite the input {shown}; '
                              'choose another output path')


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` lies in ``folder`` once both are resolved."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def remove_stale_temporaries(folder: str) -> None:
    """Removes temporary files a killed writer left in ``folder``."""
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            if name.startswith(TEMP_PREFIX):
                with contextlib.suppress(OSError):
                    os.remove(osp.join(folder, name))
