"""keep_freed_memory: repeated large activations stop page-faulting."""
import subprocess
import sys

import pytest

PROGRAM = r'''
import resource, sys
import torch
if sys.argv[1] == 'tuned':
    from kdas.utils import keep_freed_memory
    assert keep_freed_memory()
# 64 MB: above the 32 MB up to which glibc's dynamic mmap threshold can rise, so that the
# default allocator maps and unmaps these blocks on every pass, whatever ran before.
def forward():
    a = torch.ones(4096, 4096)
    b = a * 2
    return float(b[0, 0])
for _ in range(6):
    forward()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    forward()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


def minor_faults(mode):
    out = subprocess.run([sys.executable, '-c', PROGRAM, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc mallopt: Linux only')
def test_keep_freed_memory_stops_page_faults_on_repeated_large_activations():
    default, tuned = minor_faults('default'), minor_faults('tuned')
    pages = 2 * 4096 * 4096 * 4 // 4096  # both buffers of one pass, in 4 KB pages
    assert default >= 20 * pages * 0.9  # every pass faults its buffers in again
    # reused: at most a one-off heap growth (and the odd kernel hinting fault) remain
    assert tuned <= 2 * pages
