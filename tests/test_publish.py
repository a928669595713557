"""kb.publish: the tables a build writes, from the seeds and the hub's real records; incremental and
atomic behaviour at the library level (the CLI side is in test_cli_build.py)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlite_utils

from kb import __version__, publish
from kb import rows as rows_mod
from kb.extract import extract
from kb.publish import PublishError, build
from kb.records import iter_record_files, load_record
from kb.validation import schema, validate_paths
from tests.contracts import check_clauses, check_measures
from tests.helpers import CASES, HUB, JOGMEC, PIPELINE, REPO, SEEDS, rows, shared

pytestmark = pytest.mark.usefixtures("pinned_fingerprint")

CHILD_TABLES = ["analysis", "impacts", "regulatory", "clusters", "supersedes", "related_facilities", "clauses", "measures"]


def finding_set(findings) -> set[tuple]:
    return {(f.path, f.line, f.col, f.severity, f.rule, f.field, f.message) for f in findings}


# --- the seeds ------------------------------------------------------------------------------


def test_seed_records_and_vocabulary_keys(tmp_path):
    report = build([SEEDS], tmp_path / "kb.db")
    assert (report.files, report.added, report.written, report.full) == (2, 2, True, True)
    got = rows(
        tmp_path / "kb.db", "select key, id, country, country_code, country_en, category_key, status_key, year from records order by key"
    )
    assert [(r["key"], r["country"], r["country_code"], r["country_en"], r["category_key"]) for r in got] == [
        ("jp-ccs-pipeline-support-interim-draft-2026.md", "日本", "JP", "Japan", "incentive"),
        ("jp-jogmec-advanced-ccs-2024.md", "日本", "JP", "Japan", "incentive"),
    ]
    assert {r["status_key"] for r in got} == {"active", "draft"}
    assert all(r["key"] == f"{r['id']}.md" for r in got)


# key -> (country as written, country_code, subdivision_code, country_en)
SUBDIVISION_ROWS = {
    "en/us-ca-lcfs.md": ("California", "US", "US-CA", "United States"),
    "zh/us-ca-lcfs.md": ("加州", "US", "US-CA", "United States"),
    "en/us-ca-code.md": ("US-CA", "US", "US-CA", "United States"),
    "en/ca-ab-tier.md": ("Alberta", "CA", "CA-AB", "Canada"),
    "zh/ca-ab-tier.md": ("加拿大", "CA", None, "Canada"),
    "en/cn-js-pilot.md": ("江苏省", "CN", "CN-JS", "China"),
    "zh/cn-js-pilot.md": ("江苏", "CN", "CN-JS", "China"),
    "en/georgia.md": ("Georgia", "GE", None, "Georgia"),
    "en/misspelt-state.md": ("Californa", None, None, None),
}


def test_a_subdivision_is_published_under_its_country(tmp_path):
    build([CASES / "validate" / "subdivisions"], tmp_path / "kb.db")
    got = rows(tmp_path / "kb.db", "select key, country, country_code, subdivision_code, country_en from records")
    assert {r["key"]: (r["country"], r["country_code"], r["subdivision_code"], r["country_en"]) for r in got} == SUBDIVISION_ROWS
    # facets count records by country: a state's records count for its country
    facet = rows(tmp_path / "kb.db", "select country_code, count(*) n from records group by country_code")
    assert {r["country_code"]: r["n"] for r in facet} == {"US": 3, "CA": 2, "CN": 2, "GE": 1, None: 1}


def test_seed_body_and_frontmatter_kept_exactly(seeds_db):
    for r in rows(seeds_db, "select r.path, t.body, t.fm_text, r.body_line, r.sha256 from records r join record_texts t on t.key = r.key"):
        text = Path(r["path"]).read_text(encoding="utf-8")
        lines = text.split("\n")
        assert "\n".join(lines[r["body_line"] - 1:]) == r["body"]
        assert r["fm_text"] in text
        assert hashlib.sha256(Path(r["path"]).read_bytes()).hexdigest() == r["sha256"]


def test_seed_findings_are_the_validators(seeds_db):
    _, expected = validate_paths([SEEDS])
    got = rows(seeds_db, "select * from findings")
    assert {(r["path"], r["line"], r["col"], r["severity"], r["rule"], r["field"], r["message"]) for r in got} == finding_set(expected)
    counts = rows(seeds_db, "select key, warning_count from records")
    per_file = {r["file"]: 0 for r in got}
    for r in got:
        per_file[r["file"]] += r["severity"] == "warning"
    assert {r["key"]: r["warning_count"] for r in counts} == {k: per_file.get(k, 0) for k in (r["key"] for r in counts)}


def test_kb_meta_describes_the_build(seeds_db):
    meta = {r["key"]: r["value"] for r in rows(seeds_db, "select * from kb_meta")}
    assert meta["version"] == __version__
    assert meta["schema_id"] == schema()["$id"]
    assert len(meta["schema_sha256"]) == 64
    assert meta["record_count"] == "2"
    assert meta["built_at"].endswith("+00:00")
    assert "source_commit" in meta  # empty outside a git checkout with commits
    assert len(rows(seeds_db, "select * from builds")) == 1


def test_foreign_keys_and_indexes(seeds_db):
    db = sqlite_utils.Database(seeds_db)
    for table in CHILD_TABLES:
        fks = {(fk.column, fk.other_table, fk.other_column) for fk in db[table].foreign_keys}
        assert ("record", "records", "key") in fks
    assert ("clause_id", "clauses", "id") in {(fk.column, fk.other_table, fk.other_column) for fk in db["measures"].foreign_keys}
    indexed = {table: {tuple(i.columns) for i in db[table].indexes} for table in db.table_names()}
    for column in ["id", "lang", "country_code", "category_key", "status_key", "legal_weight_key", "review_status_key"]:
        assert (column,) in indexed["records"]
    assert ("year", "key") in indexed["records"]  # year descending: see kb.tables.RECORDS
    assert ("clause_id",) in indexed["measures"]
    for columns in [("role", "kind", "unit"), ("kind", "unit", "role"), ("unit", "role", "kind")]:
        assert columns in indexed["measures"]  # each facet of a filtered measures page from an index
    for column in ["severity", "rule", "path"]:
        assert (column,) in indexed["findings"]


# --- the hub ---------------------------------------------------------------------------------


def test_hub_one_row_per_file(hub_db):
    db = hub_db
    assert rows(db, "select count(*) n from records")[0]["n"] == 66
    keys = {r["key"] for r in rows(db, "select key from records")}
    assert "en/california-lcfs.md" in keys and "zh/california-lcfs.md" in keys


def test_hub_findings_are_the_validators(hub_dir, hub_db):
    hub, db = hub_dir, hub_db
    _, expected = validate_paths([hub])
    got = rows(db, "select * from findings")
    assert len(got) == len(expected)
    assert {(r["path"], r["line"], r["col"], r["severity"], r["rule"], r["field"], r["message"]) for r in got} == finding_set(expected)


@pytest.mark.parametrize("key, rule, field, scope", [
    ("en/california-lcfs.md", "corpus.unknown-reference", "evolution.supersedes.0", "corpus"),
    ("zh/california-lcfs.md", "corpus.unknown-reference", "evolution.supersedes.0", "corpus"),
    ("en/uk-ccus-vision.md", "vocab.other-language", "category", "file"),
    ("zh/ipcc-guidelines.md", "vocab.other-language", "category", "file"),
    ("en/california-lcfs.md", "quality.verified-unreviewed", "provenance.reviewer", "file"),
])
def test_hub_known_findings(hub_db, key, rule, field, scope):
    db = hub_db
    assert rows(db, "select scope from findings where file = ? and rule = ? and field = ?", [key, rule, field]) == [{"scope": scope}]


@pytest.mark.parametrize("key, country, code", [
    ("en/eg-carbon-market-framework-2024.md", "Egypt", "EG"),
    ("zh/eg-carbon-market-framework-2024.md", "Egypt", "EG"),
    ("en/california-lcfs.md", "United States", "US"),
    ("zh/california-lcfs.md", "美国", "US"),
])
def test_hub_country_codes_across_languages(hub_db, key, country, code):
    db = hub_db
    assert rows(db, "select country, country_code from records where key = ?", [key]) == [{"country": country, "country_code": code}]


def test_hub_country_codes_include_blocs(hub_db):
    db = hub_db
    codes = {r["country_code"] for r in rows(db, "select distinct country_code from records")}
    assert {"EU", "INT", "CN", "US", "EG"} <= codes and len(codes) >= 20
    assert None not in codes


def test_hub_child_rows(hub_dir, hub_db):
    hub, db = hub_dir, hub_db
    key = "en/california-lcfs.md"
    analysis = {r["dimension"]: r for r in rows(db, "select * from analysis where record = ?", [key])}
    assert set(analysis) == {"incentive", "market", "mrv", "statutory", "strategic"}
    assert (analysis["market"]["score"], analysis["market"]["citation"]) == (90, "CARB LCFS CCUS Protocol")
    assert rows(db, "select target_id, relation from supersedes where record = ?", [key]) == [
        {"target_id": "lcfs-legacy-2019", "relation": "supersedes"}]
    assert {r["cluster"] for r in rows(db, "select cluster from clusters where record = ?", [key])} == {
        "California Net Zero Strategy", "Carbon Intensity Markets"}
    facilities = rows(db, "select facility from related_facilities where record = ?", [key])
    assert [r["facility"] for r in facilities] == [str(f) for f in load_record(hub / key).meta["relatedFacilities"]]
    assert {r["aspect"] for r in rows(db, "select aspect from impacts where record = ?", [key])} == {
        "economic",
        "environmental",
        "technical",
    }
    assert len(rows(db, "select * from regulatory where record = ?", [key])) == 7


# --- clauses and measures behind the seam ------------------------------------------------------


def test_extraction_rows_are_keyed_by_file(seeds_db):
    """What the real extractor gives each seed is published under the file's key, every span
    still an offset into the stored body."""
    for key in [PIPELINE, JOGMEC]:
        extraction = extract(load_record(SEEDS / key))
        clauses = rows(seeds_db, "select * from clauses where record = ? order by start", [key])
        measures = rows(seeds_db, "select * from measures where record = ?", [key])
        assert [c["id"] for c in clauses] == [f"{key}#{c.id}" for c in extraction.clauses]
        assert {m["id"]: m["clause_id"] for m in measures} == {
            f"{key}#{m.id}": f"{key}#{m.clause_id}" for m in extraction.measures}
        (body,) = [r["body"] for r in rows(seeds_db, "select body from record_texts where key = ?", [key])]
        check_clauses(body, clauses)
        check_measures(body, clauses, measures)
    assert rows(seeds_db, "select count(*) n from measures where surface = '15年' and record = ?", [PIPELINE]) == [{"n": 1}]


def test_failing_extractor_is_a_finding_and_the_record_is_kept(tmp_path, monkeypatch):
    def broken(record):
        raise ValueError("no clauses today")

    monkeypatch.setattr(publish, "_extract", broken)
    build([SEEDS], tmp_path / "kb.db")
    assert len(rows(tmp_path / "kb.db", "select * from records")) == 2
    got = rows(tmp_path / "kb.db", "select file, message from findings where rule = 'publish.extract'")
    assert len(got) == 2 and all("no clauses today" in r["message"] for r in got)
    assert {r["error_count"] for r in rows(tmp_path / "kb.db", "select error_count from records")} == {1}
    assert rows(tmp_path / "kb.db", "select count(*) n from clauses") == [{"n": 0}]


@pytest.mark.parametrize("damage", ["duplicate clause", "unknown clause"])
def test_inconsistent_extraction_is_a_finding(tmp_path, monkeypatch, damage):
    """The real extraction, damaged: the record is published without clauses or measures, and
    the damage is a finding on the file."""
    real = publish._extract

    def damaged(record):
        good = real(record)
        if damage == "duplicate clause":
            return replace(good, clauses=good.clauses * 2)
        return replace(good, clauses=[])

    monkeypatch.setattr(publish, "_extract", damaged)
    build([SEEDS], tmp_path / "kb.db")
    assert len(rows(tmp_path / "kb.db", "select * from records")) == 2
    assert rows(tmp_path / "kb.db", "select count(*) n from measures") == [{"n": 0}]
    assert rows(tmp_path / "kb.db", "select count(*) n from clauses") == [{"n": 0}]
    assert len(rows(tmp_path / "kb.db", "select * from findings where rule = 'publish.extract'")) == 2


# --- incremental and atomic ---------------------------------------------------------------------


@pytest.mark.parametrize("content, rule", [
    (b"just a note, no frontmatter\n", "load.no-frontmatter"),
    (b"---\n{\"id\": \"x\"\n", "load.unterminated-frontmatter"),
    (b"---\n{\"id\": \"x\",}\n---\nbody\n", "load.syntax"),
    (b"\x00\x01binary", "load.binary"),
    (b"---\n{\"id\": \"caf\xe9\"}\n---\n", "load.encoding"),
])
def test_unparseable_file_is_a_finding_only(seeds_copy, tmp_path, content, rule):
    (seeds_copy / "broken.md").write_bytes(content)
    db = tmp_path / "kb.db"
    report = build([seeds_copy], db)
    assert report.files == 3
    assert rows(db, "select key from records where key = 'broken.md'") == []
    assert rows(db, "select rule, severity, scope from findings where file = 'broken.md'") == [
        {"rule": rule, "severity": "error", "scope": "file"}]
    assert rows(db, "select published from files where key = 'broken.md'") == [{"published": 0}]
    assert build([seeds_copy], db).written is False  # a broken file is cached like any other


def test_second_build_is_a_no_op(seeds_copy, tmp_path):
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    before = (db.stat().st_ino, db.stat().st_mtime_ns)
    again = build([seeds_copy], db)
    assert (again.unchanged, again.added, again.changed, again.removed, again.written) == (2, 0, 0, 0, False)
    assert (db.stat().st_ino, db.stat().st_mtime_ns) == before


def test_changed_file_replaces_its_rows_only(seeds_copy, tmp_path):
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    keep = "jp-ccs-pipeline-support-interim-draft-2026.md"
    rowid = rows(db, "select rowid from records where key = ?", [keep])
    target = seeds_copy / "jp-jogmec-advanced-ccs-2024.md"
    target.write_text(target.read_text(encoding="utf-8").replace('"score": 85', '"score": 86'), encoding="utf-8")
    report = build([seeds_copy], db)
    assert (report.changed, report.unchanged, report.written) == (1, 1, True)
    assert rows(db, "select score from analysis where record = ? and dimension = 'incentive'", [target.name]) == [{"score": 86}]
    assert rows(db, "select rowid from records where key = ?", [keep]) == rowid
    assert len(rows(db, "select * from builds")) == 2


def test_removed_file_leaves_every_table(seeds_copy, tmp_path):
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    gone = "jp-jogmec-advanced-ccs-2024.md"
    (seeds_copy / gone).unlink()
    report = build([seeds_copy], db)
    assert (report.removed, report.files) == (1, 1)
    conn = sqlite_utils.Database(db)
    for table in CHILD_TABLES:
        assert conn.execute(f"select count(*) from [{table}] where record = ?", [gone]).fetchone()[0] == 0
    for table, column in [("records", "key"), ("files", "key"), ("findings", "file")]:
        assert conn.execute(f"select count(*) from [{table}] where {column} = ?", [gone]).fetchone()[0] == 0


def test_corpus_findings_follow_other_files(seeds_copy, tmp_path):
    """Adding a translation with a different year is a seeds_copy finding on an unchanged file's twin."""
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    src = seeds_copy / "jp-jogmec-advanced-ccs-2024.md"
    twin = seeds_copy / "en" / src.name
    twin.parent.mkdir()
    twin.write_text(src.read_text(encoding="utf-8").replace('"year": 2024', '"year": 2023'), encoding="utf-8")
    report = build([seeds_copy], db)
    assert (report.added, report.unchanged) == (1, 2)
    _, expected = validate_paths([seeds_copy])
    got = rows(db, "select * from findings")
    assert {(r["path"], r["line"], r["col"], r["severity"], r["rule"], r["field"], r["message"]) for r in got} == finding_set(expected)
    assert any(r["rule"] == "corpus.translation-mismatch" for r in got)


