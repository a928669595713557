"""Compare two built knowledge bases table by table, and what searches over them answer.

    python bench/compare.py OLD.db NEW.db [--old-src DIR] [--new-src DIR] [--queries 事業継続義務 ...]

For a change meant to leave the output alone (a leaner build): every ordinary table present in
both files must hold the same rows (compared as sorted multisets of whole rows, since rowids and
insertion order are not part of the output), except the columns that name the build itself
(kb_meta's time, fingerprint, layout; the builds log). Tables or columns present in only one file
are listed: a layout change says what it dropped or added. FTS5 indexes are compared by what they
answer, not by their b-trees: each query goes through the `search` and `search_titles` (once
`search_records`) canned queries of the code that built each file (a source tree, --old-src /
--new-src, default this checkout: its datasette_metadata.json, and kb.plugin's SQL functions registered in a child process
that imports that tree's kb).

Prints one line per table and query, and exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUERIES = ["事業継続義務", "義務", "封存", "万吨", "support period", "二酸化炭素", "貯留事業", "碳捕集", "CCS",
           "storage", "2030", "支援期間", "万吨二氧化碳", "年", "碳", "the", "monitoring plan", "先払い",
           "liability", "%", "a", "15年", "二氧化碳", "transfer of liability", "許可", "利用",
           # substrings the segmenter does not cut out: the trigram tier
           "業継続義", "援期間は", "oring pla", "ONITORING", "氧化碳封", "ャプチャ", "0万トン", "ｃｃｓ", "Ｃｃｓ"]
# Columns that describe the build rather than its content.
VOLATILE = {"kb_meta": "key in ('built_at', 'fingerprint', 'layout', 'source_commit', 'version')", "builds": "1"}


def tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Ordinary tables (not FTS5 virtual tables nor their shadow tables) -> columns."""
    names = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' and sql not like 'CREATE VIRTUAL%'")]
    fts = [r[0] for r in conn.execute("select name from sqlite_master where sql like 'CREATE VIRTUAL%'")]
    ordinary = [n for n in names if not any(n.startswith(f + "_") for f in fts)]
    return {n: [r[1] for r in conn.execute(f"pragma table_info([{n}])")] for n in ordinary}


def rows(conn: sqlite3.Connection, table: str, columns: list[str]) -> list[tuple]:
    where = f" where not ({VOLATILE[table]})" if table in VOLATILE else ""
    cols = ", ".join(f"[{c}]" for c in columns)
    return sorted(conn.execute(f"select {cols} from [{table}]{where}").fetchall(), key=repr)


def answers(db: Path, src: Path, queries: list[str]) -> dict[str, list]:
    """{"search 義務": rows, ...} as the code in `src` answers over `db`, computed in a child
    process importing that tree's kb (its SQL functions are part of what is compared)."""
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    out = subprocess.run([sys.executable, __file__, "--answer", str(db), *queries], env=env, cwd=src,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _answer(db: Path, queries: list[str]) -> None:
    from kb import plugin

    metadata = json.loads(Path("datasette_metadata.json").read_text(encoding="utf-8"))["databases"]["kb"]["queries"]
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    plugin.prepare_connection(conn)
    # The record-title query was search_records before it became search_titles: ask whichever the tree has.
    titles = "search_titles" if "search_titles" in metadata else "search_records"
    found = {f"{label} {q}": [list(r) for r in conn.execute(metadata[name]["sql"], {"q": q})]
             for label, name in (("search", "search"), ("search_titles", titles)) for q in queries}
    json.dump(found, sys.stdout, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--old-src", type=Path, default=HERE.parent, help="source tree that built OLD (default: this checkout)")
    ap.add_argument("--new-src", type=Path, default=HERE.parent, help="source tree that built NEW (default: this checkout)")
    ap.add_argument("--queries", nargs="*", default=QUERIES)
    if argv is None and sys.argv[1:2] == ["--answer"]:
        _answer(Path(sys.argv[2]), sys.argv[3:])
        return 0
    args = ap.parse_args(argv)
    old, new = (sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True) for p in (args.old, args.new))
    differ = 0
    t_old, t_new = tables(old), tables(new)
    for name in sorted(set(t_old) | set(t_new)):
        if name not in t_new or name not in t_old:
            print(f"table {name}: only in {'old' if name in t_old else 'new'}")
            continue
        shared = [c for c in t_old[name] if c in t_new[name]]
        extra = sorted(set(t_old[name]) ^ set(t_new[name]))
        a, b = rows(old, name, shared), rows(new, name, shared)
        same = a == b
        differ += not same
        note = f" (columns in one file only, not compared: {', '.join(extra)})" if extra else ""
        print(f"table {name}: {len(a)} rows, {'identical' if same else f'DIFFERENT ({len(b)} rows in new)'}{note}")
    a_old, a_new = answers(args.old, args.old_src, args.queries), answers(args.new, args.new_src, args.queries)
    for query, a in a_old.items():
        b = a_new[query]
        differ += a != b
        print(f"query {query}: {len(a)} rows, {'identical' if a == b else f'DIFFERENT ({len(b)} rows in new)'}")
    print("identical" if not differ else f"{differ} differences")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
