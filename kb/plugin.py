"""The Datasette plugin (entry point `policy_kb`): CJK-aware search functions, safe rendering of
search highlights, and a page per record that shows its measures where they were found.

Loaded by `datasette kb.db` alone once the package is installed, and by `policy-kb serve`.
"""

from __future__ import annotations

import copy
import json
import weakref
from functools import cache
from pathlib import Path
from urllib.parse import quote, unquote

from datasette import Response, hookimpl
from datasette.utils import tilde_encode
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup, escape

from kb import search
from kb.html import Span, is_marked_text, marked
from kb.tokens import segment
from kb.validation import resource_path

TEMPLATES = Path(__file__).parent / "templates"
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


SEARCH_QUERIES = ("search", "search_records")


@cache
def _shipped_queries() -> dict:
    data = json.loads(resource_path("datasette_metadata.json").read_text(encoding="utf-8"))
    queries = data["databases"]["kb"]["queries"]
    return {name: queries[name] for name in SEARCH_QUERIES}


@hookimpl
def canned_queries(datasette, database):
    """The search queries of the shipped metadata, for a database served without it
    (`datasette kb.db`); metadata given on the command line keeps the last word."""
    async def queries():
        defined = datasette.metadata("queries", database=database, fallback=False) or {}
        wanted = {k: v for k, v in _shipped_queries().items() if k not in defined}
        if wanted and "clauses_fts" in await datasette.get_database(database).table_names():
            return copy.deepcopy(wanted)
        return {}

    return queries


# --- cells --------------------------------------------------------------------------------------


def record_path(datasette, key: str) -> str:
    return datasette.urls.path("/-/records/" + quote(key, safe="/"))


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if column == SNIPPET_COLUMN and is_marked_text(value):
        # Trusted because of what it contains (escaped text and <mark> only), not because of
        # the column's name: any SQL can name a column `snippet`.
        return Markup(value)
    if table == "records" and column == "title":
        key = _get(row, "key")
        if isinstance(key, str):
            return Markup('<a href="{}">{}</a>').format(record_path(datasette, key), value or key)
    if table is None and column == "record" and isinstance(value, str) and value:
        return Markup('<a href="{}">{}</a>').format(record_path(datasette, value), value)
    return None


def _get(row, name):
    try:
        return row[name]
    except (KeyError, IndexError, TypeError):
        return None


# --- record pages -------------------------------------------------------------------------------


@hookimpl
def register_routes(datasette):
    return [(r"^/-/records/(?P<key>.+)$", record_page)]


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
    texts = (await db.execute("select body from record_texts where key = ?", [key])).rows
    record["body"] = texts[0]["body"] if texts else ""
    clauses = [dict(r) for r in (await db.execute(
        "select id, ordinal, start, end, line, section, kind, lang, text from clauses where record = ? order by start, id",
        [key])).rows]
    measures = [dict(r) for r in (await db.execute(
        "select id, clause_id, kind, role, value, value_max, unit, comparator, surface, start, end, line"
        " from measures where record = ? order by start, end desc, id", [key])).rows]
    context = {
        "database": db.name, "table": "records", "record": record,
        "regulatory": await _regulatory(db, key),
        "fields": [(label, _field(record.get(name), name)) for name, label in FIELDS if record.get(name) not in (None, "")],
        "sections": _sections(datasette, db.name, record.get("body") or "", clauses, measures),
        "loose_measures": [_measure(datasette, db.name, m) for m in measures if m["clause_id"] not in {c["id"] for c in clauses}],
        "row_url": datasette.urls.row(db.name, "records", tilde_encode(key)),
        "search_url": datasette.urls.query(db.name, "search"),
        "body": record.get("body") or "",
    }
    html = await datasette.render_template(_template(datasette, "kb_record.html"), context, request=request)
    return Response.html(html)


async def _regulatory(db, key: str) -> list[dict]:
    """The record's regulatory fields in the schema's order, each with its text or, when empty,
    what `policy-kb suggest` read for it (field, value, clause, line)."""
    from kb.suggest import REGULATORY_FIELDS

    texts = {r["field"]: r["text"] for r in (await db.execute("select field, text from regulatory where record = ?", [key])).rows}
    found: dict[str, dict] = {}
    if await db.table_exists("suggestions"):
        for r in (await db.execute("select field, value, clause_id, quote, line from suggestions where record = ?"
                                   " order by rowid", [key])).rows:
            found.setdefault(r["field"], dict(r))
    order = list(REGULATORY_FIELDS) + sorted(set(texts) - set(REGULATORY_FIELDS))
    return [{"field": f, "text": texts.get(f) or "", "suggestion": found.get(f)} for f in order
            if (texts.get(f) or "").strip() or f in found or f in texts]


def _field(value, name: str):
    """A field for display; only http(s) addresses become links (never javascript: and co)."""
    if name == "url" and isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(value)
    return value


def _measure(datasette, database: str, m: dict) -> dict:
    label = search.role_labels().get(m["role"] or "", m["role"] or m["kind"] or "measure")
    value = "" if m["value"] is None else f"{m['value']:g}"
    if m["value_max"] is not None:
        value += f"–{m['value_max']:g}"
    shown = " ".join(x for x in (m["comparator"] or "", value, m["unit"] or "") if x)
    return {**m, "label": label, "shown": shown, "title": f"{label}: {shown}" if shown else label,
            "url": datasette.urls.row(database, "measures", tilde_encode(m["id"]))}


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
        sections[-1]["clauses"].append({**c, "html": Markup(marked(text, spans, start, end)), "measures": own})
    return sections


_ENVS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Datasette's env -> our overlay


def _template(datasette, name: str):
    """Our template, able to extend Datasette's base.html. Datasette finds a plugin's
    templates/ folder only when the hook module is a package (importlib.resources refuses a
    plain module on Python 3.11), so we overlay our folder on Datasette's own environment:
    same filters, globals and autoescaping, one more place to look."""
    base = datasette.jinja_env
    env = _ENVS.get(base)
    if env is None:
        env = _ENVS[base] = base.overlay(loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), base.loader]))
    return env.get_template(name)
