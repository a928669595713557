"""Checking records: the JSON Schema, the vocabularies, data-quality warnings, and the corpus.

Every problem is a `Finding` value. Nothing here prints or exits; `kb.reporting` renders findings
and the CLI decides the exit code.
"""

from __future__ import annotations

import difflib
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from kb import regex_cache
from kb.records import Record, RecordError, RecordFile, iter_record_files, load_record
from kb.resources import load_data, load_json
from kb.workers import ordered

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    line: int
    col: int
    severity: str  # "error" | "warning"
    rule: str
    field: str  # dotted field path, "" for the file as a whole
    message: str
    record: str | None = None  # record id when known

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.col, self.rule, self.field, self.message)


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome for one file: the record (None when it could not be loaded) and its findings."""

    path: str
    record: Record | None
    findings: tuple[Finding, ...]


# --- the schema ------------------------------------------------------------------------------


@cache
def schema() -> dict:
    return load_json("schema/policy-record.schema.json")


@cache
def _validator():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


@cache
def _fast_check():
    from kb.fastschema import compile_schema

    return compile_schema(schema())


@cache
def quality_rules() -> dict:
    rules = load_data("quality.json")
    for key in ("placeholder_evidence", "pending_reviewer"):
        rules[key] = [regex_cache.compile(p, re.I) for p in rules[key]]
    return rules


@lru_cache(maxsize=4096)
def lookup(vocab_name: str, value: str):
    """Vocabulary lookups, memoised: a corpus repeats the same few dozen labels thousands of times."""
    from kb.vocabularies import vocabulary

    return vocabulary(vocab_name).lookup(value)


def vocabulary_fields() -> dict[str, str]:
    """Top-level fields whose values come from a vocabulary, read from the schema's x-vocabulary."""
    return {k: v["x-vocabulary"] for k, v in schema()["properties"].items() if "x-vocabulary" in v}


# --- one record ------------------------------------------------------------------------------


def check_file(path: str | Path, root: str | Path | None = None) -> Checked:
    """Load and check one file; with `root`, a file whose real path leaves that folder is a finding."""
    try:
        record = load_record(path, root=root)
    except RecordError as exc:
        return Checked(str(path), None, (Finding(exc.path, exc.line, exc.col, ERROR, exc.rule, "", exc.message),))
    return Checked(record.path, record, tuple(check_record(record)))


def check_record(record: Record) -> list[Finding]:
    out: list[Finding] = []
    add = _adder(record, out)
    fast = _fast_check()
    if fast is None or not fast(record.meta):
        left_empty = _unreviewed_empty(record.meta)
        for error in _validator().iter_errors(record.meta):
            if tuple(error.absolute_path) not in left_empty:
                _schema_finding(error, add)
    _empty_field_findings(record, add)
    _vocabulary_findings(record, add)
    _quality_findings(record, add)
    _text_findings(record, add)
    _self_reference_findings(record, add)
    return out


