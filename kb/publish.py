"""Publishing records to SQLite (sqlite-utils) for browsing in Datasette.

One row per record *file* in `records`, keyed by its path relative to the build root, so a record
and its translation are two rows. Child tables (analysis, impacts, ..., clauses, measures) point
back with a `record` foreign key; `findings` holds every validation finding, including those of
files that could not be read as records. The texts of a record (body, frontmatter) sit in
`record_texts`, so that pages listing records stay small.

The per-file work (checking, extraction, search segmentation) is kb/rows.py; for many files it
runs in forked worker processes while this process only inserts, in input order, so the database
does not depend on the number of workers.

Builds are atomic: everything is written to a temporary file beside the target, checked, then
moved into place with `os.replace`, so a reader never sees a half-built database and a failed
build leaves the previous one untouched. Builds are incremental: the temporary file starts as a
copy of the previous database and only files whose sha256 changed are parsed again (a file whose
size and mtime match the last build's is not even hashed). Any change
to the code, data or schema changes a fingerprint and forces a full rebuild, so cached rows never
outlive the rules that produced them. The search index (kb/search.py) is updated in the same
transaction, for the changed and removed files only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, ContextManager, Iterable, Iterator

import sqlite_utils

import kb
from kb import rows as _rows
from kb import search
from kb.records import Record, iter_record_paths
from kb.rows import (CHILDREN, COUNTRY_LABELS, FIELD_COLUMNS, FILE_TABLES, FILES, FINDINGS, KEY_COLUMNS, RECORD_TEXTS,  # noqa: F401
                     RECORDS, _scalar, _storable_rows, _year, finding_row, storable)
from kb.validation import ERROR, WARNING, Finding, check_corpus, resource_path, schema

LAYOUT = "2"  # bump when tables change shape: an older database is then rebuilt from scratch
BATCH = 2000  # rows per executemany
FM_LINE = 2  # parse_record always starts the frontmatter on the file's second line
PARALLEL_MIN_FILES = 64  # below this, forking workers costs more than it saves
# A file's (size, mtime_ns) stands in for its hash only when it was modified this long before the
# scan: a write landing in the same timestamp tick as the scan could otherwise go unnoticed.
RACY_NS = 2_000_000_000

BUILDS = {"built_at": str, "seconds": float, "files": int, "added": int, "changed": int, "unchanged": int,
          "removed": int, "findings": int, "errors": int, "version": str, "source_commit": str}
INDEXES = {
    "records": ["id", "lang", "country_code", "category_key", "status_key", "legal_weight_key", "year", "review_status_key"],
    **{t: ["record"] for t in CHILDREN}, "measures": ["record", "clause_id", "kind", "role", "unit"],
    "findings": ["file", "severity", "rule", "path"],
}
# Datasette settings for serving: suggested facets cost ~0.6 s a page; long cells are cut in HTML.
SETTINGS = {"sql_time_limit_ms": 1000, "max_returned_rows": 1000, "suggest_facets": False, "truncate_cells_html": 300}
_INSERT = {t: f"insert into [{t}] ({', '.join(f'[{c}]' for c in cols)}) values ({', '.join('?' * len(cols))})"
           for t, cols in FILE_TABLES.items()}


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
        how = "full build" if self.full else f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged, {self.removed} removed"
        state = "" if self.written else "; up to date, not rewritten"
        return (f"{self.files} files ({how}); {self.findings} findings, {self.errors} errors"
                f" -> {self.db_path} in {self.seconds:.2f}s{state}")


# --- entry point -------------------------------------------------------------------------------


def build(paths: Iterable[str | Path], db_path: str | Path, *, progress: Callable[[list], ContextManager[Iterable]] | None = None) -> BuildReport:
    """Publish the record files under `paths` into `db_path`. `progress`, when given, wraps the
    list of files to process and returns an iterable context (e.g. a click.progressbar)."""
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    db_path = Path(db_path)
    old = _read_state(db_path)
    fingerprint = _fingerprint()
    full = old is None or old["meta"].get("layout") != LAYOUT or old["meta"].get("fingerprint") != fingerprint
    manifest = {} if full else old["files"]
    root, files = _scan(paths, manifest, hash_changed=not full)
    commit = _git_commit(root)
    unchanged = {k for k, (_, digest, _) in files.items() if digest and manifest.get(k, (None,))[0] == digest}
    todo = [k for k in files if k not in unchanged]
    removed = [k for k in manifest if k not in files]
    if not full and not todo and not removed and old["meta"].get("source_commit") == (commit or ""):
        # Stats that became trustworthy since are not worth a rewrite: the next written build stores them.
        return BuildReport(str(db_path), len(files), 0, 0, len(unchanged), 0, old["findings"], old["errors"],
                           time.perf_counter() - started, written=False, full=False)
    added, changed = [k for k in todo if k not in manifest], [k for k in todo if k in manifest]
    touched = None if full else todo + removed
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_temps(db_path)
    tmp = db_path.with_name(f".{db_path.name}.tmp-{os.getpid()}")
    db = None
    try:
        if not full:
            _copy(db_path, tmp)
        db = sqlite_utils.Database(tmp)
        db.execute("PRAGMA journal_mode = MEMORY")  # the file is disposable until renamed
        db.execute("PRAGMA synchronous = OFF")
        if full:
            _create_tables(db)
        with db.atomic():
            search.prepare(db.conn, touched)  # unindexes the old rows while their text is still there
            _delete(db, changed + removed)
            _publish(db, todo, files, progress)
            _path_moves(db, files, unchanged)
            _corpus(db, files, touched)
            search.finish(db.conn, touched)
            stats = {"files": len(files), "added": len(added), "changed": len(changed),
                     "unchanged": len(unchanged), "removed": len(removed)}
            findings, errors = _write_meta(db, fingerprint, commit, started, stats)
        _create_indexes(db)
        _verify(db, touched)
        db.close()
        with open(tmp, "rb+") as fh:  # synchronous=OFF skipped the syncs; make the bytes durable once
            os.fsync(fh.fileno())
        os.replace(tmp, db_path)
    except BaseException:
        if db is not None:
            db.close()
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)
        raise
    return BuildReport(str(db_path), findings=findings, errors=errors, seconds=time.perf_counter() - started,
                       written=True, full=full, **stats)


# --- files -------------------------------------------------------------------------------------

Files = dict[str, tuple[str, "str | None", "tuple[int, int] | None"]]


def _scan(paths: list[Path], manifest: dict, *, hash_changed: bool) -> tuple[str, Files]:
    """The build root and {file key: (path as given, sha256 or None, (size, mtime_ns) or None)}.
    Keys are paths relative to the common folder of the arguments, so they survive a change of
    cwd. A file whose size and mtime match the manifest keeps its recorded hash unread; others
    are hashed when `hash_changed` (an incremental build must compare them), else left to the
    workers, which read every file anyway. The stat is kept only when old enough to trust."""
    found = iter_record_paths(paths)  # FileNotFoundError for a missing argument: a usage error
    bases = [os.path.abspath(p if p.is_dir() else p.parent) for p in paths] or [os.getcwd()]
    root = os.path.commonpath(bases)
    trusted_before = time.time_ns() - RACY_NS
    files: Files = {}
    for f in found:
        key = storable(Path(os.path.relpath(os.path.abspath(f), root)).as_posix())
        if key in files:
            continue
        try:
            st = f.stat()
            stat = (st.st_size, st.st_mtime_ns) if st.st_mtime_ns < trusted_before else None
        except OSError:
            stat = None
        known = manifest.get(key)
        if stat is not None and known is not None and known[0] and tuple(known[1:]) == stat:
            digest = known[0]
        else:
            digest = _rows.sha256(f) if hash_changed else None
        files[key] = (str(f), digest, stat)
    return root, files


def _read_state(db_path: Path) -> dict | None:
    """What the previous build left: its kb_meta, file manifest and finding counts. None when
    there is no database (or an empty file); PublishError when the file is not ours."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
            if "kb_meta" not in tables:
                raise PublishError(f"{db_path} is a SQLite database but not one built by policy-kb; refusing to overwrite it")
            meta = dict(conn.execute("select key, value from kb_meta"))
            if meta.get("layout") != LAYOUT:
                return {"meta": meta, "files": {}, "findings": 0, "errors": 0}
            manifest = {k: (digest, size, mtime) for k, digest, size, mtime in
                        conn.execute("select key, sha256, size, mtime_ns from files")}
            n, errors = conn.execute("select count(*), count(*) filter (where severity = 'error') from findings").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise PublishError(f"{db_path} is not a SQLite database ({exc}); refusing to overwrite it") from None
    return {"meta": meta, "files": manifest, "findings": n, "errors": errors}


