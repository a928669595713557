"""`policy-kb new` and `policy-kb suggest`: each suggestion rule on table-driven cases (including the
cases where the field must stay empty), the seed and the hub records through `new`, and the
in-place `suggest --write` round trip on JSON and YAML frontmatter."""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.extract import extract
from kb.fmedit import EditError, FieldEdit, apply_edits
from kb.publish import build
from kb.records import load_record, parse_record
from kb.suggest import (
    make_id,
    regulatory_suggestions,
    suggest_category,
    suggest_country,
    suggest_lang,
    suggest_status,
    suggest_subdivision,
    suggest_title,
    suggest_year,
)
from kb.validation import validate_paths
from kb.vocabularies import jurisdiction, vocabulary
from tests.helpers import REPO, shared

CASES = REPO / "tests" / "cases" / "suggest"
NOW = datetime(2026, 12, 3, tzinfo=UTC)


def _cases(name: str) -> list[dict]:
    rows = [json.loads(line) for line in (CASES / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [pytest.param(r, id=f"{r.get('rule') or r.get('field')}: {r['why']}") for r in rows]


def _metadata(rule: str, text: str):
    lang = suggest_lang(text)
    lang_code = lang.value if lang else "en"
    return {"lang": lambda: lang,
            "country": lambda: suggest_country(text, lang_code),
            # what `new` writes as country: the title's province or state when it lies in the country
            "jurisdiction": lambda: (suggest_subdivision(suggest_title(text), suggest_country(text, lang_code))
                                     or suggest_country(text, lang_code)),
            "title": lambda: suggest_title(text),
            "year": lambda: suggest_year(text, lang_code, NOW),
            "status": lambda: suggest_status(text),
            "category": lambda: suggest_category(text)}[rule]()


@pytest.mark.parametrize("case", _cases("metadata.jsonl"))
def test_metadata_rule(case):
    got = _metadata(case["rule"], case["text"])
    assert (got.value if got else None) == case["expect"]
    if got:  # the evidence is a line of the text and words on it
        line = case["text"].split("\n")[got.evidence.line - 1]
        words = got.evidence.text.strip("…")
        assert words and " ".join(words.split()) in " ".join(line.split())


@pytest.mark.parametrize("case", _cases("regulatory.jsonl"))
def test_regulatory_rule(case):
    record = parse_record(case["text"], "case.md", require_frontmatter=False)
    result = extract(record)
    found = {s.field: s for s in regulatory_suggestions({}, result.clauses, result.measures)}
    got = found.get(f"regulatory.{case['field']}")
    if case["expect"] is None:
        assert got is None
    else:
        assert got is not None and case["expect"] in got.value
        clause = next(c for c in result.clauses if c.id == got.clause_id)
        assert got.evidence.text == clause.text and got.evidence.line == clause.line


def test_filled_regulatory_fields_get_no_suggestion():
    text = "The operator remains liable for leakage for 20 years after site closure."
    result = extract(parse_record(text, "x.md", require_frontmatter=False))
    meta = {"regulatory": {"liability_period": "set by a person"}}
    assert regulatory_suggestions(meta, result.clauses, result.measures) == []
    meta = {"regulatory": {"liability_period": "  "}}
    assert [s.field for s in regulatory_suggestions(meta, result.clauses, result.measures)] == ["regulatory.liability_period"]


@pytest.mark.parametrize(
    "country, title, want",
    [
        ("JP", "Carbon Storage Act 2024", "jp-carbon-storage-act-2024"),
        (None, "Carbon Storage Act", "carbon-storage-act"),
        (
            "CN",
            "碳捕集利用与封存（CCUS）路线图",
            "cn-ccus-" + __import__("hashlib").sha1("碳捕集利用与封存（CCUS）路线图".encode()).hexdigest()[:6],
        ),
        (None, "", "002-aed6cdfe81896611"),
    ],
)
def test_id_is_a_slug_of_country_and_title(country, title, want):
    got = make_id(country, title, "002_aed6cdfe81896611")
    assert got == want and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", got)


# --- `new` -------------------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _frontmatter_fields(path: Path) -> dict:
    return load_record(path).meta


def test_new_on_seed_002(tmp_path):
    seed = next(iter(shared("seeds").glob("002_*")), None)
    if seed is None:
        pytest.skip("seed 002_… is absent from ../shared/seeds")
    result = run("new", str(seed), "--out", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    path = Path(doc["path"])
    meta = _frontmatter_fields(path)
    first_line = next(line.strip() for line in seed.read_text(encoding="utf-8").splitlines() if line.strip())
    assert meta["lang"] == "ja" and vocabulary("country").lookup(meta["country"]).term.key == "JP"
    assert meta["title"] == first_line
    assert meta["reviewStatus"] == "unreviewed" and meta["provenance"]["suggested"]["country"]["value"] == "JP"
    assert "policy-kb" in meta["provenance"]["note"] and meta["provenance"]["sourceFile"] == seed.name
    assert _body_bytes(path) == seed.read_bytes()
    fields = {s["field"] for s in doc["suggestions"]}
    assert {"lang", "country", "title"} <= fields
    for s in doc["suggestions"]:
        assert set(s) >= {"field", "value", "evidence"} and set(s["evidence"]) == {"line", "text"}
    _loads_validates_builds(tmp_path)


def _body_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    fences = [m.end() for m in re.finditer(rb"^---\n", data, re.M)]
    return data[fences[1]:]


def _loads_validates_builds(folder: Path) -> None:
    checked, findings = validate_paths([folder])
    errors = [f for f in findings if f.severity == "error"]
    assert checked and all(c.record is not None for c in checked)
    assert errors == [], errors
    allowed = {"quality.empty-field", "quality.empty-url"}
    assert {f.rule for f in findings} <= allowed
    db = folder.parent / (folder.name + ".db")
    report = build([folder], db)
    assert report.errors == 0 and report.files == len(checked)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from records").fetchone()[0] == len(checked)


def _hub_bodies() -> list[tuple[str, str, str, str]]:
    """(name, language, country code, body) of every hub record."""
    out = []
    for path in sorted(shared("peer", "ccus-policy-hub").glob("*/*.md")):
        record = load_record(path)
        code = vocabulary("country").lookup(record.meta["country"]).term.key
        out.append((f"{path.parent.name}-{path.stem}", path.parent.name, code, record.body))
    return out


def test_new_on_hub_bodies(tmp_path):
    """Every hub record's body without its frontmatter: lang always right, country right for most
    and never wrong; every file written loads, validates without errors and builds."""
    docs, out = tmp_path / "docs", tmp_path / "records"
    docs.mkdir()
    right = wrong = 0
    bodies = _hub_bodies()
    for name, lang, code, body in bodies:
        doc = docs / f"{name}.txt"
        doc.write_bytes(body.encode("utf-8"))
        result = run("new", str(doc), "--out", str(out), "--id", name, "--format", "json")
        assert result.exit_code == 0, result.output
        path = Path(json.loads(result.output)["path"])
        meta = _frontmatter_fields(path)
        assert meta["lang"] == lang, name
        assert _body_bytes(path) == doc.read_bytes(), name
        if meta["country"]:
            got = jurisdiction(vocabulary("jurisdiction").lookup(meta["country"]).term.key).country
            right += got == code
            wrong += got != code
    assert right >= 0.7 * len(bodies) and wrong <= 0.1 * len(bodies), (right, wrong, len(bodies))
    _loads_validates_builds(out)


def test_new_never_overwrites(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text("# Carbon Storage Act 2024\n\nThe Clean Energy Regulator administers it.\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run("new", str(doc), "--out", str(out), "--id", "x").exit_code == 0
    before = (out / "x.md").read_bytes()
    result = CliRunner().invoke(cli, ["new", str(doc), "--out", str(out), "--id", "x"])
    assert result.exit_code == 1 and "already exists" in result.output and "not overwritten" in result.output
    assert (out / "x.md").read_bytes() == before


@pytest.mark.parametrize("name, data, message", [
    ("binary.pdf", b"%PDF-1.7\n\x00\x01\x02binary", "a PDF document, not text"),
    ("binary.bin", b"\x00\x01\x02\x03binary\x00", "binary"),
    ("latin1.txt", "Déclaration".encode("latin-1"), "not UTF-8"),
    ("empty.txt", b"  \n\n", "empty document"),
    ("record.md", b"---\nid: x\n---\nbody\n", "already a record"),
])
def test_new_refuses_bad_input_in_one_line(tmp_path, name, data, message):
    doc = tmp_path / name
    doc.write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "kb", "new", str(doc), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_new_keeps_crlf_and_trailing_blanks(tmp_path):
    body = "Carbon Storage Rules\r\n\r\nThese rules came into force on 1 July 2024.  \r\n\r\n\r\n"
    doc = tmp_path / "d.txt"
    doc.write_bytes(body.encode("utf-8"))
    result = run("new", str(doc), "--out", str(tmp_path / "out"), "--format", "json")
    path = Path(json.loads(result.output)["path"])
    assert load_record(path).body == body
    assert _body_bytes(path) == body.encode("utf-8")


def test_new_text_output_lists_evidence(tmp_path):
    doc = tmp_path / "d.txt"
    doc.write_text("経済産業省\n令和6年5月に公布された二酸化炭素の貯留事業に関する法律の概要\n", encoding="utf-8")
    result = run("new", str(doc), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert re.search(r"country: JP\n\s+line \d+: ", result.output)
    assert "left empty: " in result.output


# --- `suggest --write` round trip ---------------------------------------------------------------

BODY = ("第一条　貯留事業者は、貯留した二酸化炭素の漏えいに備え、保証金を供託しなければならない。\n"
        "第二条　貯留事業の許可の有効期間は、五年とする。\n"
        "第三条　貯留事業者の責任は、坑井の閉鎖後二十年を経過したときは、機構に移転する。\n")
JSON_RECORD = """---
{
  "id": "rt",
  "title": "貯留事業",
  "country": "日本",
  "category": "法規制",
  "status": "現行",
  "year": 2024,
  "pubDate": "",
  "source": "",
  "url": "",
  "reviewStatus": "unreviewed",
  "provenance": {"author": "someone"},
  "regulatory": {
    "liability_period": "",
    "pore_space_rights": "set by a person"
  }
}
---
""" + BODY
YAML_RECORD = """---
# a person's comment stays
id: rt
title: 貯留事業
country: 日本
category: 法規制
status: 現行
year: 2024
pubDate: ''
source: ""
url: ''
reviewStatus: unreviewed
provenance:
  author: someone   # and this one
regulatory:
  liability_period:
  pore_space_rights: set by a person
---
""" + BODY
YAML_FLOW_NO_BLOCK = """---
{'id': 'rt', 'title': '貯留事業', 'country': '日本', 'category': '法規制', 'status': '現行', 'year': 2024,
 'pubDate': '', 'source': '', 'url': '', 'reviewStatus': 'unreviewed', 'provenance': {'author': 'someone',},}
---
""" + BODY


@pytest.mark.parametrize("text", [JSON_RECORD, YAML_RECORD, YAML_FLOW_NO_BLOCK, JSON_RECORD.replace("\n", "\r\n")],
                         ids=["json", "yaml-block", "yaml-flow-without-regulatory", "json-crlf"])
def test_suggest_write_round_trip(tmp_path, text):
    path = tmp_path / "rt.md"
    path.write_bytes(text.encode("utf-8"))
    result = run("suggest", str(path), "--write", "--format", "json")
    assert result.exit_code == 0, result.output
    fields = {s["field"] for s in json.loads(result.output)["suggestions"]}
    assert {"regulatory.liability_period", "regulatory.financial_assurance", "regulatory.permitting_lead_time",
            "regulatory.liability_transfer"} <= fields
    assert "regulatory.pore_space_rights" not in fields or "pore_space_rights: set" not in text
    new = path.read_text(encoding="utf-8")
    # Every byte of the old file is still there, in order; only empty values were replaced.
    for op, a1, a2, _, _ in difflib.SequenceMatcher(None, text, new, autojunk=False).get_opcodes():
        assert op in ("equal", "insert") or text[a1:a2].strip() in ("", "''", '""'), (op, text[a1:a2])
    record = load_record(path)
    assert record.body == (BODY.replace("\n", "\r\n") if "\r\n" in text else BODY)
    reg = record.meta["regulatory"]
    assert reg["liability_period"] == "二十年" and reg["permitting_lead_time"] == "五年"
    assert "保証金" in reg["financial_assurance"]
    assert reg.get("pore_space_rights", "set by a person") == "set by a person" or "pore_space_rights" not in text
    assert set(record.meta["provenance"]["suggested"]) == fields
    assert record.meta["provenance"]["author"] == "someone"
    _, findings = validate_paths([path])
    assert [f for f in findings if f.severity == "error"] == []
    # A second run finds nothing left to fill and changes nothing.
    again = run("suggest", str(path), "--write")
    assert again.exit_code == 0 and "no suggestions" in again.output
    assert path.read_text(encoding="utf-8") == new


def test_suggest_without_write_changes_nothing(tmp_path):
    path = tmp_path / "rt.md"
    path.write_text(YAML_RECORD, encoding="utf-8")
    result = run("suggest", str(path))
    assert result.exit_code == 0 and "regulatory.liability_period: 二十年" in result.output
    assert path.read_text(encoding="utf-8") == YAML_RECORD


def test_edit_that_would_change_other_values_is_refused():
    text = "---\nid: x\nregulatory: [1, 2]\n---\nbody\n"
    with pytest.raises(EditError):
        apply_edits(text, [FieldEdit(("regulatory", "liability_period"), "x")])


def test_suggest_on_unreadable_record_is_one_line(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\n{\"id\": \n---\nbody\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["suggest", str(path), "--write"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert path.read_text(encoding="utf-8") == "---\n{\"id\": \n---\nbody\n"


# --- published and shown ---------------------------------------------------------------------------


def test_suggestions_are_published_and_shown_beside_the_empty_field(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "rt.md").write_text(YAML_RECORD, encoding="utf-8")
    db = tmp_path / "kb.db"
    build([folder], db)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select record, field, value, clause_id, quote from suggestions order by field").fetchall()
        clause_ids = {r[0] for r in conn.execute("select id from clauses")}
    by_field = {r[1]: r for r in rows}
    assert by_field["liability_period"][2] == "二十年" and by_field["liability_period"][3] in clause_ids
    assert "pore_space_rights" not in by_field  # filled by a person
    assert all(r[0] == "rt.md" for r in rows)

    import asyncio

    from datasette.app import Datasette

    async def page() -> str:
        ds = Datasette([str(db)])
        return (await ds.client.get("/-/records/rt.md")).text

    html = asyncio.run(page())
    row = re.search(r'<tr id="regulatory-liability_period">.*?</tr>', html, re.S).group()
    assert "empty" in row and "suggested: 二十年" in row
    row = re.search(r'<tr id="regulatory-pore_space_rights">.*?</tr>', html, re.S).group()
    assert "set by a person" in row and "suggested" not in row
