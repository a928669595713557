"""Full-text search over clauses and records in Japanese, Chinese and English.

SQLite's unicode61 tokenizer cuts words at spaces and punctuation, so a run of CJK text would
be one long token. The index therefore stores clause text *segmented* by kb.tokens.segment
(words joined by spaces), and queries go through kb.tokens.segment_query: the same segmenter on
both sides, so a query word meets the words it was indexed as. What the segmenter does not cut
out (a substring, a two-character word inside a longer one) is found by a trigram index for
queries of three or more characters and by a bounded LIKE scan for one or two.

The trigram index keeps no positions (detail=none: a quarter of the size and of the CPU of the
full index, which positions made most of), so it cannot match a phrase itself: kb_substring asks
it for the clauses holding every trigram of the query, and kb_contains keeps those that hold the
query as one string, folding case as the trigram tokenizer does. The answer is the phrase's.

Each clause also indexes, in a column of its own, the English labels and keys of the roles of
its measures, so `support period` finds 支援期間は15年 and `prepayment` finds 先払い.

Tables (declared in kb.tables; written in the build's temporary database, so they swap in with
everything else):
  search_clauses   per clause: id, record, segmented text, role words, readable text
  clauses_fts      FTS5(text, roles) on search_clauses; unicode61; ranked by bm25
  clauses_trigram  FTS5(text) on clauses itself; trigram tokenizer, detail=none
  search_records   per record: segmented title and description
  records_fts      FTS5(title, description) on search_records

The FTS tables are external-content tables, so they keep no copy of the text of their own. The
word indexes read search_clauses / search_records, which hold the segmented words (deleting from
an external-content FTS table needs the values that were indexed); the trigram index reads the
clause text where it already is, `clauses`: a build unindexes the clauses of changed files
(prepare) before it deletes them, so the text is still there to hand over.

A build computes each clause's search row in its worker processes (clause_rows, segmenting each
clause on its own with the tokenizers' fast word-only modes, see kb.tokens.segment) and inserts
them. A full build indexes them batch by batch while its workers run (Feed) and merges each index
into one b-tree at the end; an incremental one indexes the changed records' rows.

Querying (ranking tiers, the bm25 window) is SQL in the `search` canned query of
datasette_metadata.json; the functions it calls are registered by kb.plugin.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from functools import cache, lru_cache

from kb import regex_cache, tables
from kb.html import Span, marked
from kb.scripts import HAN_RX
from kb.tables import SearchClauseRow, SearchRecordRow
from kb.tokens import detect_lang, segment, segment_query

__all__ = [
    "Feed",
    "clause_rows",
    "finish",
    "prepare",
    "record_row",
    "match_expression",
    "substring_phrase",
    "contains",
    "like_pattern",
    "highlight",
    "role_labels",
    "MAX_QUERY",
    "SEARCH_TABLES",
]

MAX_QUERY = 200  # characters of a query that are looked at: bounds segmenter and FTS work
BATCH = 2000
NOTHING = '""'  # an FTS5 expression that is valid and matches no row

INSERT_CLAUSES = tables.SEARCH_CLAUSES.insert_sql()
INSERT_RECORDS = tables.SEARCH_RECORDS.insert_sql()
SEARCH_TABLES = tuple(t.name for t in tables.SEARCH_TABLES)


# --- building ----------------------------------------------------------------------------------
# A build computes the content rows per file (clause_rows, record_row: in its worker processes),
# inserts them, and calls prepare() before and finish() after. This is the only way in: the bench
# (bench/search_bench.py) goes through it too.


def clause_rows(key: str, clauses: list[tables.ClauseRow], measures: list[tables.MeasureRow],
                lang: str | None = None) -> list[SearchClauseRow]:
    """The search_clauses rows of one record, from its clause and measure rows and its language."""
    roles: dict[str, set[str]] = {}
    for m in measures:
        if m.clause_id is not None and m.role:
            roles.setdefault(m.clause_id, set()).add(m.role)
    texts = [c.text or "" for c in clauses]
    return [SearchClauseRow(clause_id=c.id, record=key, text=seg, roles=_role_words(tuple(sorted(roles.get(c.id, ())))))
            for c, seg in zip(clauses, segment_many(texts, lang))]


def record_row(key: str, title: object, description: object, lang: str | None = None) -> SearchRecordRow:
    title, description = _text(title), _text(description)
    return SearchRecordRow(record=key, title=segment(title, detect_lang(title, lang)),
                           description=segment(description, detect_lang(description, lang)))


def segment_many(texts: list[str], lang: str | None = None) -> list[str]:
    """segment() of each text, each analysed on its own in the language its script says, read in
    the context of the record's language `lang` (kanji-only text of a Japanese record is
    Japanese). A kanji-only query is segmented both ways (kb.tokens.segment_query), so it meets
    such text however it was indexed."""
    return [segment(t, detect_lang(t, lang)) if t and not t.isspace() else "" for t in texts]


def prepare(conn: sqlite3.Connection, changed: Iterable[str] | None) -> None:
    """Before a build writes search content rows: a full build (None) starts from empty tables,
    an incremental one unindexes and deletes the rows of the records it will rewrite or drop."""
    if changed is None or not _has_tables(conn):
        _create(conn)
        return
    _remove(conn, json.dumps(sorted(set(changed))))


def finish(conn: sqlite3.Connection, changed: Iterable[str] | None, feed: Feed | None = None) -> None:
    """After the content rows are in: index them. A full build indexes what its `feed` has not
    yet (or everything, without one) and merges each index into one b-tree."""
    if changed is not None:
        _index_rows(conn, json.dumps(sorted(set(changed))))
        return
    if feed is None:
        _rebuild(conn)
        return
    feed()
    for table in _FTS_TABLES:
        conn.execute(f"insert into {table}({table}) values ('optimize')")
        _configure(conn, table, _MERGE_DEFAULTS)  # incremental builds then merge as FTS5 does by default


def _feeds() -> dict[str, dict[str, str]]:
    """Content table -> {full-text table: its columns}."""
    feeds: dict[str, dict[str, str]] = {}
    for t in tables.SEARCH_TABLES:
        if t.kind == "fts5":
            feeds.setdefault(t.content, {})[t.name] = ", ".join(c.name for c in t.columns)
    return feeds


_FEEDS = _feeds()
_OWN = set(SEARCH_TABLES)  # content tables kb.search writes (clauses, which the trigram index reads, are kb.publish's)
_FTS_TABLES = [t for targets in _FEEDS.values() for t in targets]


class Feed:
    """Indexes the content rows a full build has inserted so far; the build calls it after each
    batch. The full-text indexes then grow while the workers are still extracting, on the core
    the inserting process leaves idle, instead of in one serial pass after them."""

    def __init__(self, conn: sqlite3.Connection, files: int = 0):
        self.conn = conn
        self.done = dict.fromkeys(_FEEDS, 0)  # highest rowid indexed, per content table
        self.every = files // _FEEDS_PER_BUILD  # files between two feeds (none for a small build)
        self.fed = 0  # files in when last fed
        for table in _FTS_TABLES:
            _configure(conn, table, _MERGE_WHILE_FEEDING)

    def __call__(self, files_in: int | None = None) -> None:
        """Index the content rows inserted since the last call (`files_in`: the files inserted so far;
        a call fewer than `every` files after the last one waits for the next)."""
        if files_in is not None:
            if files_in - self.fed < self.every:
                return
            self.fed = files_in
        for content, targets in _FEEDS.items():
            (top,) = self.conn.execute(f"select max(rowid) from {content}").fetchone()
            top = top or 0
            if top > self.done[content]:
                for table, columns in targets.items():
                    self.conn.execute(f"insert into {table}(rowid, {columns}) select rowid, {columns} from {content}"
                                      " where rowid > ? and rowid <= ?", [self.done[content], top])
                self.done[content] = top


# Each feed writes a segment; FTS5 by default merges segments as they pile up (automerge), then
# the build merges them all at the end ('optimize'), so the merges along the way are wasted work
# (a quarter of the indexing CPU). While feeding, segments are therefore only merged when 200 pile
# up on one level, far below FTS5's limit of 2,000 segments per index, and a build feeds at most
# about 150 times whatever its size, so that no row is merged twice (at 20,000 records, feeding
# after every batch made ~2,000 segments and ten merges on the way: indexing CPU per character
# grew with the corpus).
_MERGE_WHILE_FEEDING = {"automerge": 0, "crisismerge": 200}
_FEEDS_PER_BUILD = 150
_MERGE_DEFAULTS = {"automerge": 4, "crisismerge": 16}


def _configure(conn: sqlite3.Connection, table: str, settings: dict[str, int]) -> None:
    for key, value in settings.items():
        conn.execute(f"insert into {table}({table}, rank) values (?, ?)", [key, value])


def _rebuild(conn: sqlite3.Connection) -> None:
    for table in _FTS_TABLES:
        # One bulk pass, then one merge: fewer, larger b-trees answer queries faster.
        conn.execute(f"insert into {table}({table}) values ('rebuild')")
        conn.execute(f"insert into {table}({table}) values ('optimize')")


def _has_tables(conn: sqlite3.Connection) -> bool:
    names = {name for (name,) in conn.execute("select name from sqlite_master")}
    return all(t in names for t in SEARCH_TABLES)


def _create(conn: sqlite3.Connection) -> None:
    for table in SEARCH_TABLES[::-1]:  # FTS tables first: they refer to their content tables
        conn.execute(f"drop table if exists {table}")
    for table in tables.SEARCH_TABLES:
        for statement in [table.create_sql(), *table.index_sql()]:
            conn.execute(statement)


_IN_KEYS = "record in (select value from json_each(?))"


def _remove(conn: sqlite3.Connection, keys: str) -> None:
    """Unindex the rows of the given records, handing FTS5 the values it indexed."""
    for content, targets in _FEEDS.items():
        for table, columns in targets.items():
            conn.execute(f"insert into {table}({table}, rowid, {columns}) "
                         f"select 'delete', rowid, {columns} from {content} where {_IN_KEYS}", [keys])
        if content in _OWN:  # clauses are the build's to replace; their index entries go first
            conn.execute(f"delete from {content} where {_IN_KEYS}", [keys])


def _index_rows(conn: sqlite3.Connection, keys: str) -> None:
    for content, targets in _FEEDS.items():
        for table, columns in targets.items():
            conn.execute(f"insert into {table}(rowid, {columns}) select rowid, {columns} from {content} where {_IN_KEYS}", [keys])


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@lru_cache(maxsize=4096)
def _role_words(roles: tuple[str, ...]) -> str:
    return role_words(roles)  # clauses repeat the same few role sets: segment each set once


def role_words(roles: Iterable[str]) -> str:
    """The English words a clause's roles are searched by: each key with spaces, then its
    label. `unspecified` says nothing a reader would search for."""
    labels = role_labels()
    words = []
    for key in sorted(roles):
        if key and key != "unspecified":
            words += [key.replace("_", " "), labels.get(key, "")]
    return segment(" ; ".join(words), "en") if words else ""


@cache
def role_labels() -> dict[str, str]:
    """Role key -> English label, as kb.extract (owner of kb/data/roles.json) defines them."""
    try:
        from kb.extract import roles
    except ModuleNotFoundError as exc:
        if exc.name not in ("kb.extract", "kb.extract.measures"):
            raise
        return {}
    return roles()


# --- querying ----------------------------------------------------------------------------------


def _clip(q: object) -> str:
    return q.strip()[:MAX_QUERY].strip() if isinstance(q, str) else ""


def match_expression(q: object) -> str:
    """A safe FTS5 MATCH expression for the word index: every word quoted, segmented as the
    index was. Never empty (FTS5 rejects an empty expression), so junk matches nothing."""
    return segment_query(_clip(q)) or NOTHING


def substring_phrase(q: object) -> str:
    """A trigram-index expression for the query as typed: every trigram of it (the index keeps no
    positions to match them as a phrase; contains() checks the order). Matches nothing below
    three characters, where a trigram index cannot help."""
    q = _clip(q)
    if len(q) < 3:
        return NOTHING
    grams = dict.fromkeys(q[i:i + 3] for i in range(len(q) - 2))
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def contains(text: object, q: object) -> bool:
    """Whether `text` holds the query as typed, case folded as the trigram tokenizer folds it: what
    a trigram phrase query answered. Only asked about the clauses the trigram index found."""
    q = _clip(q)
    return isinstance(text, str) and len(q) >= 3 and q.lower() in text.lower()


def like_pattern(q: object) -> str:
    """A LIKE pattern (ESCAPE '\\') finding the query anywhere in a text; '' (which matches
    no clause, none being empty) for a query without a letter or digit, as such a scan
    would only find punctuation."""
    q = _clip(q)
    return "%" + re.sub(r"([\\%_])", r"\\\1", q) + "%" if _WORDY.search(q) else ""


_WORDY = regex_cache.compile(r"[^\W_]")
SNIPPET = 240  # characters of clause text shown around the first match


def highlight(text: object, q: object, width: int = SNIPPET) -> str:
    """Clause text as HTML, escaped, with the query's words and the query itself wrapped in
    <mark>, cut to a window of about `width` characters around the first match."""
    text = text if isinstance(text, str) else "" if text is None else str(text)
    q = _clip(q)
    # The query as typed when the text holds it; else the words it was segmented into.
    terms = re.compile(re.escape(q), re.IGNORECASE) if q and q.lower() in text.lower() else _terms(q)
    spans = [Span(m.start(), m.end()) for m in terms.finditer(text) if m.end() > m.start()] if q else []
    start, end = 0, len(text)
    if len(text) > width:
        first = spans[0].start if spans else 0
        start = max(0, min(first - width // 3, len(text) - width))
        end = start + width
        spans = [s for s in spans if s.start >= start and s.end <= end]
    html = marked(text, spans, start, end)
    return ("…" if start > 0 else "") + html + ("…" if end < len(text) else "")


@lru_cache(maxsize=256)
def _terms(q: str) -> re.Pattern:
    """The strings a query highlights: the query itself, then its words as the index saw them
    (both segmentations for Han-only text). Single characters only when typed alone: a
    segmenter falling back to characters would otherwise light up every 事 in a clause."""
    words = {q}
    for lang in ({detect_lang(q), "ja"} if HAN_RX.search(q) else {detect_lang(q)}):
        words.update(w for w in segment(q, lang).split() if len(w) > 1)
    alternatives = sorted(words, key=len, reverse=True)  # longest first: 事業継続義務 before 義務
    return re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)