@pytest.mark.parametrize("chunk", [1, 2, 500])
def test_corpus_check_read_back_in_chunks_finds_what_validate_finds(seeds_copy, tmp_path, monkeypatch, chunk):
    """A full build reads records back for the corpus check a chunk at a time (memory stays flat),
    never splitting an id's records: duplicates, translations and names are found as by
    `validate`, which checks the whole corpus at once."""
    monkeypatch.setattr(publish, "CORPUS_CHUNK", chunk)
    src = seeds_copy / "jp-jogmec-advanced-ccs-2024.md"
    text = src.read_text(encoding="utf-8")
    for folder, name, body in [("en", src.name, text.replace('"year": 2024', '"year": 2023')),  # a translation that disagrees
                               ("copy", src.name, text),  # the same id and language again
                               ("", "renamed.md", text)]:  # an id that is not the file name
        (seeds_copy / folder).mkdir(exist_ok=True)
        (seeds_copy / folder / name).write_text(body, encoding="utf-8")
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    _, expected = validate_paths([seeds_copy])
    got = rows(db, "select * from findings")
    assert {(r["path"], r["line"], r["col"], r["severity"], r["rule"], r["field"], r["message"]) for r in got} == finding_set(expected)
    assert {"corpus.translation-mismatch", "corpus.duplicate-id", "corpus.id-filename"} <= {r["rule"] for r in got}


