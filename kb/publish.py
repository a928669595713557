"""Publishing records to SQLite (sqlite-utils) for browsing in Datasette.

One row per record *file* in `records`, keyed by its path relative to the build root, so a record
and its translation are two rows. Child tables (analysis, impacts, ..., clauses, measures) point
back with a `record` foreign key; `findings` holds every validation finding, including those of
files that could not be read as records.

Builds are atomic: everything is written to a temporary file beside the target, checked, then
moved into place with `os.replace`, so a reader never sees a half-built database and a failed
build leaves the previous one untouched. Builds are incremental: the temporary file starts as a
copy of the previous database and only files whose sha256 changed are parsed again. Any change
to the code, data or schema changes a fingerprint and forces a full rebuild, so cached rows never
outlive the rules that produced them. The search index (kb/search.py) is updated in the same
transaction, for the changed and removed files only.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable

import sqlite_utils

import kb
from kb import search
from kb.records import MAX_BYTES, Record, iter_record_paths
from kb.validation import ERROR, WARNING, Finding, check_corpus, check_file, resource_path, schema, vocabulary_fields

LAYOUT = "1"  # bump when tables change shape: an older database is then rebuilt from scratch
BATCH = 500
FM_LINE = 2  # parse_record always starts the frontmatter on the file's second line

# Column -> frontmatter path, for columns that copy a field as written. The metadata test checks
# that these columns carry the schema's description of the field.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id",), "lang": ("lang",), "title": ("title",), "country": ("country",),
    "category": ("category",), "status": ("status",), "legal_weight": ("legalWeight",),
    "pub_date": ("pubDate",), "year": ("year",), "source": ("source",), "url": ("url",),
    "review_status": ("reviewStatus",), "description": ("description",),
    "provenance_author": ("provenance", "author"), "provenance_reviewer": ("provenance", "reviewer"),
    "provenance_last_audit": ("provenance", "lastAuditDate"),
    "provenance_source_file": ("provenance", "sourceFile"), "provenance_note": ("provenance", "note"),
}
# Vocabulary-backed column -> the column holding its canonical key.
KEY_COLUMNS = {"country": "country_code", "category": "category_key", "status": "status_key",
               "legal_weight": "legal_weight_key", "review_status": "review_status_key"}
COUNTRY_LABELS = ("en", "zh", "ja")

S, I, F = str, int, float
_TEXT = ["key", "id", "lang", "title", "country", "country_code", "country_en", "country_zh", "country_ja",
         "category", "category_key", "status", "status_key", "legal_weight", "legal_weight_key", "pub_date"]
RECORDS = {**{c: S for c in _TEXT}, "year": I, **{c: S for c in [
    "source", "url", "review_status", "review_status_key", *[c for c in FIELD_COLUMNS if c.startswith("provenance")],
    "description", "path", "sha256", "fm_format", "frontmatter", "fm_text", "body"]}, "body_line": I, "error_count": I, "warning_count": I}
CHILDREN: dict[str, dict[str, type]] = {
    "analysis": {"record": S, "dimension": S, "label": S, "score": I, "evidence": S, "citation": S, "audit_note": S},
    "impacts": {"record": S, "aspect": S, "text": S},
    "regulatory": {"record": S, "field": S, "text": S},
    "clusters": {"record": S, "cluster": S},
    "supersedes": {"record": S, "target_id": S, "relation": S},
    "related_facilities": {"record": S, "facility": S},
    "clauses": {"id": S, "record": S, "record_id": S, "ordinal": I, "start": I, "end": I, "line": I,
                "section": S, "kind": S, "lang": S, "text": S},
    "measures": {"id": S, "record": S, "record_id": S, "clause_id": S, "kind": S, "role": S, "value": F,
                 "value_max": F, "unit": S, "comparator": S, "surface": S, "start": I, "end": I, "line": I},
}
FINDINGS = {"file": S, "path": S, "line": I, "col": I, "severity": S, "rule": S, "field": S,
            "message": S, "record": S, "scope": S}
FILES = {"key": S, "path": S, "sha256": S, "published": I}
BUILDS = {"built_at": S, "seconds": F, "files": I, "added": I, "changed": I, "unchanged": I,
          "removed": I, "findings": I, "errors": I, "version": S, "source_commit": S}
INDEXES = {
    "records": ["id", "lang", "country_code", "category_key", "status_key", "legal_weight_key", "year", "review_status_key"],
    **{t: ["record"] for t in CHILDREN}, "measures": ["record", "clause_id", "kind", "role", "unit"],
    "findings": ["file", "severity", "rule", "path"],
}
# Datasette settings for serving: suggested facets cost ~0.6 s a page; long cells are cut in HTML.
SETTINGS = {"sql_time_limit_ms": 1000, "max_returned_rows": 1000, "suggest_facets": False, "truncate_cells_html": 300}


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
    root, files = _scan(paths)
    db_path = Path(db_path)
    old = _read_state(db_path)
    fingerprint, commit = _fingerprint(), _git_commit(root)
    full = old is None or old["meta"].get("layout") != LAYOUT or old["meta"].get("fingerprint") != fingerprint
    manifest = {} if full else old["files"]
    unchanged = {k for k, (_, digest) in files.items() if digest and manifest.get(k) == digest}
    todo = [k for k in files if k not in unchanged]
    removed = [k for k in manifest if k not in files]
    if not full and not todo and not removed and old["meta"].get("source_commit") == (commit or ""):
        return BuildReport(str(db_path), len(files), 0, 0, len(unchanged), 0, old["findings"], old["errors"],
                           time.perf_counter() - started, written=False, full=False)
    added, changed = [k for k in todo if k not in manifest], [k for k in todo if k in manifest]
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
            _delete(db, changed + removed)
            _publish(db, todo, files, progress)
            _path_moves(db, files, unchanged)
            _corpus(db, files)
            # Only the files that were reprocessed or removed get new search rows.
            search.index(db.conn, None if full else todo + removed)
            stats = {"files": len(files), "added": len(added), "changed": len(changed),
                     "unchanged": len(unchanged), "removed": len(removed)}
            findings, errors = _write_meta(db, fingerprint, commit, started, stats)
        _create_indexes(db)
        _verify(db)
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


def _scan(paths: list[Path]) -> tuple[str, dict[str, tuple[str, str | None]]]:
    """The build root and {file key: (path as given, sha256 or None when unreadable)}. Keys are
    paths relative to the common folder of the arguments, so they survive a change of cwd."""
    found = iter_record_paths(paths)  # FileNotFoundError for a missing argument: a usage error
    bases = [os.path.abspath(p if p.is_dir() else p.parent) for p in paths] or [os.getcwd()]
    root = os.path.commonpath(bases)
    files: dict[str, tuple[str, str | None]] = {}
    for f in found:
        key = Path(os.path.relpath(os.path.abspath(f), root)).as_posix()
        files.setdefault(key, (str(f), _sha256(f)))
    return root, files


def _sha256(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None  # never cached: the loader rejects it cheaply, by size, every build
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


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
            manifest = dict(conn.execute("select key, sha256 from files"))
            n, errors = conn.execute("select count(*), count(*) filter (where severity = 'error') from findings").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise PublishError(f"{db_path} is not a SQLite database ({exc}); refusing to overwrite it") from None
    return {"meta": meta, "files": manifest, "findings": n, "errors": errors}


def _copy(src: Path, dst: Path) -> None:
    """Start the new database as a consistent snapshot of the old one (the backup API copes with
    a reader holding the file open)."""
    source = sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


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
    for name, columns in CHILDREN.items():
        fks = [("record", "records", "key")] + ([("clause_id", "clauses", "id")] if name == "measures" else [])
        db[name].create(columns, pk="id" if "id" in columns else None, foreign_keys=fks)
    db["findings"].create(FINDINGS)
    db["files"].create(FILES, pk="key")
    db["kb_meta"].create({"key": S, "value": S}, pk="key")
    db["builds"].create(BUILDS)


def _create_indexes(db: sqlite_utils.Database) -> None:
    """Run after the bulk load: building an index once is cheaper than maintaining it per row."""
    for table, columns in INDEXES.items():
        for column in columns:
            db[table].create_index([column], if_not_exists=True)


def _delete(db: sqlite_utils.Database, keys: list[str]) -> None:
    """Every row of the given files, children first so no row ever points at a missing one."""
    owned = [*((t, "record") for t in reversed(CHILDREN)), ("findings", "file"), ("records", "key"), ("files", "key")]
    for table, column in owned if keys else ():
        db.execute(f"delete from [{table}] where [{column}] in (select value from json_each(?))", [json.dumps(keys)])


def _publish(db: sqlite_utils.Database, todo: list[str], files: dict, progress) -> None:
    """Check and extract each new or changed file, inserting rows in batches."""
    rows: dict[str, list[dict]] = {t: [] for t in ["records", *CHILDREN, "findings", "files"]}
    with (progress or nullcontext)(todo) as bar:
        for key in bar:
            path, digest = files[key]
            checked = check_file(path)
            findings = list(checked.findings)
            record = checked.record
            if record is not None:
                rows["records"].append(_record_row(key, record))
                for table, row in _child_rows(key, record.meta):
                    rows[table].append(row)
                findings += _extraction_rows(key, record, rows)
            rows["findings"] += [_finding_row(key, f, "file") for f in sorted(findings, key=Finding.sort_key)]
            rows["files"].append({"key": key, "path": path, "sha256": record.sha256 if record else digest,
                                  "published": int(record is not None)})
            if sum(map(len, rows.values())) >= BATCH * 4:
                _flush(db, rows)
    _flush(db, rows)


def _flush(db: sqlite_utils.Database, rows: dict[str, list[dict]]) -> None:
    for table, batch in rows.items():  # dict order puts records before the tables citing them
        if batch:
            db[table].insert_all(batch, batch_size=BATCH)
            batch.clear()


def _path_moves(db: sqlite_utils.Database, files: dict, unchanged: set[str]) -> None:
    """Unchanged files keep their rows, but show the path of this build (the cwd may differ)."""
    moved = [(files[k][0], k, files[k][0]) for k in unchanged]
    for table, column in (("records", "key"), ("files", "key"), ("findings", "file")):
        db.conn.executemany(f"update {table} set path = ? where {column} = ? and path is not ?", moved)


def _corpus(db: sqlite_utils.Database, files: dict) -> None:
    """Recompute corpus findings over every published record, then each record's counts."""
    db.execute("delete from findings where scope = 'corpus'")
    records = [Record(files[k][0], json.loads(fm), "", lang, fmt, fm_text, FM_LINE, line, digest)
               for k, fm, lang, fmt, fm_text, line, digest in
               db.execute("select key, frontmatter, lang, fm_format, fm_text, body_line, sha256 from records order by key")]
    key_of = {p: k for k, (p, _) in files.items()}
    found = sorted(check_corpus(records), key=Finding.sort_key)
    db["findings"].insert_all([_finding_row(key_of.get(f.path), f, "corpus") for f in found], batch_size=BATCH)
    for column, severity in (("error_count", ERROR), ("warning_count", WARNING)):
        db.execute(f"update records set {column} = (select count(*) from findings f where f.file = records.key"
                   f" and f.severity = ?)", [severity])


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


