"""Clause splitting: hand-written cases, the shared seed documents, and invariants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.extract import Clause, split_clauses
from kb.extract.text import mask, readable
from tests.contracts import check_clauses
from tests.helpers import CASES, shared

CLAUSE_CASES = sorted(p for p in (CASES / "clauses").iterdir() if p.suffix in {".md", ".txt"})


def seed_body(name: str) -> tuple[str, int]:
    """Body of a seed file and the file line it starts on. Seed 000 opens with a JSON
    frontmatter between '---' lines; seed 002 is all body."""
    text = shared("seeds", name).read_text("utf-8")
    if text.startswith("---\n"):
        end = text.index("\n---\n", 4) + len("\n---\n")
        return text[end:], text[:end].count("\n") + 1
    return text, 1


def check_invariants(body: str, clauses: list[Clause], first_line: int = 1) -> None:
    """The offset contract, and every clause has text, stripped."""
    check_clauses(body, clauses, first_line)
    assert all(c.text and c.text == c.text.strip() for c in clauses), [c for c in clauses if not c.text or c.text != c.text.strip()][:1]


def by_span(body: str, clauses: list[Clause], surface: str) -> Clause:
    found = [c for c in clauses if body[c.start : c.end] == surface]
    assert len(found) == 1, (surface, [body[c.start : c.end] for c in clauses if surface[:8] in body[c.start : c.end]])
    return found[0]


# ---------------------------------------------------------------- case files


@pytest.mark.parametrize("path", CLAUSE_CASES, ids=lambda p: p.name)
def test_case_file(path: Path):
    body = path.read_text("utf-8")
    expected = json.loads(path.with_suffix(".json").read_text("utf-8"))
    clauses = split_clauses(body, path.stem)
    assert [[c.kind, body[c.start : c.end], c.section] for c in clauses] == expected
    check_invariants(body, clauses)


@pytest.mark.parametrize("path", CLAUSE_CASES, ids=lambda p: p.name)
def test_crlf_gives_the_same_clauses(path: Path):
    body = path.read_text("utf-8")
    crlf = body.replace("\n", "\r\n")
    plain = split_clauses(body, "r")
    windows = split_clauses(crlf, "r")
    assert [(c.kind, c.text, c.section, c.line, c.id) for c in windows] == [
        (c.kind, c.text, c.section, c.line, c.id) for c in plain
    ]
    check_invariants(crlf, windows)


@pytest.mark.parametrize(
    "raw, text",
    [
        ("<措置①>事業者は**報告**する。", "<措置①>事業者は報告する。"),
        ("A1\t<ul><li>建设费</li><li>预备费</li></ul>", "A1 建设费 预备费"),
        ("CO<sub>2</sub> の __回収__ と `貯留`", "CO2 の 回収 と 貯留"),
        ("分離\n回収", "分離回収"),
        ("capture\nand  storage", "capture and storage"),
        ("a < b &amp; c > d", "a < b & c > d"),
    ],
)
def test_readable_text(raw, text):
    assert readable(raw) == text


@pytest.mark.parametrize(
    "body, masked",
    [
        ("<b>x</b>", "   x    "),
        ("**重要**です", "  重要  です"),
        ("<ul\nstyle='a'>・", " " * 3 + "\n" + " " * 10 + "・"),
        ("<措置①> a < b <<<", "<措置①> a < b <<<"),
        ("<tr><TD class=x>1</td></tr><track>", "\n   \t           1     \n           "),  # rows on lines, cells at tabs
    ],
)
def test_mask_keeps_length_and_line_breaks(body, masked):
    assert mask(body) == masked


def test_html_cells_read_through():
    body = (CASES / "clauses" / "html_cells.md").read_text("utf-8")
    rows = [c for c in split_clauses(body) if c.kind == "table_row"]
    assert [c.text for c in rows] == ["项目 | 内容", "A1 | 建设费 预备费", "B2 | 运营费用 每年"]


def test_html_table_rows_are_table_rows():
    body = (CASES / "clauses" / "html_table.md").read_text("utf-8")
    clauses = split_clauses(body)
    assert [(c.kind, c.line, c.text) for c in clauses[1:]] == [
        ("table_row", 3, "Tier | Annual emissions (tCO2e) | Charge ($/t)"),
        ("table_row", 4, "1 | 25,000 to 50,000 | 15"),  # lines count the body's, not the mask's row breaks
        ("table_row", 4, "2 | more than 50,000 | 25"),
        ("paragraph", 4, "The operator must pay by 30 June."),
    ]


def test_first_line_and_record_id():
    clauses = split_clauses("# H\n\nText.", "jp-x", first_line=10)
    assert [(c.line, c.id.split("/")[0], c.record_id) for c in clauses] == [(10, "jp-x", "jp-x"), (12, "jp-x", "jp-x")]


# ---------------------------------------------------------------- seeds

TERM = "支援期間は15年とし、その支援期間終了後に10年間の事業継続義務を分離回収事業者・輸送貯留事業者双方に課す。"


def test_seed_002_structure():
    body, first = seed_body("002_aed6cdfe81896611.txt")
    clauses = split_clauses(body, "jp-ccs-support", first)
    check_invariants(body, clauses, first)

    term = by_span(body, clauses, TERM)
    assert term.kind in {"item", "sentence"}
    assert "CCSコスト差支援措置の方向性" in term.section

    formulas = [c for c in clauses if c.kind == "formula"]
    assert len(formulas) == 1
    assert body[formulas[0].start : formulas[0].end].startswith("$$A1 \\times a1")
    assert body[formulas[0].start : formulas[0].end].endswith("$$")

    rows = [c for c in clauses if c.kind == "table_row"]
    assert [r.text.split(" | ")[0] for r in rows] == [
        "項目", "A1 (分離回収)", "A1 (輸送貯留)", "a1", "A2", "a2", "A3", "B1", "B2", "C", "総CO2貯留想定量",
    ]
    a1 = rows[1]
    assert "プロジェクト管理費" in a1.text and "<li" not in a1.text and "<ul" not in a1.text
    assert "<ul" in body[a1.start : a1.end]  # the span is the original, tags included

    start = body.index("<措置②>")
    measure2 = [c for c in clauses if start <= c.start < body.index("\n", start)]
    assert len(measure2) == 2
    assert [c.kind for c in measure2] == ["sentence", "sentence"]
    assert body[measure2[0].start : measure2[0].end].startswith("<措置②>一時的な")
    assert body[measure2[1].start : measure2[1].end].endswith("返還を求める。）。")
    for c in measure2:
        assert "**" not in c.text
        assert body[c.start : c.end].replace("**", "") == c.text.replace(" ", "")


def test_seed_002_labels_are_not_headings():
    body, _ = seed_body("002_aed6cdfe81896611.txt")
    clauses = split_clauses(body)
    label = by_span(body, clauses, "<基準価格>")
    assert label.kind == "paragraph"
    assert not any("<" in c.section for c in clauses)
    note = by_span(body, clauses, "※★を記載している費目は、輸送貯留料金のみに含まれる費目")
    assert note.kind == "paragraph"


def test_seed_000_sentences_under_heading():
    body, first = seed_body("000_59518ccce50359ba.txt")
    clauses = split_clauses(body, "jp-jogmec-advanced-ccs-2024", first)
    check_invariants(body, clauses, first)
    assert clauses[0].kind == "heading" and clauses[0].text == "政策概览"
    assert clauses[0].line == first + body[: clauses[0].start].count("\n")
    rest = clauses[1:]
    assert rest and all(c.section == "政策概览" and c.kind == "sentence" for c in rest)
    assert all(body[c.start : c.end].endswith("。") for c in rest)
    assert len(rest) == 6
    assert {c.lang for c in rest} == {"zh"}


def test_ids_survive_edits_in_other_sections():
    body, _ = seed_body("002_aed6cdfe81896611.txt")
    before = split_clauses(body, "r")
    edited = body.replace(TERM, "支援期間は20年とする。追加の一文を入れる。")
    after = split_clauses(edited, "r")
    later = "基準価格に含まれる費目の例と基準価格の決定方法"

    def ids(clauses, sec):
        return [(c.id, c.text) for c in clauses if c.section == sec]

    assert ids(before, later) and ids(before, later) == ids(after, later)
    # Earlier sections too: only the edited section renumbers.
    first = "CCS事業の位置づけとビジネスモデルの基本的な考え方"
    assert ids(before, first) == ids(after, first)
    edited_sec = "CCSコスト差支援措置の方向性"
    assert ids(before, edited_sec) != ids(after, edited_sec)


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n\t\n",
        "no newline at all",
        "<ul><li>unterminated",
        "<<<",
        "a < b and c > d",
        "$$",
        "$$ x + y",
        "$$\nx = 1\n$$",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "||||",
        "-",
        "1.",
        "（（（「「『",
        "）」』。。。",
        "\ud800\udfff。\x00；",
        "#",
        "######",
        "# \n## ",
        "**",
        "&amp;;&#12;;",
        "\r\r\r",
        "a\tb\tc",
        "第一条",
        "第一章",
    ],
)
def test_hostile_bodies(body):
    check_invariants(body, split_clauses(body, "x"))


PIECES = st.sampled_from(
    list("ab .;；。！？、\n\t|$<>/-*#（）「」()12")
    + ["$$", "<ul>", "</li>", "**", "\r\n", "第一条", "第一章", "①", "・", "支援", "CCS", "No.", "&amp;", "\n\n", "1. "]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=80).map("".join))
def test_property_spans_are_sane(body):
    check_invariants(body, split_clauses(body, "p"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_property_any_unicode(body):
    check_invariants(body, split_clauses(body, "p"))


# ---------------------------------------------------------------- large inputs
# How fast these go is measured by bench/micro.py; the tests check they finish and stay exact.


def test_one_megabyte_is_the_seed_repeated():
    body, _ = seed_body("002_aed6cdfe81896611.txt")
    copies = 1_000_000 // len(body) + 1
    one, big = split_clauses(body, "s"), split_clauses((body + "\n\n") * copies, "s")
    assert [c.text for c in big] == [c.text for c in one] * copies


def _seed_as_one_line() -> str:
    body, _ = seed_body("002_aed6cdfe81896611.txt")
    flat = body.replace("\n", " ").replace("\t", " ") + " "
    return flat * (10_000_000 // len(flat))


@pytest.mark.parametrize(
    "make",
    [
        _seed_as_one_line,  # ~90k sentences
        lambda: "x" * 10_000_000,
        lambda: "<a " * 3_000_000,
        lambda: "(" * 5_000_000 + "]" * 5_000_000,
        lambda: "$$ " * 3_000_000,
    ],
    ids=["seed-text", "one-word", "open-tags", "brackets", "dollars"],
)
def test_ten_megabyte_single_line_finishes(make):
    body = make()
    check_invariants(body, split_clauses(body, "big"))
