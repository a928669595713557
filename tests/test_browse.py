"""Browsing the hub records and the seeds as an analyst, through Datasette's in-process client:
facets name their values in the viewer's language, table pages open on rows (column notes
folded), each policy counts once in the per-policy view, measures lead to their clause and back,
the compare page (rows, chart, CSV), and what a record page lists."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from urllib.parse import quote, unquote

import pytest
from datasette.utils import tilde_encode

from kb import browse, search
from kb.browse import LABELLED
from kb.plugin.versions import DATASETTE_1
from tests.helpers import METADATA, PIPELINE, get
from tests.helpers import tuples as sql

TABLES = [t for t, m in METADATA["databases"]["kb"]["tables"].items() if not m.get("hidden")]


FACET = re.compile(r'<div class="facet-info [^"]*" id="facet-[^"]*" data-column="([^"]+)">(.*?)</ul>', re.S)
FACET_VALUE = re.compile(r'<(?:a|span) [^>]*title="([^"]*)">([^<]*)</(?:a|span)>')


def shown_facets(html: str) -> dict[str, dict[str, str]]:
    """{facet column: {value: the text shown for it}} of a table page."""
    return {col: {unescape(v): unescape(t) for v, t in FACET_VALUE.findall(body)} for col, body in FACET.findall(html)}


# --- facets --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja", "zh"])
@pytest.mark.parametrize("table", ["records", "policies", "measures", "findings", "analysis", "impacts", "regulatory", "files"])
def test_no_facet_shows_a_bare_key(hub_and_seeds_db, table, lang):
    shown = shown_facets(get(hub_and_seeds_db, f"/kb/{table}?_facet_size=max", lang=lang).text)
    keyed = {c: v for c, v in shown.items() if c in LABELLED.get(table, {})}
    assert keyed, f"{table} shows no keyed facet"
    for column, values in keyed.items():
        assert values, column
        names = {v: browse.column_name(table, column, v, lang) for v in values}
        assert [v for v, n in names.items() if n is None and v not in ("", "-")] == [], f"{table}.{column} ({lang})"
        assert {v: t for v, t in values.items() if names[v]} == {v: n for v, n in names.items() if n}
        assert [t for t in values.values() if KEY_LIKE.fullmatch(t)] == [], f"{table}.{column} ({lang})"


KEY_LIKE = re.compile(r"[a-z0-9]+(?:[._][a-z0-9-]+)+|[A-Z]{2,3}")  # support_period, quality.empty-url, CN


@pytest.mark.parametrize("lang, names", [
    ("en", {"CN": "China", "US": "United States", "regulatory": "Regulatory", "zh": "Chinese"}),
    ("ja", {"CN": "中国", "US": "米国", "regulatory": "法規制", "zh": "中国語"}),
    ("zh", {"CN": "中国", "US": "美国", "regulatory": "法律监管", "zh": "中文"}),
])
def test_facets_speak_the_viewers_language(hub_and_seeds_db, lang, names):
    shown = shown_facets(get(hub_and_seeds_db, "/kb/records", lang=lang).text)
    everything = {v: t for values in shown.values() for v, t in values.items()}
    assert {k: everything.get(k) for k in names} == names


@pytest.mark.parametrize("header, lang", [
    ("", "en"), ("ja", "ja"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("fr-FR,fr;q=0.9", "en"),
    ("fr;q=0.9,ja;q=0.8,en;q=0.5", "ja"), ("en;q=0.2, ja;q=0.9", "ja"), ("de, zh-TW;q=0.5", "zh"), ("ja;q=x", "ja"),
])
def test_viewer_language(header, lang):
    assert browse.viewer_lang(header) == lang


def test_every_role_has_a_name_in_each_language():
    for key in search.role_labels():
        names = browse.role_names(key)
        assert all(names[lang] and (lang == "en" or names[lang] != key) for lang in browse.LANGS), key
        # ja and zh names of their own, not the English label standing in for them
        assert names["ja"] != names["en"] and names["zh"] != names["en"], key


@pytest.mark.parametrize("text, key", [("support_period", "support_period"), ("support period", "support_period"),
                                       ("支援期間", "support_period"), ("支持期限", "support_period"),
                                       ("Storage or capacity target", "target_capacity"), ("nothing", None), ("", None)])
def test_a_role_is_found_by_any_of_its_names(text, key):
    assert browse.role_key(text) == key


# --- table pages open on data ----------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_no_page_opens_on_column_notes(hub_and_seeds_db, table):
    html = get(hub_and_seeds_db, f"/kb/{table}").text
    notes = html.find('<dl class="column-descriptions">')
    if not METADATA["databases"]["kb"]["tables"][table].get("columns"):
        assert notes == -1
        return
    folded = html.find('<details class="kb-column-notes">')
    assert html.count('<dl class="column-descriptions">') == 1
    assert 0 <= folded < notes and "</details>" in html[notes:]
    rows = html.find('<table class="rows-and-columns">')
    assert rows > notes
    if METADATA["databases"]["kb"]["tables"][table].get("facets"):
        assert folded < html.find('<div class="facet-results">') < rows


def test_records_page_shows_the_columns_people_read(hub_and_seeds_db):
    html = get(hub_and_seeds_db, "/kb/records").text
    headers = re.findall(r'<th class="col-([a-z_]+)"', html)
    assert headers == ["title", "country_code", "category_key", "status_key", "year", "lang", "error_count", "warning_count"]
    columns = len(sql(hub_and_seeds_db, "select name from pragma_table_info('records')"))
    assert "col-sha256" not in html and f"Showing 8 of {columns} columns" in html
    chosen = get(hub_and_seeds_db, "/kb/records?_col=title&_col=sha256").text
    assert "col-sha256" in chosen and "Showing 8" not in chosen


def test_search_box_on_index_and_database_pages(hub_and_seeds_db):
    for page in get(hub_and_seeds_db, "/", "/kb"):
        assert page.status_code == 200
        assert '<form class="kb-search-box" action="/kb/search" method="get"' in page.text
        assert 'href="/-/compare"' in page.text and 'href="/kb/policies"' in page.text


# --- one row per policy -------------------------------------------------------------------------------


def test_each_policy_counts_once_in_the_policies_view(hub_and_seeds_db):
    policies = {r[0] for r in sql(hub_and_seeds_db, "select coalesce(id, key) from records")}
    rows = json.loads(get(hub_and_seeds_db, "/kb/policies.json?_shape=array&_size=max").text)
    assert len(rows) == len({r["id"] for r in rows}) == len(policies) == 35
    got = json.loads(get(hub_and_seeds_db, "/kb/policies.json?_size=0&_facet_size=max&_extra=facet_results").text)["facet_results"]
    got = got["results"] if DATASETTE_1 else got  # 1.0 adds timed_out beside
    counts = {f: {str(v["value"]): v["count"] for v in got[f]["results"]} for f in got}
    assert counts["country_code"]["US"] == 4  # four US policies, each in zh and en
    assert sum(counts["country_code"].values()) == 35
    assert counts["languages"] == {"en, zh": 33, "ja": 1, "zh": 1}
    lcfs = next(r for r in rows if r["id"] == "california-lcfs")
    assert (lcfs["key"], lcfs["languages"], lcfs["copies"]) == ("en/california-lcfs.md", "en, zh", 2)


# --- measure -> clause -> record -----------------------------------------------------------------------


def anchors(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


def test_measure_page_shows_its_clause_and_links_back(hub_and_seeds_db):
    mid, key, clause_id, surface = sql(hub_and_seeds_db, "select id, record, clause_id, surface from measures"
                                                  " where record = ? and role = 'support_period'", [f"seeds/{PIPELINE}"])[0]
    html = get(hub_and_seeds_db, f"/kb/measures/{tilde_encode(mid)}").text
    box = html[html.index('<section class="kb-in-clause">'):]
    assert f'<mark class="kb-measure">{surface}</mark>' in box
    back = re.search(r'<a class="kb-back-to-clause" href="([^"]+)"', box).group(1)
    path, fragment = back.split("#")
    assert unquote(path) == f"/-/records/{key}" and fragment == browse.clause_anchor(clause_id, key)
    assert fragment in anchors(get(hub_and_seeds_db, path).text)
    assert 'href="/-/compare?role=support_period"' in box


def test_search_hits_and_clause_ids_link_to_the_clause(hub_and_seeds_db):
    html = get(hub_and_seeds_db, f"/kb/search?q={quote('事業継続義務')}").text
    links = set(re.findall(r'href="(/-/records/[^"#]+#c-[^"]+)"', html))
    assert links
    for link in links:
        path, fragment = link.split("#")
        assert fragment in anchors(get(hub_and_seeds_db, path).text), link
    measures = get(hub_and_seeds_db, f"/kb/measures?record={quote('seeds/' + PIPELINE)}").text
    assert re.search(r'<td class="col-clause_id[^"]*"><a href="/-/records/seeds/[^"#]+#c-', measures)


def test_findings_link_to_their_line(hub_and_seeds_db):
    html = get(hub_and_seeds_db, f"/kb/findings?file={quote('en/california-lcfs.md')}&_size=max").text
    links = set(re.findall(r'href="(/-/records/en/california-lcfs\.md#L\d+)"', html))
    lines = {r[0] for r in sql(hub_and_seeds_db, "select line from findings where file = 'en/california-lcfs.md'")}
    assert {int(x.rsplit("#L", 1)[1]) for x in links} == lines
    page = anchors(get(hub_and_seeds_db, "/-/records/en/california-lcfs.md").text)
    assert {f"L{n}" for n in lines} <= page


# --- the record page ---------------------------------------------------------------------------------------


def test_record_page_lists_findings_analysis_regulatory_and_translations(hub_and_seeds_db):
    html = get(hub_and_seeds_db, "/-/records/en/california-lcfs.md").text
    findings = sql(hub_and_seeds_db, "select line, rule, message from findings where file = 'en/california-lcfs.md'")
    section = html[html.index('class="kb-extra kb-findings"'):html.index('class="kb-extra kb-analysis"')]
    assert f"Findings ({len(findings)})" in section
    for line, rule, message in findings:
        assert f'href="#L{line}">{line}</a>' in section and f'title="{rule}"' in section
        assert unescape(message)[:40] in unescape(section)
    analysis = html[html.index('class="kb-extra kb-analysis"'):]
    assert "CARB LCFS CCUS Protocol" in analysis and "(not cited)" in analysis and "Market" in analysis
    for field, text in sql(hub_and_seeds_db, "select field, text from regulatory where record = 'en/california-lcfs.md'"):
        assert f'title="{field}"' in html and unescape(text or "(left open)")[:30] in unescape(html)
    assert 'href="/-/records/zh/california-lcfs.md" hreflang="zh"' in html
    assert 'href="/-/records/en/california-lcfs.md" hreflang="en"' in get(hub_and_seeds_db, "/-/records/zh/california-lcfs.md").text


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_record_page_names_a_figure_as_the_document_defines_it(hub_and_seeds_db, lang):
    key = "seeds/jp-ccs-pipeline-support-interim-draft-2026.md"
    labelled = sql(hub_and_seeds_db, "select role, label, surface from measures where record = ? and label is not null", [key])
    assert labelled == [("cost_cap", "construction cost cap in the reference price", "110\\%以下")]
    html = unescape(get(hub_and_seeds_db, f"/-/records/{key}", lang=lang).text)
    assert "construction cost cap in the reference price</a>: " in html
    # A measure without a label of its own is named by its role, in the reader's language.
    plain = sql(hub_and_seeds_db, "select role from measures where record = ? and label is null and role = 'support_period'", [key])
    assert plain and {"en": ">support period</a>", "ja": ">支援期間</a>"}[lang] in html


# --- compare ------------------------------------------------------------------------------------------------


def test_compare_page_has_one_row_per_policy_and_a_chart(hub_and_seeds_db):
    policies = sql(hub_and_seeds_db, "select count(distinct coalesce(r.id, r.key)) from measures m join records r on r.key = m.record"
                              " where m.role = 'target_capacity'")[0][0]
    assert policies >= 5
    html = get(hub_and_seeds_db, "/-/compare?role=target_capacity").text
    body = html[html.index('<table class="rows-and-columns kb-compare">'):]
    assert body.count("<tr>") == policies + 1
    assert html.count('<svg class="kb-chart"') == len({r[0] for r in sql(
        hub_and_seeds_db, "select unit from measures where role = 'target_capacity' and value is not null")})
    assert html.count('class="kb-bar"') == policies
    assert "<script" not in html[html.index("<svg"):html.rindex("</svg>")]
    assert 'href="/-/compare.csv?role=target_capacity"' in html


def test_compare_takes_a_role_name_in_any_language(hub_and_seeds_db):
    en, ja = get(hub_and_seeds_db, f"/-/compare?role={quote('storage or capacity target')}",
                 f"/-/compare?role={quote('貯留量・能力の目標')}", lang="ja")
    assert en.status_code == ja.status_code == 200
    assert "<h1>Compare policies: 貯留量・能力の目標</h1>" in ja.text


def test_compare_picker_names_roles_in_three_languages(hub_and_seeds_db):
    html = get(hub_and_seeds_db, "/-/compare").text
    assert '<option value="support_period">support period · 支援期間 · 支持期限 (1 policy)</option>' in html
    missing = get(hub_and_seeds_db, "/-/compare?role=no-such-role")
    assert missing.status_code == 404 and "No measure role is called" in missing.text


def test_compare_csv(hub_and_seeds_db):
    resp = get(hub_and_seeds_db, "/-/compare.csv?role=target_year")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert list(rows[0]) == list(browse.CSV_COLUMNS)
    assert len(rows) == len({r["policy"] for r in rows}) == sql(
        hub_and_seeds_db, "select count(distinct coalesce(r.id, r.key)) from measures m join records r on r.key = m.record"
                   " where role = 'target_year'")[0][0]
    assert all(r["clause"] and r["country_code"] for r in rows)
    assert get(hub_and_seeds_db, "/-/compare.csv?role=nope").status_code == 400


def test_role_names_link_to_compare(hub_and_seeds_db):
    measures = get(hub_and_seeds_db, "/kb/measures?role=support_period").text
    assert '<a href="/-/compare?role=support_period" title="support_period">support period</a>' in measures
    record = get(hub_and_seeds_db, f"/-/records/seeds/{PIPELINE}", lang="ja").text
    assert '<a href="/-/compare?role=support_period" class="kb-role" title="compare across policies">支援期間</a>' in record


def test_compare_csv_cells_never_start_a_formula():
    row = browse.CompareRow("p", "=HYPERLINK(1)", "en", "en", "US", "United States", 2024, 1.0, None, "t", "", "1 t",
                            "-1", "@x", browse.Markup(""), (), "k", "", "m")
    got = list(csv.reader(io.StringIO(browse.compare_csv([row]))))[1]
    assert got[1] == "'=HYPERLINK(1)" and got[11] == "'-1" and got[12] == "'@x"


def test_search_results_name_the_roles_of_a_clause(hub_and_seeds_db):
    html = get(hub_and_seeds_db, f"/kb/search?q={quote('事業継続義務')}", lang="zh").text
    assert ('<a href="/-/compare?role=support_period" title="support_period">支持期限</a>: 15年; '
            '<a href="/-/compare?role=obligation_period" title="obligation_period">义务期限</a>: 10年間') in html


def test_paging_through_the_records_page_sees_every_record_once(hub_and_seeds_db):
    url, keys = "/kb/records.json?_size=10&_col=year&_shape=arrays", []
    while url:
        data = get(hub_and_seeds_db, url).json()
        keys += [r[0] for r in data["rows"]]
        url = data["next_url"] and "/" + data["next_url"].split("://", 1)[-1].split("/", 1)[-1]
    assert len(keys) == len(set(keys)) == sql(hub_and_seeds_db, "select count(*) from records")[0][0]


def test_every_rule_the_code_can_report_has_a_name():
    """Facets and record pages name rules; a rule added to the checks needs its names too."""
    import json as _json
    from pathlib import Path

    kb_dir = Path(__file__).resolve().parents[1] / "kb"
    rule = re.compile(r'"((?:load|schema|vocab|quality|corpus|text|publish)\.(?!json")[a-z0-9-]+)"')  # not a file name
    emitted = {r for p in kb_dir.rglob("*.py") for r in rule.findall(p.read_text("utf-8"))}
    emitted |= {r for p in (kb_dir / "data").rglob("*.json") if p.name != "labels.json"
                for r in rule.findall(p.read_text("utf-8"))}
    named = set(_json.loads((kb_dir / "data" / "labels.json").read_text("utf-8"))["rule"])
    assert emitted and emitted <= named, sorted(emitted - named)
