"""Training workers keep freed memory for reuse."""
import ctypes
import multiprocessing as mp

from training import memory


def _large_block_from_the_heap(queue):
    # After the call an 8 MB block (above glibc's default mmap threshold
    # of 128 KiB) comes from the brk heap, below the program break, instead
    # of a fresh mmap high above it.
    ok = memory.reuse_freed_memory()
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.sbrk.restype = ctypes.c_void_p
    libc.sbrk.argtypes = (ctypes.c_long,)
    block = libc.malloc(8 * 2 ** 20)
    top = libc.sbrk(0)
    queue.put((ok, block is not None and block < top))


def _without_the_call(queue):
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.sbrk.restype = ctypes.c_void_p
    libc.sbrk.argtypes = (ctypes.c_long,)
    block = libc.malloc(8 * 2 ** 20)
    queue.put((True, block is not None and block < libc.sbrk(0)))


def _run(target):
    context = mp.get_context('spawn')
    queue = context.Queue()
    process = context.Process(target=target, args=(queue,))
    process.start()
    result = queue.get(timeout=60)
    process.join()
    return result


def test_large_blocks_come_from_the_heap_after_the_call():
    if memory.LIBC is None or not hasattr(memory.LIBC, 'mallopt'):
        assert memory.reuse_freed_memory() is False
        return
    assert _run(_without_the_call) == (True, False)     # mmap by default
    assert _run(_large_block_from_the_heap) == (True, True)
