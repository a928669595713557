"""Publishing records to SQLite for browsing in Datasette.

One row per record *file* in `records`, keyed by its path relative to the build root, so a record
and its translation are two rows. Child tables (analysis, impacts, ..., clauses, measures) point
back with a `record` foreign key; `findings` holds every validation finding, including those of
files that could not be read as records. The texts of a record (body, frontmatter) sit in
`record_texts`, so that pages listing records stay small.

The tables are declared in kb/tables.py. The per-file work (checking, extraction, search
segmentation) is kb/rows.py; for many files it
runs in forked worker processes while this process only inserts, in input order, so the database
does not depend on the number of workers.

Builds are atomic and never stop the servers: the published file changes only by one SQLite
transaction per build (WAL mode), so a reader sees the whole previous build or the whole new one,
and a failed or killed build leaves the previous one untouched. A full build writes a fresh
temporary file, checks it, then installs it (renamed into place the first time, copied in by the
backup API once the file exists). Builds are incremental: only files whose sha256 changed are parsed
again (a file whose size and mtime match the last build's is not even hashed), and their rows are
replaced in place, so the cost of a one-file edit does not grow with the database. Any change to
the code, data or schema changes a fingerprint and forces a full rebuild, so cached rows never
outlive the rules that produced them. The search index (kb/search.py) is updated in the same
transaction, for the changed and removed files only.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import NamedTuple

import kb
from kb import rows as _rows
from kb import search, workers
from kb.progress import Meter
from kb.records import Record, count_record_files, iter_record_files
from kb.resources import resource_path
from kb.rows import _storable_rows, finding_row, storable
from kb.tables import BUILD_TABLES, BUILDS, FILE_TABLES, FINDINGS, BuildRow
from kb.validation import ERROR, WARNING, Finding, check_corpus, schema
from kb.workers import ordered

LAYOUT = "8"  # bump when tables change shape: an older database is then rebuilt from scratch
BATCH = 2000  # rows per executemany
FM_LINE = 2  # parse_record always starts the frontmatter on the file's second line
PARALLEL_MIN_FILES = 64  # below this, forking workers costs more than it saves
# A file's (size, mtime_ns) stands in for its hash only when it was modified this long before the
# scan: a write landing in the same timestamp tick as the scan could otherwise go unnoticed.
RACY_NS = 2_000_000_000

# Datasette settings for serving: suggested facets cost ~0.6 s a page; long cells are cut in HTML.
SETTINGS = {"sql_time_limit_ms": 1000, "max_returned_rows": 1000, "suggest_facets": False, "truncate_cells_html": 300}
_INSERT = {t.name: t.insert_sql() for t in FILE_TABLES}


class PublishError(Exception):
    """The target path holds something this module must not overwrite."""


@dataclass(frozen=True, slots=True)
class BuildReport:
    db_path: str
    files: int
    added: int
    changed: int
    unchanged: int
    removed: int
    findings: int
    errors: int
    seconds: float
    written: bool  # False when nothing changed and the database was left as it was
    full: bool  # True when every file was processed (new database, or code/schema changed)

    def summary(self) -> str:
        how = (
            "full build" if self.full else f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged, {self.removed} removed"
        )
        state = "" if self.written else "; up to date, not rewritten"
        return (f"{self.files} files ({how}); {self.findings} findings, {self.errors} errors"
                f" -> {self.db_path} in {self.seconds:.2f}s{state}")


# --- entry point -------------------------------------------------------------------------------


def build(paths: Iterable[str | Path], db_path: str | Path, *, progress: Callable[[int], Meter] | None = None,
          prune: bool = False) -> BuildReport:
    """Publish the record files under `paths` into `db_path`. `progress`, when given, is called
    with the number of files to process and returns the meter told of each file done. A build
    that is not given a folder the knowledge base was built from refuses (PublishError) rather
    than drop that folder's records, unless `prune`."""
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    db_path = Path(db_path)
    old = _read_state(db_path)
    fingerprint = _fingerprint()
    full = old is None or old["meta"].get("layout") != LAYOUT or old["meta"].get("fingerprint") != fingerprint
    # A full build of many files starts its workers before it reads the file list, so that each
    # inherits what they need and not the list (memory flat whatever the corpus size).
    with workers.started(_warm, when=full and count_record_files(paths, PARALLEL_MIN_FILES) >= PARALLEL_MIN_FILES) as pool:
        return _build(paths, db_path, old, fingerprint, full, started, progress=progress, prune=prune, pool=pool)


