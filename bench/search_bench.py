"""Search speed at scale: synthesize N clauses from the seed sentences, index them as a full build
does (kb.search.prepare, clause_rows / record_row, finish), then time the shipped `search` canned query and the bare word-index
lookup for the query words the tests use. Not a test: prints figures.

    python bench/search_bench.py --n 10000 100000 1000000 [--workers 2] [--repeat 30]

Synthetic clauses are 1-3 seed clauses (Japanese and Chinese) glued together in random order,
so word frequencies follow the seeds; ~2% of clauses get a support_period or prepayment
measure where the text has the cue. Databases go to bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sqlite3
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kb import publish, search
from kb.extract import split_clauses
from kb.plugin import prepare_connection
from kb.records import load_record
from kb.tables import ClauseRow, MeasureRow

QUERIES = ["事業継続義務", "義務", "先払い", "封存", "万吨", "support period", "prepayment"]
CLAUSES_PER_RECORD = 50


def seed_sentences() -> list[str]:
    out = []
    for path in sorted((REPO / "seeds").glob("*.md")):
        record = load_record(path)
        out += [c.text for c in split_clauses(record.body, record.id) if len(c.text) >= 8]
        # The Chinese seed's body is short; its impact notes add Chinese sentences.
        out += [t for t in (record.meta.get("impactAnalysis") or {}).values() if isinstance(t, str) and t]
    return out


def synthesize(db: Path, n: int, seed: int = 7) -> None:
    """records / clauses / measures rows shaped as a build writes them."""
    rng = random.Random(seed)
    sentences = seed_sentences()
    conn = sqlite3.connect(db)
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    publish._create_tables(conn)
    records, clauses, measures = [], [], []
    for i in range(n):
        key = f"r{i // CLAUSES_PER_RECORD:07d}.md"
        if i % CLAUSES_PER_RECORD == 0:
            records.append((key, key[:-3], f"synthetic record {key}", None))
        text = "".join(rng.sample(sentences, rng.randint(1, 3)))
        cid = f"{key}#{i}"
        clauses.append((cid, key, key[:-3], i % CLAUSES_PER_RECORD + 1, 0, len(text), 1, "", "sentence", "ja", text))
        for cue, role in (("支援期間は", "support_period"), ("先払い", "prepayment")):
            at = text.find(cue)
            if at >= 0 and rng.random() < 0.1:
                measures.append((f"{cid}/{role}", key, key[:-3], cid, "rule", role, text[at:at + len(cue)], at, at + len(cue)))
    conn.executemany("insert into records (key, id, title, description) values (?, ?, ?, ?)", records)
    conn.executemany("insert into clauses (id, record, record_id, ordinal, start, end, line, section, kind, lang, text)"
                     " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", clauses)
    conn.executemany("insert into measures (id, record, record_id, clause_id, kind, role, surface, start, end)"
                     " values (?, ?, ?, ?, ?, ?, ?, ?, ?)", measures)
    conn.commit()
    publish._create_indexes(conn)
    conn.close()


def timed(conn: sqlite3.Connection, sql: str, args, repeat: int) -> tuple[list[float], int]:
    conn.execute(sql, args).fetchall()  # warm the page cache and the segmenter
    times, rows = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        rows = len(conn.execute(sql, args).fetchall())
        times.append((time.perf_counter() - t) * 1000)
    return times, rows


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _search_rows(item: tuple) -> tuple[tuple, list[tuple]]:
    """The search rows of one record, as a build's worker computes them."""
    key, title, description, clauses, measures = item
    return search.record_row(key, title, description, "ja"), search.clause_rows(key, clauses, measures, "ja")


def _records(conn: sqlite3.Connection, keys: list[str] | None = None):
    """(key, title, description, clause rows, measure rows) per record, in rowid order."""
    where, args = ("where key in (select value from json_each(?))", [json.dumps(keys)]) if keys else ("", [])
    for key, title, description in conn.execute(f"select key, title, description from records {where} order by rowid", args):
        clauses = [ClauseRow(id=i, record=r, text=text) for i, r, text in
                   conn.execute("select id, record, text from clauses where record = ? order by rowid", [key])]
        measures = [MeasureRow(id=i, record=r, clause_id=c, role=role) for i, r, c, role in
                    conn.execute("select id, record, clause_id, role from measures where record = ?", [key])]
        yield key, title, description, clauses, measures


