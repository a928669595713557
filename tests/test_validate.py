"""`policy-kb validate`: table-driven over tests/cases/validate/<case>/, each folder holding record
files and `expected.tsv` (file, line, col, severity, rule, field) of every finding it must give."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.validation import validate_paths
from tests.helpers import CASES, REPO, shared

VALIDATE = CASES / "validate"
CASE_DIRS = sorted(p.name for p in VALIDATE.iterdir() if p.is_dir())


def expected(case: str) -> set[tuple]:
    rows = list(csv.reader((VALIDATE / case / "expected.tsv").open(encoding="utf-8"), delimiter="\t"))
    return {(r[0], int(r[1]), int(r[2]), r[3], r[4], r[5]) for r in rows[1:] if r}


def found(case: str) -> set[tuple]:
    root = VALIDATE / case
    _, findings = validate_paths([root])
    return {(Path(f.path).relative_to(root).as_posix(), f.line, f.col, f.severity, f.rule, f.field) for f in findings}


@pytest.mark.parametrize("case", CASE_DIRS)
def test_case_findings(case):
    assert found(case) == expected(case)


@pytest.mark.parametrize("case", CASE_DIRS)
def test_case_exit_code(case):
    result = CliRunner().invoke(cli, ["validate", str(VALIDATE / case)])
    has_errors = any(row[3] == "error" for row in expected(case))
    assert result.exit_code == (1 if has_errors else 0), result.output
    assert "Traceback" not in result.output


def test_all_cases_at_once_keep_every_file():
    """One bad file never hides the others: checking every case together gives the union."""
    _, findings = validate_paths([VALIDATE])
    paths = {Path(f.path).relative_to(VALIDATE).parts[0] for f in findings}
    bad_cases = {c for c in CASE_DIRS if expected(c)}
    assert bad_cases <= paths


def test_seeds_validate_without_errors():
    result = CliRunner().invoke(cli, ["validate", str(REPO / "seeds")])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output.splitlines()[-1]


def test_seed_002_body_is_the_document_byte_for_byte():
    from kb.records import load_record

    original = shared("seeds", "002_aed6cdfe81896611.txt").read_bytes()
    record = load_record(REPO / "seeds" / "jp-ccs-pipeline-support-interim-draft-2026.md")
    assert record.body.encode("utf-8") == original
    assert record.meta["pubDate"] == record.meta["source"] == record.meta["url"] == ""
    assert record.meta["reviewStatus"] == "unreviewed"


def test_seed_000_is_the_document_unchanged():
    original = shared("seeds", "000_59518ccce50359ba.txt").read_bytes()
    assert (REPO / "seeds" / "jp-jogmec-advanced-ccs-2024.md").read_bytes() == original


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_formats(fmt):
    result = CliRunner().invoke(cli, ["validate", "--format", fmt, str(VALIDATE / "misspelt-vocab")])
    assert result.exit_code == 1
    out = result.output
    if fmt == "text":
        assert "misspelt.md:" in out and ": error vocab.unknown: " in out and "did you mean 'Regulatory'" in out
    elif fmt == "json":
        data = json.loads(out)
        assert data["summary"]["errors"] == 3
        assert {f["field"] for f in data["findings"]} == {"category", "status", "country"}
    else:
        assert out.startswith("::error file=") and ",line=" in out and ",title=vocab.unknown::" in out


def test_strict_turns_warnings_into_errors():
    seeds = str(REPO / "seeds")
    assert CliRunner().invoke(cli, ["validate", seeds]).exit_code == 0
    assert CliRunner().invoke(cli, ["validate", "--strict", seeds]).exit_code == 1


def test_missing_path_is_a_usage_error():
    result = CliRunner().invoke(cli, ["validate", "no/such/folder"])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_too_large_file(tmp_path):
    from kb.records import TooLarge, load_record

    big = tmp_path / "big.md"
    big.write_text("---\nid: big\n---\n" + "x" * 2000, encoding="utf-8")
    with pytest.raises(TooLarge) as err:
        load_record(big, max_bytes=1000)
    assert err.value.rule == "load.too-large" and err.value.path == str(big)


def test_python_dash_m_kb_runs():
    out = subprocess.run([sys.executable, "-m", "kb", "validate", str(REPO / "seeds")], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr


# --- real records from ../shared/peer/ccus-policy-hub -------------------------------------------

HUB_FINDINGS = [
    # (file, severity, rule, field): defects the hub's real data has
    ("en/iso-standards.md", "warning", "vocab.other-language", "category"),  # 法律监管 in an English file
    ("en/iso-standards.md", "warning", "vocab.other-language", "status"),  # 现行 in an English file
    ("zh/eg-carbon-market-framework-2024.md", "warning", "vocab.other-language", "country"),  # 'Egypt' in a Chinese file
    ("zh/ae-federal-climate-law-2024.md", "warning", "vocab.other-language", "legalWeight"),
    ("en/california-lcfs.md", "error", "corpus.unknown-reference", "evolution.supersedes.0"),  # 'lcfs-legacy-2019'
    ("zh/california-lcfs.md", "error", "corpus.unknown-reference", "evolution.supersedes.0"),
    ("en/au-offshore-ghg-safety-2024.md", "warning", "quality.regulatory-empty", "regulatory"),
    ("en/ae-federal-climate-law-2024.md", "warning", "quality.repeated-evidence", "analysis.incentive.evidence"),
]


@pytest.fixture(scope="module")
def hub_findings():
    hub = shared("peer", "ccus-policy-hub")
    checked, findings = validate_paths([hub])
    return hub, checked, findings


def test_hub_every_file_loads(hub_findings):
    hub, checked, _ = hub_findings
    assert len(checked) == 66  # 33 ids x (zh, en); README.md and LICENSE are not records
    assert all(c.record is not None for c in checked)
    assert {c.record.lang for c in checked} == {"zh", "en"}


@pytest.mark.parametrize("file,severity,rule,field", HUB_FINDINGS)
def test_hub_real_defects_are_reported(hub_findings, file, severity, rule, field):
    hub, _, findings = hub_findings
    got = {(Path(f.path).relative_to(hub).as_posix(), f.severity, f.rule, f.field) for f in findings}
    assert (file, severity, rule, field) in got


def test_hub_verified_with_pending_reviewer(hub_findings):
    hub, checked, findings = hub_findings
    pending = {Path(c.path).relative_to(hub).as_posix() for c in checked
               if c.record.meta.get("reviewStatus") == "verified" and "Pending" in c.record.meta["provenance"].get("reviewer", "")}
    flagged = {Path(f.path).relative_to(hub).as_posix() for f in findings if f.rule == "quality.verified-unreviewed"}
    assert pending and pending <= flagged


def test_hub_only_errors_are_the_dangling_supersedes(hub_findings):
    _, _, findings = hub_findings
    assert {(f.rule, f.field) for f in findings if f.severity == "error"} == {("corpus.unknown-reference", "evolution.supersedes.0")}


def test_hub_positions_point_at_the_value(hub_findings):
    hub, _, findings = hub_findings
    f = next(f for f in findings if f.path.endswith("en/iso-standards.md") and f.field == "category")
    line = Path(f.path).read_text(encoding="utf-8").splitlines()[f.line - 1]
    assert line[f.col - 1:].startswith("'法律监管'")
