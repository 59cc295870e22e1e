"""The C allocator's thresholds for large arrays (glibc on Linux), set once when nnkit is imported.

numpy takes every array buffer from ``malloc``. glibc serves a large request (over the *mmap threshold*)
with fresh pages from the kernel and returns memory to the kernel whenever more than the *trim threshold*
is free at the top of its heap. Both thresholds start at 128 KiB and glibc raises them as large blocks are
freed, but a training step frees most of what it allocated, so glibc keeps handing megabytes back and
faulting them in again on the next step: about 3,300 page faults and 40% of the time of a small CNN's step
(measured: 35.6 ms per step of the W3 benchmark in a process running only nnkit, 21.0 ms with the thresholds
below). PyTorch avoids this with its own allocator; nnkit sets the thresholds that glibc's own adjustment
would end at (32 MiB to map, twice that to trim), so freed buffers are reused from the heap.

The setting is process-wide: memory freed in blocks under 32 MiB stays with the process (at most 64 MiB free
at the top of the heap is kept) instead of going back to the kernel at once. ``configure(128 * 1024,
128 * 1024)`` restores glibc's starting values. On other C libraries and platforms nothing is changed.
"""

import ctypes
import ctypes.util
import platform
import sys

__all__ = ["configure", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

MMAP_THRESHOLD = 32 * 2**20  # glibc's own upper limit for its dynamic mmap threshold on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # the ratio glibc keeps when it adjusts the two itself

_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
_M_MMAP_THRESHOLD = -3


def configure(mmap_threshold=MMAP_THRESHOLD, trim_threshold=TRIM_THRESHOLD):
    """Set glibc's mmap and trim thresholds (bytes) for this process; True if they were set.

    nnkit calls this once at import with the defaults (see the module docstring). Returns False, changing
    nothing, where the C library is not glibc.

    Example::

        nk.allocator.configure(128 * 1024, 128 * 1024)   # back to glibc's starting values
    """
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))
    return bool(ok and libc.mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))