def _insert(conn: sqlite3.Connection, rows) -> None:
    for record_row, clause_rows in rows:
        conn.execute(search.INSERT_RECORDS, record_row)
        conn.executemany(search.INSERT_CLAUSES, clause_rows)


def build_index(db: Path, n: int, workers: int) -> tuple[float, float]:
    t = time.perf_counter()
    synthesize(db, n)
    t_synth = time.perf_counter() - t
    conn = sqlite3.connect(db)
    t = time.perf_counter()
    search.prepare(conn, None)
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            _insert(conn, pool.imap(_search_rows, list(_records(conn)), chunksize=16))  # read here, not in imap's thread
    else:
        _insert(conn, map(_search_rows, _records(conn)))
    search.finish(conn, None)
    conn.commit()
    t_index = time.perf_counter() - t
    conn.close()
    return t_synth, t_index


def incremental(db: Path) -> float:
    """Seconds to bring the index in line after one record's clauses changed, as an
    incremental build does (the alternative, a full rebuild, is index_s)."""
    conn = sqlite3.connect(db)
    key = conn.execute("select record from clauses order by rowid desc limit 1").fetchone()[0]
    conn.execute("update clauses set text = text || '。追加された文。' where record = ?", [key])
    t = time.perf_counter()
    search.prepare(conn, [key])
    _insert(conn, map(_search_rows, _records(conn, [key])))
    search.finish(conn, [key])
    conn.commit()
    seconds = time.perf_counter() - t
    conn.close()
    return seconds


def run(n: int, workers: int, repeat: int, out: Path, reuse: bool) -> dict:
    db = out / f"search-{n}.db"
    if reuse and db.exists():
        t_synth = t_index = None  # built by an earlier run
    else:
        db.unlink(missing_ok=True)
        t_synth, t_index = build_index(db, n, workers)
    t_incremental = incremental(db)
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    prepare_connection(conn)
    canned = json.loads((REPO / "datasette_metadata.json").read_text("utf-8"))["databases"]["kb"]["queries"]["search"]["sql"]
    word_only = canned.split("), words as materialized")[0].split("with ", 1)[1]
    word_only = "with " + word_only + ") select rowid from ranked"
    result = {"n": n, "synth_s": t_synth and round(t_synth, 1), "index_s": t_index and round(t_index, 1),
              "incremental_ms": round(t_incremental * 1000, 1),
              "db_mb": round(db.stat().st_size / 2**20), "queries": {}}
    # The bare word-index lookup, ranked as the canned query ranks it (see datasette_metadata.json).
    all_canned, all_words = [], []
    for q in QUERIES:
        tc, rows = timed(conn, canned, {"q": q}, repeat)
        tw, _ = timed(conn, word_only, {"q": q}, repeat)
        all_canned += tc
        all_words += tw
        result["queries"][q] = {"rows": rows, "search_p50": round(pct(tc, 50), 1), "search_p95": round(pct(tc, 95), 1),
                                "words_p50": round(pct(tw, 50), 1), "words_p95": round(pct(tw, 95), 1)}
    result.update(search_p50=round(pct(all_canned, 50), 1), search_p95=round(pct(all_canned, 95), 1),
                  words_p50=round(pct(all_words, 50), 1), words_p95=round(pct(all_words, 95), 1))
    conn.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, default=max(1, min(4, multiprocessing.cpu_count())))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--reuse", action="store_true", help="query a database kept by an earlier run")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for n in args.n:
        r = run(n, args.workers, args.repeat, args.out, args.reuse)
        print(f"N={n:>9,}: synthesize {r['synth_s']}s, index {r['index_s']}s, {r['db_mb']} MB,"
              f" one record re-indexed in {r['incremental_ms']} ms;"
              f" search p50 {r['search_p50']} ms p95 {r['search_p95']} ms;"
              f" word index p50 {r['words_p50']} ms p95 {r['words_p95']} ms", flush=True)
        for q, s in r["queries"].items():
            print(f"    {q:<16} {s['rows']:>3} rows  search p50 {s['search_p50']:>7} p95 {s['search_p95']:>7}"
                  f"  words p50 {s['words_p50']:>7} p95 {s['words_p95']:>7}", flush=True)
        (args.out / f"search-{n}.json").write_text(json.dumps(r, ensure_ascii=False, indent=2))
        if not args.keep:
            (args.out / f"search-{n}.db").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