def test_progress_sees_only_the_files_to_process(seeds_copy, tmp_path):
    seen = []

    class Meter:
        def __init__(self, total):
            self.total, self.steps, self.closed = total, [], False
            seen.append(self)

        def advance(self, units, chars):
            self.steps.append((units, chars))

        def close(self):
            self.closed = True

    bodies = sorted(len(load_record(p).body) for p in seeds_copy.glob("*.md"))
    build([seeds_copy], tmp_path / "kb.db", progress=Meter)
    (seeds_copy / "jp-jogmec-advanced-ccs-2024.md").write_text("---\n{}\n---\n", encoding="utf-8")
    build([seeds_copy], tmp_path / "kb.db", progress=Meter)
    build([seeds_copy], tmp_path / "kb.db", progress=Meter)  # nothing to do: not called
    assert [(m.total, len(m.steps), m.closed) for m in seen] == [(2, 2, True), (1, 1, True)]
    assert sorted(chars for _, chars in seen[0].steps) == bodies  # each file's body, in characters
    assert seen[1].steps == [(1, 0)]


def test_fingerprint_change_forces_full_build(seeds_copy, tmp_path, monkeypatch):
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    monkeypatch.setattr(publish, "_fingerprint", lambda: "other rules")
    report = build([seeds_copy], db)
    assert (report.full, report.added, report.written) == (True, 2, True)


