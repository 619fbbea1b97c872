"""No module of the package imports one above it, not even inside a function: the
subpackages form layers, and each imports only from layers below its own."""
import ast
import os
import os.path as osp

from tests.conftest import REPO

PACKAGE = osp.join(REPO, 'projects', 'kdas')
LAYERS = (
    ('version', 'utils'),
    ('models', 'datasets', 'evaluation'),
    ('visualization', ),
    ('engine', 'deploy'),
    ('apis', 'pretrain'),
    ('benchmarking', 'experiments'),
)
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}


def imported_subpackages(path, parts):
    """(line, subpackage) of every kdas import in the module at ``path`` (``parts``: its
    path inside the package, without .py), relative or absolute, at any depth."""
    package = ['kdas'] + parts[:-1]
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = base + (node.module.split('.') if node.module else [])
                targets = [target] if len(target) > 1 else \
                    [base + [a.name] for a in node.names]
            elif node.module and node.module.split('.')[0] == 'kdas':
                targets = [node.module.split('.')]
            else:
                continue
        elif isinstance(node, ast.Import):
            targets = [a.name.split('.') for a in node.names if a.name.split('.')[0] == 'kdas']
        else:
            continue
        for target in targets:
            if len(target) > 1:
                yield node.lineno, target[1]


def test_every_subpackage_has_a_layer():
    names = {osp.splitext(n)[0] for n in os.listdir(PACKAGE)
             if n != '__init__.py' and (n.endswith('.py') or osp.isdir(osp.join(PACKAGE, n)))
             and not n.startswith('__')}
    assert names == set(LEVEL), 'give each new subpackage a layer in LAYERS'


def test_no_import_runs_upward_or_sideways():
    upward = []
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            parts = osp.relpath(path, PACKAGE)[:-3].split(os.sep)
            if parts == ['__init__']:
                continue  # the package's root registers everything
            own = parts[0]
            for line, target in imported_subpackages(path, parts):
                if target != own and LEVEL[target] >= LEVEL[own]:
                    upward.append(f'{osp.relpath(path, REPO)}:{line} imports kdas.{target}')
    assert not upward, '\n'.join(upward)
