"""`policy-kb extract FILE [--format json|table]`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kb.cli import cli
from tests.contracts import check_clauses, check_measures
from tests.helpers import REPO

SEED = REPO / "seeds" / "jp-ccs-pipeline-support-interim-draft-2026.md"
CLAUSE_KEYS = ["id", "start", "end", "line", "section", "lang", "text"]
MEASURE_KEYS = ["id", "kind", "role", "value", "value_max", "unit", "comparator", "surface", "start", "end", "clause_id", "line"]


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_json_for_a_record():
    result = run("extract", SEED, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert list(doc) == ["path", "lang", "clauses", "measures"]
    assert doc["path"] == str(SEED) and doc["lang"] == "ja"
    assert all(list(c) == CLAUSE_KEYS for c in doc["clauses"])
    assert all(list(m) == MEASURE_KEYS for m in doc["measures"])
    text = SEED.read_text("utf-8")
    body = text[text.index("\n---\n") + 5:]
    check_clauses(body, doc["clauses"])
    check_measures(body, doc["clauses"], doc["measures"])
    support = [m for m in doc["measures"] if m["role"] == "support_period"]
    assert [(m["value"], m["unit"], m["surface"]) for m in support] == [(15.0, "year", "15年")]
    assert "15年" in result.output  # ensure_ascii=False: CJK is written as is


def test_table_for_people():
    result = run("extract", SEED)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["line", "clause", "role", "surface", "value", "unit"]
    row = next(line for line in lines if "support_period" in line)
    assert row.split()[0] == "56" and "15年" in row and row.split()[-1] == "year"
    assert any("cost_cap" in line and "≤ 110" in line for line in lines)
    assert lines[-1].endswith("clauses") and "measures" in lines[-1]


def test_table_shows_ranges(tmp_path):
    f = tmp_path / "range.txt"
    f.write_text("处5万元以上50万元以下的罚款。\n", "utf-8")
    result = run("extract", f)
    assert result.exit_code == 0, result.output
    assert "50,000–500,000" in result.output and "CNY" in result.output


def test_plain_text_without_frontmatter(tmp_path):
    f = tmp_path / "notes.md"
    f.write_text("# 概要\n\n支援期間は15年とする。\n", "utf-8")
    result = run("extract", f, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    (m,) = [m for m in doc["measures"] if m["kind"] != "rule"]
    assert (m["role"], m["value"], m["line"]) == ("support_period", 15.0, 3)
    assert f.read_text("utf-8")[m["start"]:m["end"]] == "15年"  # the whole file is the body


def test_empty_file_gives_empty_lists(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_text("", "utf-8")
    result = run("extract", f, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["measures"] == []
    assert run("extract", f).exit_code == 0


@pytest.mark.parametrize("content, where", [
    (b"\xe6\x94\xaf\xe6\x8f\xb4 \xff\xfe broken", ":1:"),
    (b"abc\x00def", ":1:1"),
    (b"---\ntitle: [unclosed\n---\nbody\n", ":"),
])
def test_unreadable_file_is_one_line_error(tmp_path, content, where):
    f = tmp_path / "bad.md"
    f.write_bytes(content)
    result = CliRunner().invoke(cli, ["extract", str(f)])
    assert result.exit_code == 1, result.output
    err = result.stderr if hasattr(result, "stderr") else result.output
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(str(f)) and where in lines[0], err
    assert "Traceback" not in result.output


def test_missing_file_is_usage_error(tmp_path):
    result = run("extract", tmp_path / "nope.md")
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_directory_is_usage_error(tmp_path):
    assert run("extract", tmp_path).exit_code == 2


def test_bad_format_is_usage_error():
    assert run("extract", SEED, "--format", "xml").exit_code == 2


@pytest.mark.parametrize("args,unit", [((), "USD/t"), (("--country", "Canada"), "CAD/t"), (("--country", "CA-AB"), "CAD/t"),
                                       (("--country", "オーストラリア"), "AUD/t")])
def test_country_names_a_bare_dollar(tmp_path, args, unit):
    f = tmp_path / "charge.txt"
    f.write_text("The excess emissions charge is $50 per tonne.\n", encoding="utf-8")
    result = run("extract", f, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    assert [(m["value"], m["unit"]) for m in json.loads(result.output)["measures"]] == [(50.0, unit)]


def test_a_country_no_field_knows_is_a_usage_error(tmp_path):
    f = tmp_path / "charge.txt"
    f.write_text("The charge is $50 per tonne.\n", encoding="utf-8")
    result = run("extract", f, "--country", "Atlantis")
    assert result.exit_code == 2
    assert "--country" in result.output and "Atlantis" in result.output