def _build(paths: list[Path], db_path: Path, old: dict | None, fingerprint: str, full: bool, started: float, *,
           progress: Callable[[int], Meter] | None, prune: bool, pool: Pool | None) -> BuildReport:
    """build() once its workers, if any, are started: `pool` (kb.workers.started) or None."""
    manifest = {} if full else old["files"]
    root, files = _scan(paths, manifest, hash_changed=not full)
    if old is not None and not prune:
        _refuse_loss(old["files"], files)
    commit = _git_commit(root)
    unchanged = {k for k, f in files.items() if f.sha256 and k in manifest and manifest[k].sha256 == f.sha256}
    todo = [k for k in files if k not in unchanged]
    removed = [k for k in manifest if k not in files]
    if not full and not todo and not removed and old["meta"].get("source_commit") == (commit or ""):
        # Stats that became trustworthy since are not worth a rewrite: the next written build stores them.
        return BuildReport(str(db_path), len(files), 0, 0, len(unchanged), 0, old["findings"], old["errors"],
                           time.perf_counter() - started, written=False, full=False)
    if read_only(db_path):
        raise PublishError(f"cannot write {db_path}: its folder is on a read-only file system")
    added, changed = [k for k in todo if k not in manifest], [k for k in todo if k in manifest]
    touched = None if full else todo + removed
    db_path.parent.mkdir(parents=True, exist_ok=True)
    stats = {"files": len(files), "added": len(added), "changed": len(changed),
             "unchanged": len(unchanged), "removed": len(removed)}

    def fill(conn: sqlite3.Connection) -> tuple[int, int]:
        search.prepare(conn, touched)  # unindexes the old rows while their text is still there
        old_ids = _ids(conn, changed + removed)
        _delete(conn, changed + removed)
        feed = search.Feed(conn, len(todo)) if touched is None else None  # incremental: indexed per record at the end
        _publish(conn, todo, files, progress, feed, pool)
        _path_moves(conn, files, unchanged, manifest)
        _corpus(conn, files, touched, old_ids)
        search.finish(conn, touched, feed)
        return _write_meta(conn, fingerprint, commit, started, stats)

    if full:
        findings, errors = _build_new(db_path, fill)
    else:
        findings, errors = _update_in_place(db_path, old, fill, touched)
    return BuildReport(str(db_path), findings=findings, errors=errors, seconds=time.perf_counter() - started,
                       written=True, full=full, **stats)


# --- files -------------------------------------------------------------------------------------


def fault(db_path: Path, exc: BaseException) -> str:
    """What went wrong with the database's file system, in the user's terms: SQLite reports a full
    disk as 'disk I/O error' or 'cannot rollback - no transaction is active' once it has given up,
    and a read-only mount as a file it cannot open."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return f"{text}: another build (or another program) holds a write lock on it; try again when it has finished"
    folder = db_path.parent if str(db_path.parent) else Path(".")
    try:
        st = os.statvfs(folder)
    except OSError:
        return text
    sounds_full = getattr(exc, "errno", None) == errno.ENOSPC or any(
        w in text.lower() for w in ("full", "disk i/o error", "no transaction is active"))
    if sounds_full and st.f_bavail * st.f_frsize < 1 << 20:
        return f"the disk holding {folder} is full ({st.f_bavail * st.f_frsize:,} bytes free)"
    if st.f_flag & os.ST_RDONLY:
        return f"{text}: {folder} is on a read-only file system"
    return text


def read_only(db_path: Path) -> bool:
    """Whether the database's folder lies on a file system mounted read-only."""
    folder = db_path.parent if str(db_path.parent) else Path(".")
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _refuse_loss(old_files: dict, files: Files) -> None:
    """PublishError when records of the last build would vanish because their folder is not among
    this build's roots (a file deleted from a folder still given is removed as ever)."""
    roots = {f.root for f in files.values()}
    lost: dict[str, int] = {}
    for k, known in old_files.items():
        if k not in files and known.root and known.root not in roots:
            lost[known.root] = lost.get(known.root, 0) + 1
    if lost:
        where = "; ".join(f"{n} from {r}" for r, n in sorted(lost.items()))
        raise PublishError(f"this build would remove {sum(lost.values())} records the knowledge base holds ({where}): "
                           "give those folders too, or pass --prune to remove them")