# Characters no field's text should hold: C0 controls but tab and line breaks, DEL, C1 controls,
# and the bidi controls that make text display in another order than it reads (U+202E).
_CONTROL = regex_cache.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _text_findings(record: Record, add) -> None:
    """A control or bidi character in any text field of the frontmatter."""
    stack: list[tuple[tuple, Any]] = [((), record.meta)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack += [(path + (k,), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(path + (i,), v) for i, v in enumerate(value)]
        elif isinstance(value, str) and (m := _CONTROL.search(value)):
            shown = m.group().encode("unicode_escape").decode("ascii")
            where = ".".join(map(str, path)) or "frontmatter"
            add(ERROR, "text.control-character", path,
                f"{where} holds the control character {shown} at offset {m.start()}: a text field must be plain text")


def _self_reference_findings(record: Record, add) -> None:
    """A record that supersedes, or is superseded by, itself."""
    evolution = record.meta.get("evolution")
    if not isinstance(evolution, dict) or not record.id:
        return
    sup = evolution.get("supersedes")
    for i, target in enumerate(sup if isinstance(sup, list) else []):
        if target == record.id:
            add(
                ERROR,
                "corpus.self-reference",
                ("evolution", "supersedes", i),
                f"evolution.supersedes names the record itself ({record.id!r})",
            )
    if evolution.get("supersededBy") == record.id:
        add(
            ERROR, "corpus.self-reference", ("evolution", "supersededBy"), f"evolution.supersededBy names the record itself ({record.id!r})"
        )


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _unreviewed_empty(meta: dict) -> set[tuple]:
    """Required top-level fields an unreviewed record leaves empty ("" or null): `policy-kb new`
    writes them so for what the document does not say, and a guess would be worse. Their schema
    errors become the warnings of _empty_field_findings until someone reviews the record."""
    if not _is_unreviewed(meta.get("reviewStatus")):
        return set()
    return {(k,) for k in schema()["required"] if k in meta and _is_empty(meta[k]) and k != "reviewStatus"}


def _empty_field_findings(record: Record, add) -> None:
    for (field,) in sorted(_unreviewed_empty(record.meta)):
        if field != "url":  # quality.empty-url says it already
            add(WARNING, "quality.empty-field", (field,), f"{field} is empty: the document did not say; fill it in when reviewing")


def _adder(record: Record, out: list[Finding]):
    def add(severity: str, rule: str, path: tuple, message: str, key: bool = False, field_path: tuple | None = None) -> None:
        line, col = record.locate(path, key=key)
        field = ".".join(str(p) for p in (path if field_path is None else field_path))
        out.append(Finding(record.path, line, col, severity, rule, field, message, record.id))

    return add


def _subschema(path: tuple) -> dict:
    node = schema()
    for part in path:
        props = node.get("properties", {})
        if isinstance(part, str) and part in props:
            node = props[part]
        elif isinstance(part, int) and "items" in node:
            node = node["items"]
        else:
            return {}
    return node


def _schema_finding(error, add) -> None:
    path = tuple(error.absolute_path)
    kind, value, inst = error.validator, error.validator_value, error.instance
    sub = _subschema(path)
    name = ".".join(map(str, path)) or "frontmatter"
    if kind == "additionalProperties" and isinstance(inst, dict):
        known = list(error.schema.get("properties", {}))
        for key in sorted(k for k in inst if k not in known):
            hint = _did_you_mean(key, known)
            where = f" in {name}" if path else ""
            add(
                ERROR,
                "schema.unknown-field",
                path + (key,),
                f"unknown field {key!r}{where}{hint}; known fields: {', '.join(known)}",
                key=True,
            )
        return
    if kind == "required" and isinstance(inst, dict):
        # jsonschema reports each missing property as its own error, naming it in the message.
        m = re.match(r"'(.+)' is a required property", error.message)
        key = m.group(1) if m else ", ".join(k for k in value if k not in inst)
        where = f" in {name}" if path else ""
        add(ERROR, "schema.required", path, f"missing required field {key!r}{where}", field_path=path + (key,))
        return
    if kind == "type":
        expected = value if isinstance(value, str) else " or ".join(value)
        add(ERROR, "schema.type", path, f"{name}: expected {expected}, got {_json_type(inst)} {_short(inst)}")
        return
    if kind in ("minimum", "maximum"):
        lo, hi = sub.get("minimum"), sub.get("maximum")
        add(ERROR, "schema.range", path, f"{name}: {inst!r} is outside the range {lo}..{hi}")
        return
    if kind == "pattern":
        title = sub.get("title", name)
        add(
            ERROR,
            "schema.format",
            path,
            f"{name}: {_short(inst)} is not a valid {title.lower()}: {sub.get('description', '')}".rstrip(": "),
        )
        return
    if kind in ("minLength", "maxLength"):
        add(
            ERROR,
            "schema.length",
            path,
            f"{name}: length {len(inst)} is outside the allowed {sub.get('minLength', 0)}..{sub.get('maxLength', '∞')}",
        )
        return
    add(ERROR, f"schema.{kind}", path, f"{name}: {error.message[:300]}")


def _json_type(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}.get(
        type(v), type(v).__name__
    )


def _short(v: Any, limit: int = 60) -> str:
    s = repr(v)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    folded = {c.casefold(): c for c in choices}
    if word.casefold() in folded:
        return f" (did you mean {folded[word.casefold()]!r}?)"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


_NOUNS = {"jurisdiction": "country or subdivision"}
# Too many terms to list: what a value may be instead.
_ALLOWED = {"jurisdiction": "a country, province, state or prefecture named in zh, ja or en, or its ISO code (JP, US-CA, CN-GD)"}


def _vocabulary_findings(record: Record, add) -> None:
    from kb.vocabularies import vocabulary

    lang = record.lang.split("-")[0]
    for field, vocab_name in vocabulary_fields().items():
        value = record.meta.get(field)
        if not isinstance(value, str) or not value.strip():
            continue  # type and presence are the schema's findings
        vocab = vocabulary(vocab_name)
        match = lookup(vocab_name, value)
        if match is None:
            suggestions = vocab.suggest(value)
            hint = f" (did you mean {' or '.join(repr(s) for s in suggestions)}?)" if suggestions else ""
            allowed = vocab.labels(lang) or vocab.labels("en")
            shown = _ALLOWED.get(vocab_name) or ", ".join(allowed[:12]) + (", …" if len(allowed) > 12 else "")
            noun = _NOUNS.get(vocab_name, vocab_name.replace("_", " "))
            add(ERROR, "vocab.unknown", (field,), f"{field}: unknown {noun} {value!r}{hint}; allowed: {shown}")
        elif match.langs and lang not in match.langs:
            own = match.term.label(lang)
            other = "/".join(sorted(match.langs))
            better = f"; in a {lang} record write {own!r}" if own else ""
            add(WARNING, "vocab.other-language", (field,), f"{field}: {value!r} is a {other} label{better}")


def _quality_findings(record: Record, add) -> None:
    meta, rules = record.meta, quality_rules()
    url = meta.get("url")
    if isinstance(url, str) and not url.strip():
        add(WARNING, "quality.empty-url", ("url",), "url is empty: the record cannot be traced to its source")
    analysis = meta.get("analysis")
    if isinstance(analysis, dict):
        evidences = defaultdict(list)
        for dim, entry in analysis.items():
            if not isinstance(entry, dict):
                continue
            citation = entry.get("citation")
            if citation is None or (isinstance(citation, str) and not citation.strip()):
                where = ("analysis", dim, "citation") if "citation" in entry else ("analysis", dim)
                add(WARNING, "quality.empty-citation", where, f"analysis.{dim}: the score {entry.get('score')!r} cites no source")
            evidence = entry.get("evidence")
            if isinstance(evidence, str) and evidence.strip():
                evidences[evidence.strip()].append(dim)
                if any(p.search(evidence) for p in rules["placeholder_evidence"]):
                    add(
                        WARNING,
                        "quality.placeholder-evidence",
                        ("analysis", dim, "evidence"),
                        f"analysis.{dim}.evidence is a placeholder: {evidence!r}",
                    )
        for dims in evidences.values():
            if len(dims) >= rules["repeated_evidence_min"]:
                add(WARNING, "quality.repeated-evidence", ("analysis", dims[0], "evidence"),
                    f"the same evidence backs {len(dims)} dimensions ({', '.join(dims)}): each score needs its own")
    if _is_verified(meta.get("reviewStatus")):
        prov = meta.get("provenance") if isinstance(meta.get("provenance"), dict) else {}
        reviewer = prov.get("reviewer")
        if not isinstance(reviewer, str) or not reviewer.strip() or any(p.search(reviewer) for p in rules["pending_reviewer"]):
            where = ("provenance", "reviewer") if "reviewer" in prov else ("reviewStatus",)
            add(
                WARNING,
                "quality.verified-unreviewed",
                where,
                f"reviewStatus is verified but the reviewer is {reviewer!r}"
                if reviewer
                else "reviewStatus is verified but no reviewer is named",
            )
    regulatory = meta.get("regulatory")
    if isinstance(regulatory, dict) and regulatory and all(not (isinstance(v, str) and v.strip()) for v in regulatory.values()):
        add(WARNING, "quality.regulatory-empty", ("regulatory",), "every regulatory field is empty")


def _is_unreviewed(value: Any) -> bool:
    match = lookup("review_status", value) if isinstance(value, str) else None
    return match is not None and match.term.key == "unreviewed"


def _is_verified(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = lookup("review_status", value)
    return match is not None and match.term.key == "verified"


# --- the corpus ------------------------------------------------------------------------------

# Fields a record and its translation must agree on, compared through their vocabulary keys.
_SHARED_FIELDS = ("country", "category", "status", "legalWeight", "year", "pubDate", "url")


def check_corpus(records: list[Record], known_ids: set[str] | None = None) -> list[Finding]:
    """Findings between records. `known_ids`, when given, are the ids of the whole corpus and
    `records` a part of it holding every record of each id it contains (an incremental build
    rechecks only the records a change can reach)."""
    out: list[Finding] = []
    by_id: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.id:
            by_id[r.id].append(r)
    known = set(by_id) if known_ids is None else known_ids
    for r in records:
        add = _adder(r, out)
        if r.id and r.id != r.stem_id:
            add(
                ERROR,
                "corpus.id-filename",
                ("id",),
                f"id {r.id!r} differs from the file name {Path(r.path).name!r}; name the file {r.id + '.md'!r}",
            )
        evolution = r.meta.get("evolution")
        if isinstance(evolution, dict):
            sup = evolution.get("supersedes")
            for i, target in enumerate(sup if isinstance(sup, list) else []):
                if isinstance(target, str) and target and target not in known:
                    add(
                        ERROR,
                        "corpus.unknown-reference",
                        ("evolution", "supersedes", i),
                        f"evolution.supersedes names {target!r}, which is not a record of this corpus",
                    )
            by = evolution.get("supersededBy")
            if isinstance(by, str) and by and by not in known:
                add(
                    ERROR,
                    "corpus.unknown-reference",
                    ("evolution", "supersededBy"),
                    f"evolution.supersededBy names {by!r}, which is not a record of this corpus",
                )
        year, pub = r.meta.get("year"), r.meta.get("pubDate")
        if isinstance(year, int) and isinstance(pub, str) and re.match(r"\d{4}", pub) and int(pub[:4]) != year:
            add(ERROR, "corpus.year-pubdate", ("year",), f"year {year} disagrees with pubDate {pub!r}")
    for rid, group in by_id.items():
        seen: dict[str, Record] = {}
        for r in sorted(group, key=lambda r: r.path):
            if r.lang in seen:
                _adder(r, out)(
                    ERROR, "corpus.duplicate-id", ("id",), f"id {rid!r} in language {r.lang!r} is also used by {seen[r.lang].path}"
                )
            else:
                seen[r.lang] = r
        twins = sorted(seen.values(), key=lambda r: r.path)
        for other in twins[1:]:
            _translation_findings(twins[0], other, out)
    return out


def _translation_findings(a: Record, b: Record, out: list[Finding]) -> None:
    add = _adder(b, out)
    fields = vocabulary_fields()
    for field in _SHARED_FIELDS:
        va, vb = a.meta.get(field), b.meta.get(field)
        if field in fields:
            va, vb = _vocab_key(fields[field], va), _vocab_key(fields[field], vb)
        if va != vb and not (va in (None, "") and vb in (None, "")):
            add(ERROR, "corpus.translation-mismatch", (field,),
                f"{field} of this {b.lang} translation ({b.meta.get(field)!r}) disagrees with {a.path} ({a.meta.get(field)!r})")
    sa, sb = _scores(a.meta), _scores(b.meta)
    for dim in sorted(set(sa) | set(sb)):
        if sa.get(dim) != sb.get(dim):
            add(ERROR, "corpus.translation-mismatch", ("analysis", dim, "score"),
                f"analysis.{dim}.score {sb.get(dim)!r} disagrees with {a.path} ({sa.get(dim)!r})")


def _vocab_key(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    match = lookup(name, value)
    return match.term.key if match else value


def _scores(meta: dict) -> dict:
    analysis = meta.get("analysis")
    if not isinstance(analysis, dict):
        return {}
    return {d: e.get("score") for d, e in analysis.items() if isinstance(e, dict)}


# --- entry point -------------------------------------------------------------------------------


PARALLEL_MIN_FILES = 400  # below this, starting worker processes costs more than it saves


def _check_files(paths: list[Path | RecordFile]) -> list[Checked]:
    # Bodies are dropped: validation never reads them, and they would be pickled back for nothing.
    checked = (check_file(p.path, p.root) if isinstance(p, RecordFile) else check_file(p) for p in paths)
    return [replace(c, record=replace(c.record, body="")) if c.record else c for c in checked]


def check_files(paths: list[Path | RecordFile], workers: int | None = None) -> list[Checked]:
    """check_file over many files, spread over the machine's cores for large corpora; the result
    is in the order of `paths` whatever the number of workers."""
    paths = list(paths)
    size = max(50, len(paths) // ((workers or os.cpu_count() or 1) * 8))
    chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
    # Warm the caches before forking so every worker inherits the compiled schema and vocabularies.
    warm = lambda: (_fast_check(), quality_rules(), vocabulary_fields())  # noqa: E731
    with ordered(_check_files, chunks, parallel=len(paths) >= PARALLEL_MIN_FILES, warm=warm, workers=workers) as results:
        return [c for chunk in results for c in chunk]


def validate_paths(paths: list[str | Path], strict: bool = False) -> tuple[list[Checked], list[Finding]]:
    """Check every record file under `paths`; return per-file results and all findings, sorted.
    A path that does not exist raises FileNotFoundError (a usage error)."""
    checked = check_files(iter_record_files(paths))
    findings = [f for c in checked for f in c.findings]
    findings += check_corpus([c.record for c in checked if c.record is not None])
    if strict:
        findings = [replace(f, severity=ERROR) for f in findings]
    return checked, sorted(findings, key=Finding.sort_key)


def iter_errors(findings: Iterable[Finding]) -> Iterator[Finding]:
    return (f for f in findings if f.severity == ERROR)
