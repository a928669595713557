"""The CLI on large corpora: counts per rule after `validate` (and `--summary`), progress of
`extract` and `build` on stderr, and documents that must be converted to text first."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter

import pytest
from click.testing import CliRunner

from kb import progress
from kb.cli import cli
from kb.extract import extract
from kb.progress import Meter, duration
from kb.publish import build
from kb.records import document_kind, parse_record
from tests.helpers import CASES, REPO

VALIDATE = CASES / "validate"
CASE_DIRS = sorted(p.name for p in VALIDATE.iterdir() if p.is_dir())


def expected_rule_counts(case: str) -> dict[str, tuple[int, int]]:
    """rule -> (findings, files), counted from the case's expected.tsv."""
    rows = list(csv.reader((VALIDATE / case / "expected.tsv").open(encoding="utf-8"), delimiter="\t"))[1:]
    findings = Counter(r[4] for r in rows if r)
    files = {rule: len({r[0] for r in rows if r and r[4] == rule}) for rule in findings}
    return {rule: (n, files[rule]) for rule, n in findings.items()}


def run(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


# --- validate: counts per rule -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_DIRS)
def test_json_summary_counts_findings_and_files_per_rule(case):
    data = json.loads(run("validate", "--format", "json", VALIDATE / case).stdout)
    got = {rule: (c["findings"], c["files"]) for rule, c in data["summary"]["rules"].items()}
    assert got == expected_rule_counts(case)
    assert sum(c["findings"] for c in data["summary"]["rules"].values()) == len(data["findings"])
    # what consumers read before the rules were added is still there
    assert {"files", "errors", "warnings", "files_with_errors"} <= set(data["summary"])


def _table(lines: list[str]) -> dict[str, tuple[str, int, int]]:
    """The rows of a printed rule table: rule -> (severity, findings, files)."""
    start = next(i for i, line in enumerate(lines) if line.split()[:4] == ["rule", "severity", "findings", "files"])
    out = {}
    for line in lines[start + 1:-1]:
        rule, severity, findings, files = line.split()
        out[rule] = (severity, int(findings.replace(",", "")), int(files.replace(",", "")))
    return out


@pytest.mark.parametrize("case", ["misspelt-vocab", "warnings", "translation", "missing-required"])
@pytest.mark.parametrize("fmt", ["text", "github"])
def test_text_and_github_end_with_the_rule_table_then_the_totals(case, fmt):
    full = run("validate", "--format", fmt, VALIDATE / case)
    lines = full.stdout.splitlines()
    table = _table(lines)
    assert {rule: counts[1:] for rule, counts in table.items()} == expected_rule_counts(case)
    severities = Counter(r[3] for r in csv.reader((VALIDATE / case / "expected.tsv").open(encoding="utf-8"), delimiter="\t") if r)
    errors, warnings = severities["error"], severities["warning"]
    assert lines[-1].startswith(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} in ")
    findings = [line for line in lines if line.startswith((str(VALIDATE), "::"))]
    assert len(findings) == sum(n for n, _ in expected_rule_counts(case).values())
    header = next(i for i, line in enumerate(lines) if line.startswith("rule "))
    assert lines[:len(findings)] == findings and header >= len(findings)  # findings, then the table

    summary = run("validate", "--format", fmt, "--summary", VALIDATE / case)
    assert summary.exit_code == full.exit_code
    assert summary.stdout.splitlines() == [line for line in lines if line not in findings and line]


def test_rule_table_lists_errors_first_then_by_count():
    lines = run("validate", VALIDATE / "warnings", VALIDATE / "misspelt-vocab", VALIDATE / "missing-required").stdout.splitlines()
    rows = list(_table(lines).items())
    severities = [sev for _, (sev, _, _) in rows]
    assert severities == sorted(severities)  # "error" < "warning"
    for (_, (sev_a, n_a, _)), (_, (sev_b, n_b, _)) in zip(rows, rows[1:]):
        assert sev_a != sev_b or n_a >= n_b


def test_summary_of_a_clean_corpus_is_the_totals_alone():
    result = run("validate", "--summary", VALIDATE / "ok-json")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["0 errors, 0 warnings in 1 file checked: ok"]


def test_json_summary_alone_has_no_findings_list():
    data = json.loads(run("validate", "--format", "json", "--summary", VALIDATE / "misspelt-vocab").stdout)
    assert set(data) == {"summary"} and data["summary"]["rules"]["vocab.unknown"]["findings"] == 3


def test_strict_counts_warning_rules_as_errors():
    data = json.loads(run("validate", "--format", "json", "--strict", "--summary", VALIDATE / "warnings").stdout)
    assert {c["severity"] for c in data["summary"]["rules"].values()} == {"error"}


# --- documents to convert first ------------------------------------------------------------------


def _docx(parts: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


KINDS = [
    ("ascii pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n", "a PDF document"),
    ("pdf after blank lines", b"\n\n  %PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
    ("docx", _docx({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"}), "a Word document"),
    ("xlsx is not word", _docx({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}), "a zip archive"),
    ("ole word", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64 + "WordDocument".encode("utf-16-le"), "a Word document"),
    ("ole other", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64 + "Workbook".encode("utf-16-le"), "an old-style Office"),
    ("rtf", b"{\\rtf1\\ansi The cap.\\par}", "an RTF document"),
    ("html in gbk", '<!DOCTYPE html><html><meta charset="gbk"><p>补贴期限</p></html>'.encode("gbk"), "an HTML page"),
    ("html with nul", b"<html><body>text\x00\x01</body></html>", "an HTML page"),
    ("html after a comment", b"<!-- saved -->\n<html>\xff</html>", "an HTML page"),
    # text stays text
    ("utf-8 html is text", "<html><body>补贴期限为十年。</body></html>".encode(), None),
    ("record mentioning pdf", b'---\n{"id": "x"}\n---\nThe file starts with %PDF-1.7.\n', None),
    ("plain text", "支援期間は15年とする。".encode(), None),
    ("latin-1 text is an encoding problem, not a document", "Caf\xe9 policy".encode("latin-1"), None),
    ("a word about rtf", b"rtf files are not records", None),
]


@pytest.mark.parametrize("data, kind", [pytest.param(d, k, id=i) for i, d, k in KINDS])
def test_document_kind(data, kind):
    found = document_kind(data)
    name = found.name if found else None
    assert name is None if kind is None else (name or "").startswith(kind), name


def test_every_command_says_to_convert_a_pdf_first(tmp_path):
    pdf = tmp_path / "download.txt"
    pdf.write_bytes(KINDS[0][1])
    (tmp_path / "ok.md").write_text(next((VALIDATE / "ok-json").glob("*.md")).read_text(encoding="utf-8"), encoding="utf-8")
    want = f"{pdf}:1:1: error load.convert-first: a PDF document, not text: convert it to UTF-8 text first"
    assert want in run("validate", tmp_path).stdout
    result = run("extract", pdf)
    assert result.exit_code == 1 and result.stderr.startswith(want.replace(" error load.convert-first:", " error:"))
    db = tmp_path / "kb.db"
    assert run("build", tmp_path, "--db", db).exit_code == 0
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("select rule from findings where path = ?", [str(pdf)]).fetchall() == [("load.convert-first",)]
        assert conn.execute("select count(*) from records").fetchone() == (1,)


# --- progress ------------------------------------------------------------------------------------


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_minute():
    clock, out = Clock(), io.StringIO()
    meter = progress.meter("build", 40, "files", stream=out, clock=clock)
    assert not meter.live
    for second in range(10, 401, 10):  # a file every 10 s, 1,000 characters each
        clock.now = 1000 + second
        meter.advance(1, 1000)
    meter.close()
    assert out.getvalue().splitlines() == [
        "build: 6/40 files (15%), 100 chars/s, ETA 5 min 40 s",
        "build: 12/40 files (30%), 100 chars/s, ETA 4 min 40 s",
        "build: 18/40 files (45%), 100 chars/s, ETA 3 min 40 s",
        "build: 24/40 files (60%), 100 chars/s, ETA 2 min 40 s",
        "build: 30/40 files (75%), 100 chars/s, ETA 1 min 40 s",
        "build: 36/40 files (90%), 100 chars/s, ETA 40 s",
    ]


def test_a_short_run_prints_nothing_in_a_log():
    clock, out = Clock(), io.StringIO()
    meter = progress.meter("build", 3, "files", stream=out, clock=clock)
    for _ in range(3):
        clock.now += 19.9
        meter.advance(1, 10)
    meter.close()
    assert out.getvalue() == ""


def test_a_terminal_gets_one_line_redrawn_in_place_then_cleared():
    clock, out = Clock(), Tty()
    meter = progress.meter("extract", 2_000_000, "characters", stream=out, clock=clock)
    assert meter.live
    clock.now += 0.5
    meter.update(100_000)
    assert out.getvalue() == ""  # nothing in the first second: quick commands do not flicker
    for step in range(5):  # an update every 1/8 s, redrawn at most every 0.2 s
        clock.now = 1001.0 + step * 0.125
        meter.update(250_000 * (step + 1))
    drawn = out.getvalue()
    assert "\n" not in drawn
    frames = drawn.split("\r")[1:]
    assert frames == ["extract: 250 k/2.0 M characters (12%), 250 k chars/s, ETA 7 s",
                      "extract: 750 k/2.0 M characters (37%), 600 k chars/s, ETA 2 s",
                      "extract: 1.2 M/2.0 M characters (62%), 833 k chars/s, ETA 1 s"]
    meter.close()
    assert out.getvalue().endswith("\r" + " " * len(frames[-1]) + "\r")


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (59.4, "59 s"), (59.6, "1 min 00 s"), (190, "3 min 10 s"),
                                           (3600, "1 h 00 min"), (7500, "2 h 05 min")])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_extract_tells_progress_through_the_body_clause_by_clause():
    body = "".join(f"The cap is {n} million yen. The period is {n} years.\n" for n in range(1, 200))
    seen: list[int] = []
    result = extract(parse_record(body, require_frontmatter=False), progress=seen.append)
    assert len(seen) == len(result.clauses)
    assert seen == sorted(seen) and seen[-1] == result.clauses[-1].end <= len(body)


def test_build_notes_progress_per_minute_in_a_log(tmp_path):
    clock, out = Clock(), io.StringIO()

    def ticking():  # each reading of the clock is 25 seconds on: one file per reading
        clock.now += 25
        return clock.now

    corpus = tmp_path / "c"
    corpus.mkdir()
    for n in range(6):
        (corpus / f"r{n}.md").write_text("The cap is 5 million yen.\n" * (n + 1), encoding="utf-8")
    build([corpus], tmp_path / "kb.db", progress=lambda total: Meter("build", total, "files", out, False, ticking))
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == ["build: 3/6 files (50%)", "build: 6/6 files (100%)"]


def test_cli_build_and_extract_print_no_progress_when_quick(tmp_path):
    result = run("build", REPO / "seeds", "--db", tmp_path / "kb.db")
    assert result.exit_code == 0 and result.stderr == ""
    result = run("extract", REPO / "seeds" / "jp-jogmec-advanced-ccs-2024.md")
    assert result.exit_code == 0 and result.stderr == ""


def test_cli_build_logs_progress_on_a_slow_clock(tmp_path, monkeypatch):
    ticks = iter(range(0, 10_000, 45))
    monkeypatch.setattr(progress, "CLOCK", lambda: float(next(ticks)))
    result = run("build", REPO / "seeds", "--db", tmp_path / "kb.db")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0].startswith("build: 2/2 files (100%), ")