class Found(NamedTuple):
    """A record file a build was given."""

    path: str  # as given
    sha256: str | None  # None until read, or when it cannot be read
    stat: tuple[int, int] | None  # (size, mtime_ns) when old enough to trust
    root: str  # the folder it belongs to
    confined: bool  # found in a folder given: its real path must stay inside it


class Known(NamedTuple):
    """A file as the last build left it (its row of `files`)."""

    sha256: str | None
    size: int | None
    mtime_ns: int | None
    path: str
    root: str | None


Files = dict[str, Found]


def _scan(paths: list[Path], manifest: dict, *, hash_changed: bool) -> tuple[str, Files]:
    """The common folder of the roots and {file key: (path as given, sha256 or None, (size, mtime_ns)
    or None, its root, whether it must stay inside that root)}. A root is a folder given (a file
    given on its own has its folder as root, but may link anywhere). Keys are paths inside their
    own root, so a record keeps its key and its page whatever other folders a build is given and
    from whatever cwd; when two roots hold the same path, the later root's folder name prefixes it.
    A file whose size and mtime match the manifest keeps its recorded hash unread; others
    are hashed when `hash_changed` (an incremental build must compare them), else left to the
    workers, which read every file anyway. The stat is kept only when old enough to trust."""
    found = iter_record_files(paths)  # FileNotFoundError for a missing argument: a usage error
    bases = [os.path.abspath(p if p.is_dir() else p.parent) for p in paths] or [os.getcwd()]
    root = os.path.commonpath(bases)
    trusted_before = time.time_ns() - RACY_NS
    files: Files = {}
    seen: set[str] = set()
    for entry in found:
        f = entry.path
        full = os.path.abspath(f)
        if full in seen:
            continue  # given twice (a folder and a file in it)
        seen.add(full)
        own = os.path.abspath(entry.root if entry.root is not None else f.parent)
        key = storable(os.path.relpath(full, own).replace(os.sep, "/"))
        if key in files and files[key].root != own:
            key = storable(os.path.basename(own) + "/" + key)
        if key in files:
            continue
        try:
            st = f.stat()
            stat = (st.st_size, st.st_mtime_ns) if st.st_mtime_ns < trusted_before else None
        except OSError:
            stat = None
        known = manifest.get(key)
        if stat is not None and known is not None and known.sha256 and (known.size, known.mtime_ns) == stat:
            digest = known.sha256
        else:
            digest = _rows.sha256(f, None if entry.root is None else str(entry.root)) if hash_changed else None
        files[key] = Found(str(f), digest, stat, own, entry.root is not None)
    return root, files