def _copy(src: Path, dst: Path) -> None:
    """Start the new database as a copy of the old one. A plain file copy (kernel-side, ~10x the
    backup API's speed) is consistent because a published database is never written in place:
    builds write a temporary file and rename it over the old one, and readers open it read-only,
    so the bytes under `src` cannot change while they are copied (a rename only swaps which file
    the name points at; the open descriptor keeps reading the old one)."""
    shutil.copyfile(src, dst)


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


def _fingerprint() -> str:
    """Hash of everything that shapes a file's rows: code, data files, schema, layout."""
    h = hashlib.sha256(LAYOUT.encode())
    package = Path(kb.__file__).resolve().parent
    sources = sorted(package.glob("*.py")) + sorted(p for p in (package / "data").rglob("*") if p.is_file())
    for p in sources + [resource_path("schema/policy-record.schema.json")]:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _git_commit(root: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


# --- tables ------------------------------------------------------------------------------------


def _create_tables(db: sqlite_utils.Database) -> None:
    db["records"].create(RECORDS, pk="key")
    db["record_texts"].create(RECORD_TEXTS, pk="key", foreign_keys=[("key", "records", "key")])
    for name, columns in CHILDREN.items():
        fks = [("record", "records", "key")] + ([("clause_id", "clauses", "id")] if name == "measures" else [])
        db[name].create(columns, pk="id" if "id" in columns else None, foreign_keys=fks)
    db["findings"].create(FINDINGS)
    db["files"].create(FILES, pk="key")
    db["kb_meta"].create({"key": str, "value": str}, pk="key")
    db["builds"].create(BUILDS)


def _create_indexes(db: sqlite_utils.Database) -> None:
    """Run after the bulk load: building an index once is cheaper than maintaining it per row."""
    for table, columns in INDEXES.items():
        for column in columns:
            db[table].create_index([column], if_not_exists=True)


# Every table with rows of a file, and the column naming the file: children first, so no row ever
# points at a missing one.
OWNED = [*((t, "record") for t in reversed(CHILDREN)), ("findings", "file"), ("record_texts", "key"),
         ("records", "key"), ("files", "key")]


def _delete(db: sqlite_utils.Database, keys: list[str]) -> None:
    """Every row of the given files (their search rows are kb.search's business)."""
    for table, column in OWNED if keys else ():
        db.execute(f"delete from [{table}] where [{column}] in (select value from json_each(?))", [json.dumps(keys)])


def _publish(db: sqlite_utils.Database, todo: list[str], files: Files, progress) -> None:
    """Check and extract each new or changed file (in worker processes for many files) and
    insert its rows, in the order of `todo` whatever the number of workers."""
    pending: dict[str, list[tuple]] = {t: [] for t in FILE_TABLES}
    count = 0
    with (progress or nullcontext)(todo) as bar, _FileRows(todo, files) as results:
        for _, rows in zip(bar, results):
            for table, batch in rows.items():
                pending[table] += batch
                count += len(batch)
            if count >= BATCH:
                _flush(db, pending)
                count = 0
    _flush(db, pending)


def _flush(db: sqlite_utils.Database, pending: dict[str, list[tuple]]) -> None:
    for table, batch in pending.items():  # dict order puts records before the tables citing them
        if batch:
            db.conn.executemany(_INSERT[table], batch)
            batch.clear()


class _FileRows:
    """Context manager over an iterator of each file's rows, in input order. Many files go to a
    pool of forked workers (they inherit the loaded dictionaries and compiled schema); imap hands
    results back in order as they arrive. The tasks queued are only paths, and results do not pile
    up because inserting a file's rows costs a fraction of producing them, so memory stays flat
    whatever the corpus size (peak RSS ~230-250 MB per process from 200 to 5,000 records)."""

    def __init__(self, todo: list[str], files: Files):
        self.items = [(k, *files[k]) for k in todo]
        self.pool = None

    def __enter__(self) -> Iterator[_rows.Rows]:
        workers = os.cpu_count() or 1
        if workers < 2 or len(self.items) < PARALLEL_MIN_FILES:
            return map(_work, self.items)
        import multiprocessing

        _warm()
        self.pool = multiprocessing.get_context("fork").Pool(workers)
        return self.pool.imap(_work, self.items, chunksize=max(1, min(8, len(self.items) // (workers * 16))))

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate()  # every result was consumed, or the build is failing anyway
            self.pool.join()


def _work(item: tuple) -> _rows.Rows:
    # _extract is looked up here, at call time, so a replaced seam (tests) reaches forked workers.
    return _rows.file_rows(*item, extract=_extract)


def _warm() -> None:
    """Load what every worker needs once, before forking, instead of once per worker."""
    from kb import tokens, validation

    validation._fast_check(), validation.quality_rules(), validation.vocabulary_fields()
    tokens.tokenize("日本語の文です。", "ja"), tokens.tokenize("中文句子。", "zh")
    search.role_labels()


def _path_moves(db: sqlite_utils.Database, files: Files, unchanged: set[str]) -> None:
    """Unchanged files keep their rows, but show the path of this build (the cwd may differ), and
    their stats are refreshed so the next build can skip hashing them."""
    moved = [(storable(files[k][0]), k, storable(files[k][0])) for k in unchanged]
    for table, column in (("records", "key"), ("findings", "file")):
        db.conn.executemany(f"update {table} set path = ? where {column} = ? and path is not ?", moved)
    db.conn.executemany("update files set path = ?, size = ?, mtime_ns = ? where key = ?",
                        [(storable(files[k][0]), *(files[k][2] or (None, None)), k) for k in unchanged])


def _corpus(db: sqlite_utils.Database, files: Files, touched: list[str] | None) -> None:
    """Recompute corpus findings over every published record, then the finding counts of the
    records whose findings may have changed: all on a full build, else the touched files and
    those with corpus findings before or after (recounting every record costs O(corpus))."""
    corpus_files = "select distinct file from findings where scope = 'corpus' and file is not null"
    affected = None if touched is None else {*touched, *(r[0] for r in db.execute(corpus_files))}
    db.execute("delete from findings where scope = 'corpus'")
    records = [Record(files[k][0], json.loads(fm), "", lang, fmt, fm_text, FM_LINE, line, digest)
               for k, fm, lang, fmt, fm_text, line, digest in
               db.execute("select r.key, t.frontmatter, r.lang, r.fm_format, t.fm_text, r.body_line, r.sha256"
                          " from records r join record_texts t on t.key = r.key order by r.key")]
    key_of = {p: k for k, (p, _, _) in files.items()}
    found = sorted(check_corpus(records), key=Finding.sort_key)
    rows = _storable_rows([finding_row(key_of.get(f.path), f, "corpus") for f in found])
    db.conn.executemany(_INSERT["findings"], rows)
    where, args = "", []
    if affected is not None:
        where, args = " and key in (select value from json_each(?))", [json.dumps(sorted(affected | {r[0] for r in rows}))]
    # One grouped pass over findings rather than a subquery per record: on a full build the index
    # on findings.file does not exist yet, and 5,000 subqueries each scanning findings cost ~2 s.
    db.execute(f"update records set error_count = 0, warning_count = 0 where 1{where}", args)
    db.execute("with n as (select file, count(*) filter (where severity = ?) as e, count(*) filter (where severity = ?) as w"
               " from findings group by file) update records set error_count = n.e, warning_count = n.w"
               f" from n where n.file = records.key{where}", [ERROR, WARNING, *args])


def _write_meta(db: sqlite_utils.Database, fingerprint: str, commit: str | None, started: float, stats: dict) -> tuple[int, int]:
    """Stamp the build; written last in the transaction, so only a complete build carries it."""
    schema_file = resource_path("schema/policy-record.schema.json")
    n, errors = db.execute("select count(*), count(*) filter (where severity = 'error') from findings").fetchone()
    built_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    meta = {"built_at": built_at, "version": kb.__version__, "layout": LAYOUT, "fingerprint": fingerprint,
            "schema_id": schema().get("$id", ""), "schema_sha256": hashlib.sha256(schema_file.read_bytes()).hexdigest(),
            "source_commit": commit or "", "record_count": str(db["records"].count), "file_count": str(stats["files"])}
    db["kb_meta"].upsert_all([{"key": k, "value": v} for k, v in meta.items()], pk="key")
    db["builds"].insert({"built_at": built_at, "seconds": round(time.perf_counter() - started, 3), **stats,
                         "findings": n, "errors": errors, "version": kb.__version__, "source_commit": commit or ""})
    return n, errors


def _verify(db: sqlite_utils.Database, touched: list[str] | None) -> None:
    """A full build checks the whole file. An incremental one checks only the rows it wrote:
    the rest was checked by the build that wrote it and copied byte for byte, and a whole-file
    check would cost as much as the copy and the update together (O(database), ~1.6 s at 1,000
    records). SQLite's own b-tree writes within this transaction are trusted."""
    if touched is None:
        result = [r[0] for r in db.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise sqlite3.DatabaseError(f"integrity check failed: {'; '.join(result[:5])}")
        broken = db.execute("PRAGMA foreign_key_check").fetchall()
    else:
        keys = json.dumps(touched)
        broken = []
        for table, column in OWNED:
            if table in CHILDREN or table == "record_texts":
                broken += db.execute(
                    f"select '{table}', rowid from [{table}] where [{column}] in (select value from json_each(?))"
                    f" and [{column}] not in (select key from records)", [keys]).fetchall()
        broken += db.execute("select 'measures', rowid from measures where record in (select value from json_each(?))"
                             " and clause_id is not null and clause_id not in (select id from clauses)", [keys]).fetchall()
    if broken:
        raise sqlite3.DatabaseError(f"{len(broken)} rows point at missing rows, e.g. {broken[0]}")


# --- the extraction seam ----------------------------------------------------------------------


def _extract(record: Record):
    """The seam to kb.measures (tests replace it), imported lazily to keep start-up light."""
    from kb.measures import extract

    return extract(record)
