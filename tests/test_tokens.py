"""Tokens: language detection, exact offsets for ja/zh/en, FTS5-safe segmentation."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kb.tokens as tokens_mod
from kb.tokens import Token, detect_lang, segment, segment_query, tokenize
from tests.conftest import shared


def seed_text(name: str) -> str:
    text = shared("seeds", name).read_text("utf-8")
    if text.startswith("---\n"):  # seed 000: JSON frontmatter between '---' lines
        return text[text.index("\n---\n", 4) + len("\n---\n") :]
    return text


def check_offsets(text: str, toks: list[Token], base: int = 0) -> None:
    prev = base
    for t in toks:
        assert prev <= t.start < t.end <= base + len(text), t
        assert text[t.start - base : t.end - base] == t.surface, t
        assert not t.surface.isspace() and t.surface == t.surface.strip(), t
        prev = t.end


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


# ---------------------------------------------------------------- per language


def test_japanese_words_lemmas_pos():
    toks = tokenize("事業継続義務を課す。エネルギーを認めた", "ja")
    assert [t.surface for t in toks] == ["事業", "継続", "義務", "を", "課す", "。", "エネルギー", "を", "認め", "た"]
    by = {t.surface: t for t in toks}
    assert by["認め"].lemma == "認める" and by["認め"].pos == "動詞"
    assert by["エネルギー"].lemma == "エネルギー"  # UniDic's "-energy" gloss is dropped
    assert by["義務"].pos == "名詞" and by["。"].pos == "補助記号"


def test_japanese_features_match_fugashi_nodes():
    """The cached pos/lemma per (surface, context ids) equals what fugashi reports per node."""
    fugashi = pytest.importorskip("fugashi")
    text = seed_text("002_aed6cdfe81896611.txt")
    tokens_mod._POS.clear()
    tokens_mod._LEMMA.clear()
    cold = tokenize(text, "ja")
    warm = tokenize(text, "ja")
    assert cold == warm
    expected = []
    for w in fugashi.Tagger()(text):
        lemma = w.feature.lemma
        lemma = lemma.split("-")[0] if lemma and "-" in lemma[1:] and lemma.split("-", 1)[1][:1].isascii() else lemma
        expected.append((w.surface, w.feature.pos1, lemma or w.surface))
    assert [(t.surface, t.pos, t.lemma) for t in cold] == expected


def test_chinese_offsets_are_characters_not_bytes():
    text = "二氧化碳𠀀封存 CCS 项目。𠀀𠀀中国 hello world"
    toks = tokenize(text, "zh")
    check_offsets(text, toks)
    assert [t.surface for t in toks][:3] == ["二氧化碳", "𠀀", "封存"]
    assert all(t.pos == "" and t.lemma == t.surface for t in toks)


def test_english_words_and_numbers():
    toks = tokenize("The U.S. plan: 3.5 Mt, 1,000 t CO2 by 2030s.", "en")
    assert [(t.surface, t.lemma, t.pos) for t in toks] == [
        ("The", "the", "word"), ("U", "u", "word"), ("S", "s", "word"), ("plan", "plan", "word"),
        ("3.5", "3.5", "num"), ("Mt", "mt", "word"), ("1,000", "1,000", "num"), ("t", "t", "word"),
        ("CO2", "co2", "word"), ("by", "by", "word"), ("2030s", "2030s", "word"),
    ]


def test_base_shifts_offsets():
    text = "支援期間は15年"
    plain, shifted = tokenize(text), tokenize(text, base=100)
    assert [(t.start + 100, t.end + 100) for t in plain] == [(t.start, t.end) for t in shifted]
    check_offsets(text, shifted, base=100)


def test_bulk_built_tokens_equal_constructed_ones():
    t = tokens_mod._build(["a"], ["b"], ["c"], [1], [2])[0]
    assert t == Token("a", "b", "c", 1, 2) and hash(t) == hash(Token("a", "b", "c", 1, 2))
    with pytest.raises(AttributeError):
        t.start = 5  # still frozen


def test_jieba_tokens_with_inner_whitespace_are_trimmed():
    # jieba has not been seen doing this, but the slow path must keep offsets exact.
    assert tokens_mod._trim([" a", "b ", " c d "], [0, 5, 9], [2, 7, 14]) == (
        ["a", "b", "c d"], [1, 5, 10], [2, 6, 13],
    )


@pytest.mark.parametrize(
    "name, lang",
    [
        ("002_aed6cdfe81896611.txt", "ja"),
        ("000_59518ccce50359ba.txt", "zh"),
        ("000_59518ccce50359ba.txt", "ja"),
        ("002_aed6cdfe81896611.txt", "zh"),
        ("002_aed6cdfe81896611.txt", "en"),
    ],
)
def test_seed_bodies_offsets(name, lang):
    text = seed_text(name)
    toks = tokenize(text, lang)
    assert len(toks) > 100
    check_offsets(text, toks)


def test_seed_frontmatter_offsets():
    text = shared("seeds", "000_59518ccce50359ba.txt").read_text("utf-8")
    check_offsets(text, tokenize(text))


def test_long_text_is_chunked_with_exact_offsets():
    text = seed_text("002_aed6cdfe81896611.txt") * 12  # > 100k chars: many MeCab calls
    check_offsets(text, tokenize(text, "ja"))
    line = text.replace("\n", "").replace("。", "")  # no natural break at all
    check_offsets(line, tokenize(line, "ja"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\t\u3000 ",
        "\ud800",
        "a\ud800b\udfffc",
        "\x00支援\x00",
        "\x01\x02\x03支援\x02\x03の\x01",  # the MeCab output separators
        "x\r\ny\x85z\u2028w",
        "ｶﾀｶﾅとｶﾀｶﾅ",
        "🀄🀄の🀄",
        '"*()NEAR^:',
    ],
)
@pytest.mark.parametrize("lang", ["ja", "zh", "en", None])
def test_hostile_text(text, lang):
    check_offsets(text, tokenize(text, lang))
    segment(text, lang)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["ja", "zh", "en", None]))
def test_property_offsets(text, lang):
    check_offsets(text, tokenize(text, lang))


def test_ten_megabyte_line_is_one_token():
    # How long this takes is bench/micro.py's business; here: it finishes, and is right.
    assert len(tokenize("x" * 10_000_000)) == 1
    no_breaks = "ア" * 1_000_000  # MeCab is quadratic in such runs; chunks are cut short
    check_offsets(no_breaks, tokenize(no_breaks, "ja"))


@pytest.mark.parametrize("text", ["今日は晴れ。CCS事業の支援期間は15年とする。", "碳捕集与封存项目 2030年", "事業継続義務",
                                  "Support period of 15 years, CO2 storage_x ___", "ｶﾀｶﾅ\x00とＡＢＣ\u3000１２", ""])
@pytest.mark.parametrize("lang", ["ja", "zh", "en", None])
def test_segment_words_are_the_tokens(text, lang):
    """segment() takes the tokenizers' word-only fast paths; it must give tokenize()'s surfaces."""
    expected = [t.surface.lower() for t in tokenize(text, lang) if tokens_mod.SEARCHABLE.search(t.surface)]
    assert segment(text, lang).split() == expected


def test_segment_of_seed_clauses_matches_tokens():
    from kb.extract import split_clauses

    for name in ("000_59518ccce50359ba.txt", "002_aed6cdfe81896611.txt"):
        for c in split_clauses(seed_text(name), "s"):
            expected = [t.surface.lower() for t in tokenize(c.text) if tokens_mod.SEARCHABLE.search(t.surface)]
            assert segment(c.text).split() == expected, c.text


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