def _verify(db: sqlite_utils.Database) -> None:
    result = [r[0] for r in db.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise sqlite3.DatabaseError(f"integrity check failed: {'; '.join(result[:5])}")
    broken = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise sqlite3.DatabaseError(f"{len(broken)} rows point at missing rows, e.g. {broken[0]}")


# --- rows --------------------------------------------------------------------------------------


def _record_row(key: str, record: Record) -> dict:
    meta = record.meta
    row: dict[str, Any] = {c: _scalar(_get(meta, p)) for c, p in FIELD_COLUMNS.items()}
    row["lang"] = record.lang  # the resolved language, also when the field is absent
    row["year"] = _year(meta.get("year"))
    fields = {v: f for f, v in vocabulary_fields().items()}
    for column, key_column in KEY_COLUMNS.items():
        row[key_column] = _vocab_key(column, meta.get(fields.get(column, column)))
    from kb.vocabularies import vocabulary

    for lang in COUNTRY_LABELS:
        code = row["country_code"]
        row[f"country_{lang}"] = vocabulary("country").label(code, lang) if code else None
    row.update(key=key, path=record.path, sha256=record.sha256, fm_format=record.fm_format,
               frontmatter=json.dumps(meta, ensure_ascii=False), fm_text=record.fm_text, body=record.body,
               body_line=record.body_line, error_count=0, warning_count=0)
    return row


def _child_rows(key: str, meta: dict) -> Iterable[tuple[str, dict]]:
    analysis = meta.get("analysis")
    for dim, entry in (analysis.items() if isinstance(analysis, dict) else ()):
        e = entry if isinstance(entry, dict) else {}
        yield "analysis", {"record": key, "dimension": dim, "audit_note": _scalar(e.get("auditNote")),
                           **{c: _scalar(e.get(c)) for c in ("label", "score", "evidence", "citation")}}
    for table, field, column in (("impacts", "impactAnalysis", "aspect"), ("regulatory", "regulatory", "field")):
        value = meta.get(field)
        for name, text in (value.items() if isinstance(value, dict) else ()):
            yield table, {"record": key, column: name, "text": _scalar(text)}
    evolution = meta.get("evolution") if isinstance(meta.get("evolution"), dict) else {}
    for cluster in _list(evolution.get("clusters")):
        yield "clusters", {"record": key, "cluster": _scalar(cluster)}
    for target in _list(evolution.get("supersedes")):
        yield "supersedes", {"record": key, "target_id": _scalar(target), "relation": "supersedes"}
    by = evolution.get("supersededBy")
    if by not in (None, ""):
        yield "supersedes", {"record": key, "target_id": _scalar(by), "relation": "superseded_by"}
    for facility in _list(meta.get("relatedFacilities")):
        yield "related_facilities", {"record": key, "facility": None if facility is None else str(_scalar(facility))}


def _extraction_rows(key: str, record: Record, rows: dict[str, list[dict]]) -> list[Finding]:
    """Clauses and measures of a record. A failing extractor becomes a finding on the file rather
    than stopping the build: the record is still published."""
    try:
        extraction = _extract(record)
    except Exception as exc:  # noqa: BLE001 - any extractor bug is reported, never swallowed
        message = f"clause and measure extraction failed: {type(exc).__name__}: {exc}"
        return [Finding(record.path, record.body_line, 1, ERROR, "publish.extract", "", message, record.id)]
    if extraction is None:
        return []
    # Ids are prefixed with the file key: a record and its translation share `record_id`.
    clauses = [{**{c: _scalar(getattr(x, c, None)) for c in CHILDREN["clauses"]}, "record": key, "id": f"{key}#{x.id}"}
               for x in extraction.clauses]
    measures = [{**{c: _scalar(getattr(x, c, None)) for c in CHILDREN["measures"]}, "record": key, "id": f"{key}#{x.id}",
                 "clause_id": None if x.clause_id is None else f"{key}#{x.clause_id}"} for x in extraction.measures]
    ids = [c["id"] for c in clauses]
    dangling = {m["clause_id"] for m in measures} - set(ids) - {None}
    if len(set(ids)) < len(ids) or len({m["id"] for m in measures}) < len(measures) or dangling:
        message = "clause and measure extraction gave duplicate ids or measures of unknown clauses; none were published"
        return [Finding(record.path, record.body_line, 1, ERROR, "publish.extract", "", message, record.id)]
    rows["clauses"] += clauses
    rows["measures"] += measures
    return []


def _extract(record: Record):
    """The seam to kb.measures, imported lazily; None while that module does not exist yet."""
    try:
        from kb.measures import extract
    except ModuleNotFoundError as exc:
        if exc.name != "kb.measures":
            raise
        return None
    return extract(record)


def _finding_row(key: str | None, f: Finding, scope: str) -> dict:
    return {"file": key, "path": f.path, "line": f.line, "col": f.col, "severity": f.severity, "rule": f.rule,
            "field": f.field, "message": f.message, "record": f.record, "scope": scope}


def _get(meta: dict, path: tuple[str, ...]) -> Any:
    value: Any = meta
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _vocab_key(name: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    from kb.vocabularies import vocabulary

    match = vocabulary(name).lookup(value)
    return match.term.key if match else None


def _year(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())  # a quoted year is a schema finding, but still worth a facet
    return None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _scalar(value: Any) -> Any:
    """A value SQLite can store: nested values become JSON text, enums their value."""
    if isinstance(value, Enum):
        value = value.value
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    try:
        return float(value)  # Decimal, Fraction
    except (TypeError, ValueError):
        return str(value)
