"""Worker processes for builds and validation: one way to start them.

Workers are forked, so they inherit what the parent loaded (compiled schema, vocabularies,
dictionaries). A forked worker outlives a parent killed with SIGKILL: blocked on the task queue, it
would hold the parent's pipes open (a caller waiting for the output would hang) and its memory. On
Linux each worker therefore asks the kernel to end it when its parent dies.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

__all__ = ["die_with_parent"]

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