def _read_state(db_path: Path) -> dict | None:
    """What the previous build left: its kb_meta, file manifest and finding counts. None when
    there is no database (or an empty file); PublishError when the file is not ours."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    # On a read-only file system a WAL database cannot open its -shm file: read it as immutable.
    immutable = "&immutable=1" if read_only(db_path) else ""
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro{immutable}", uri=True)
        try:
            tables = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
            if "kb_meta" not in tables:
                raise PublishError(f"{db_path} is a SQLite database but not one built by policy-kb; refusing to overwrite it")
            meta = dict(conn.execute("select key, value from kb_meta"))
            if meta.get("layout") != LAYOUT:
                return {"meta": meta, "files": {}, "findings": 0, "errors": 0, "last_build": None}
            manifest = {k: Known(digest, size, mtime, path, root) for k, digest, size, mtime, path, root in
                        conn.execute("select key, sha256, size, mtime_ns, path, root from files")}
            n, errors = conn.execute("select count(*), count(*) filter (where severity = 'error') from findings").fetchone()
            last_build = _last_build(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise PublishError(f"{db_path} is not a SQLite database ({exc}); refusing to overwrite it") from None
        raise PublishError(f"cannot read {db_path}: {fault(db_path, exc)}") from None
    return {"meta": meta, "files": manifest, "findings": n, "errors": errors, "last_build": last_build}


# --- writing the database ------------------------------------------------------------------------
# The published file is in WAL mode and is only ever changed by one SQLite transaction per build:
# servers (Datasette, read-only but not immutable) see the whole previous build until the commit
# and the whole new one after it, and a build that fails or is killed leaves no trace (SQLite
# discards an uncommitted WAL tail). The file is never renamed over while it is published: a WAL
# database shares its -wal and -shm files by name, and a reader of the old inode would hand them
# to readers of the new one.


def _build_new(db_path: Path, fill: Callable[[sqlite3.Connection], tuple[int, int]]) -> tuple[int, int]:
    """A full build: every row written into a fresh temporary file (no journal, no syncs, indexes
    made once at the end, full-text indexes fed while the workers run), checked whole, then
    installed."""
    _sweep_temps(db_path)
    tmp = db_path.with_name(f".{db_path.name}.tmp-{os.getpid()}")
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = OFF")  # the file is disposable until installed
            conn.execute("PRAGMA synchronous = OFF")
            _create_tables(conn)
            with _transaction(conn):
                counts = fill(conn)
            _create_indexes(conn)
            _verify(conn, None)
        finally:
            conn.close()
        _install(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def _install(tmp: Path, db_path: Path) -> None:
    """Make the checked file at `tmp` the published database. A first build renames it into
    place; later ones copy its pages into the published file in one transaction (SQLite's
    backup API), so servers holding the file open move to the new build at a commit."""
    if not db_path.exists():
        for stale in _sidecars(db_path):  # a -wal left beside a deleted database would be replayed into ours
            stale.unlink(missing_ok=True)
        conn = sqlite3.connect(tmp)
        conn.execute("PRAGMA journal_mode = WAL")  # persistent: recorded in the file header
        conn.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, db_path)
        _fsync_dir(db_path.parent)
        return
    src, dst = sqlite3.connect(tmp), _writer(db_path)
    try:
        src.backup(dst)  # all pages in one step: one write transaction on the published file
        _checkpoint(dst)
    finally:
        src.close()
        dst.close()


def _update_in_place(db_path: Path, old: dict, fill: Callable[[sqlite3.Connection], tuple[int, int]],
                     touched: list[str]) -> tuple[int, int]:
    """An incremental build: the rows of changed and removed files replaced in the published file,
    in one transaction that is checked before it commits. Its cost follows the change, not the
    size of the database."""
    conn = _writer(db_path)
    try:
        with _transaction(conn, "immediate"):
            # The manifest was read before the write lock was taken: a build that committed in
            # between would make this one's idea of what changed wrong.
            if _last_build(conn) != old["last_build"]:
                raise PublishError(f"{db_path} was changed by another build while this one ran; run the build again")
            counts = fill(conn)
            _verify(conn, touched)
        _checkpoint(conn)
    finally:
        conn.close()
    return counts


BUSY_S = 30.0  # a build waits this long for another build's write lock (readers never block it)


def _writer(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, timeout=BUSY_S, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")  # a commit that returned survives a power cut
    return conn


class _transaction:
    """BEGIN ... COMMIT, or ROLLBACK on any exception, on a connection in autocommit mode."""

    def __init__(self, conn: sqlite3.Connection, mode: str = ""):
        self.conn, self.mode = conn, mode

    def __enter__(self) -> None:
        self.conn.execute(f"BEGIN {self.mode}")

    def __exit__(self, kind, *_) -> None:
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")


CHECKPOINT_WAIT_MS = 500


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Fold the WAL back into the file and empty it, so the file alone is the whole database. It
    waits for readers still on an older snapshot only briefly (a busy server always has some):
    what it cannot fold now, the next build does. The build is committed either way."""
    conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()


def _last_build(conn: sqlite3.Connection) -> int | None:
    (last,) = conn.execute("select max(rowid) from builds").fetchone()
    return last


def _sidecars(db_path: Path) -> list[Path]:
    return [db_path.with_name(db_path.name + s) for s in ("-wal", "-shm", "-journal")]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself is durable only once the folder is
    finally:
        os.close(fd)