def test_fingerprint_covers_the_extractor_and_the_data():
    """A change to any module of the package (the extractor lives in kb/extract/), to a data file or
    to the schema must force a full build."""
    import kb

    package = Path(kb.__file__).resolve().parent
    names = {p.relative_to(package).as_posix() for p in publish._fingerprint_sources() if p.is_relative_to(package)}
    assert {"publish.py", "rows.py", "extract/measures.py", "extract/rules.py", "data/rules.json"} <= names
    assert any(p.name == "policy-record.schema.json" for p in publish._fingerprint_sources())


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
@pytest.mark.parametrize("stage", ["_publish", "_corpus", "_write_meta", "_verify"])
def test_failed_build_keeps_the_old_database(seeds_copy, tmp_path, monkeypatch, stage, exc, full):
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    before = rows(db, "select key, title, sha256 from records order by key")
    (seeds_copy / "jp-jogmec-advanced-ccs-2024.md").unlink()  # so the next build has work to do
    if full:
        monkeypatch.setattr(publish, "_fingerprint", lambda: "other rules")

    real = getattr(publish, stage)

    def boom(*args, **kwargs):
        if stage == "_publish":
            real(*args, **kwargs)  # fail after rows were written to the temporary file
        raise exc

    monkeypatch.setattr(publish, stage, boom)
    with pytest.raises(type(exc)):
        build([seeds_copy], db)
    assert rows(db, "pragma integrity_check") == [{"integrity_check": "ok"}]
    assert rows(db, "select key, title, sha256 from records order by key") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb.db", "records"]


