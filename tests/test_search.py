"""Search and record pages through Datasette's in-process client, over the seeds built with the
real extractor: CJK and English queries, hostile queries, escaping, the search index kept in
step by incremental builds, and the plugin loading by entry point."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import re
import sqlite3
import subprocess
import sys
from urllib.parse import quote

import pytest
from datasette.app import Datasette

from kb import publish, search
from kb.html import is_marked_text
from kb.plugin.versions import DATASETTE_1, sql_path
from kb.publish import build
from kb.tokens import detect_lang, segment
from tests.helpers import HOSTILE, PIPELINE, SEEDS, get, hostile_copy, shared, tuples


def hits(db, q: str) -> list[dict]:
    resp = get(db, f"/kb/search.json?_shape=array&q={quote(q)}")
    assert resp.status_code == 200, resp.text[:500]
    rows = resp.json()
    assert isinstance(rows, list), rows
    return rows


# --- queries on the seeds -------------------------------------------------------------------------


@pytest.mark.parametrize("q, expected", [
    ("事業継続義務", "事業継続義務"),
    ("義務", "義務"),
    ("先払い", "先払いする"),
    ("封存", "封存"),
    ("万吨", "万吨"),
    ("support period", "支援期間は15年とし"),  # English role words find the Japanese measure
    ("prepayment", "先払いする"),
])
def test_query_finds_the_clause_first(seeds_db, q, expected):
    got = hits(seeds_db, q)
    assert got, f"nothing found for {q!r}"
    assert expected in got[0]["text"], [r["text"][:60] for r in got[:3]]
    assert got[0]["match"] == "word"
    assert got[0]["record"] in {PIPELINE, "jp-jogmec-advanced-ccs-2024.md"} and got[0]["title"]


def test_query_row_shape(seeds_db):
    first = hits(seeds_db, "support period")[0]
    assert set(first) == {"clause_id", "record", "title", "country", "category", "section", "snippet", "measures",
                          "match", "text"}
    assert first["record"] == PIPELINE and first["country"] == "日本"
    assert "support_period: 15年" in first["measures"]
    assert first["clause_id"].startswith(PIPELINE + "#")


def test_every_clause_holding_the_words_is_found(seeds_db):
    texts = [r["text"] for r in hits(seeds_db, "事業継続義務")]
    assert any("支援期間は15年とし" in t for t in texts) and any("以下の事業継続義務を設ける" in t for t in texts)
    assert all("事業継続義務" in t for t in texts)


def test_snippet_marks_the_query_in_the_original_text(seeds_db):
    snippet = hits(seeds_db, "事業継続義務")[0]["snippet"]
    assert "<mark>事業継続義務</mark>" in snippet and " 事業 " not in snippet  # no segmenter spaces
    assert is_marked_text(snippet)


def test_substrings_the_word_index_misses_come_after_words(seeds_db):
    # 間は15 straddles the words 期間 / は / 15: only the trigram index sees it.
    got = hits(seeds_db, "間は15")
    assert got and got[0]["match"] == "substring" and "支援期間は15年" in got[0]["text"]


# Substrings across word boundaries, in other cases and widths, with quotes and FTS5 syntax, and
# strings whose trigrams all occur in one clause but not one after the other (、貯留事: 、貯留 and
# 貯留事 are both in a seed clause, the four characters in none).
SUBSTRINGS = ["間は15", "援期間は", "業継続義", "ccs", "CCS", "Ccs", "ＣＣＳ", "ｃｃｓ", "15年と", '"x"', "a AND b",
              "年とし、", "、その", "期間は支援", "orage", "STORAGE", "é d", "15年間の事業継", "、貯留事", "定供給構", "では、分"]


def test_trigram_candidates_checked_by_kb_contains_are_the_phrase_matches(seeds_db):
    """The trigram index keeps no positions; kb_substring asks it for every trigram and kb_contains
    checks the string. Together they must find exactly what a positional trigram index finds for
    the query as a phrase (what the search query asked before)."""
    from kb import plugin

    conn = sqlite3.connect(seeds_db)
    plugin.prepare_connection(conn)
    conn.execute("create temp table texts (rowid integer primary key, text text)")
    conn.execute("insert into temp.texts select rowid, text from clauses")
    conn.execute("create virtual table temp.positional using fts5(text, content='texts', content_rowid='rowid', tokenize='trigram')")
    conn.execute("insert into temp.positional(positional) values ('rebuild')")
    cut = [t[i:i + n].strip() for (t,) in conn.execute("select text from clauses limit 40") for i, n in ((0, 3), (5, 9))]
    for q in SUBSTRINGS + [q for q in cut if len(q) >= 3]:  # the search query strips what is typed
        phrase = '"' + q.replace('"', '""') + '"'
        expected = [r for (r,) in conn.execute("select rowid from temp.positional where positional match ? order by rowid", [phrase])]
        got = [
            r
            for (r,) in conn.execute(
                "select t.rowid from clauses_trigram t join clauses c on c.rowid = t.rowid"
                " where clauses_trigram match kb_substring(?) and kb_contains(c.text, ?) order by t.rowid",
                [q, q],
            )
        ]
        assert got == expected, q
    # 、貯留事 shows that kb_contains does work: the trigram index alone returns a clause for it.
    assert conn.execute("select count(*) from clauses_trigram where clauses_trigram match kb_substring('、貯留事')").fetchone()[0]
    conn.close()


@pytest.mark.parametrize("q", ["吨", "援期"])
def test_short_queries_fall_back_to_a_scan(seeds_db, q):
    # 吨 only occurs inside the word 万吨, 援期 across 支援 / 期間: no word holds them.
    got = hits(seeds_db, q)
    assert got and all(r["match"] == "substring" and q in r["text"] for r in got)


@pytest.mark.parametrize("q", ["CCS", "義務", "支援期間"])
def test_word_matches_rank_before_substring_matches(seeds_db, q):
    kinds = [r["match"] for r in hits(seeds_db, q)]
    assert kinds == sorted(kinds, key=["word", "substring"].index)


@pytest.mark.parametrize("q", ['"', "*", ")", "AND", "", " ", "NEAR(a b", "a OR", "'", "%", "_", "\\", "^x",
                               "col:義務", "あ" * 500, "義務 " * 200, "<script>", "\x00"])
def test_hostile_queries_answer_without_error(seeds_db, q):
    got = hits(seeds_db, q)
    for row in got:
        assert is_marked_text(row["snippet"])


def test_punctuation_alone_finds_nothing(seeds_db):
    assert [hits(seeds_db, q) for q in ['"', "*", ")", "%", "_", ""]] == [[]] * 6


def test_search_records(seeds_db):
    resp = get(seeds_db, f"/kb/search_titles.json?_shape=array&q={quote('资助计划')}")
    assert resp.status_code == 200
    assert [r["record"] for r in resp.json()] == ["jp-jogmec-advanced-ccs-2024.md"]


# --- SQL functions ----------------------------------------------------------------------------------


def test_kb_segment_is_the_index_segmentation(seeds_db):
    text = "支援期間は15年とし、その支援期間終了後に10年間の事業継続義務を課す。"
    resp = get(seeds_db, f"{sql_path('kb')}.json?_shape=array&sql={quote('select kb_segment(:t) as s')}&t={quote(text)}")
    assert resp.json() == [{"s": segment(text)}]
    stored = tuples(seeds_db, "select s.text, c.text, r.lang from search_clauses s join clauses c on c.id = s.clause_id"
                            " join records r on r.key = c.record")
    assert stored and all(seg == segment(raw, detect_lang(raw, lang)) for seg, raw, lang in stored)
    # Kanji-only text of a Japanese record is indexed as Japanese (MeCab), not as Chinese (jieba).
    kanji_only = [(seg, raw) for seg, raw, lang in stored if lang == "ja" and detect_lang(raw) == "zh"]
    assert kanji_only and all(seg == segment(raw, "ja") for seg, raw in kanji_only)


def test_kb_query_is_a_safe_match_expression(seeds_db):
    for q in ['"', "a AND (", "義務", ""]:
        expr = search.match_expression(q)
        assert tuples(seeds_db, "select count(*) from clauses_fts where clauses_fts match ?", [expr])  # no error


def test_highlight_escapes_then_marks():
    assert search.highlight("<b>15年</b> & 'x'", "15年") == "&lt;b&gt;<mark>15年</mark>&lt;/b&gt; &amp; &#x27;x&#x27;"
    assert search.highlight("a <script> b", "<script>") == "a <mark>&lt;script&gt;</mark> b"
    assert search.highlight(None, "x") == ""
    long = "あ" * 500 + "義務" + "い" * 500
    out = search.highlight(long, "義務")
    assert "<mark>義務</mark>" in out and out.startswith("…") and out.endswith("…") and len(out) < 300


@pytest.mark.parametrize("value, ok", [
    ("a <mark>b</mark> &lt;c&gt; &amp; &quot; &#x27;", True),
    ("<script>", False), ("<mark onclick=x>", False), ("&#60;", False), ('"', False), (None, False),
])
def test_only_escaped_text_with_marks_renders_as_html(value, ok):
    assert is_marked_text(value) is ok


# --- HTML ---------------------------------------------------------------------------------------------


def test_search_page_renders_the_snippet_as_html(seeds_db):
    resp = get(seeds_db, f"/kb/search?q={quote('事業継続義務')}")
    assert resp.status_code == 200
    assert "<mark>事業継続義務</mark>" in resp.text
    assert f'href="/-/records/{PIPELINE}#c-' in resp.text  # the hit opens at its clause


def test_snippet_column_of_any_query_is_escaped_unless_safe(seeds_db):
    sql = "select :v as snippet, kb_highlight(:v, 'x') as h"
    resp = get(seeds_db, f"{sql_path('kb')}?sql={quote(sql)}&v={quote(HOSTILE)}")
    assert resp.status_code == 200
    assert "<script>window.__pwned" not in resp.text and "<img src=x" not in resp.text
    assert "&lt;script&gt;window.__pwned" in resp.text


def test_record_page_marks_measures_in_place(seeds_db):
    resp = get(seeds_db, f"/-/records/{PIPELINE}")
    assert resp.status_code == 200
    mark = re.search(r'<mark class="kb-measure"[^>]*><a href="([^"]+)">15年</a></mark>', resp.text)
    assert mark, "the 15-year support period is not marked"
    assert "支援期間は" + mark.group(0) + "とし" in resp.text  # in place, inside its sentence
    assert get(seeds_db, mark.group(1)).status_code == 200  # the link opens the measure's row
    assert "CCS事業（パイプライン案件）の支援措置の在り方" in resp.text


def test_record_pages_are_linked_from_the_records_table(seeds_db):
    resp = get(seeds_db, "/kb/records")
    assert f'href="/-/records/{PIPELINE}"' in resp.text


def test_unknown_record_is_404(seeds_db):
    assert get(seeds_db, "/-/records/nope.md").status_code == 404
    assert "&lt;x&gt;" in get(seeds_db, "/-/records/%3Cx%3E.md").text


def test_record_page_escapes_record_text(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    hostile_copy(folder)
    db = tmp_path / "kb.db"
    build([folder], db)
    resp = get(db, "/-/records/jp-hostile-copy.md")
    assert resp.status_code == 200
    assert "<script>window.__pwned" not in resp.text and "<img src=x" not in resp.text
    assert resp.text.count("&lt;script&gt;window.__pwned=1&lt;/script&gt;") >= 3  # title, source, body
    assert re.search(r'<mark class="kb-measure"[^>]*><a [^>]*>15年</a></mark>とし&lt;script&gt;', resp.text)
    found = hits(db, "pwned")
    assert found and all("<script>" not in r["snippet"] for r in found)


# --- the index follows the build ----------------------------------------------------------------------


def _search_rows(db):
    return tuples(db, "select clause_id, record, text, roles from search_clauses order by clause_id")


def test_incremental_build_updates_only_what_changed(tmp_path, seeds_copy, pinned_fingerprint):
    folder = seeds_copy
    db = tmp_path / "kb.db"
    build([folder], db)
    page = folder / PIPELINE
    page.write_text(page.read_text(encoding="utf-8").replace("先払いする", "前払いする"), encoding="utf-8")
    (folder / "jp-jogmec-advanced-ccs-2024.md").unlink()
    report = build([folder], db)
    assert (report.full, report.changed, report.removed) == (False, 1, 1)
    assert not any("先払いする" in r["text"] for r in hits(db, "先払いする"))
    assert "前払いする" in hits(db, "前払い")[0]["text"]
    assert hits(db, "封存") == []
    for table in ("clauses_fts", "clauses_trigram", "records_fts"):
        tuples(db, f"insert into {table}({table}) values ('integrity-check')")
    fresh = tmp_path / "fresh" / "kb.db"
    build([folder], fresh)
    assert _search_rows(db) == _search_rows(fresh)
    assert tuples(db, "select record, title from search_records") == tuples(fresh, "select record, title from search_records")


def test_search_rows_follow_clauses(seeds_db):
    assert tuples(seeds_db, "select count(*) from search_clauses") == tuples(seeds_db, "select count(*) from clauses")
    roles = dict(tuples(seeds_db, "select c.text, s.roles from search_clauses s join clauses c on c.id = s.clause_id"))
    assert any("support period" in r for r in roles.values())


# --- the plugin loads by entry point ------------------------------------------------------------------


def test_plugin_loads_when_datasette_starts(seeds_db):
    installed = [e for e in importlib.metadata.entry_points(group="datasette") if e.value == "kb.plugin"]
    if not installed:
        pytest.skip("policy-kb is not installed (pip install -e .), so its datasette entry point is not registered")
    out = subprocess.run([sys.executable, "-m", "datasette", str(seeds_db), "--get", "/-/plugins.json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    plugins = {p["name"]: p for p in json.loads(out.stdout)}
    assert "policy-kb" in plugins or "kb.plugin" in plugins, list(plugins)
    hooks = set((plugins.get("policy-kb") or plugins["kb.plugin"])["hooks"])
    # The search queries come by the canned_queries hook on 0.65, at startup on 1.0.
    assert {"prepare_connection", "render_cell", "register_routes", "startup" if DATASETTE_1 else "canned_queries"} <= hooks


def test_search_works_without_the_metadata(seeds_db):
    """`datasette kb.db` with no --metadata: the plugin brings the search queries along."""
    async def fetch():
        ds = Datasette([str(seeds_db)])
        return await ds.client.get(f"/kb/search.json?_shape=array&q={quote('先払い')}")

    resp = asyncio.run(fetch())
    assert resp.status_code == 200 and "先払いする" in resp.json()[0]["text"]


def _fts_state(db) -> dict:
    """FTS5's own integrity check of each full-text table against its content, and what a set of
    word and substring queries find."""
    conn = sqlite3.connect(db)
    try:
        for table in ("clauses_fts", "clauses_trigram", "records_fts"):
            conn.execute(f"insert into {table}({table}) values ('integrity-check')")  # raises when they disagree
        words = ["義務", "封存", "支援", "support", "storage", "2030"]
        return {
            w: (
                conn.execute(
                    "select group_concat(s.clause_id) from clauses_fts f join search_clauses s"
                    " on s.rowid = f.rowid where clauses_fts match ? order by s.clause_id",
                    [search.match_expression(w)],
                ).fetchone(),
                conn.execute("select count(*) from clauses_trigram where text like ?", [f"%{w}%"]).fetchone(),
            )
            for w in words
        }
    finally:
        conn.close()


@pytest.mark.parametrize("feeds_per_build", [150, 4])
def test_indexes_fed_during_the_build_equal_a_rebuild(tmp_path, monkeypatch, feeds_per_build):
    """A full build indexes search rows batch by batch as it inserts them (search.Feed); the
    indexes must be the ones a single rebuild at the end makes. Small batches force many feeds;
    a build of more files than its feed budget feeds at most that many times (then once at the end)."""
    folders = [SEEDS, shared("peer", "ccus-policy-hub")]
    monkeypatch.setattr(publish, "BATCH", 40)
    monkeypatch.setattr(search, "_FEEDS_PER_BUILD", feeds_per_build)
    feeds, real_call = [], search.Feed.__call__

    def spy(self, files_in=None):
        before = dict(self.done)
        real_call(self, files_in)
        if self.done != before:
            feeds.append(dict(self.done))

    monkeypatch.setattr(search.Feed, "__call__", spy)
    fed = tmp_path / "fed.db"
    build(folders, fed)
    assert 0 < feeds[len(feeds) // 2]["search_clauses"], "the build should have fed the index mid-way"
    if feeds_per_build == 4:
        assert 3 <= len(feeds) <= 4 + 1, feeds
    else:
        assert len(feeds) > 10
    monkeypatch.setattr(search, "Feed", lambda conn, files=0: None)  # finish() then rebuilds everything at once
    rebuilt = tmp_path / "rebuilt.db"
    build(folders, rebuilt)
    state = _fts_state(fed)
    assert state == _fts_state(rebuilt)
    assert all(ids[0] for ids, _ in state.values()), "every query word should find something in seeds + hub"
