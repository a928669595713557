"""What the browsing pages show beside Datasette's own: names in the viewer's language in place of
keys, clause anchors and the links to them, the compare page (one row per policy for a measure
role, with an inline SVG chart and CSV), and the extra sections of record and measure pages.

kb/plugin/ wires these into Datasette's hooks; nothing here imports Datasette, so every function
can be tested on plain rows.
"""

from __future__ import annotations

import csv
import io
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote

from markupsafe import Markup, escape

from kb import search
from kb.html import Span, marked
from kb.resources import load_data

LANGS = ("en", "ja", "zh")
# The viewer's language for the request being served (set by the plugin's ASGI wrapper), so a
# hook that is not given the request (render_cell in Datasette 0.65) can still name things.
VIEWER: ContextVar[str] = ContextVar("kb_viewer_lang", default="en")
# Columns holding a vocabulary key -> the vocabulary (kb/data/vocab/).
VOCAB_COLUMNS = {"country_code": "country", "subdivision_code": "subdivision", "category_key": "category", "status_key": "status",
                 "legal_weight_key": "legal_weight", "review_status_key": "review_status"}
# Table -> its keyed columns -> where their names come from: a vocabulary column, "role", or a
# section of kb/data/labels.json.
LABELLED = {
    "records": {**{c: c for c in VOCAB_COLUMNS}, "lang": "lang"},
    "policies": {**{c: c for c in VOCAB_COLUMNS}, "languages": "lang"},
    "measures": {"role": "role", "kind": "kind"},
    "findings": {"severity": "severity", "rule": "rule", "scope": "scope"},
    "analysis": {"dimension": "dimension"}, "impacts": {"aspect": "aspect"}, "regulatory": {"field": "field"},
    "files": {"published": "published"}, "clauses": {"lang": "lang"},
}


# --- the viewer's language and names ----------------------------------------------------------------


def viewer_lang(accept_language: str | None) -> str:
    """The first of en/ja/zh the Accept-Language header asks for (by its q order), else en."""
    ranked = []
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower().split("-")[0]))
    for _, _, lang in sorted(ranked):
        if lang in LANGS:
            return lang
    return "en"


@cache
def _labels() -> dict:
    return load_data("labels.json")


@cache
def _role_names() -> dict[str, dict[str, str]]:
    return load_data("role_names.json")["names"]


def role_name(key: str | None, lang: str) -> str:
    """A role's name in `lang`, else its English label, else the key itself."""
    if not key:
        return ""
    return _role_names().get(key, {}).get(lang) or search.role_labels().get(key) or key


def role_names(key: str) -> dict[str, str]:
    return {lang: role_name(key, lang) for lang in LANGS}


def role_key(text: str | None) -> str | None:
    """The role key for a key or a name in any language (`support period`, 支援期間, 支持期限)."""
    wanted = (text or "").strip().lower().replace("_", " ")
    if not wanted:
        return None
    for key in search.role_labels():
        if wanted == key.replace("_", " ") or wanted in {n.lower() for n in role_names(key).values()}:
            return key
    return None


def name(source: str, value, lang: str) -> str | None:
    """The name of a keyed value in `lang` (`source` as in LABELLED), or None when it has none."""
    if value is None or value == "":
        return None
    value = str(value)
    if source in VOCAB_COLUMNS:
        from kb.vocabularies import vocabulary

        vocab = vocabulary(VOCAB_COLUMNS[source])
        return vocab.label(value, lang) or vocab.label(value, "en") if value in vocab else None
    if source == "role":
        return role_name(value, lang) if value in search.role_labels() else None
    if source == "lang" and ", " in value:  # the languages of a policy
        return ", ".join(name("lang", v, lang) or v for v in value.split(", "))
    names = _labels().get(source, {}).get(value)
    return (names.get(lang) or names.get("en")) if names else None


def column_name(table: str | None, column: str, value, lang: str | None = None) -> str | None:
    source = LABELLED.get(table or "", {}).get(column)
    return name(source, value, lang or VIEWER.get()) if source else None


# --- anchors and links ---------------------------------------------------------------------------------


def clause_anchor(clause_id: str, key: str | None = None) -> str:
    """The short anchor of a clause on its record page: the extractor's id without the file key
    and record id it starts with (`en/x.md#x/da39a3ee/12` -> `c-da39a3ee-12`)."""
    local = clause_id[len(key) + 1:] if key and clause_id.startswith(key + "#") else clause_id.rsplit("#", 1)[-1]
    local = local.split("/", 1)[1] if "/" in local else local
    return "c-" + local.replace("/", "-")


