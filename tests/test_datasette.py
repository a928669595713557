"""The published database through Datasette's in-process client, with the shipped metadata:
facets, filters, canned queries, JSON row shapes, and a description for every table and column."""

from __future__ import annotations

import json
import re
import sqlite3
from urllib.parse import quote

import pytest
from datasette.utils import tilde_encode

from kb.plugin.versions import DATASETTE_1
from kb.rows import FIELD_COLUMNS
from kb.tables import RECORD_TEXTS, RECORDS
from kb.validation import schema
from tests.helpers import JOGMEC, METADATA, PIPELINE, get

KB = METADATA["databases"]["kb"]


def get_json(db, path: str):
    resp = get(db, path)
    assert resp.status_code == 200, resp.text[:500]
    return resp.json()


def facets(db, table: str, query: str = "") -> dict[str, dict]:
    data = get_json(db, f"/kb/{table}.json?_size=0&_extra=facet_results{query}")
    found = data["facet_results"]["results"] if DATASETTE_1 else data["facet_results"]  # 1.0 adds timed_out beside
    return {name: {str(v["value"]): v["count"] for v in f["results"]} for name, f in found.items()}


# --- facets and filters --------------------------------------------------------------------------


def test_seed_facets(seeds_db):
    got = facets(seeds_db, "records")
    assert got["country_code"] == {"JP": 2}
    assert got["category_key"] == {"incentive": 2}
    assert got["status_key"] == {"active": 1, "draft": 1}
    assert got["lang"] == {"ja": 1, "zh": 1}
    assert set(got) == {"country_code", "category_key", "status_key", "legal_weight_key", "year", "lang"}


def test_hub_facets(hub_db):
    got = facets(hub_db, "records")
    assert sum(got["country_code"].values()) == 66
    assert len(got["country_code"]) >= 20
    assert {"EU", "INT", "EG", "US", "CN"} <= set(got["country_code"])
    assert got["country_code"]["US"] == 8  # 美国 in zh, United States in en
    assert set(got["status_key"]) <= {"active", "upcoming"}


@pytest.mark.parametrize("query, keys", [
    ("country_code=EG", {"en/eg-carbon-market-framework-2024.md", "zh/eg-carbon-market-framework-2024.md"}),
    ("country_code=US&lang=zh", {"zh/california-lcfs.md", "zh/us-cifia-lpo.md", "zh/us-la-primacy-rules.md", "zh/us-wy-hb-0200.md"}),
])
def test_hub_filters(hub_db, query, keys):
    got = {r["key"] for r in get_json(hub_db, f"/kb/records.json?{query}&_shape=array&_col=key")}
    assert got == keys


def test_default_sort_is_newest_first(hub_db):
    years = [r["year"] for r in get_json(hub_db, "/kb/records.json?_shape=array&_col=year&_size=100")]
    assert len(years) == 66 and years == sorted(years, reverse=True)


def test_findings_facets(hub_db):
    got = facets(hub_db, "findings")
    assert got["rule"]["corpus.unknown-reference"] == 2
    assert got["scope"]["corpus"] >= 2 and got["scope"]["file"] > 0
    assert set(got["severity"]) <= {"error", "warning"}


# --- JSON shapes ---------------------------------------------------------------------------------


def test_record_row_shape(hub_db):
    url = f"/kb/records/{tilde_encode('en/california-lcfs.md')}.json?_shape=array"
    (row,) = get_json(hub_db, url)
    assert list(row) == RECORDS.names
    assert (row["id"], row["country_code"], row["category_key"], row["year"]) == ("california-lcfs", "US", "market", 2024)
    url = f"/kb/record_texts/{tilde_encode('en/california-lcfs.md')}.json?_shape=array"
    (texts,) = get_json(hub_db, url)
    assert list(texts) == RECORD_TEXTS.names
    assert json.loads(texts["frontmatter"])["id"] == "california-lcfs"


def test_child_rows_link_to_the_record(hub_db):
    data = get_json(hub_db, f"/kb/analysis.json?record={quote('en/california-lcfs.md')}&_labels=on&_shape=array")
    assert len(data) == 5
    assert data[0]["record"] == {
        "value": "en/california-lcfs.md",
        "label": "California Low Carbon Fuel Standard (LCFS) 2024/2025 Amendments",
    }


# --- canned queries --------------------------------------------------------------------------------


@pytest.mark.parametrize("country, expected", [("JP", 2), ("jp", 2), ("日本", 2), ("Japan", 2), ("Egypt", 0)])
def test_records_by_country_on_seeds(seeds_db, country, expected):
    assert len(get_json(seeds_db, f"/kb/records_by_country.json?country={country}&_shape=array")) == expected


