"""The Datasette plugin (entry point `policy_kb`): CJK-aware search functions, safe rendering of
search highlights, and a page per record that shows its measures where they were found.

Loaded by `datasette kb.db` alone once the package is installed, and by `policy-kb serve`. A
package, so Datasette finds its templates/ by itself, and renders its pages with
`datasette.render_template`. It runs on Datasette 0.65 and 1.0; where the two differ (how
canned queries are registered, where table metadata is read) kb.plugin.versions says which applies.
"""

from __future__ import annotations

import copy
import json
from bisect import bisect_right
from functools import cache
from urllib.parse import quote, unquote

from datasette import Response, hookimpl
from datasette.utils import tilde_decode, tilde_encode
from markupsafe import Markup, escape

from kb import browse, search
from kb.html import Span, is_marked_text, marked
from kb.plugin import versions
from kb.plugin.versions import DATASETTE_1, table_metadata
from kb.tokens import segment

SNIPPET_COLUMN = "snippet"  # the one column shown as HTML, and only when its content is safe

# Record fields shown on a record page, in this order, with their labels.
FIELDS = [("id", "id"), ("lang", "language"), ("country", "country"), ("country_en", "country (en)"),
          ("category", "category"), ("status", "status"), ("legal_weight", "legal weight"), ("year", "year"),
          ("pub_date", "published"), ("source", "source"), ("url", "url"), ("review_status", "review status"),
          ("provenance_author", "author"), ("provenance_reviewer", "reviewer"),
          ("provenance_last_audit", "last audit"), ("provenance_source_file", "source file"),
          ("provenance_note", "note"), ("description", "description"), ("error_count", "errors"),
          ("warning_count", "warnings"), ("path", "file")]


# --- SQL functions ------------------------------------------------------------------------------


# The characters a SQL function reads. The functions run in Python, where SQLite's time limit
# cannot stop them, so the work of one call is bounded instead: kb_segment refuses a longer text
# (an error in the query's result), kb_highlight looks only at the start of one. The query
# functions clip their query to search.MAX_QUERY already.
MAX_FUNCTION_TEXT = 100_000


def _kb_segment(text):
    """kb_segment(text): the words of `text` as the index stores them."""
    if not isinstance(text, str):
        return None
    if len(text) > MAX_FUNCTION_TEXT:
        raise ValueError(f"kb_segment takes at most {MAX_FUNCTION_TEXT:,} characters; this text has {len(text):,}")
    return segment(text)


def _kb_highlight(text, q):
    """kb_highlight(text, query): a snippet of the text with the query marked, read from at most
    MAX_FUNCTION_TEXT characters of it."""
    if isinstance(text, str) and len(text) > MAX_FUNCTION_TEXT:
        html = search.highlight(text[:MAX_FUNCTION_TEXT], q)
        return html if html.endswith("…") else html + "…"
    return search.highlight(text, q)


@hookimpl
def prepare_connection(conn):
    conn.create_function("kb_segment", 1, _kb_segment, deterministic=True)
    conn.create_function("kb_query", 1, search.match_expression, deterministic=True)
    conn.create_function("kb_substring", 1, search.substring_phrase, deterministic=True)
    conn.create_function("kb_contains", 2, search.contains, deterministic=True)
    conn.create_function("kb_like", 1, search.like_pattern, deterministic=True)
    conn.create_function("kb_highlight", 2, _kb_highlight, deterministic=True)


# --- security headers --------------------------------------------------------------------------

# Every response gets these. Datasette's pages run its own scripts and inline snippets from the
# same origin; nothing is loaded from elsewhere, and no other site may frame a page.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                                 b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_headers(scope, receive, send):
            if scope.get("type") != "http":
                return await app(scope, receive, send)
            accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
            browse.VIEWER.set(browse.viewer_lang(accept))  # this request's task only

            async def send_with_headers(message):
                if message.get("type") == "http.response.start":
                    names = {k.lower() for k, _ in message.get("headers", [])}
                    message = {**message, "headers": list(message.get("headers", []))
                               + [(k, v) for k, v in SECURITY_HEADERS if k not in names]}
                await send(message)

            return await app(scope, receive, send_with_headers)

        return with_headers

    return wrap


# --- canned queries -----------------------------------------------------------------------------


SEARCH_QUERIES = ("search", "search_titles")


@cache
def _shipped_queries() -> dict:
    queries = versions.shipped()["databases"]["kb"]["queries"]
    return {name: queries[name] for name in SEARCH_QUERIES}