def record_href(base: str, key: str, fragment: str = "") -> str:
    """`base` is Datasette's path for /-/records/ (it honours base_url)."""
    return base + quote(key, safe="/") + (f"#{quote(fragment, safe='-')}" if fragment else "")


def line_anchor(line) -> str:
    return f"L{line}"


# --- measures as text -----------------------------------------------------------------------------------


def number(v: float) -> str:
    """A figure as people write it: 34,000,000,000 and 0.25, not 3.4e+10."""
    if float(v).is_integer() and abs(v) < 1e18:
        return f"{int(v):,}"
    return f"{v:,.6g}" if abs(v) < 1e18 else f"{v:.4g}"


def shown_value(m: dict) -> str:
    if m.get("unit") == "date" and m.get("surface"):
        return m["surface"]  # dates are stored as numbers (2025.05) that read worse than the text
    value = "" if m.get("value") is None else number(m["value"])
    if m.get("value_max") is not None:
        value += f"–{number(m['value_max'])}"
    comparator = m.get("comparator") or ""
    comparator = "" if comparator == "range" else {"<=": "≤", ">=": "≥"}.get(comparator, comparator)
    return " ".join(x for x in (comparator, value, m.get("unit") or "") if x)


def marked_clause(clause_text: str, body: str | None, clause: dict, measure: dict) -> Markup:
    """The clause with `measure` marked where it was read (offsets into the body), or the clause
    text unmarked when the offsets cannot be used."""
    start, end, ms, me = clause.get("start"), clause.get("end"), measure.get("start"), measure.get("end")
    if body and all(isinstance(x, int) for x in (start, end, ms, me)) and 0 <= start <= ms <= me <= end <= len(body):
        return Markup(marked(body, [Span(ms, me, Markup('<mark class="kb-measure">'), "</mark>")], start, end))
    return Markup(escape(clause_text or ""))


# --- compare ------------------------------------------------------------------------------------------------


COMPARE_SQL = """
select m.id, m.record, m.kind, m.role, m.value, m.value_max, m.unit, m.comparator, m.surface, m.start, m.end,
  m.clause_id, coalesce(r.id, r.key) as policy, r.lang, r.title, r.country_code, r.country, r.year,
  c.text as clause, c.start as clause_start, c.end as clause_end
from measures m join records r on r.key = m.record left join clauses c on c.id = m.clause_id
where m.role = ?
order by policy, m.record, m.start, m.id
"""
ROLE_COUNTS_SQL = """
select m.role, count(distinct coalesce(r.id, r.key)) as policies, count(*) as measures
from measures m join records r on r.key = m.record
where m.role is not null group by m.role order by policies desc, m.role
"""


@dataclass(frozen=True, slots=True)
class CompareRow:
    policy: str
    title: str
    lang: str
    languages: str
    country_code: str
    country: str
    year: int | None
    value: float | None
    value_max: float | None
    unit: str
    comparator: str
    shown: str
    surface: str
    clause: str
    clause_html: Markup
    others: tuple[str, ...]  # the policy's other measures of the role, as shown
    record: str
    anchor: str
    measure_id: str


def compare_rows(measures: list[dict], lang: str, bodies: dict[str, str] | None = None) -> list[CompareRow]:
    """One row per policy from the measures of one role (COMPARE_SQL rows): the copy in the
    viewer's language when it has such a measure, else the English one, else the first; its first
    measure with a figure (else its first) is the policy's value, the others are listed."""
    by_policy: dict[str, dict[str, list[dict]]] = {}
    for m in measures:
        by_policy.setdefault(m["policy"], {}).setdefault(m["record"], []).append(m)
    rows = []
    for policy, copies in by_policy.items():
        ranked = sorted(copies, key=lambda k: (copies[k][0]["lang"] != lang, copies[k][0]["lang"] != "en", k))
        own = copies[ranked[0]]
        main = next((m for m in own if m["value"] is not None), own[0])
        clause = {"start": main["clause_start"], "end": main["clause_end"]}
        rows.append(CompareRow(
            policy=policy, title=main["title"] or policy, lang=main["lang"] or "",
            languages=", ".join(sorted({c[0]["lang"] or "" for c in copies.values()})),
            country_code=main["country_code"] or "",
            country=name("country_code", main["country_code"], lang) or main["country"] or "",
            year=main["year"], value=main["value"], value_max=main["value_max"], unit=main["unit"] or "",
            comparator=main["comparator"] or "", shown=shown_value(main), surface=main["surface"] or "",
            clause=main["clause"] or "",
            clause_html=marked_clause(main["clause"], (bodies or {}).get(main["record"]), clause, main),
            others=tuple(shown_value(m) or m["surface"] for m in own if m is not main),
            record=main["record"], anchor=clause_anchor(main["clause_id"]) if main["clause_id"] else "",
            measure_id=main["id"]))
    return sorted(rows, key=lambda r: (r.unit, -(r.value if r.value is not None else float("-inf")), r.country, r.policy))


