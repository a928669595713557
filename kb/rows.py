"""The per-file half of a build: one record file in, the rows of every table it owns out.

Everything here is a pure function of the file's bytes (and the code), so a build can run it in
worker processes and only insert the results: `file_rows` returns the row records kb.tables
declares (NamedTuples, ready for `executemany` as they are). kb.publish owns the transaction;
this module never touches a database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from enum import Enum
from operator import attrgetter
from typing import Any

from kb import search
from kb.records import Record, RecordError, confine, read_bytes
from kb.suggest import regulatory_suggestions
from kb.tables import (
    CLAUSES,
    FILE_TABLES,
    MEASURES,
    RECORDS,
    AnalysisRow,
    ClauseRow,
    ClusterRow,
    FacilityRow,
    FileRow,
    FindingRow,
    ImpactRow,
    MeasureRow,
    RecordRow,
    RecordTextRow,
    RegulatoryRow,
    SuggestionRow,
    SupersedesRow,
    Table,
)
from kb.validation import ERROR, Finding, check_file, lookup, vocabulary_fields

# Column -> frontmatter path, for the columns of records that copy a field as written.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {c.name: c.field for c in RECORDS.columns if c.field}
# Vocabulary-backed column -> the column holding its canonical key.
KEY_COLUMNS = {"country": "country_code", "category": "category_key", "status": "status_key",
               "legal_weight": "legal_weight_key", "review_status": "review_status_key"}
COUNTRY_LABELS = ("en", "zh", "ja")

Rows = dict[str, list[tuple]]  # table name -> its row records, in insert order
Extract = Callable[[Record], Any]


def file_rows(key: str, path: str, digest: str | None, stat: tuple[int, int] | None, root: str, confined: bool,
              extract: Extract) -> Rows:
    """Check and extract one file. `stat` is (size, mtime_ns) when it may be trusted by the next
    build, else None; `root` is the folder it belongs to, and when `confined` (found in a folder
    given, not named on its own) its real path must stay inside it; `extract` is the clause and
    measure extractor (kb.publish's seam)."""
    rows: Rows = {t.name: [] for t in FILE_TABLES}
    checked = check_file(path, root if confined else None)
    findings = list(checked.findings)
    record = checked.record
    if record is not None:
        rows["records"].append(_record_row(key, record))
        rows["record_texts"].append(RecordTextRow(key, json.dumps(record.meta, ensure_ascii=False), record.fm_text, record.body))
        for table, row in _child_rows(key, record.meta):
            rows[table].append(row)
        findings += _extraction_rows(key, record, rows, extract)
        rows["search_records"].append(search.record_row(key, record.meta.get("title"), record.meta.get("description"), record.lang))
        rows["search_clauses"] = search.clause_rows(key, rows["clauses"], rows["measures"], record.lang)
    rows["findings"] = [finding_row(key, f, "file") for f in sorted(findings, key=Finding.sort_key)]
    if record is not None:
        digest = record.sha256
    elif digest is None:
        digest = sha256(path, root if confined else None)
    size, mtime = stat or (None, None)
    rows["files"].append(FileRow(key=key, path=path, sha256=digest, published=int(record is not None), size=size,
                                 mtime_ns=mtime, root=root))
    for table in _UNTRUSTED:
        rows[table] = _storable_rows(rows[table])
    return rows


# Tables whose text can hold lone surrogates: a file name that is not UTF-8 is decoded with
# surrogate escapes, and a JSON frontmatter may spell one as \ud800. SQLite only takes valid
# UTF-8. Clause, measure and body text come from a strictly decoded body and cannot hold them.
_UNTRUSTED = [t.name for t in FILE_TABLES if t.name not in ("clauses", "measures", "search_clauses")]


def _storable_rows(rows: list[tuple]) -> list[tuple]:
    """rows as SQLite takes them: text as valid UTF-8, integers within 64 bits. A value outside
    either is already a validation finding with its position; here it must not stop the build."""
    try:
        "\0".join(v for row in rows for v in row if type(v) is str).encode("utf-8")
        text_ok = True  # the usual case: one pass in C, nothing to change
    except UnicodeEncodeError:
        text_ok = False
    if text_ok and all(_INT_MIN <= v <= _INT_MAX for row in rows for v in row if type(v) is int):
        return rows
    return [row._make(storable(v) if type(v) is str else _storable_int(v) if type(v) is int else v for v in row)
            for row in rows]


_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1  # SQLite's INTEGER


def _storable_int(v: int) -> int | str:
    """An integer SQLite can store; one beyond 64 bits is kept as its decimal text."""
    return v if _INT_MIN <= v <= _INT_MAX else str(v)


def storable(text: str) -> str:
    """`text` as valid UTF-8 for SQLite: each lone surrogate becomes its escape (a file name's
    byte 0xE9, decoded as U+DCE9, is stored as \\udce9), which keeps distinct names distinct."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def sha256(path, root: str | None = None) -> str | None:
    """The hash of a regular file's bytes, or None for anything the loader will reject anyway (too
    large, not a regular file, unreadable): those are never cached, and a FIFO is never opened
    for a blocking read."""
    try:
        if root is not None:
            confine(path, root)  # nor is a link out of the corpus folder read to be hashed
        return hashlib.sha256(read_bytes(path)).hexdigest()
    except RecordError:
        return None


def finding_row(key: str | None, f: Finding, scope: str) -> FindingRow:
    return FindingRow(file=key, path=f.path, line=f.line, col=f.col, severity=f.severity, rule=f.rule, field=f.field,
                      message=f.message, record=f.record, scope=scope)


def _record_row(key: str, record: Record) -> RecordRow:
    meta = record.meta
    row: dict[str, Any] = {c: _scalar(_get(meta, p)) for c, p in FIELD_COLUMNS.items()}
    row["lang"] = record.lang  # the resolved language, also when the field is absent
    row["year"] = _year(meta.get("year"))
    vocab_of = vocabulary_fields()
    for column, key_column in KEY_COLUMNS.items():
        field = FIELD_COLUMNS[column][0]
        row[key_column] = _vocab_key(vocab_of[field], meta.get(field))
    from kb.vocabularies import jurisdiction, vocabulary

    if row["country_code"]:  # a province or state: the record counts for its country
        place = jurisdiction(row["country_code"])
        row["country_code"], row["subdivision_code"] = place.country, place.subdivision
    for lang in COUNTRY_LABELS:
        code = row["country_code"]
        row[f"country_{lang}"] = vocabulary("country").label(code, lang) if code else None
    row.update(key=key, path=record.path, sha256=record.sha256, fm_format=record.fm_format,
               body_line=record.body_line, error_count=0, warning_count=0)
    return RecordRow(**row)


def _child_rows(key: str, meta: dict) -> Iterable[tuple[str, tuple]]:
    """(table, row) of each frontmatter entry with a table of its own."""
    analysis = meta.get("analysis")
    for dim, entry in (analysis.items() if isinstance(analysis, dict) else ()):
        e = entry if isinstance(entry, dict) else {}
        yield "analysis", AnalysisRow(record=key, dimension=dim, label=_scalar(e.get("label")), score=_scalar(e.get("score")),
                                      evidence=_scalar(e.get("evidence")), citation=_scalar(e.get("citation")),
                                      audit_note=_scalar(e.get("auditNote")))
    for name, text in _items(meta.get("impactAnalysis")):
        yield "impacts", ImpactRow(record=key, aspect=name, text=_scalar(text))
    for name, text in _items(meta.get("regulatory")):
        yield "regulatory", RegulatoryRow(record=key, field=name, text=_scalar(text))
    evolution = meta.get("evolution") if isinstance(meta.get("evolution"), dict) else {}
    for cluster in _list(evolution.get("clusters")):
        yield "clusters", ClusterRow(record=key, cluster=_scalar(cluster))
    for target in _list(evolution.get("supersedes")):
        yield "supersedes", SupersedesRow(record=key, target_id=_scalar(target), relation="supersedes")
    by = evolution.get("supersededBy")
    if by not in (None, ""):
        yield "supersedes", SupersedesRow(record=key, target_id=_scalar(by), relation="superseded_by")
    for facility in _list(meta.get("relatedFacilities")):
        yield "related_facilities", FacilityRow(record=key, facility=None if facility is None else str(_scalar(facility)))


def _extraction_rows(key: str, record: Record, rows: Rows, extract: Extract) -> list[Finding]:
    """Clauses and measures of a record. A failing extractor becomes a finding on the file rather
    than stopping the build: the record is still published."""
    try:
        extraction = extract(record)
    except Exception as exc:  # noqa: BLE001 - any extractor bug is reported, never swallowed
        message = f"clause and measure extraction failed: {type(exc).__name__}: {exc}"
        return [Finding(record.path, record.body_line, 1, ERROR, "publish.extract", "", message, record.id)]
    # Ids are prefixed with the file key: a record and its translation share `record_id`. Rows are
    # built as tuples straight from the fields (a dict per row cost half as much as extraction's
    # own bookkeeping); _scalar runs only on a value SQLite could not store as it is.
    clauses = [ClauseRow(f"{key}#{x.id}", key, *_plain(_CLAUSE_FIELDS(x))) for x in extraction.clauses]
    measures = [MeasureRow(f"{key}#{x.id}", key, x.record_id, None if x.clause_id is None else f"{key}#{x.clause_id}",
                           *_plain(_MEASURE_FIELDS(x))) for x in extraction.measures]
    ids = [c.id for c in clauses]
    dangling = {m.clause_id for m in measures} - set(ids) - {None}
    if len(set(ids)) < len(ids) or len({m.id for m in measures}) < len(measures) or dangling:
        message = "clause and measure extraction gave duplicate ids or measures of unknown clauses; none were published"
        return [Finding(record.path, record.body_line, 1, ERROR, "publish.extract", "", message, record.id)]
    rows["clauses"] += clauses
    rows["measures"] += measures
    rows["suggestions"] += [SuggestionRow(record=key, field=s.field.removeprefix("regulatory."), value=s.value,
                                          clause_id=f"{key}#{s.clause_id}", quote=s.evidence.text, line=s.evidence.line)
                            for s in regulatory_suggestions(record.meta, extraction.clauses, extraction.measures)]
    return []


def _copied(table: Table, *computed: str) -> attrgetter:
    """The getter of the columns a row copies from the extractor's object of the same field names:
    all but the leading `computed` ones, which the build makes itself (keys prefixed by the file)."""
    names = table.names
    if names[:len(computed)] != list(computed):
        raise TypeError(f"{table.name} must start with the columns {computed}, not {names[:len(computed)]}")
    return attrgetter(*names[len(computed):])


_CLAUSE_FIELDS = _copied(CLAUSES, "id", "record")
_MEASURE_FIELDS = _copied(MEASURES, "id", "record", "record_id", "clause_id")
_STORABLE = (str, int, float, type(None))


def _plain(values: tuple) -> tuple:
    """values as SQLite stores them: as they are in the usual case, else through _scalar (an
    Enum, a Decimal, a nested value)."""
    if all(type(v) in _STORABLE for v in values):
        return values
    return tuple(map(_scalar, values))


def _get(meta: dict, path: tuple[str, ...]) -> Any:
    value: Any = meta
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _vocab_key(name: str, value: Any) -> str | None:
    """The canonical key, or None when the value is not in the vocabulary (a validation finding).
    Goes through validation's memoised lookup: a corpus repeats the same few labels."""
    if not isinstance(value, str):
        return None
    match = lookup(name, value)
    return match.term.key if match else None


def _year(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())  # a quoted year is a schema finding, but still worth a facet
    return None


def _items(value: Any) -> Iterable[tuple[str, Any]]:
    return value.items() if isinstance(value, dict) else ()


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
