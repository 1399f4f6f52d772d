"""Training workers keep freed memory for reuse."""
import ctypes
import multiprocessing as mp

from training import memory


def _an_8mb_block_is_below_the_break():
    """Whether an 8 MB block (above glibc's default mmap threshold of
    128 KiB) comes from the brk heap, below the program break, rather than
    from a fresh mmap high above it."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.sbrk.restype = ctypes.c_void_p
    libc.sbrk.argtypes = (ctypes.c_long,)
    block = libc.malloc(8 * 2 ** 20)
    return block is not None and block < libc.sbrk(0)


def _large_block_from_the_heap(queue):
    ok = memory.reuse_freed_memory()
    queue.put((ok, _an_8mb_block_is_below_the_break()))


def _without_the_call(queue):
    queue.put((True, _an_8mb_block_is_below_the_break()))


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