def test_failed_install_keeps_the_old_database(seeds_copy, tmp_path, monkeypatch):
    """A full build copying its pages into the published file fails halfway: the copy is one
    transaction, so the file keeps the previous build."""
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    before = rows(db, "select key, title, sha256 from records order by key")
    target = seeds_copy / "jp-jogmec-advanced-ccs-2024.md"
    target.write_text(target.read_text(encoding="utf-8").replace('"score": 85', '"score": 86'), encoding="utf-8")
    monkeypatch.setattr(publish, "_fingerprint", lambda: "other rules")
    real_connect = sqlite3.connect
    copied = []

    class HalfwayBackup(sqlite3.Connection):
        def backup(self, target, **kwargs):
            def progress(status, remaining, total):
                copied.append(total - remaining)
                raise OSError("disk full")
            super().backup(target, pages=2, progress=progress)

    def connect(path, *args, **kwargs):
        if Path(path).name.startswith(".kb.db.tmp-"):
            kwargs["factory"] = HalfwayBackup
        return real_connect(path, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    with pytest.raises(OSError, match="disk full"):
        build([seeds_copy], db)
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert copied and copied[0] > 0, "the failure must come after some pages were copied"
    assert rows(db, "pragma integrity_check") == [{"integrity_check": "ok"}]
    assert rows(db, "select key, title, sha256 from records order by key") == before
    assert rows(db, "select score from analysis where record = ? and dimension = 'incentive'", [target.name]) == [{"score": 85}]
    assert not list(tmp_path.glob(".kb.db.tmp-*"))


def sidecars(db: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in db.parent.glob(db.name + "-*")}


def test_builds_commit_into_the_published_file(seeds_copy, tmp_path, monkeypatch):
    """Servers keep the file open: every build after the first changes it in place, by one
    transaction, in WAL mode, and leaves the WAL folded back into the file."""
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    inode = db.stat().st_ino
    assert rows(db, "pragma journal_mode") == [{"journal_mode": "wal"}]
    reader = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)  # a server's connection
    target = seeds_copy / "jp-jogmec-advanced-ccs-2024.md"
    target.write_text(target.read_text(encoding="utf-8").replace('"score": 85', '"score": 86'), encoding="utf-8")
    assert build([seeds_copy], db).full is False
    assert reader.execute("select score from analysis where record = ? and dimension = 'incentive'", [target.name]).fetchall() == [(86,)]
    monkeypatch.setattr(publish, "_fingerprint", lambda: "other rules")
    target.write_text(target.read_text(encoding="utf-8").replace('"score": 86', '"score": 87'), encoding="utf-8")
    assert build([seeds_copy], db).full is True
    assert reader.execute("select score from analysis where record = ? and dimension = 'incentive'", [target.name]).fetchall() == [(87,)]
    assert reader.execute("select value from kb_meta where key = 'fingerprint'").fetchall() == [("other rules",)]
    assert db.stat().st_ino == inode
    assert sidecars(db).get("kb.db-wal", 0) == 0, "the build's pages must be checkpointed into the file"
    reader.close()
    assert rows(db, "pragma integrity_check") == [{"integrity_check": "ok"}]
    assert not list(tmp_path.glob(".kb.db.tmp-*"))


