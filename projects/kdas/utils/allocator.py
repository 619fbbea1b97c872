"""Keeping glibc from handing large freed blocks back to the kernel during CPU inference.

A 352 x 352 forward pass of the student allocates stage-1 activations of about 8 MB. With
glibc's defaults such blocks are mmap-ed and unmapped on free, or trimmed off the heap
top, so every pass page-faults them in again: in our measurements that is about a quarter
of the student's CPU latency (docs/benchmarks.md). jemalloc or tcmalloc avoid it when
preloaded; this does the same with glibc's own knobs, for the process that calls it.
"""
import ctypes
import ctypes.util
import sys

# mallopt parameter numbers from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(threshold_bytes: int = 1 << 30) -> bool:
    """Serves blocks below ``threshold_bytes`` from the heap and never trims freed memory
    below that much, so the next forward pass reuses it without page faults.

    Affects the calling process only (inference tools call it; the library never does on
    import). Returns False where it cannot apply: not Linux, or a libc without mallopt.
    """
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    value = ctypes.c_int(min(threshold_bytes, 2**31 - 1))
    return bool(mallopt(_M_MMAP_THRESHOLD, value)) and bool(mallopt(_M_TRIM_THRESHOLD, value))
