"""kdas: knowledge distillation of Polyp-PVT segmenters for MMSegmentation.

The components live in ``projects/kdas`` (MMSegmentation's ``projects/`` layout) and are
installed as the importable package ``kdas``; configs load them with
``custom_imports = dict(imports=['kdas'])``.
"""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def read_requirements(name):
    lines = (ROOT / 'requirements' / name).read_text().splitlines()
    return [ln.split('#')[0].strip() for ln in lines if ln.split('#')[0].strip()]


def read_version():
    namespace = {}
    exec((ROOT / 'projects' / 'kdas' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='kdas',
    version=read_version(),
    description='KDAS: knowledge distillation via attention supervision for polyp '
    'segmentation, as an MMSegmentation extension',
    long_description=(ROOT / 'README.md').read_text() if (ROOT / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    package_dir={'': 'projects'},
    packages=find_packages('projects'),
    package_data={'kdas.datasets': ['splits/*.txt']},
    install_requires=read_requirements('runtime.txt') + read_requirements('mminstall.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        'optional': read_requirements('optional.txt'),
    },
)
