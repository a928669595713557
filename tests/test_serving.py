"""Serving safety: what `policy-kb serve` hands to Datasette, and what a visitor can do with it.

Through Datasette's in-process client, configured as `serve` configures it (the database file
opened read-only, the shipped settings and metadata): writes fail, a runaway query is cut off by the time limit,
`_size=max` is capped, and record text with HTML in it is escaped on the pages that show it.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from kb.cli import cli, datasette_args
from kb.plugin.versions import sql_path
from kb.publish import SETTINGS, build
from tests.helpers import get, make_corpus

XSS = '<script>alert("kb")</script><img src=x onerror=alert(1)>'


def _args(tmp_path: Path, db: str = "kb.db", **kw) -> list[str]:
    opts = {"host": "127.0.0.1", "port": 8001, "sql_time_limit_ms": 1000, **kw}
    return datasette_args(Path(db), scratch=tmp_path, **opts)


def _setting(args: list[str], name: str) -> str | None:
    for i, a in enumerate(args):
        if a == "--setting" and args[i + 1] == name:
            return args[i + 2]
    return None


# --- the command line -----------------------------------------------------------------------------


def test_serve_defaults_to_localhost():
    params = {p.name: p.default for p in cli.commands["serve"].params}
    assert params["host"] == "127.0.0.1"
    assert params["sql_time_limit_ms"] and params["sql_time_limit_ms"] <= 5000


def test_datasette_args(tmp_path):
    args = _args(tmp_path)
    assert args[0] == "serve"
    assert args[1] == "kb.db" and args.count("kb.db") == 1, "the database, once, as a file Datasette opens read-only"
    assert "-i" not in args, "not immutable: a build commits into the served file while it is served"
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert _setting(args, "sql_time_limit_ms") == "1000"
    assert int(_setting(args, "max_returned_rows")) <= 1000
    for risky in ("--cors", "--root", "--crossdb", "--load-extension", "--plugins-dir", "--reload"):
        assert risky not in args
    assert _setting(_args(tmp_path, sql_time_limit_ms=250), "sql_time_limit_ms") == "250"


@pytest.mark.parametrize("db", ["kb.db", "other.db"])
def test_no_canned_query_writes(tmp_path, db):
    """Also the renamed copy of the metadata written for a database not named kb."""
    args = _args(tmp_path, db=db)
    # Datasette 0.65 reads queries from the metadata, 1.0 from its configuration (--config).
    source = args[args.index("--config" if "--config" in args else "--metadata") + 1]
    metadata = json.loads(Path(source).read_text(encoding="utf-8"))
    queries = [q for d in metadata.get("databases", {}).values() for q in d.get("queries", {}).values()]
    assert queries
    for q in queries:
        q = q if isinstance(q, dict) else {"sql": q}
        assert not q.get("write"), q
        assert not q.get("on_success_message") and not q.get("on_success_redirect")


# --- Datasette as serve runs it -------------------------------------------------------------------


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("serving")
    corpus = root / "corpus"
    make_corpus(corpus, 120)  # over 1,000 clauses: more rows than max_returned_rows
    meta = {"id": "xss", "lang": "en", "title": f"T {XSS}", "country": "Japan", "category": "Incentive",
            "status": "Active", "year": 2024, "pubDate": "2024-06-01", "source": f"S {XSS}",
            "url": "https://example.org/x", "reviewStatus": "draft", "provenance": {"author": f"A {XSS}"},
            "description": f"D {XSS}"}
    body = f"## {XSS}\n\n{XSS} The subsidy cap is 5 million yen.\n"
    (corpus / "xss.md").write_text(f"---\n{json.dumps(meta)}\n---\n{body}", encoding="utf-8")
    out = root / "kb.db"
    build([corpus], out)
    return out


def sql(db: Path, query: str):
    return get(db, f"{sql_path('kb')}.json?sql={quote(query)}&_shape=objects")


def count(db: Path, table: str) -> int:
    resp = sql(db, f"select count(*) as n from {table}")
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()["rows"][0]["n"]


@pytest.mark.parametrize("statement", [
    "insert into records (key) values ('evil')",
    "delete from findings",
    "update records set title = 'x'",
    "drop table records",
    "with x as (select 1) delete from records",  # starts like a read: only the read-only file stops it
    "with x as (select 1) insert into files (key) values ('evil')",
    "attach database '/tmp/kb-evil.db' as evil",
    "pragma writable_schema = 1",
    "select load_extension('/tmp/nothing')",
])
def test_writes_fail(db, statement):
    before = (count(db, "records"), count(db, "findings"), count(db, "files"))
    resp = sql(db, statement)
    assert resp.status_code >= 400 or resp.json().get("ok") is False, resp.text[:300]
    assert (count(db, "records"), count(db, "findings"), count(db, "files")) == before
    assert not Path("/tmp/kb-evil.db").exists()


def test_write_endpoints_are_absent(db):
    resp = get(db, "/kb/records/-/insert", method="post", json={"row": {"key": "evil"}})
    assert resp.status_code in (403, 404, 405)
    assert count(db, "records") == 121


def test_runaway_query_is_cut_off(db):
    query = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    resp = sql(db, query)
    assert resp.status_code >= 400
    assert "too long" in resp.text.lower() or "interrupted" in resp.text.lower(), resp.text[:300]


def test_size_max_is_capped(db):
    limit = SETTINGS["max_returned_rows"]
    assert count(db, "clauses") > limit
    resp = get(db, "/kb/clauses.json?_size=max&_shape=objects")
    assert resp.status_code == 200
    assert len(resp.json()["rows"]) <= limit
    resp = sql(db, "select * from clauses")
    data = resp.json()
    assert len(data["rows"]) == limit and data["truncated"] is True


def test_record_text_is_escaped_on_the_table_page(db):
    resp = get(db, "/kb/records?_size=200")
    assert resp.status_code == 200
    assert "T &lt;script&gt;" in resp.text or "T &lt;script>" in resp.text
    assert "<script>alert" not in resp.text and "<img src=x" not in resp.text


def test_record_text_is_escaped_on_the_row_page(db):
    resp = get(db, "/kb/records/xss~2Emd")
    assert resp.status_code == 200, resp.text[:300]
    assert "<script>alert" not in resp.text and "<img src=x" not in resp.text


def test_record_text_is_escaped_on_the_record_page(db):
    resp = get(db, "/-/records/xss.md")
    assert resp.status_code == 200, "the record page must exist to be checked: " + resp.text[:300]
    assert "<script>alert" not in resp.text and "<img src=x" not in resp.text
    assert "&lt;script&gt;" in resp.text


@pytest.mark.parametrize("path", ["/", "/kb", "/kb/records", "/kb/records.json", "/-/records/xss.md", "/-/static/app.css",
                                  "/kb?sql=select+1", "/no/such/page"])
def test_every_page_carries_security_headers(db, path):
    resp = get(db, path)
    csp = resp.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp, path
    assert resp.headers.get("x-content-type-options") == "nosniff"
    assert resp.headers.get("x-frame-options") == "DENY"
