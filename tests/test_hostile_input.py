"""Hostile input and faults (issue "Hostile input, faults, and no silent loss"): each case builds
or validates a corpus written here and checks the finding, the exit code and what got published."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kb.cli import cli
from tests.helpers import REPO

SEED = (REPO / "seeds" / "jp-jogmec-advanced-ccs-2024.md").read_text("utf-8")
BIG = 2 ** 63  # one past SQLite's largest INTEGER


def _record(rid: str, **changes) -> str:
    """The JSON seed record under another id, with top-level fields changed."""
    head, body = SEED.split("\n---\n", 1)
    meta = json.loads(head.removeprefix("---\n"))
    meta.update(id=rid, **changes)
    return "---\n" + json.dumps(meta, ensure_ascii=False, indent=1) + "\n---\n" + body


def _folder(path, *ids: str, name: str | None = None):
    """A folder of seed-like records with these ids (file <id>.md, or `name` for a single one)."""
    path.mkdir()
    for rid in ids:
        (path / (name or f"{rid}.md")).write_text(_record(rid), "utf-8")
    return path


def test_integers_beyond_sqlite_are_findings_and_every_file_publishes(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "big-year.md").write_text(_record("big-year", year=BIG), "utf-8")
    score = _record("big-score").replace('"score": 85', f'"score": {BIG}')
    (corpus / "big-score.md").write_text(score, "utf-8")
    (corpus / "yaml-year.md").write_text(f"---\nid: yaml-year\ntitle: t\nyear: {BIG}\n---\nbody\n", "utf-8")
    (corpus / "good.md").write_text(_record("good"), "utf-8")
    db = tmp_path / "kb.db"
    result = CliRunner().invoke(cli, ["build", str(corpus), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    conn = sqlite3.connect(db)
    assert {r[0] for r in conn.execute("select path from files")} == {str(corpus / n) for n in
                                                                       ("big-year.md", "big-score.md", "yaml-year.md", "good.md")}
    validate = CliRunner().invoke(cli, ["validate", str(corpus)])
    assert validate.exit_code == 1
    for name in ("big-year.md", "big-score.md", "yaml-year.md"):
        assert any(line.startswith(str(corpus / name)) and "schema.range" in line for line in validate.output.splitlines()), \
            (name, validate.output)


def _run(*args: str, timeout: int = 60):
    return subprocess.run([sys.executable, "-m", "kb", *args], capture_output=True, text=True, timeout=timeout)


def test_a_corpus_never_reads_outside_its_root_nor_blocks_on_special_files(tmp_path):
    root = _folder(tmp_path / "root", "good")
    outside = _folder(tmp_path / "outside", "secret-outside", name="secret.md")
    (root / "link.md").symlink_to(outside / "secret.md")
    (root / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(root / "fifo.md")
    (root / "sub").mkdir()
    (root / "sub" / "inner.md").write_text(_record("inner"), "utf-8")
    (root / "inside-link.md").symlink_to(root / "sub" / "inner.md")  # a link inside the root is fine

    v = _run("validate", str(root))
    assert v.returncode == 1 and "Traceback" not in v.stderr + v.stdout
    lines = v.stdout.splitlines()
    assert any(line.startswith(f"{root / 'link.md'}:1:1: error load.outside-root") for line in lines), v.stdout
    assert any(line.startswith(f"{root / 'zero.md'}:1:1: error load.outside-root") for line in lines), v.stdout
    assert any(line.startswith(f"{root / 'fifo.md'}:1:1: error load.not-a-file") for line in lines), v.stdout
    assert not any("inside-link.md" in line and "outside-root" in line for line in lines)

    db = tmp_path / "kb.db"
    b = _run("build", str(root), "--db", str(db))
    assert b.returncode == 0, b.stderr
    conn = sqlite3.connect(db)
    ids = {r[0] for r in conn.execute("select id from records")}
    assert "secret-outside" not in ids and {"good", "inner"} <= ids
    texts = " ".join(r[0] for r in conn.execute("select body from record_texts"))
    assert "secret-outside" not in texts
    assert conn.execute("select sha256 from files where key = 'link.md'").fetchone() == (None,)

    for name, rule in (("fifo.md", "not a regular file (a FIFO)"), ("zero.md", "not a regular file (a character device)")):
        e = _run("extract", str(root / name))
        assert e.returncode == 1 and rule in e.stderr + e.stdout and "Traceback" not in e.stderr, (name, e.stderr)
        assert len((e.stderr + e.stdout).strip().splitlines()) == 1
    v1 = _run("validate", str(root / "fifo.md"))
    assert v1.returncode == 1 and "load.not-a-file" in v1.stdout


def test_reads_are_capped_even_when_the_size_lies(tmp_path):
    from kb import records

    big = tmp_path / "big.md"
    big.write_text("x" * 2000, "utf-8")
    try:
        records.read_bytes(big, 1000)
    except records.TooLarge as exc:
        assert "1,000" in exc.message
    else:
        raise AssertionError("a 2,000-byte file was read whole under a 1,000-byte cap")
    with open(big, "rb") as fh:  # the cap holds while reading too, whatever the size said
        assert records._read_capped(fh.fileno(), 1000) is None


def test_paths_and_values_never_reach_the_terminal_raw(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    names = ["forged\n0 errors, 0 warnings in 1 file checked: ok\n.md", "colour\x1b[31m.md", "mirror\u202edm.md"]
    for name in names:
        (corpus / name).write_text('---\n{"id": "x\\u001b[2J", "title": "t"}\n---\nbody\n', "utf-8")
    for fmt in ("text", "github"):
        result = CliRunner().invoke(cli, ["validate", str(corpus), "--format", fmt])
        assert result.exit_code == 1
        out = result.output
        assert not any(ch in out for ch in "\x1b\u202e"), fmt
        lines = out.splitlines()
        # every finding is one line of its own: no name forges a summary line
        summary = [line for line in lines if "checked" in line and not line.startswith(("::", str(corpus)))]
        assert len(summary) == 1 and summary[0] == lines[-1], (fmt, lines[-3:])
        assert "\\n0 errors" in out and "\\x1b" in out and "\\u202e" in out


def test_validation_reads_yaml_numbers_as_yaml_1_2_and_flags_controls_and_self_reference(tmp_path):
    corpus = tmp_path / "v"
    corpus.mkdir()
    for name, year in (("hex", "0x7E8"), ("sexagesimal", "33:44"), ("octal", "0o3750"), ("underscored", "2_024")):
        (corpus / f"{name}.md").write_text(f"---\nid: {name}\ntitle: t\nyear: {year}\n---\nbody\n", "utf-8")
    (corpus / "controls.md").write_text(_record("controls", title="A\x00B", source="x\x1b[31my", description="abc\u202ecba"), "utf-8")
    (corpus / "self.md").write_text(_record("self", evolution={"supersedes": ["self"], "supersededBy": "self"}), "utf-8")
    out = CliRunner().invoke(cli, ["validate", str(corpus)]).output
    for name in ("hex", "sexagesimal", "octal", "underscored"):
        assert any(line.startswith(f"{corpus / name}.md:4:7: error schema.type: year") for line in out.splitlines()), (name, out)
    controls = [line for line in out.splitlines() if ": error text.control-character:" in line]
    assert {line.split(":")[0] for line in controls} == {str(corpus / "controls.md")}
    assert {f for line in controls for f in ("title", "source", "description") if f": {f} holds" in line} == {
        "title",
        "source",
        "description",
    }
    assert "\\x00" in out and "\\x1b" in out and "\\u202e" in out and "\x1b" not in out
    selfref = [line for line in out.splitlines() if ": error corpus.self-reference:" in line]
    assert len(selfref) == 2 and all(line.startswith(str(corpus / "self.md")) for line in selfref)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # sqlite3 reports the refusal too
def test_the_plugins_sql_functions_do_bounded_work():
    from kb import plugin

    conn = sqlite3.connect(":memory:")
    plugin.prepare_connection(conn)
    huge = "字" * 10_000_000
    try:
        conn.execute("select kb_segment(?)", (huge,)).fetchone()
    except sqlite3.OperationalError as exc:
        assert "user-defined function raised exception" in str(exc)
    else:
        raise AssertionError("kb_segment read ten million characters")
    assert conn.execute("select kb_segment(?)", ("二酸化炭素の貯留",)).fetchone()[0]
    snippet = conn.execute("select kb_highlight(?, ?)", (huge + "貯留", "貯留")).fetchone()[0]
    assert len(snippet) < 1000 and snippet.endswith("…")
    for fn in ("kb_query", "kb_substring", "kb_like"):
        assert len(conn.execute(f"select {fn}(?)", ("x" * 1_000_000,)).fetchone()[0]) < 10_000


def test_no_silent_loss(tmp_path):
    a, b = _folder(tmp_path / "a", "one", "two"), _folder(tmp_path / "b", "three")
    db = tmp_path / "kb.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["build", str(a), str(b), "--db", str(db)]).exit_code == 0

    def ids():
        return {r[0] for r in sqlite3.connect(db).execute("select id from records")}

    # a build that is not given folder b refuses, names what would go, and leaves the database as it was
    refused = runner.invoke(cli, ["build", str(a), "--db", str(db)])
    assert refused.exit_code == 1 and "would remove 1 records" in refused.output and str(b) in refused.output
    assert "Usage:" not in refused.output and len(refused.output.strip().splitlines()) == 1
    assert ids() == {"one", "two", "three"}
    # a file deleted from a folder still given goes as before
    (a / "two.md").unlink()
    assert runner.invoke(cli, ["build", str(a), str(b), "--db", str(db)]).exit_code == 0
    assert ids() == {"one", "three"}
    # keys (and record pages) do not move when a folder is added or the cwd changes
    keys = {r[0] for r in sqlite3.connect(db).execute("select key from records")}
    assert keys == {"one.md", "three.md"}
    # --prune says so on purpose
    pruned = runner.invoke(cli, ["build", str(a), "--db", str(db), "--prune"])
    assert pruned.exit_code == 0 and ids() == {"one"}

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.json").write_text("{}", "utf-8")
    for command in (["validate", str(empty)], ["build", str(empty), "--db", str(tmp_path / "e.db")]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 2 and "no record files" in result.output, command
    assert not (tmp_path / "e.db").exists()


def _mount_tmpfs(where, size: str) -> bool:
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True).returncode == 0


def _umount(where) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_faults_give_true_one_line_messages(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "one.md").write_text(_record("one"), "utf-8")
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "2m"):
        pytest.skip("mounting a small file system needs root (CI runs as root)")
    try:
        db = disk / "kb.db"
        assert _run("build", str(corpus), "--db", str(db)).returncode == 0
        # a full disk
        with open(disk / "fill", "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * (64 << 10))
            except OSError:
                pass
        (corpus / "two.md").write_text(_record("two"), "utf-8")
        full = _run("build", str(corpus), "--db", str(db))
        assert full.returncode == 1 and "is full" in full.stderr and "Traceback" not in full.stderr, full.stderr
        assert len(full.stderr.strip().splitlines()) == 1
        (disk / "fill").unlink()
        check = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        assert check.execute("pragma quick_check").fetchone() == ("ok",)  # the old build is intact
        check.close()
        # a read-only file system: build says so, serve serves what is there, immutable
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, capture_output=True)
        ro = _run("build", str(corpus), "--db", str(db))
        assert ro.returncode == 1 and "read-only file system" in ro.stderr and "not a SQLite database" not in ro.stderr
        from kb.cli import datasette_args

        assert "-i" in datasette_args(db, host="127.0.0.1", port=1, sql_time_limit_ms=1, scratch=tmp_path, immutable=True)
    finally:
        _umount(disk)


def test_a_lock_held_by_another_build_is_named():
    from pathlib import Path

    from kb.publish import fault

    message = fault(Path("kb.db"), sqlite3.OperationalError("database is locked"))
    assert "another build" in message and "write lock" in message