def test_first_build_does_not_replay_a_stale_wal(seeds_copy, tmp_path):
    """A -wal left beside a deleted database belongs to that database: replayed into a new file of
    the same name it would corrupt it, so the first build removes it."""
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma wal_autocheckpoint = 0")
    conn.execute("create table junk (x)")
    conn.executemany("insert into junk values (?)", [("x" * 500,)] * 200)
    conn.commit()
    stale = (other.with_name("other.db-wal")).read_bytes()
    conn.close()
    assert len(stale) > 4096
    db = tmp_path / "kb.db"
    db.with_name("kb.db-wal").write_bytes(stale)
    build([seeds_copy], db)
    assert rows(db, "pragma integrity_check") == [{"integrity_check": "ok"}]
    assert rows(db, "select count(*) as n from records") == [{"n": 2}]
    assert "junk" not in {r["name"] for r in rows(db, "select name from sqlite_master")}


def test_a_build_that_raced_another_is_refused(seeds_copy, tmp_path, monkeypatch):
    """The manifest is read before the write lock: if another build commits in between, this one
    must not apply its (now stale) idea of what changed."""
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    real = publish._read_state

    def read_then_someone_builds(path):
        state = real(path)
        conn = sqlite3.connect(path)
        conn.execute("insert into builds (built_at, files) values ('elsewhere', 0)")
        conn.commit()
        conn.close()
        return state

    monkeypatch.setattr(publish, "_read_state", read_then_someone_builds)
    (seeds_copy / "jp-jogmec-advanced-ccs-2024.md").unlink()
    with pytest.raises(PublishError, match="changed by another build"):
        build([seeds_copy], db)
    assert len(rows(db, "select * from records")) == 2


def test_stale_temp_of_a_dead_build_is_swept(seeds_copy, tmp_path):
    stale = tmp_path / ".kb.db.tmp-999999999"
    stale.write_bytes(b"half a database")
    build([seeds_copy], tmp_path / "kb.db")
    assert not stale.exists()


def test_refuses_to_overwrite_other_files(seeds_copy, tmp_path):
    other = tmp_path / "kb.db"
    sqlite_utils.Database(other)["mine"].insert({"x": 1})
    with pytest.raises(PublishError, match="not one built by policy-kb"):
        build([seeds_copy], other)
    text = tmp_path / "notes.db"
    text.write_text("not a database " * 100)
    with pytest.raises(PublishError, match="not a SQLite database"):
        build([seeds_copy], text)
    assert text.read_text().startswith("not a database")


def test_keys_are_paths_inside_their_own_root(tmp_path):
    hub = shared(*HUB)
    db = tmp_path / "kb.db"
    build([hub / "en" / "california-lcfs.md", hub / "zh"], db)
    keys = {r["key"] for r in rows(db, "select key from records")}
    # the file given on its own keys by its name; the same path in the zh folder is told apart
    assert "california-lcfs.md" in keys and "zh/california-lcfs.md" in keys and len(keys) == 34


def test_a_records_key_does_not_depend_on_the_other_folders_given(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.md").write_text((REPO / "seeds" / "jp-jogmec-advanced-ccs-2024.md").read_text("utf-8")
                                   .replace("jp-jogmec-advanced-ccs-2024", "note"), "utf-8")
    alone, together = tmp_path / "a.db", tmp_path / "b.db"
    build([REPO / "seeds"], alone)
    build([REPO / "seeds", other], together)
    seeds_keys = {r["key"] for r in rows(alone, "select key from records")}
    assert seeds_keys <= {r["key"] for r in rows(together, "select key from records")}
    assert "jp-jogmec-advanced-ccs-2024.md" in seeds_keys


@pytest.mark.parametrize("value, expected", [(2024, 2024), ("2024", 2024), (" 2024 ", 2024), ("MMXXIV", None), (True, None), (None, None)])
def test_year_column(value, expected):
    assert rows_mod._year(value) == expected


@pytest.mark.parametrize(
    "value, expected", [("x", "x"), (3, 3), (1.5, 1.5), (None, None), ([1, "a"], '[1, "a"]'), ({"k": "値"}, '{"k": "値"}')]
)
def test_scalar_column(value, expected):
    assert rows_mod._scalar(value) == expected


# --- workers and the stat cache -----------------------------------------------------------------


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table a build derives from the files (not the build log or its stamp)."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' and sql not like"
                                            " 'create virtual%' and name not like '%fts%' and name not like '%trigram%'"
                                            " and name not in ('builds', 'kb_meta') order by name")]
        return {n: conn.execute(f"select * from [{n}] order by rowid").fetchall() for n in names}
    finally:
        conn.close()