CSV_COLUMNS = ("policy", "title", "lang", "languages", "country_code", "country", "year", "value", "value_max",
               "unit", "comparator", "surface", "clause", "record")


def compare_csv(rows: list[CompareRow]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([_csv_cell(getattr(r, c)) for c in CSV_COLUMNS])
    return out.getvalue()


def _csv_cell(value):
    """A cell a spreadsheet will not run as a formula (text starting with =, +, -, @)."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --- the chart --------------------------------------------------------------------------------------------


BAR_H, GAP, LABEL_W, PLOT_W, PAD, TOP = 22, 6, 300, 400, 210, 30
LABEL_UNITS = 40  # label width budget: a CJK character counts 2, others 1


def _clip(label: str) -> str:
    used = 0
    for i, ch in enumerate(label):
        used += 2 if ord(ch) > 0x2E7F else 1
        if used > LABEL_UNITS:
            return label[:i] + "…"
    return label


def chart_svg(rows: list[CompareRow], title: str) -> list[Markup]:
    """Inline SVG bar charts of the rows' values, one per unit (support periods in years and in
    months are not drawn on one axis). Bars start at zero, or at the lowest value for dates; a
    range is drawn to its upper end in a lighter shade. Every text is escaped."""
    charts = []
    units: dict[str, list[CompareRow]] = {}
    for r in rows:
        if r.value is not None:
            units.setdefault(r.unit, []).append(r)
    for unit, group in units.items():
        highs = [max(r.value, r.value_max or r.value) for r in group]
        lows = [r.value for r in group]
        dates = unit == "date"
        lo = (min(lows) - 1) if dates else min(0.0, min(lows))
        hi = max(highs)
        span = (hi - lo) or 1.0
        height = len(group) * (BAR_H + GAP) + 40 + TOP
        width = LABEL_W + PLOT_W + PAD

        def x(v, lo=lo, span=span):
            return LABEL_W + (v - lo) / span * PLOT_W

        parts = [Markup('<svg class="kb-chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
                        'viewBox="0 0 {w} {h}"><title>{t}</title><text x="0" y="16" class="kb-chart-caption">{t}</text>').format(
                            w=width, h=height, t=f"{title} ({unit or 'no unit'})")]
        for i, r in enumerate(group):
            y = TOP + i * (BAR_H + GAP)
            label = f"{r.country} · {r.title}" if r.country else r.title
            short = _clip(label)
            parts.append(Markup('<g><title>{}</title><text x="{}" y="{}" text-anchor="end" class="kb-chart-label">{}</text>').format(
                f"{label}: {r.shown}", LABEL_W - 8, y + BAR_H - 6, short))
            parts.append(Markup('<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" class="kb-bar"/>').format(
                x(lo), y, max(1.0, x(r.value) - x(lo)), BAR_H))
            if r.value_max is not None and r.value_max > r.value:
                parts.append(Markup('<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" class="kb-bar-range"/>').format(
                    x(r.value), y, x(r.value_max) - x(r.value), BAR_H))
            end = x(max(r.value, r.value_max or r.value))
            parts.append(Markup('<text x="{:.1f}" y="{}" class="kb-chart-value">{}</text></g>').format(end + 4, y + BAR_H - 6, r.shown))
        axis_y = TOP + len(group) * (BAR_H + GAP) + 4
        parts.append(Markup('<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" class="kb-axis"/>'
                            '<text x="{0}" y="{3}" class="kb-chart-tick">{4}</text>'
                            '<text x="{1}" y="{3}" text-anchor="end" class="kb-chart-tick">{5}</text>').format(
            LABEL_W, LABEL_W + PLOT_W, axis_y, axis_y + 16, *(f"{v:g}" if dates else number(v) for v in (lo, hi))))
        parts.append(Markup("</svg>"))
        charts.append(Markup("").join(parts))
    return charts
