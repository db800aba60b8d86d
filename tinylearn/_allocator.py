"""Keep freed array memory in the process, so the next array of the same size is not a page fault.

A training step allocates and frees the same large arrays (activations, gradients) every
step. glibc's malloc hands big blocks back to the operating system when they are freed (with
``munmap``, or by trimming the heap), so every new array touches fresh pages, and each page's
first touch is a page fault: on the 2-core reference VM about 3 µs per 4 KiB page, which made
``a + b`` with its backward on 1M floats 8× slower than the arithmetic itself. Raising glibc's
mmap and trim thresholds keeps the memory in the heap for reuse (what PyTorch's caching
allocators do on GPUs). The price: the process keeps its peak memory until it exits.

Applied once at import on Linux with glibc; ``TINYLEARN_MALLOC=default`` leaves malloc alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 * 2**20  # blocks above this still get their own mapping
TRIM_THRESHOLD = 1024 * 2**20  # free memory at the heap's top kept up to this size

applied = False


def tune_malloc() -> bool:
    """Raise glibc's mmap/trim thresholds; True when applied (False on other platforms or opt-out)."""
    global applied
    if applied or not sys.platform.startswith("linux") or os.environ.get("TINYLEARN_MALLOC") == "default":
        return applied
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False
    applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    applied = bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and applied
    return applied
