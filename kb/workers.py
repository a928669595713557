"""Worker processes for builds and validation: one way to start them and read their results.

Workers are forked, so they inherit what the parent loaded (compiled schema, vocabularies,
dictionaries). A forked worker outlives a parent killed with SIGKILL: blocked on the task queue, it
would hold the parent's pipes open (a caller waiting for the output would hang) and its memory. On
Linux each worker therefore asks the kernel to end it when its parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

__all__ = ["die_with_parent", "ordered", "started"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Worker initializer (initargs: the parent's pid, os.getpid() before the pool starts): SIGKILL
    this process when its parent exits (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _fork(workers: int, warm: Callable[[], object] | None) -> multiprocessing.pool.Pool:
    if warm is not None:
        warm()
    # Frozen at the fork, what the parent loaded is left alone by each worker's collector, and
    # its pages stay shared instead of being copied (~2% of a build's CPU); the parent goes on
    # collecting as before.
    gc.freeze()
    try:
        return multiprocessing.get_context("fork").Pool(workers, initializer=die_with_parent, initargs=(os.getpid(),))
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def started(warm: Callable[[], object] | None, *, when: bool = True) -> Iterator[multiprocessing.pool.Pool | None]:
    """Forked workers started now (if `when` and more than one core), for an `ordered` run to come:
    a caller that will hold much per-item state (a build's file list) starts them first, so each
    worker inherits only what warm() loads, whatever the number of items. The block owns them:
    they end with it, as processes do when it succeeds (their exit handlers run), at once if it fails."""
    workers = os.cpu_count() or 1
    pool = _fork(workers, warm) if when and workers >= 2 else None
    try:
        yield pool
    except BaseException:
        if pool is not None:
            pool.terminate()
            pool.join()
        raise
    if pool is not None:
        pool.close()
        pool.join()


class ordered:
    """Context manager: an iterator of fn(item) for each item, in input order. Unless `parallel`
    (and more than one core) it is a plain map in this process; otherwise forked workers do the work
    (`pool`'s, started and ended by `started`, or forked now and ended here), after `warm()` has loaded in the parent what
    every worker needs (dictionaries, compiled schema), so that each inherits it instead of loading
    it again. imap hands results back in order as they arrive; Pool.imap alone queues every task at
    once and keeps every result that arrives before it is consumed, so when the consumer (a build
    inserting rows) falls behind, results would pile up in memory. At most a window of items is
    handed out beyond those consumed: memory stays flat whatever the number of items."""

    WINDOW_PER_WORKER = 16

    def __init__(self, fn: Callable, items: list, *, parallel: bool, warm: Callable[[], object] | None = None,
                 workers: int | None = None, pool: multiprocessing.pool.Pool | None = None):
        self.fn, self.items, self.parallel, self.warm, self.given = fn, items, parallel, warm, pool
        self.workers = workers or os.cpu_count() or 1
        self.pool = None

    def __enter__(self) -> Iterator:
        workers = self.workers
        if workers < 2 or not self.parallel or len(self.items) < 2:
            return map(self.fn, self.items)
        self.pool = self.given or _fork(workers, self.warm)
        chunk = max(1, min(8, len(self.items) // (workers * 16)))
        window = threading.Semaphore(workers * self.WINDOW_PER_WORKER * chunk)
        self.stop = threading.Event()

        def handed_out():  # consumed by the pool's task thread, which waits here when the window is full
            for item in self.items:
                while not window.acquire(timeout=0.1):
                    if self.stop.is_set():
                        return  # the caller is failing: let the task thread end, or terminate() waits for it
                yield item

        def consumed(results):
            for result in results:
                window.release()
                yield result

        return consumed(self.pool.imap(self.fn, handed_out(), chunksize=chunk))

    def __exit__(self, exc_type, *exc) -> None:
        if self.pool is not None:
            self.stop.set()
            if self.given is not None:
                return  # the pool is its starter's to end
            if exc_type is None:  # every result was consumed: let the workers end as processes do (their
                self.pool.close()  # exit handlers run, the regex cache's among them)
            else:
                self.pool.terminate()  # the caller is failing: stop now
            self.pool.join()