async def _searchable(db) -> bool:
    return "clauses_fts" in await db.table_names()


# The search queries call this plugin's SQL functions, so the plugin brings them along: `datasette
# kb.db` alone can search. They are the plugin's: a query of the same name given elsewhere is
# replaced, on both versions alike.
if DATASETTE_1:
    @hookimpl
    def startup(datasette):
        """Datasette 1.0 keeps queries in its internal database: add ours to each searchable one."""
        async def add():
            for name, db in datasette.databases.items():
                if name == "_internal" or not await _searchable(db):
                    continue
                for query, q in _shipped_queries().items():
                    await datasette.add_query(name, query, q["sql"], title=q.get("title"), description=q.get("description"),
                                              description_html=q.get("description_html"), hide_sql=bool(q.get("hide_sql")),
                                              is_trusted=True, replace=True)

        return add
else:
    @hookimpl
    def canned_queries(datasette, database):
        """Datasette 0.65 asks each time it lists or runs a database's queries."""
        async def queries():
            return copy.deepcopy(_shipped_queries()) if await _searchable(datasette.get_database(database)) else {}

        return queries


# --- cells --------------------------------------------------------------------------------------


def record_path(datasette, key: str, fragment: str = "") -> str:
    return browse.record_href(datasette.urls.path("/-/records/"), key, fragment)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if column == SNIPPET_COLUMN and is_marked_text(value):
        # Trusted because of what it contains (escaped text and <mark> only), not because of
        # the column's name: any SQL can name a column `snippet`.
        return Markup(value)
    if table in ("records", "policies") and column == "title":
        key = _get(row, "key")
        if isinstance(key, str):
            return Markup('<a href="{}">{}</a>').format(record_path(datasette, key), value or key)
    if isinstance(value, dict) and column == "clause_id":
        value = value.get("value")  # a foreign key Datasette expanded to {value, label}
    if (column == "clause_id" or (table == "clauses" and column == "id")) and isinstance(value, str) and "#" in value:
        key = _get(row, "record")
        key = key if isinstance(key, str) and value.startswith(key + "#") else value.rsplit("#", 1)[0]
        anchor = browse.clause_anchor(value, key)
        return Markup('<a href="{}" title="{}">{}</a>').format(record_path(datasette, key, anchor), value, anchor)
    if table is None and column == "record" and isinstance(value, str) and value:
        clause = _get(row, "clause_id")  # a search hit opens at its clause
        anchor = browse.clause_anchor(clause, value) if isinstance(clause, str) and "#" in clause else ""
        return Markup('<a href="{}">{}</a>').format(record_path(datasette, value, anchor), value)
    if table is None and column == "measures" and isinstance(value, str) and isinstance(_get(row, "clause_id"), str):
        return _search_measures(datasette, value)
    if table == "findings" and column == "line" and isinstance(value, int) and _get(row, "record") is not None:
        return Markup('<a href="{}" title="this line on the record page">{}</a>').format(
            record_path(datasette, _get(row, "file") or "", browse.line_anchor(value)), value)
    if column == "role" and isinstance(value, str) and value in search.role_labels():
        return Markup('<a href="{}" title="{}">{}</a>').format(
            compare_path(datasette, value), value, browse.role_name(value, browse.VIEWER.get()))
    named = browse.column_name(table, column, value)
    if named is not None:
        return Markup('<span title="{}">{}</span>').format(value, named)
    return None


def _search_measures(datasette, value: str) -> Markup | None:
    """The search query's `role: surface; role: surface` as role names linking to compare."""
    items: list[list[str]] = []
    for piece in value.split("; "):
        role, sep, surface = piece.partition(": ")
        if sep and role in search.role_labels():
            items.append([role, surface])
        elif items:
            items[-1][1] += "; " + piece  # a surface holding "; "
        else:
            return None
    lang = browse.VIEWER.get()
    return Markup("; ").join(Markup('<a href="{}" title="{}">{}</a>: {}').format(
        compare_path(datasette, role), role, browse.role_name(role, lang), surface) for role, surface in items)


def compare_path(datasette, role: str) -> str:
    return datasette.urls.path("/-/compare?role=" + quote(role))


def _get(row, name):
    try:
        return row[name]
    except (KeyError, IndexError, TypeError):
        return None


# --- record pages -------------------------------------------------------------------------------


@hookimpl
def register_routes(datasette):
    return [(r"^/-/records/(?P<key>.+)$", record_page), (r"^/-/compare(?P<format>\.csv)?$", compare_page)]


