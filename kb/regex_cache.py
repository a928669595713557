"""Compiled regular expressions kept between runs, as Python keeps bytecode between runs.

The extractor's grammar is some thousand patterns, compiled when a text first needs them. A build
that re-extracts one edited file, or `extract` on one text, would otherwise spend a third of its
time in `re`'s pure-Python parser and code generator (~0.15 s of 0.5 s). `compile` keeps what that
work produces (the engine's code for a pattern and flags) in one file under the user's cache
folder, and hands the stored code straight to the engine next time; the engine validates code it
is given, and the file is keyed by the interpreter's cache tag and the engine's MAGIC, so another
Python never reads it. Anything unexpected (an unreadable file, another engine, no writable
folder) falls back to `re.compile`: the cache changes how fast, never what, a pattern matches.

POLICY_KB_CACHE_DIR names the folder (default: $XDG_CACHE_HOME/policy-kb, else ~/.cache/policy-kb);
POLICY_KB_CACHE_DIR=off turns the cache off.
"""

from __future__ import annotations

import marshal
import os
import re
import sys
import tempfile
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing import util as mp_util
from pathlib import Path

__all__ = ["cache_file", "compile", "remembered", "save"]

try:
    import fcntl
except ImportError:  # Windows: saves are not serialized, and a lost entry is compiled again
    fcntl = None

try:  # the engine's own compile step; re.compile is this plus the parse and code generation
    import _sre
    from re import _compiler, _parser

    _CODE = next(t for t in "IL" if array(t).itemsize == _sre.CODESIZE)  # the engine's code unit
    _TAG: str | None = f"{sys.implementation.cache_tag}-{_sre.MAGIC}-{_sre.CODESIZE}"
except (ImportError, AttributeError, StopIteration):  # another implementation: no cache
    _TAG = None

Fact = str | frozenset | bool | int | None  # what marshal writes and reads back unchanged

MAX_ENTRIES = 10_000  # past this (patterns of grammar data long since edited) a save keeps this run's only

_memo: dict[tuple[str, int], re.Pattern] = {}
_stored: dict | None = None  # (pattern, flags) -> engine arguments, as read from the file and not yet used
_new: dict = {}  # compiled in this process and not yet saved
_readers: dict[str, str] = {}  # reader -> the version of it this process runs
_facts: dict[tuple, Fact] = {}  # the facts this process has read or found
_finalizer_pid: int | None = None


def cache_file() -> Path | None:
    """Where the compiled patterns of this interpreter live; None when the cache is off."""
    if _TAG is None:
        return None
    folder = os.environ.get("POLICY_KB_CACHE_DIR")
    if folder == "off":
        return None
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "policy-kb")
    return Path(folder) / f"regex-{_TAG}-v2.marshal"


def compile(pattern: str, flags: int = 0) -> re.Pattern:
    """re.compile(pattern, flags), from this process's memo, the cache file, or compiled anew."""
    key = (pattern, int(flags))
    got = _memo.get(key)
    if got is None:
        got = _memo[key] = _build(*key)
    return got


def _build(pattern: str, flags: int) -> re.Pattern:
    if _TAG is None or not isinstance(pattern, str) or flags & re.DEBUG:
        return re.compile(pattern, flags)
    key = (pattern, flags)
    stored = _load().pop(key, None)  # read once: what a process holds is its compiled patterns, not their code
    if stored is not None:
        try:
            final_flags, code, *groups = stored
            return _sre.compile(pattern, final_flags, array(_CODE, code).tolist(), *groups)
        except Exception:  # noqa: BLE001 - code the engine rejects is compiled again below
            pass
    parsed = _parser.parse(pattern, flags)  # a bad pattern raises re.error here, as re.compile would
    groups = parsed.state.groupdict
    names = [None] * parsed.state.groups
    for name, index in groups.items():
        names[index] = name
    code = array(_CODE, _compiler._code(parsed, flags))
    args = (int(flags | parsed.state.flags), code.tolist(), parsed.state.groups - 1, dict(groups), tuple(names))
    rx = _sre.compile(pattern, *args)
    _new[key] = (args[0], code.tobytes(), *args[2:])  # bytes: a file of them loads in a few ms
    _save_at_exit()
    return rx


def remembered(reader: str, version: str, pattern: str, flags: int, compute: Callable[[], Fact]) -> Fact:
    """compute(): a fact a reader of patterns finds in one (a literal every match holds, the words a
    match starts with), kept in the cache file beside the pattern's code. `version` names the
    reader's code: a changed reader never gets an old answer, and a save drops the old ones."""
    key = ("fact", reader, version, pattern, int(flags))
    _readers[reader] = version
    if key in _facts:
        return _facts[key]
    store = _load()
    if key in store:
        got = _facts[key] = store.pop(key)  # the file's copy is let go: this process keeps the answer
        return got
    got = _facts[key] = _new[key] = compute()
    _save_at_exit()
    return got


def _load() -> dict:
    global _stored
    if _stored is None:
        _stored = _read(cache_file())
    return _stored


def _read(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on path's lock file while the block runs (where the OS has flock)."""
    if fcntl is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "ab") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _stale(key: tuple) -> bool:
    """A fact of an older version of a reader this process runs."""
    return len(key) == 5 and key[1] in _readers and _readers[key[1]] != key[2]


def _save_at_exit() -> None:
    """Save when this process ends normally: an exit handler in the main process and in a worker
    of a multiprocessing pool alike (multiprocessing runs its finalizers in both)."""
    global _finalizer_pid
    if _finalizer_pid != os.getpid():
        _finalizer_pid = os.getpid()
        mp_util.Finalize(None, save, exitpriority=0)


def save() -> None:
    """Add the patterns compiled since the last save to the cache file (merged with what another
    process wrote meanwhile; replaced in one step, so a reader sees the old file or the new)."""
    path = cache_file()
    if not _new or path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):  # workers ending together: each merges what the one before it wrote
            merged = {k: v for k, v in _read(path).items() if not _stale(k)}
            merged.update(_new)
            if len(merged) > MAX_ENTRIES:  # keep what this process used
                merged = {k: v for k, v in merged.items() if k in _memo or k in _facts}
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    marshal.dump(merged, fh)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
    except (OSError, ValueError):
        return  # a read-only home, a full disk, an entry marshal cannot write: the next run compiles again
    _new.clear()
