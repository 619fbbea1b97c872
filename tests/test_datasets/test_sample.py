"""tools/misc/make_polyp_sample.py remakes the embedded sample from the full data byte for
byte, and never writes into the data it reads."""
import os
import os.path as osp
import shutil

from tests.conftest import SAMPLE, run_tool, shared_path

TOOL = 'tools/misc/make_polyp_sample.py'


def files(folder):
    return {osp.relpath(osp.join(d, n), folder): open(osp.join(d, n), 'rb').read()
            for d, _, names in os.walk(folder) for n in names}


def test_the_tool_remakes_the_embedded_sample(tmp_path):
    full = shared_path('data', 'polyp')
    out = tmp_path / 'sample'
    result = run_tool(TOOL, full, str(out))
    assert f'wrote the sample to {out}: 64 pairs' in result.stdout
    made, shipped = files(out), files(SAMPLE)
    shipped.pop('README.md', None)
    assert sorted(made) == sorted(shipped)
    for name, data in shipped.items():
        assert made[name] == data, name


def test_a_sample_into_its_own_data_root_is_refused(tmp_path):
    root = tmp_path / 'polyp'
    shutil.copytree(SAMPLE, root)
    before = files(root)
    for dst in (root, root / 'sample'):
        result = run_tool(TOOL, str(root), str(dst), '--train', '2', check=False)
        assert result.returncode == 1
        assert result.stderr.startswith(f'error: {dst} and {root} overlap')
    assert files(root) == before