@hookimpl
def extra_template_vars(template, database, table, request, datasette):
    async def extra():
        db = await _kb_database(datasette)
        if db is None:
            return {}
        lang = browse.viewer_lang(request.headers.get("accept-language") if request else None)
        found = {"kb_db": db.name, "kb_search_url": datasette.urls.query(db.name, "search"),
                 "kb_compare_url": datasette.urls.path("/-/compare"),
                 "kb_policies_url": datasette.urls.table(db.name, "policies"),
                 "kb_facet_label": lambda column, value, label: browse.column_name(table, column, value, lang) or label}
        if database != db.name:
            return found
        if template == "table.html" and table:
            found.update(await _table_vars(datasette, database, table, request))
        if template == "row.html" and table == "measures" and request is not None:
            found["kb_measure"] = await _measure_context(datasette, db, request, lang)
        return found

    return extra


# Columns the records page shows unless the viewer picks others (?_col= / ?_nocol=).
RECORD_COLUMNS = ("title", "country_code", "category_key", "status_key", "year", "lang", "error_count", "warning_count")


async def _table_vars(datasette, database: str, table: str, request) -> dict:
    """Column notes moved into a collapsed <details> (templates/table.html), so a table page
    opens on its rows and facets; the records page shows RECORD_COLUMNS by default."""
    meta = await table_metadata(datasette, database, table)
    found = {}
    if meta.get("columns"):
        found["metadata"] = {**meta, "columns": {}}
        found["kb_column_notes"] = meta["columns"]
    chosen = request is not None and any(k in request.args for k in ("_col", "_nocol"))
    if table == "records" and not chosen:
        found["custom_table_templates"] = ["kb_records_table.html"]
        found["kb_columns"] = RECORD_COLUMNS
    return found


async def _measure_context(datasette, db, request, lang: str) -> dict | None:
    """A measure's clause with the measure marked, and the way back to it on the record page."""
    ids = [tilde_decode(p) for p in request.url_vars.get("pks", "").split(",")]
    rows = (await db.execute(
        "select m.*, c.text as clause, c.start as clause_start, c.end as clause_end, c.line as clause_line,"
        " c.section, r.title, t.body from measures m left join clauses c on c.id = m.clause_id"
        " left join records r on r.key = m.record left join record_texts t on t.key = m.record where m.id = ?", ids[:1])).rows
    if not rows:
        return None
    m = dict(rows[0])
    clause = {"start": m["clause_start"], "end": m["clause_end"]}
    anchor = browse.clause_anchor(m["clause_id"], m["record"]) if m["clause_id"] else ""
    return {"clause_html": browse.marked_clause(m["clause"], m["body"], clause, m) if m["clause_id"] else None,
            "record_url": record_path(datasette, m["record"]), "clause_url": record_path(datasette, m["record"], anchor),
            "title": m["title"] or m["record"], "section": m["section"], "line": m["clause_line"], "shown": browse.shown_value(m),
            "surface": m["surface"], "role": m["role"], "role_name": browse.role_name(m["role"], lang) if m["role"] else "",
            "compare_url": compare_path(datasette, m["role"]) if m["role"] in search.role_labels() else None}


async def _kb_database(datasette):
    """The database holding the knowledge base: `kb` when there is one, else the first with a
    records table built by policy-kb."""
    names = [n for n in datasette.databases if n != "_internal"]
    for name in sorted(names, key=lambda n: n != "kb"):
        db = datasette.get_database(name)
        if {"records", "kb_meta"} <= set(await db.table_names()):
            return db
    return None