def test_worker_build_equals_in_process_build(tmp_path, monkeypatch):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: builds never start workers")
    hub = shared(*HUB)
    monkeypatch.setattr(publish, "PARALLEL_MIN_FILES", 10**9)
    build([hub], tmp_path / "serial.db")
    forked = []
    real_warm = publish._warm
    monkeypatch.setattr(publish, "_warm", lambda: (forked.append(1), real_warm()))
    monkeypatch.setattr(publish, "PARALLEL_MIN_FILES", 1)
    build([hub], tmp_path / "workers.db")
    assert forked == [1]  # the pool did run
    serial, workers = dump(tmp_path / "serial.db"), dump(tmp_path / "workers.db")
    assert set(serial) == set(workers) and len(serial["search_clauses"]) > 100
    for table in serial:
        assert serial[table] == workers[table], table
    word = next(w for _, _, _, text, *_ in serial["search_clauses"] for w in text.split() if len(w) > 1)
    found = [rows(tmp_path / db, "select rowid from clauses_fts where clauses_fts match ? order by rowid", [f'"{word}"'])
             for db in ("serial.db", "workers.db")]
    assert found[0] and found[0] == found[1]


def test_a_full_build_starts_its_workers_before_it_lists_its_files(tmp_path, monkeypatch):
    """Workers forked after the file list is read would each hold a copy of it (memory growing with
    the corpus); a full build of many files forks them first, an incremental one only if it needs them."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: builds never start workers")
    corpus = tmp_path / "hub"
    shutil.copytree(shared(*HUB), corpus)
    monkeypatch.setattr(publish, "PARALLEL_MIN_FILES", 8)
    workers_at_scan = []
    real = publish._scan

    def scan(*args, **kwargs):
        workers_at_scan.append(len(multiprocessing.active_children()))
        return real(*args, **kwargs)

    monkeypatch.setattr(publish, "_scan", scan)
    db = tmp_path / "kb.db"
    assert build([corpus], db).full
    one = iter_record_files([corpus])[0].path
    one.write_text(one.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert build([corpus], db).changed == 1
    assert workers_at_scan == [os.cpu_count(), 0]
    assert not multiprocessing.active_children()  # the pool ended with the build


def test_files_not_modified_since_the_last_build_are_not_hashed(seeds_copy, tmp_path, monkeypatch):
    db = tmp_path / "kb.db"
    old = time.time() - 3600
    for p in seeds_copy.iterdir():
        os.utime(p, (old, old))
    build([seeds_copy], db)
    target = seeds_copy / "jp-jogmec-advanced-ccs-2024.md"
    target.write_text(target.read_text(encoding="utf-8").replace('"score": 85', '"score": 86'), encoding="utf-8")
    hashed = []
    real = publish._rows.sha256
    monkeypatch.setattr(publish._rows, "sha256", lambda p, root=None: (hashed.append(Path(p).name), real(p, root))[1])
    report = build([seeds_copy], db)
    assert (report.changed, report.unchanged) == (1, 1)
    assert hashed == [target.name]
    # The file just written is too new to trust its stat; the other keeps the one cached before.
    assert rows(db, "select key, size is not null as cached from files order by key") == [
        {"key": "jp-ccs-pipeline-support-interim-draft-2026.md", "cached": 1}, {"key": target.name, "cached": 0}]


# --- incremental seeds_copy findings --------------------------------------------------------------
# An incremental build rechecks only the records an edit can reach (kb.publish._corpus). Each step
# edits the hub seeds_copy and the incremental database must equal a full build of the same files:
# the same findings, the same counts on every record, untouched files included.


def _rename_id(text: str, old: str, new: str) -> str:
    assert f"'id': '{old}'" in text
    return text.replace(f"'id': '{old}'", f"'id': '{new}'")


def _add_legacy(root: Path) -> None:  # the record california-lcfs says it supersedes appears
    src = (root / "zh" / "ae-federal-climate-law-2024.md").read_text(encoding="utf-8")
    (root / "zh" / "lcfs-legacy-2019.md").write_text(_rename_id(src, "ae-federal-climate-law-2024", "lcfs-legacy-2019"), encoding="utf-8")


def _drop_legacy(root: Path) -> None:  # ... and goes again
    (root / "zh" / "lcfs-legacy-2019.md").unlink()


def _break_twin_id(root: Path) -> None:  # the en twin takes another id: a file-name error, no pair any more
    p = root / "en" / "ae-federal-climate-law-2024.md"
    p.write_text(_rename_id(p.read_text(encoding="utf-8"), "ae-federal-climate-law-2024", "ae-other"), encoding="utf-8")


def _duplicate(root: Path) -> None:  # a second zh file with the same id, in another folder
    (root / "zh" / "copy").mkdir()
    shutil.copyfile(root / "zh" / "br-anp-ccs-resolution.md", root / "zh" / "copy" / "br-anp-ccs-resolution.md")


def _twin_year(root: Path) -> None:  # the zh file changes its year: the untouched en twin disagrees now
    p = root / "zh" / "ca-ab-sequestration-tenure.md"
    text = p.read_text(encoding="utf-8")
    year = re.search(r"'year': (\d{4})", text)
    p.write_text(text.replace(year.group(0), f"'year': {int(year.group(1)) - 1}"), encoding="utf-8")


def _remove_twin(root: Path) -> None:
    (root / "en" / "ca-ab-sequestration-tenure.md").unlink()


EDITS = [_add_legacy, _drop_legacy, _break_twin_id, _duplicate, _twin_year, _remove_twin]


def _finding_rows(db: Path) -> list[tuple]:
    return sorted(
        tuple(r.values()) for r in rows(db, "select file, path, line, col, severity, rule, field, message, record, scope from findings")
    )


def test_incremental_corpus_findings_equal_a_full_build(tmp_path):
    root = tmp_path / "hub"
    shutil.copytree(shared(*HUB), root)
    db = tmp_path / "kb.db"
    build([root], db)
    for edit in EDITS:
        before = _finding_rows(db)
        edit(root)
        report = build([root], db)
        assert not report.full
        fresh = tmp_path / f"full-{edit.__name__}.db"
        build([root], fresh)
        assert _finding_rows(db) == _finding_rows(fresh), edit.__name__
        counts = "select key, error_count, warning_count from records order by key"
        assert rows(db, counts) == rows(fresh, counts), edit.__name__
        assert _finding_rows(db) != before, f"{edit.__name__} changed no finding: the step tests nothing"


def test_a_reader_mid_query_keeps_its_build_and_does_not_block_the_next(seeds_copy, tmp_path):
    """A server statement running across a commit (an open read transaction) sees the build it
    started on; the build commits anyway and the next statement sees the new one."""
    db = tmp_path / "kb.db"
    build([seeds_copy], db)
    reader = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    reader.execute("begin")
    assert reader.execute("select count(*) from records").fetchone() == (2,)
    (seeds_copy / "jp-jogmec-advanced-ccs-2024.md").unlink()
    report = build([seeds_copy], db)
    assert (report.written, report.removed) == (True, 1)
    assert reader.execute("select count(*) from records").fetchone() == (2,)  # still its snapshot
    reader.execute("commit")
    assert reader.execute("select count(*) from records").fetchone() == (1,)
    reader.close()
    assert rows(db, "pragma integrity_check") == [{"integrity_check": "ok"}]


FAIL_MID_BUILD = """
import sys
from pathlib import Path
from kb import publish
from kb import workers
publish.PARALLEL_MIN_FILES, publish.BATCH, workers.ordered.WINDOW_PER_WORKER = 8, 20, 1
flushes = []
real = publish._flush
def flush(conn, pending):
    flushes.append(1)
    if len(flushes) == 3:
        raise RuntimeError("disk on fire")
    real(conn, pending)
