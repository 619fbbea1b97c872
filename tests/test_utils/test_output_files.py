"""kdas.utils.output_files.append_line: a line is added whole or not at all, on a real full
disk too."""
import os

import pytest

from kdas.utils.output_files import OutputError, append_line
from tests.test_engine.test_checkpoint_faults import small_tmpfs


def test_lines_are_appended_after_the_earlier_ones(tmp_path):
    path = tmp_path / 'speed.jsonl'
    append_line(str(path), '{"a": 1}')
    append_line(str(path), '{"b": 2}')
    assert path.read_text() == '{"a": 1}\n{"b": 2}\n'
    path.write_text('written by hand, no newline')
    append_line(str(path), 'next')
    assert path.read_text() == 'written by hand, no newline\nnext\n'


def test_a_full_disk_leaves_the_earlier_lines_whole(tmp_path):
    disk = tmp_path / 'disk'
    small_tmpfs(disk, '64k')
    try:
        path = disk / 'speed.jsonl'
        earlier = ''.join(f'{{"row": {i}, "pad": "{"x" * 200}"}}\n' for i in range(100))
        path.write_text(earlier)  # about 21 kB: a second copy fits, a third does not
        with open(disk / 'filler', 'wb') as f:
            f.write(b'\0' * (64 * 1024 - 2 * len(earlier)))
        with pytest.raises(OutputError, match=f'cannot write speed rows {path}: .*space'):
            append_line(str(path), '{"row": 100}', what='speed rows')
        assert path.read_text() == earlier
        assert sorted(os.listdir(disk)) == ['filler', 'speed.jsonl']
    finally:
        os.system(f'umount {disk}')


def test_a_line_appended_through_a_link_reaches_the_file_it_names(tmp_path):
    shared = tmp_path / 'shared.jsonl'
    shared.write_text('first\n')
    link = tmp_path / 'link.jsonl'
    link.symlink_to(shared)
    append_line(str(link), 'second')
    assert link.is_symlink() and shared.read_text() == 'first\nsecond\n'