async def record_page(datasette, request):
    key = unquote(request.url_vars["key"])  # Datasette matches routes on the raw, still-encoded path
    db = await _kb_database(datasette)
    if db is None:
        return Response.html("<h1>No policy-kb database is being served</h1>", status=404)
    found = (await db.execute("select * from records where key = ?", [key])).rows
    if not found:
        return Response.html(f"<h1>No record {escape(key)}</h1>", status=404)
    record = dict(found[0])
    texts = (await db.execute("select body, fm_text from record_texts where key = ?", [key])).rows
    record["body"], record["fm_text"] = (texts[0]["body"], texts[0]["fm_text"]) if texts else ("", "")
    clauses = [dict(r) for r in (await db.execute(
        "select id, record, ordinal, start, end, line, section, kind, lang, text from clauses where record = ? order by start, id",
        [key])).rows]
    measures = [dict(r) for r in (await db.execute(
        "select id, clause_id, kind, role, label, value, value_max, unit, comparator, surface, start, end, line"
        " from measures where record = ? order by start, end desc, id", [key])).rows]
    clause_ids = {c["id"] for c in clauses}
    context = {
        "database": db.name, "table": "records", "record": record,
        "fields": [(label, _field(record.get(name), name)) for name, label in FIELDS if record.get(name) not in (None, "")],
        "sections": _sections(datasette, db.name, record.get("body") or "", clauses, measures),
        "loose_measures": [_measure(datasette, db.name, m) for m in measures if m["clause_id"] not in clause_ids],
        "row_url": datasette.urls.row(db.name, "records", tilde_encode(key)),
        "search_url": datasette.urls.query(db.name, "search"),
        "body": record.get("body") or "",
        **await _record_extras(datasette, db, record, clauses, request),
    }
    html = await datasette.render_template("kb_record.html", context, request=request)
    return Response.html(html)


async def _record_extras(datasette, db, record: dict, clauses: list[dict], request) -> dict:
    """Findings (each linking to its line), analysis, regulatory fields, impacts and the
    translations of a record, and the anchors its findings' lines need."""
    lang = browse.viewer_lang(request.headers.get("accept-language"))
    key = record["key"]

    async def rows(sql, *args):
        return [dict(r) for r in (await db.execute(sql, list(args))).rows]

    findings = await rows("select line, col, severity, rule, field, message from findings where file = ?"
                          " order by line, col, rule", key)
    for f in findings:
        f["rule_name"] = browse.name("rule", f["rule"], lang) or f["rule"]
        f["href"] = "#" + browse.line_anchor(f["line"]) if f["line"] else ""
    analysis = await rows("select dimension, label, score, evidence, citation, audit_note from analysis where record = ?"
                          " order by dimension", key)
    regulatory = await _regulatory(db, key)
    impacts = await rows("select aspect, text from impacts where record = ? order by rowid", key)
    for r in analysis:
        r["name"] = browse.name("dimension", r["dimension"], lang) or r["dimension"]
    for r in regulatory:
        r["name"] = browse.name("field", r["field"], lang) or r["field"]
    for r in impacts:
        r["name"] = browse.name("aspect", r["aspect"], lang) or r["aspect"]
    translations = [{**t, "url": record_path(datasette, t["key"]), "lang_name": browse.name("lang", t["lang"], lang) or t["lang"]}
                    for t in await rows("select key, lang, title from records where id = ? order by lang, key", record.get("id"))]
    # Line anchors: a body line points at the clause it falls in, a frontmatter line at itself.
    wanted = {f["line"] for f in findings if isinstance(f["line"], int)}
    body_line = record.get("body_line") or 0
    starts = sorted((c["line"], c["id"]) for c in clauses if isinstance(c["line"], int))
    first_lines = [line for line, _ in starts]
    line_anchors: dict[str, list[str]] = {}
    for line in sorted(x for x in wanted if x >= body_line and starts):
        at = starts[max(bisect_right(first_lines, line) - 1, 0)]  # the last clause starting at or before it
        line_anchors.setdefault(at[1], []).append(browse.line_anchor(line))
    fm_lines = [(n, browse.line_anchor(n), text) for n, text in enumerate((record.get("fm_text") or "").split("\n"), start=2)]
    return {"findings": findings, "analysis": analysis, "regulatory": regulatory, "impacts": impacts,
            "translations": translations if len(translations) > 1 else [], "line_anchors": line_anchors,
            "fm_lines": fm_lines, "fm_open": any(x < body_line for x in wanted),
            "lang_name": browse.name("lang", record.get("lang"), lang)}


async def _regulatory(db, key: str) -> list[dict]:
    """The record's regulatory fields in the schema's order, each with its text or, when empty,
    what `policy-kb suggest` read for it (field, value, clause, line)."""
    from kb.suggest import REGULATORY_FIELDS

    texts = {r["field"]: r["text"] for r in (await db.execute("select field, text from regulatory where record = ?", [key])).rows}
    found: dict[str, dict] = {}
    if await db.table_exists("suggestions"):
        for r in (await db.execute("select field, value, clause_id, quote, line from suggestions where record = ?"
                                   " order by rowid", [key])).rows:
            found.setdefault(r["field"], {**dict(r), "anchor": browse.clause_anchor(r["clause_id"], key)})
    order = list(REGULATORY_FIELDS) + sorted(set(texts) - set(REGULATORY_FIELDS))
    return [{"field": f, "text": texts.get(f) or "", "suggestion": found.get(f)} for f in order
            if (texts.get(f) or "").strip() or f in found or f in texts]


