"""Hostile input and faults (issue "Hostile input, faults, and no silent loss"): each case builds
or validates a corpus written here and checks the finding, the exit code and what got published."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from kb.cli import cli
from tests.conftest import REPO

SEED = (REPO / "seeds" / "jp-jogmec-advanced-ccs-2024.md").read_text("utf-8")
BIG = 2 ** 63  # one past SQLite's largest INTEGER


def _record(rid: str, **changes) -> str:
    """The JSON seed record under another id, with top-level fields changed."""
    head, body = SEED.split("\n---\n", 1)
    meta = json.loads(head.removeprefix("---\n"))
    meta.update(id=rid, **changes)
    return "---\n" + json.dumps(meta, ensure_ascii=False, indent=1) + "\n---\n" + body


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
