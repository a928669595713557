"""Language detection and FTS5-safe segmentation for ja/zh/en."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.tokens import detect_lang, segment, segment_query
from tests.helpers import shared


def seed_text(name: str) -> str:
    text = shared("seeds", name).read_text("utf-8")
    if text.startswith("---\n"):  # seed 000: JSON frontmatter between '---' lines
        return text[text.index("\n---\n", 4) + len("\n---\n") :]
    return text


@pytest.mark.parametrize(
    "text, lang",
    [
        ("", "en"),
        ("Carbon capture and storage", "en"),
        ("123 + 456", "en"),
        ("二氧化碳封存项目", "zh"),
        ("事業継続義務", "zh"),  # kanji alone cannot tell Japanese from Chinese
        ("支援期間は15年とし", "ja"),
        ("CCSコスト", "ja"),
        ("ｶﾀｶﾅ", "ja"),
        ("中村・山田", "zh"),  # the katakana middle dot is shared with Chinese text
        ("日本 JOGMEC 先进 CCS 项目", "zh"),
        ("𠀀𠀁", "zh"),
        ("\ud800", "en"),
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


# ---------------------------------------------------------------- segmentation


def analyzer_words(text: str, lang: str) -> list[str]:
    """What the analyzers themselves make of a short text: the words segment() must store."""
    import fugashi
    import rjieba

    if lang == "ja":
        words = [w.surface for w in fugashi.Tagger()(text)]
    elif lang == "zh":
        words = list(rjieba.cut(text))
    else:
        words = re.findall(r"\w+(?:[.,]\d+)*", text)
    return [w.lower() for w in words if re.search(r"[^\W_]", w)]


@pytest.mark.parametrize("text", ["今日は晴れ。CCS事業の支援期間は15年とする。", "碳捕集与封存项目 2030年", "事業継続義務",
                                  "Support period of 15 years, CO2 storage_x ___", "ＡＢＣと１２",
                                  "（注１）「CCS」、—— __ x_y ...!? ① 2.5% u.s.「」"])
@pytest.mark.parametrize("lang", ["ja", "zh", "en"])
def test_segment_gives_the_analyzers_words(text, lang):
    assert segment(text, lang).split() == analyzer_words(text, lang)


def test_segment_words_per_language():
    assert segment("事業継続義務を課す。エネルギーを認めた", "ja").split() == [
        "事業", "継続", "義務", "を", "課す", "エネルギー", "を", "認め", "た"]
    assert segment("二氧化碳𠀀封存 CCS 项目。", "zh").split()[:3] == ["二氧化碳", "𠀀", "封存"]
    assert segment("The U.S. plan: 3.5 Mt, 1,000 t CO2 by 2030s.", "en").split() == [
        "the", "u", "s", "plan", "3.5", "mt", "1,000", "t", "co2", "by", "2030s"]


@pytest.mark.parametrize("name, lang", [("002_aed6cdfe81896611.txt", "ja"), ("000_59518ccce50359ba.txt", "zh")])
def test_long_text_is_cut_only_at_breaks(name, lang):
    """A text of many MeCab / jieba calls segments like its parts: pieces end at line breaks."""
    text = seed_text(name).rstrip("\n") + "\n"
    times = 2 * 50_000 // len(text) + 2  # past two of the largest chunks
    assert segment(text * times, lang).split() == segment(text, lang).split() * times


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\t\u3000 ",
        "\ud800",
        "a\ud800b\udfffc",
        "\x00支援\x00",
        "\x01\x02\x03支援\x02\x03の\x01",
        "x\r\ny\x85z\u2028w",
        "ｶﾀｶﾅとｶﾀｶﾅ",
        "🀄🀄の🀄",
        '"*()NEAR^:',
    ],
)
@pytest.mark.parametrize("lang", ["ja", "zh", "en", None])
def test_hostile_text_segments_to_searchable_words(text, lang):
    words = segment(text, lang).split(" ") if segment(text, lang) else []
    assert all(w and re.search(r"[^\W_]|[\ue000-\uf8ff]", w) for w in words)
    assert not re.search(r"[\x00-\x1f\ud800-\udfff]", " ".join(words))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["ja", "zh", "en", None]))
def test_property_segment_is_fts5_text(text, lang):
    seg = segment(text, lang)
    assert seg == seg.strip() and "  " not in seg
    assert not re.search(r"[\ud800-\udfff]", seg)


def test_ten_megabyte_line_is_one_word():
    # How long this takes is bench/micro.py's business; here: it finishes, and is right.
    assert segment("x" * 10_000_000) == "x" * 10_000_000
    no_breaks = "ア" * 1_000_000  # MeCab is quadratic in such runs; chunks are cut short
    assert "".join(segment(no_breaks, "ja").split()) == no_breaks


# ---------------------------------------------------------------- full-text search


@pytest.fixture
def fts():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    yield db
    db.close()


def hits(db, query: str) -> list[int]:
    return [r[0] for r in db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid", (query,))]


def test_segment_shape():
    assert segment("事業継続義務を課す。", "ja") == "事業 継続 義務 を 課す"
    assert segment("Carbon Capture, 3.5 Mt!") == "carbon capture 3.5 mt"
    assert segment("  。、！ ") == ""


def test_query_words_are_a_subset_of_the_indexed_words():
    indexed = set(segment("事業継続義務", "ja").split())
    assert set(segment("義務", "ja").split()) <= indexed
    q = segment_query("義務", "ja")
    assert q.startswith('("義務"')


@pytest.mark.parametrize(
    "doc, query",
    [
        ("事業継続義務", "義務"),  # no kana: segmented by jieba, character by character
        ("支援期間終了後に10年間の事業継続義務を課す。", "義務"),
        ("支援期間終了後に10年間の事業継続義務を課す。", "事業継続義務"),
        ("支援期間終了後に10年間の事業継続義務を課す。", "継続義務を課す"),
        ("选定的 9 个项目合计目标年封存量达 2000 万吨", "封存"),
        ("选定的 9 个项目合计目标年封存量达 2000 万吨", "2000 万吨"),
        ("Carbon Capture and Storage", "capture STORAGE"),
    ],
)
def test_query_finds_document(fts, doc, query):
    fts.execute("INSERT INTO t(rowid, x) VALUES (1, ?), (2, ?)", (segment(doc), segment("無関係な文書です。")))
    assert hits(fts, segment_query(query)) == [1]


@pytest.mark.parametrize(
    "query",
    ['"', '""', "*", ")", "(", "NEAR", "AND", "OR", "NOT", "a OR", "NEAR(a b)", "x:y", "^a", "-a", "a*",
     "義務\"*", "", "   ", "。、", "\ud800", "\x00", "'; DROP TABLE t; --", "{a b}", "a + b", "_"],
)
def test_hostile_queries_are_valid_fts5(fts, query):
    fts.execute("INSERT INTO t(rowid, x) VALUES (1, ?)", (segment("NEAR AND OR 義務 x y a b"),))
    q = segment_query(query)
    assert isinstance(q, str)
    hits(fts, q) if q else None  # an empty query means "nothing searchable"
    if not any(ch.isalnum() for ch in query):
        assert q == ""


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_property_queries_never_break_fts5(query):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    q = segment_query(query)
    if q:
        db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (q,)).fetchone()


def test_seed_clauses_are_searchable(fts):
    from kb.extract import split_clauses

    body = seed_text("002_aed6cdfe81896611.txt")
    clauses = split_clauses(body, "s")
    fts.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", [(i, segment(c.text, c.lang)) for i, c in enumerate(clauses)])
    found = {clauses[i].text for i in hits(fts, segment_query("事業継続義務"))}
    assert any("支援期間は15年とし" in t for t in found)
    assert hits(fts, segment_query("プロジェクト管理費"))


@pytest.mark.parametrize("text, context, lang", [
    ("附則", "ja", "ja"), ("附則", "ja-JP", "ja"), ("附則", "zh", "zh"), ("附則", None, "zh"),
    ("かな", "zh", "ja"), ("Annex", "ja", "en"), ("", "ja", "en"),
])
def test_detect_lang_in_context(text, context, lang):
    assert detect_lang(text, context) == lang