def _sweep_temps(db_path: Path) -> None:
    """Remove temporary files left by builds that were killed outright (their pid is gone)."""
    for p in db_path.parent.glob(f".{db_path.name}.tmp-*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                p.unlink(missing_ok=True)
            except OSError:
                pass  # alive, owned by someone else


def _fingerprint_sources() -> list[Path]:
    """What shapes a file's rows: the package's code in every subpackage (the extractor is
    kb/extract/), its data files and the schema."""
    package = Path(kb.__file__).resolve().parent
    code = sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    data = sorted(p for p in (package / "data").rglob("*") if p.is_file())
    return code + data + [resource_path("schema/policy-record.schema.json")]


def _fingerprint() -> str:
    """Hash of everything that shapes a file's rows: code, data files, schema, layout."""
    h = hashlib.sha256(LAYOUT.encode())
    package = Path(kb.__file__).resolve().parent
    for p in _fingerprint_sources():
        name = p.relative_to(package).as_posix() if p.is_relative_to(package) else p.name
        h.update(name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _git_commit(root: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


# --- tables ------------------------------------------------------------------------------------


def _create_tables(conn: sqlite3.Connection) -> None:
    for table in BUILD_TABLES:
        conn.execute(table.create_sql())


def _create_indexes(conn: sqlite3.Connection) -> None:
    """Run after the bulk load: building an index once is cheaper than maintaining it per row."""
    for table in BUILD_TABLES:
        for statement in table.index_sql():
            conn.execute(statement)


# Every table with rows of a file, and the column naming the file: children first, so no row ever
# points at a missing one. The search tables are kb.search's business.
OWNED = [(t.name, t.owner) for t in reversed(FILE_TABLES) if t.name not in search.SEARCH_TABLES]


def _delete(conn: sqlite3.Connection, keys: list[str]) -> None:
    """Every row of the given files (their search rows are kb.search's business)."""
    for table, column in OWNED if keys else ():
        conn.execute(f"delete from [{table}] where [{column}] in (select value from json_each(?))", [json.dumps(keys)])


def _publish(conn: sqlite3.Connection, todo: list[str], files: Files, progress,
             after_flush: Callable[[int], None] | None = None, pool: Pool | None = None) -> None:
    """Check and extract each new or changed file (in worker processes for many files: `pool`'s,
    if started) and insert its rows, in the order of `todo` whatever the number of workers;
    `after_flush` runs after each batch of inserts, told how many files are in."""
    pending: dict[str, list[tuple]] = {t.name: [] for t in FILE_TABLES}
    count = done = 0
    meter = progress(len(todo)) if progress is not None and todo else None
    try:
        with _FileRows(todo, files, pool) as results:
            for ready in results:
                for table, batch in ready.rows.items():
                    pending[table] += batch
                    count += len(batch)
                done += 1
                if meter is not None:
                    meter.advance(1, ready.chars)
                if count >= BATCH:
                    _flush(conn, pending)
                    count = 0
                    if after_flush is not None:
                        after_flush(done)
    finally:
        if meter is not None:
            meter.close()
    _flush(conn, pending)


def _flush(conn: sqlite3.Connection, pending: dict[str, list[tuple]]) -> None:
    for table, batch in pending.items():  # dict order puts records before the tables citing them
        if batch:
            conn.executemany(_INSERT[table], batch)
            batch.clear()


class _FileRows:
    """Context manager over an iterator of each file's rows, in input order: many files go to
    forked workers (kb.workers.ordered, memory flat whatever the corpus size)."""

    def __init__(self, todo: list[str], files: Files, pool: Pool | None):
        self.items = [(k, files[k]) for k in todo]
        self.run = ordered(_work, self.items, parallel=len(self.items) >= PARALLEL_MIN_FILES, warm=_warm, pool=pool)

    def __enter__(self) -> Iterator[_Ready]:
        return self.run.__enter__()

    def __exit__(self, *exc) -> None:
        self.run.__exit__(*exc)


class _Ready(NamedTuple):
    """One file's rows as the inserting process takes them."""

    rows: dict[str, list[tuple]]  # table -> plain tuples in the table's column order (its insert statement's)
    chars: int  # body characters read, for the progress meter


def _work(item: tuple[str, Found]) -> _Ready:
    key, f = item
    # _extract is looked up here, at call time, so a replaced seam (tests) reaches forked workers.
    rows = _rows.file_rows(key, f.path, f.sha256, f.stat, f.root, f.confined, extract=_extract)
    # Plain tuples, ready to insert: a row record crosses the pipe at half the speed (pickled
    # through its class), and the inserting process has nothing left to do but insert.
    return _Ready({table: [tuple(r) for r in batch] for table, batch in rows.items() if batch},
                  sum(len(r.body or "") for r in rows["record_texts"]))


def _warm() -> None:
    """Load what every worker needs once, before forking, instead of once per worker."""
    from kb import tokens, validation

    validation._fast_check(), validation.quality_rules(), validation.vocabulary_fields()
    tokens.segment("日本語の文です。", "ja"), tokens.segment("中文句子。", "zh")
    search.role_labels()
    from kb.extract import extract_text

    for text in _WARM_TEXTS:  # compiles each language's cue lookups once, before the fork
        extract_text(text)


_WARM_TEXTS = ("事業者は、2030年度までに年間100万トンを貯留しなければならない。",
               "企业应当于2030年前每年减少二氧化碳100万吨。",
               "The operator must store 1 million tonnes per year by 1 July 2030.")


def _path_moves(conn: sqlite3.Connection, files: Files, unchanged: set[str], manifest: dict) -> None:
    """Unchanged files keep their rows, but show the path of this build (the cwd may differ), and
    their stats are refreshed so the next build can skip hashing them. Only rows whose path or
    stats differ from the manifest are written: rewriting all of them cost an incremental build
    50-70 ms at 5,000 files, for nothing on most builds."""
    stale = []
    for k in sorted(unchanged):
        path, stat = storable(files[k].path), files[k].stat or (None, None)
        known = manifest.get(k)
        if known is None or (known.size, known.mtime_ns, known.path) != (*stat, path):
            stale.append((path, k, *stat))
    for table, column in (("records", "key"), ("findings", "file")):
        conn.executemany(f"update {table} set path = ? where {column} = ? and path is not ?", [(p, k, p) for p, k, *_ in stale])
    conn.executemany(
        "update files set path = ?, size = ?, mtime_ns = ? where key = ?", [(p, size, mtime, k) for p, k, size, mtime in stale]
    )


def _ids(conn: sqlite3.Connection, keys: list[str]) -> set[str]:
    found = conn.execute("select distinct id from records where key in (select value from json_each(?))", [json.dumps(keys)])
    return {rid for (rid,) in found if rid}


def _corpus(conn: sqlite3.Connection, files: Files, touched: list[str] | None, old_ids: set[str]) -> None:
    """Corpus findings (kb.validation.check_corpus) and the finding counts of the records whose
    findings may have changed: every record on a full build. Otherwise only the records a change
    can reach: the touched files, the records sharing an id a touched file had or has (duplicates,
    translations), and the records naming such an id in evolution (unknown references). Every
    other record's corpus findings depend only on what it and its unchanged id group contain."""
    affected: set[str] | None = None
    if touched is not None:
        ids = json.dumps(sorted(old_ids | _ids(conn, touched)))
        affected = {*touched, *(key for (key,) in conn.execute(
            "select key from records where id in (select value from json_each(?))"
            " union select record from supersedes where target_id in (select value from json_each(?))", [ids, ids]))}
    def only(column: str) -> str:  # the condition restricting `column` to the affected records
        return "" if affected is None else f" and {column} in (select value from json_each(?))"

    args = [] if affected is None else [json.dumps(sorted(affected))]
    conn.execute(f"delete from findings where scope = 'corpus'{only('file')}", args)
    if affected is None:  # every id of the corpus: the string ids of the frontmatters, as Record.id reads them
        known = {rid for (rid,) in conn.execute("select distinct json_extract(frontmatter, '$.id') from record_texts"
                                                " where json_type(frontmatter, '$.id') = 'text'") if rid}
    else:
        known = {rid for (rid,) in conn.execute("select distinct id from records") if rid}
    rows = conn.execute("select r.id, r.key, t.frontmatter, r.lang, r.fm_format, t.fm_text, r.body_line, r.sha256"
                        f" from records r join record_texts t on t.key = r.key where 1{only('r.key')} order by r.id, r.key", args)
    found = []
    for group in _id_groups(rows, files):
        found += check_corpus(group, known_ids=known)
    found.sort(key=Finding.sort_key)
    key_of = {f.path: k for k, f in files.items()}
    conn.executemany(FINDINGS.insert_sql(), _storable_rows([finding_row(key_of.get(f.path), f, "corpus") for f in found]))
    # One grouped pass over findings rather than a subquery per record: on a full build the index
    # on findings.file does not exist yet, and 5,000 subqueries each scanning findings cost ~2 s.
    conn.execute(f"update records set error_count = 0, warning_count = 0 where 1{only('key')}", args)
    conn.execute("with n as (select file, count(*) filter (where severity = ?) as e, count(*) filter (where severity = ?) as w"
                 " from findings group by file) update records set error_count = n.e, warning_count = n.w"
                 f" from n where n.file = records.key{only('records.key')}", [ERROR, WARNING, *args])


CORPUS_CHUNK = 500  # records read back at a time for the corpus check


def _id_groups(rows: Iterable[tuple], files: Files) -> Iterator[list[Record]]:
    """The records of (id, key, frontmatter, ...) rows ordered by id, about CORPUS_CHUNK at a time,
    never splitting the records of one id: check_corpus compares records within an id, so each
    chunk is checked on its own (given every id of the corpus), and memory stays flat whatever the
    corpus size."""
    chunk: list[Record] = []
    last = None
    for rid, k, fm, lang, fmt, fm_text, line, digest in rows:
        if len(chunk) >= CORPUS_CHUNK and (rid is None or rid != last):
            yield chunk
            chunk = []
        chunk.append(Record(files[k].path, json.loads(fm), "", lang, fmt, fm_text, FM_LINE, line, digest))
        last = rid
    if chunk:
        yield chunk


def _write_meta(conn: sqlite3.Connection, fingerprint: str, commit: str | None, started: float, stats: dict) -> tuple[int, int]:
    """Stamp the build; written last in the transaction, so only a complete build carries it."""
    schema_file = resource_path("schema/policy-record.schema.json")
    n, errors = conn.execute("select count(*), count(*) filter (where severity = 'error') from findings").fetchone()
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    (records,) = conn.execute("select count(*) from records").fetchone()
    meta = {"built_at": built_at, "version": kb.__version__, "layout": LAYOUT, "fingerprint": fingerprint,
            "schema_id": schema().get("$id", ""), "schema_sha256": hashlib.sha256(schema_file.read_bytes()).hexdigest(),
            "source_commit": commit or "", "record_count": str(records), "file_count": str(stats["files"])}
    conn.executemany("insert or replace into kb_meta (key, value) values (?, ?)", list(meta.items()))
    build = BuildRow(built_at=built_at, seconds=round(time.perf_counter() - started, 3), **stats,
                     findings=n, errors=errors, version=kb.__version__, source_commit=commit or "")
    conn.execute(BUILDS.insert_sql(), build)
    return n, errors


def _verify(conn: sqlite3.Connection, touched: list[str] | None) -> None:
    """A full build checks the whole file. An incremental one checks only the rows it wrote: the
    rest was checked by the build that wrote it, and a whole-file check costs O(database) (~1.6 s
    at 1,000 records) where the update itself costs O(change). SQLite's own b-tree writes within
    this transaction are trusted."""
    if touched is None:
        # quick_check: every page, record and constraint, without integrity_check's index-by-index
        # recount (a third of the time on a fresh file that SQLite itself just wrote).
        result = [line for (line,) in conn.execute("PRAGMA quick_check")]
        if result != ["ok"]:
            raise sqlite3.DatabaseError(f"integrity check failed: {'; '.join(result[:5])}")
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    else:
        keys = json.dumps(touched)
        broken = []
        for table in BUILD_TABLES:
            for column, other, other_column in table.references():
                broken += conn.execute(
                    f"select '{table.name}', rowid from [{table.name}] where [{table.owner}] in (select value from json_each(?))"
                    f" and [{column}] is not null and [{column}] not in (select [{other_column}] from [{other}])", [keys]).fetchall()
    if broken:
        raise sqlite3.DatabaseError(f"{len(broken)} rows point at missing rows, e.g. {broken[0]}")


# --- the extraction seam ----------------------------------------------------------------------


def _extract(record: Record):
    """The seam to kb.extract (tests replace it), imported lazily to keep start-up light."""
    from kb.extract import extract

    return extract(record)
