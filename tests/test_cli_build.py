"""`policy-kb build` and `policy-kb serve`: exit codes, the summary line, incremental rebuilds,
failed builds that leave the previous database in place, and Datasette serving the result."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from kb import publish
from kb.cli import cli, datasette_args
from tests.helpers import REPO, free_port, tuples

pytestmark = pytest.mark.usefixtures("pinned_fingerprint")


def run(*args: str):
    return CliRunner().invoke(cli, ["build", *args])


def test_build_defaults_to_seeds(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    result = run("--db", str(tmp_path / "kb.db"))
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("2 files (full build);")
    assert " 0 errors" in result.output
    assert tuples(tmp_path / "kb.db", "select count(*) from records") == [(2,)]


def test_build_exits_0_with_error_findings(seeds_copy, tmp_path):
    target = seeds_copy / "jp-jogmec-advanced-ccs-2024.md"
    target.write_text(target.read_text(encoding="utf-8").replace('"country": "日本"', '"country": "Atlantis"'), encoding="utf-8")
    result = run(str(seeds_copy), "--db", str(tmp_path / "kb.db"))
    assert result.exit_code == 0, result.output
    assert "1 errors" in result.output
    assert tuples(tmp_path / "kb.db", "select error_count, country_code from records where key = ?", [target.name]) == [(1, None)]


@pytest.mark.parametrize("args, message", [
    (["missing-folder"], "no such file or folder: missing-folder"),
    (["--db"], "requires an argument"),
])
def test_usage_errors_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "kb.db").exists()


def test_foreign_database_is_refused(seeds_copy, tmp_path):
    db = tmp_path / "data.db"
    conn = sqlite3.connect(db)
    conn.execute("create table precious (x)")
    conn.commit()
    conn.close()
    result = run(str(seeds_copy), "--db", str(db))
    assert result.exit_code == 1 and "refusing to overwrite" in result.output and "Usage:" not in result.output
    assert tuples(db, "select name from sqlite_master") == [("precious",)]


def test_second_build_reports_unchanged(seeds_copy, tmp_path):
    db = tmp_path / "kb.db"
    assert run(str(seeds_copy), "--db", str(db)).exit_code == 0
    rowids = tuples(db, "select key, rowid from records order by key")
    stamp = db.stat().st_mtime_ns
    second = run(str(seeds_copy), "--db", str(db))
    assert second.exit_code == 0
    assert "0 added, 0 changed, 2 unchanged, 0 removed" in second.output and "not rewritten" in second.output
    assert tuples(db, "select key, rowid from records order by key") == rowids
    assert tuples(db, "select value from kb_meta where key = 'record_count'") == [("2",)]
    assert db.stat().st_mtime_ns == stamp


def test_removed_file_is_gone_after_rebuild(seeds_copy, tmp_path):
    db = tmp_path / "kb.db"
    run(str(seeds_copy), "--db", str(db))
    gone = "jp-ccs-pipeline-support-interim-draft-2026.md"
    (seeds_copy / gone).unlink()
    result = run(str(seeds_copy), "--db", str(db))
    assert "0 added, 0 changed, 1 unchanged, 1 removed" in result.output
    tables = [t for (t,) in tuples(db, "select name from sqlite_master where type = 'table'")]
    for table in tables:
        columns = {c[1] for c in tuples(db, f"pragma table_info([{table}])")}
        for column in {"record", "file"} & columns | ({"key"} & columns if table in ("records", "files") else set()):
            assert tuples(db, f"select count(*) from [{table}] where [{column}] = ?", [gone]) == [(0,)], table
    assert tuples(db, "select value from kb_meta where key = 'record_count'") == [("1",)]


def test_changed_file_rows_are_replaced(seeds_copy, tmp_path):
    db = tmp_path / "kb.db"
    run(str(seeds_copy), "--db", str(db))
    target = seeds_copy / "jp-ccs-pipeline-support-interim-draft-2026.md"
    other_rowid = tuples(db, "select rowid from records where key = 'jp-jogmec-advanced-ccs-2024.md'")
    old_findings = tuples(db, "select rule, field from findings where file = ? order by field", [target.name])
    # An unreviewed record: pubDate and source left empty are warnings, the empty url one more.
    assert old_findings == [("quality.empty-field", "pubDate"), ("quality.empty-field", "source"), ("quality.empty-url", "url")]
    text = target.read_text(encoding="utf-8").replace('"url": ""', '"url": "https://www.meti.go.jp/"')
    target.write_text(text, encoding="utf-8")
    result = run(str(seeds_copy), "--db", str(db))
    assert "0 added, 1 changed, 1 unchanged, 0 removed" in result.output
    assert tuples(db, "select url, warning_count from records where key = ?", [target.name]) == [("https://www.meti.go.jp/", 2)]
    assert tuples(db, "select rule, field from findings where file = ? order by field", [target.name]) == old_findings[:2]
    assert tuples(db, "select rowid from records where key = 'jp-jogmec-advanced-ccs-2024.md'") == other_rowid


def test_interrupted_build_leaves_the_old_database(seeds_copy, tmp_path, monkeypatch):
    db = tmp_path / "kb.db"
    run(str(seeds_copy), "--db", str(db))
    before = tuples(db, "select * from records order by key")
    (seeds_copy / "jp-jogmec-advanced-ccs-2024.md").unlink()
    real = publish._publish

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt  # as if Ctrl-C arrived halfway through the transaction

    monkeypatch.setattr(publish, "_publish", interrupted)
    result = CliRunner().invoke(cli, ["build", str(seeds_copy), "--db", str(db)])
    assert result.exit_code == 1 and "Aborted" in result.output  # click's answer to Ctrl-C
    assert tuples(db, "pragma integrity_check") == [("ok",)]
    assert tuples(db, "select * from records order by key") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb.db", "records"]


# --- serve ---------------------------------------------------------------------------------------


def test_serve_arguments(tmp_path):
    args = datasette_args(tmp_path / "kb.db", host="127.0.0.1", port=8001, sql_time_limit_ms=250, scratch=tmp_path)
    # Read-only but not immutable: builds commit into the served file and must go live.
    assert args[:2] == ["serve", str(tmp_path / "kb.db")] and "-i" not in args
    pairs = {args[i + 1]: args[i + 2] for i, a in enumerate(args) if a == "--setting"}
    assert pairs == {"sql_time_limit_ms": "250", "max_returned_rows": "1000", "suggest_facets": "off", "truncate_cells_html": "300"}
    metadata = Path(args[args.index("--metadata") + 1])
    assert json.loads(metadata.read_text(encoding="utf-8"))["title"] == "policy-kb"


def test_serve_arguments_rename_the_database(tmp_path):
    args = datasette_args(tmp_path / "policies.db", host="0.0.0.0", port=9000, sql_time_limit_ms=1000, scratch=tmp_path)
    metadata = json.loads(Path(args[args.index("--metadata") + 1]).read_text(encoding="utf-8"))
    assert list(metadata["databases"]) == ["policies"]
    # Datasette 0.65 reads queries from the metadata, 1.0 from its configuration (--config).
    config = json.loads(Path(args[args.index("--config") + 1]).read_text(encoding="utf-8")) if "--config" in args else metadata
    assert list(config["databases"]) == ["policies"]
    assert "records_by_country" in config["databases"]["policies"]["queries"]


def test_serve_builds_then_serves(seeds_copy, tmp_path):
    """The real command in a subprocess: it builds the missing database, then Datasette answers."""
    port, db = free_port(), tmp_path / "kb.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", str(seeds_copy), "--db", str(db), "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/kb/records.json?_shape=array&_col=country_code"
        rows, deadline = None, time.monotonic() + 60  # a readiness wait, not a timing assertion
        while rows is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                rows = httpx.get(url, timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert rows is not None, f"datasette did not answer: {proc.poll()}"
        assert [r["country_code"] for r in rows] == ["JP", "JP"]
        settings = httpx.get(f"http://127.0.0.1:{port}/-/settings.json", timeout=5).json()
        assert settings["suggest_facets"] is False and settings["sql_time_limit_ms"] == 1000
    finally:
        proc.terminate()  # serve passes SIGTERM on to Datasette
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: only what this test started
            _, err = proc.communicate()
            raise
    assert f"serving http://127.0.0.1:{port}/kb" in err
    assert "2 files (full build)" in err


@pytest.mark.parametrize("where", ["/proc", "/sys"])
def test_a_database_that_cannot_be_written_is_one_line(seeds_copy, where):
    if not Path(where).is_dir():
        pytest.skip(f"{where} is Linux's; this system has none")
    result = run(str(seeds_copy), "--db", f"{where}/kb.db")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: could not write {where}/kb.db: unable to open database file"


def test_a_lock_held_too_long_is_one_line_and_changes_nothing(seeds_copy, tmp_path, monkeypatch):
    db = tmp_path / "kb.db"
    assert run(str(seeds_copy), "--db", str(db)).exit_code == 0
    before = tuples(db, "select key, sha256 from records order by key")
    (seeds_copy / "jp-jogmec-advanced-ccs-2024.md").unlink()
    monkeypatch.setattr(publish, "BUSY_S", 0.2)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("begin immediate")  # another writer holds the database
    try:
        result = run(str(seeds_copy), "--db", str(db))
    finally:
        other.execute("rollback")
        other.close()
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"Error: could not write {db}: database is locked: another build")
    assert len(result.output.strip().splitlines()) == 1
    assert tuples(db, "select key, sha256 from records order by key") == before