publish._flush = flush
try:
    publish.build([sys.argv[1]], sys.argv[2])
except RuntimeError as exc:
    print("failed:", exc)
"""


def test_a_parallel_build_failing_mid_way_stops_its_workers(tmp_path):
    """Workers are handed files through a bounded window; a build failing while the window is
    full must still stop the pool and return (not wait forever on the window), and leave no file."""
    hub = shared(*HUB)
    db = tmp_path / "kb.db"
    result = subprocess.run([sys.executable, "-c", FAIL_MID_BUILD, str(hub), str(db)], capture_output=True, text=True,
                            timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "failed: disk on fire"
    assert not db.exists() and not list(tmp_path.glob(".kb.db.tmp-*"))


def test_unchanged_files_show_the_path_of_the_latest_build(seeds_copy, tmp_path, monkeypatch):
    """Keys do not depend on the cwd, paths do: an incremental build run from elsewhere rewrites the
    path of the files it did not reprocess (and only where it differs)."""
    db = tmp_path / "kb.db"
    build([seeds_copy], db)  # an absolute path
    keep = "jp-ccs-pipeline-support-interim-draft-2026.md"
    (seeds_copy / "jp-jogmec-advanced-ccs-2024.md").write_text("---\n{}\n---\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert build([Path("records")], db).changed == 1
    relative = str(Path("records") / keep)
    assert rows(db, "select path from records where key = ?", [keep]) == [{"path": relative}]
    assert rows(db, "select path from files where key = ?", [keep]) == [{"path": relative}]
    assert {r["path"] for r in rows(db, "select path from findings where file = ?", [keep])} == {relative}