def _field(value, name: str):
    """A field for display; only http(s) addresses become links (never javascript: and co)."""
    if name == "url" and isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(value)
    return value


def _measure(datasette, database: str, m: dict) -> dict:
    # The document's own name for the figure (measures.label) says more than its role's name.
    label = m["label"] or (browse.role_name(m["role"], browse.VIEWER.get()) if m["role"] else (m["kind"] or "measure"))
    shown = browse.shown_value(m)
    return {**m, "label": label, "shown": shown, "title": f"{label}: {shown}" if shown else label,
            "url": datasette.urls.row(database, "measures", tilde_encode(m["id"])),
            "compare_url": compare_path(datasette, m["role"]) if m["role"] in search.role_labels() else None}


def _sections(datasette, database: str, body: str, clauses: list[dict], measures: list[dict]) -> list[dict]:
    """Clauses grouped by section, each as HTML of its span of the body with its measures
    marked in place (by offsets into the original text, escaped piece by piece)."""
    by_clause: dict[str, list[dict]] = {}
    for m in measures:
        by_clause.setdefault(m["clause_id"], []).append(_measure(datasette, database, m))
    sections: list[dict] = []
    for c in clauses:
        start, end = c["start"], c["end"]
        own = by_clause.get(c["id"], [])
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(body)):
            start, end, text = 0, len(c["text"] or ""), c["text"] or ""  # offsets unusable: show the text
            spans = []
        else:
            text = body
            spans = [Span(m["start"], m["end"],
                          Markup('<mark class="kb-measure" title="{}"><a href="{}">').format(m["title"], m["url"]),
                          "</a></mark>")
                     for m in own if isinstance(m["start"], int) and isinstance(m["end"], int)]
        if not sections or sections[-1]["name"] != (c["section"] or ""):
            sections.append({"name": c["section"] or "", "clauses": []})
        sections[-1]["clauses"].append({**c, "html": Markup(marked(text, spans, start, end)), "measures": own,
                                         "anchor": browse.clause_anchor(c["id"], c.get("record"))})
    return sections


# --- compare -----------------------------------------------------------------------------------


async def compare_page(datasette, request):
    """/-/compare?role=ROLE: one row per policy with its value for the role, a chart, and CSV
    (/-/compare.csv?role=ROLE). `role` takes a key or a name in en, ja or zh."""
    db = await _kb_database(datasette)
    if db is None:
        return Response.html("<h1>No policy-kb database is being served</h1>", status=404)
    lang = browse.viewer_lang(request.headers.get("accept-language"))
    asked = request.args.get("role") or ""
    role = browse.role_key(asked)
    rows = []
    if role:
        measures = [dict(r) for r in (await db.execute(browse.COMPARE_SQL, [role])).rows]
        keys = sorted({m["record"] for m in measures})
        bodies = {r["key"]: r["body"] for r in (await db.execute(
            "select key, body from record_texts where key in (select value from json_each(?))", [json.dumps(keys)])).rows}
        rows = browse.compare_rows(measures, lang, bodies)
    if request.url_vars.get("format") == ".csv":
        if not role:
            return Response.text(f"unknown role {asked!r}: give a role key or its name in en, ja or zh\n", status=400)
        return Response(browse.compare_csv(rows), content_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'inline; filename="compare-{role}.csv"'})
    roles = [{**dict(r), "names": browse.role_names(r["role"]), "url": compare_path(datasette, r["role"])}
             for r in (await db.execute(browse.ROLE_COUNTS_SQL)).rows if r["role"] in search.role_labels()]
    name = browse.role_name(role, lang) if role else ""
    context = {
        "database": db.name, "role": role, "asked": asked, "role_name": name,
        "names": browse.role_names(role) if role else {}, "roles": roles, "rows": rows,
        "charts": browse.chart_svg(rows, name) if rows else [],
        "csv_url": datasette.urls.path("/-/compare.csv?role=" + quote(role or "")),
        "record_url": lambda r: record_path(datasette, r.record, r.anchor),
        "measure_url": lambda r: datasette.urls.row(db.name, "measures", tilde_encode(r.measure_id)),
        "search_url": datasette.urls.query(db.name, "search"),
    }
    html = await datasette.render_template("kb_compare.html", context, request=request)
    return Response.html(html, status=200 if role or not asked else 404)