@pytest.mark.parametrize(
    "country, expected", [("US", 8), ("美国", 8), ("United States", 8), ("Egypt", 2), ("埃及", 2), ("EU", 4), ("欧盟", 4)]
)
def test_records_by_country_on_hub(hub_db, country, expected):
    got = get_json(hub_db, f"/kb/records_by_country.json?country={country}&_shape=array")
    assert len(got) == expected
    assert len({r["country_code"] for r in got}) == 1


@pytest.mark.parametrize("category", ["regulatory", "Regulatory", "法律监管"])
def test_records_by_category(hub_db, category):
    got = get_json(hub_db, f"/kb/records_by_category.json?category={category}&_shape=array")
    conn = sqlite3.connect(hub_db)
    expected = conn.execute("select count(*) from records where category_key = 'regulatory'").fetchone()[0]
    assert len(got) == expected > 0 and {r["category_key"] for r in got} == {"regulatory"}


def test_records_with_findings(hub_db):
    got = {r["key"]: r for r in get_json(hub_db, "/kb/records_with_findings.json?_shape=array")}
    lcfs = got["en/california-lcfs.md"]
    assert lcfs["error_count"] == 1 and "corpus.unknown-reference" in lcfs["rules"]
    counts = [(r["error_count"], r["warning_count"]) for r in got.values()]
    assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize("role, record, surface, clause", [
    ("support_period", PIPELINE, "15年", "支援期間は15年とし、その支援期間終了後に10年間の事業継続義務を"),
    ("deadline", JOGMEC, "2026 财年前", "确保这些项目能在 2026 财年前达成最终投资决策"),
])
def test_measures_by_role(seeds_db, role, record, surface, clause):
    """The real extraction of the seeds: each role's measure, with its record and whole clause."""
    (got,) = get_json(seeds_db, f"/kb/measures_by_role.json?role={role}&_shape=array")
    assert (got["record"], got["surface"], got["country_code"]) == (record, surface, "JP")
    assert clause in got["clause"] and surface in got["clause"]
    assert get_json(seeds_db, "/kb/measures_by_role.json?role=nothing&_shape=array") == []


def test_canned_queries_are_read_only():
    assert set(KB["queries"]) == {"records_by_country", "records_by_category", "records_with_findings", "measures_by_role",
                                  "search", "search_titles"}
    for query in KB["queries"].values():
        assert not query.get("write") and re.match(r"\s*(--[^\n]*\n\s*)*(select|with)\b", query["sql"], re.I)


# --- metadata ---------------------------------------------------------------------------------------


def built_columns(db) -> dict[str, list[str]]:
    """Columns of every table, except the shadow tables FTS5 keeps for each index (x_data, x_idx, ...):
    they are SQLite's, not ours to describe."""
    conn = sqlite3.connect(db)
    found = conn.execute("select name, sql from sqlite_master where type = 'table'").fetchall()
    virtual = [name for name, sql in found if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    tables = [name for name, _ in found if not any(name.startswith(v + "_") for v in virtual)]
    return {t: [r[1] for r in conn.execute(f"pragma table_info([{t}])")] for t in tables}


def test_every_table_and_column_is_described(seeds_db):
    for table, columns in built_columns(seeds_db).items():
        meta = KB["tables"].get(table)
        assert meta and meta.get("description"), f"table {table} has no description"
        described = meta.get("columns", {})
        assert [c for c in columns if not described.get(c)] == [], table
        assert [c for c in described if c not in columns] == [], f"{table} describes columns it does not have"


def _schema_description(path: tuple[str, ...]) -> str:
    node = schema()
    for part in path:
        node = node["properties"][part]
    return node["description"]


@pytest.mark.parametrize("column, path", sorted(FIELD_COLUMNS.items()))
def test_record_columns_carry_the_schema_descriptions(column, path):
    assert KB["tables"]["records"]["columns"][column] == _schema_description(path)


@pytest.mark.parametrize("column, field", [("label", "label"), ("score", "score"), ("evidence", "evidence"),
                                           ("citation", "citation"), ("audit_note", "auditNote")])
def test_analysis_columns_carry_the_schema_descriptions(column, field):
    for dimension in schema()["properties"]["analysis"]["properties"]:
        assert KB["tables"]["analysis"]["columns"][column] == _schema_description(("analysis", dimension, field))


def test_descriptions_show_on_the_table_page(seeds_db):
    resp = get(seeds_db, "/kb/records")
    assert resp.status_code == 200
    assert "Stable key of the record file" in resp.text
    assert KB["tables"]["records"]["description"] in resp.text
    assert get(seeds_db, "/").status_code == 200 and "policy-kb" in get(seeds_db, "/").text
