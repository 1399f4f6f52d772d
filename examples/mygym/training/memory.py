"""Let a process reuse the memory it frees instead of handing it back.

By default glibc serves every allocation above 128 KiB with a fresh
``mmap`` and unmaps it on free, so a training step that makes a few
megabyte-sized temporaries (weight gradients, optimizer terms, patch
matrices) page-faults on all of them, every step. Raising the mmap and trim
thresholds keeps such blocks in the heap for the next step. Other C
libraries are left alone.
"""
import ctypes

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def _libc():
    """The C library, found without running anything (``find_library``
    runs ldconfig in a subprocess, which a freshly forked worker of a
    threaded process must not do)."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


LIBC = _libc()


def reuse_freed_memory(mmap_threshold=64 * 2 ** 20,
                       trim_threshold=256 * 2 ** 20):
    """Raise glibc's thresholds; returns False where that is not possible.
    """
    mallopt = getattr(LIBC, 'mallopt', None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)
                and mallopt(M_TRIM_THRESHOLD, trim_threshold))
