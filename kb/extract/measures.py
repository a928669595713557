"""The extraction pipeline: a body in, its clauses and measures out.

    mask(body)              markup blanked, same length (text.py)
    split_clauses           clauses with exact offsets (clauses.py)
    join                    the joined view: soft line breaks and CJK punctuation mended (text.py)
    find_quantities         numerals, amounts, units, ranges, comparators (numerals.py, quantities.py)
    yearly_rates            flows stated per year (quantities.py)
    dates                   date relations: start, deadline, period, point (dates.py)
    RoleReader              a role for each quantity, or a reason to drop it (roles.py)
    RuleReader              rules, one per kind and clause (rules.py)

Matching runs on the joined view; every span is mapped back to the body at the end, so
`body[m.start:m.end] == m.surface` holds for every measure.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace

from kb import regex_cache
from kb.extract.clauses import CELL_BAR, Clause, ends_sentence, opens_article, opens_statute_item, split_clauses
from kb.extract.dates import NoticeYears, abbreviated_years, english_dates, header_years, relations, table_years
from kb.extract.patterns import LANG_KEYS, cue_lang, lowered, widest
from kb.extract.quantities import (
    ContextUnit,
    Quantity,
    bare_bound_count,
    bare_era_of,
    bounded_ranges,
    bracketed_rates,
    cent_of,
    context_unit,
    dollar_of,
    find_quantities,
    glossed_rates,
    has_era_years,
    is_frequency,
    lead_period_rates,
    named_cent,
    named_dollar,
    named_rupee,
    named_yuan,
    names_money_by_country,
    overlay,
    row_unit,
    rupee_of,
    text_country,
    unit_column,
    unit_inequalities,
    with_context,
    without_restated,
    word_amounts,
    yearly_rates,
    yuan_of,
)
from kb.extract.roles import UNSPECIFIED, RoleReader, taxonomy
from kb.extract.rules import RuleHit, RuleReader, rule_kinds
from kb.extract.text import Joined, join, mask
from kb.records import Record
from kb.scripts import DIGIT_RX
from kb.tokens import detect_lang

__all__ = ["KINDS", "Extraction", "Measure", "extract", "extract_text", "roles"]

KINDS = ("duration", "percent", "money", "quantity", "date", "count", "rule")


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which doubles the
# cost of the hundreds of thousands of these a build makes. Nothing changes them once made.
@dataclass(slots=True)
class Measure:
    id: str  # f"{clause_id}/m{n}", n = 1-based position of the measure in its clause
    record_id: str
    clause_id: str
    kind: str  # duration | percent | money | quantity | date | count | rule
    role: str  # a role of data/roles.json, a rule kind of data/rules.json, or "unspecified"
    value: float | None
    value_max: float | None
    unit: str | None
    comparator: str | None
    surface: str  # == body[start:end]
    start: int
    end: int
    line: int  # file line of start
    # What the document itself calls the figure when that says more than the role: the definition
    # it gives a formula's variable (B1: construction cost). Published; the role's own name is the
    # browsing pages' business, in the reader's language.
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Extraction:
    record_id: str
    lang: str
    clauses: list[Clause]
    measures: list[Measure]


def roles() -> dict[str, str]:
    """Every role key -> English label: quantity roles, rule kinds and 'unspecified'."""
    out = {r.key: r.label for r in taxonomy().roles if r.measure}
    out.update(rule_kinds())
    out[UNSPECIFIED] = "unspecified"
    return out


def extract(record: Record, progress: Callable[[int], None] | None = None, country: str | None = None) -> Extraction:
    """Clauses and measures of a record (what the publish step stores). `progress`, when given,
    is told how far into the body the extraction has come, clause by clause. `country` (a name,
    alias or code the country field accepts) stands in for the record's country field."""
    rid = record.id or record.stem_id
    where = country_code(country if country is not None else record.meta.get("country"))
    return _run(record.body, rid, record.body_line, record.lang or "", where, progress)


def extract_text(body: str, record_id: str = "", first_line: int = 1, *, country: str | None = None) -> Extraction:
    """Clauses and measures of any text; offsets index `body`, lines count from first_line;
    `country` (ISO 3166 code) is the jurisdiction the text is from, when known."""
    if not isinstance(body, str):
        body = ""
    return _run(body, record_id if isinstance(record_id, str) else "", first_line if isinstance(first_line, int) else 1, "",
                country if isinstance(country, str) else None)


def country_code(value) -> str | None:
    """The ISO 3166 code of a value of the country field (a subdivision's code for a province or
    state), or None when it is absent or not in the vocabulary."""
    if not isinstance(value, str) or not value.strip():
        return None
    from kb.vocabularies import vocabulary

    match = vocabulary("jurisdiction").lookup(value)
    return match.term.key if match else None


def _run(body: str, record_id: str, first_line: int, lang: str, country: str | None,
         progress: Callable[[int], None] | None = None) -> Extraction:
    lang = lang or detect_lang(body[:4000])
    if not body or body.isspace():
        return Extraction(record_id, lang, [], [])
    masked = mask(body)
    clauses = split_clauses(body, record_id, first_line, masked=masked)
    if not clauses:
        return Extraction(record_id, lang, clauses, [])
    view = join(masked, [(c.start, c.end) for c in clauses])
    return Extraction(record_id, lang, clauses, _measures(body, view, clauses, lang, country, progress))


def _in_view(view: Joined, clauses: list[Clause]) -> list[Clause]:
    """The clauses with their spans in view positions (the same objects when the view is the body)."""
    if not view.at:
        return clauses
    return [replace(c, start=view.view(c.start), end=view.view(c.end - 1) + 1) for c in clauses]


def _measures(body: str, view: Joined, clauses: list[Clause], lang: str, country: str | None,
              progress: Callable[[int], None] | None = None) -> list[Measure]:
    t = view.text
    vclauses = _in_view(view, clauses)
    starts = [c.start for c in vclauses]
    by_clause: dict[int, list[Quantity]] = {}
    low = lowered(t)
    # With no country given, a bare dollar, a bare 元 and a year written without its era are read in
    # the country the text shows, asked only when the text holds one of them.
    asked = country is None and names_money_by_country(t, low)
    country = text_country(t) if asked else country
    era = bare_era_of(country, t)
    found = find_quantities(t, dollar=None, era=era)
    if country is None and not asked and has_era_years(found) and (shown := bare_era_of(text_country(t), t)):
        found = find_quantities(t, dollar=None, era=shown)  # 115年起 in a Taiwan notice that names no 元
    found = abbreviated_years(t, found, lang)  # 2021年に導入…21年からは: the year written in full before
    money = [q for q in found if q.kind == "money"]
    dollar, yuan = dollar_of(country, [q.unit for q in money]), yuan_of(country, [(q.unit, q.surface) for q in money])
    rupee, cent = rupee_of(country), cent_of(country)
    for q in overlay(overlay(overlay(found, english_dates(t, low, country)), word_amounts(t, low)), unit_inequalities(t)):
        i = bisect_right(starts, q.start) - 1
        # A quantity outside every clause sits in a list marker or between blocks; one that
        # runs past its clause's end joins two statements. Neither is a measure.
        if i >= 0 and q.end <= vclauses[i].end and q.kind != "ordinal":
            by_clause.setdefault(i, []).append(q)
    clangs = [cue_lang(vc.lang, lang) for vc in vclauses]
    role_reader, rule_reader = RoleReader(t, vclauses, low), RuleReader(t, low, widest(clangs))
    contexts = _Contexts(t)
    notice_years = NoticeYears(t, found, lang)
    head_yearly = False  # a yearly list head (Minimum annual capture:) carries into the next sub-clauses

    def ends_line(pos: int) -> bool:  # a source line ends right after view position pos, unclosed
        return _LINE_END.match(body, view.body(pos - 1) + 1) is not None

    lead = _Lead(t)  # a list's lead-in names the role of the figures in its items
    penalty_list = False  # whether that lead-in imposes a penalty
    acts_listed = False  # whether the items being read are the acts a rule before them names (次の各号に掲げる行為は…)
    label_line: tuple[int, int] | None = None  # the last 【label】 line, up to the next heading
    headings: list[tuple[int, int]] = []  # the heading the clause being read stands under, after the one right above it
    out: list[Measure] = []
    for i, vc in enumerate(vclauses):
        if progress is not None:
            progress(clauses[i].end)
        line_start = t.rfind("\n", 0, vc.start) + 1
        lead.enter(vc, clangs[i], not t[line_start:vc.start].strip())
        if lead.span == (vc.start, vc.end):  # a new lead-in: a penalty's lists offences, which are no rules
            penalty_list = rule_reader.penalty(vc.start, vc.end, clangs[i])
        elif opens_article(t, vc.start):
            penalty_list = False  # the next article: its own provisions
        numbered = opens_statute_item(t, line_start)  # 一　木竹を伐採すること。: an item of the list (号)
        if rule_reader.lists_acts(vc.start, vc.end, clangs[i]):
            acts_listed = True
        elif line_start == vc.start and not numbered:
            acts_listed = False  # the next paragraph (２　…, 第三十三条): its own provisions
        if vc.kind == "heading" or _LABEL_LINE.fullmatch(vc.text):
            label_line = (vc.start, vc.end) if vc.kind != "heading" else None  # 【地球温暖化対策税の税率】: the figures under it
        if vc.kind == "heading":  # Limits of Liability, then 2 Limits for classes of company: both stand over what follows
            headings = [h for h in headings[-1:] if _ONLY_SPACE.fullmatch(t, h[1], vc.start)] + [(vc.start, vc.end)]
        if i not in by_clause and not rule_reader.any_cue(vc.start, vc.end):
            contexts.enter(vc, False)  # most clauses: nothing to read, only the context to follow
            head_yearly = head_yearly and vc.kind == "subclause"
            continue
        c = clauses[i]
        clang = clangs[i]
        context = contexts.enter(vc, i in by_clause)
        qs = [bare_bound_count(t, with_context(q, context(q))) for q in table_years(t, vc, by_clause[i])] if i in by_clause else []
        qs = bracketed_rates(t, vc.start, vc.end, header_years(t, vc, qs, contexts.header_cells_of))
        qs = bounded_ranges(t, without_restated(t, qs))
        qs, head_yearly = yearly_rates(t, low, vc.start, qs, LANG_KEYS[clang], head_yearly and vc.kind == "subclause")
        qs = glossed_rates(t, lead_period_rates(t, vc.start, qs, LANG_KEYS[clang]))  # after the rates a gloss restates
        rels = relations(t, vc, qs, clang, ends_line) if qs else {}
        cands = _one_frequency_each(role_reader.measures(vc, clang, qs, rels)) if qs else []
        for x in cands:
            if (dated := notice_years.year_of(vc, x.q, rels.get(x.start))) is not None:
                x.value, x.value_max = dated  # 11月30日まで in a call that stated its year before
            if x.role is None:  # its column's header names it, else another (| 手数料を納付すべき者 | 金額 |), else the list's lead-in
                cells = contexts.header_cells_of(x.start, others=True)
                x.role = next(filter(None, (role_reader.role_in(x, clang, *cell) for cell in cells)), None)
            if x.role is None and lead.span is not None and lead.span[0] < vc.start:
                x.role = role_reader.role_in(x, clang, *lead.span)
            if x.role is None and contexts.row is not None and contexts.label is not None and contexts.label[1] <= x.start:
                x.role = role_reader.role_in(x, clang, *contexts.label)  # CI reduction requirement (gCO2e/MJ) | 2.4
            if x.role is None and contexts.row is not None and contexts.caption is not None:
                x.role = role_reader.role_in(x, clang, *contexts.caption)  # Table 1 – Fuel charge rates
            if x.role is None and label_line is not None:
                x.role = role_reader.role_in(x, clang, *label_line)
            if x.role is None:  # a section's heading names what its figures are where nothing nearer does
                x.role = next(filter(None, (role_reader.role_in(x, clang, *h) for h in reversed(headings))), None)
        content = any(not (x.kind == "duration" and is_frequency(x.q.surface)) for x in cands)
        if (penalty_list and lead.span is not None and lead.span[0] < vc.start) or (acts_listed and numbered):
            rules = []  # 有下列行为之一的，处…罚款：⏎（一）未经许可，从事…的；: an offence; 一　木竹を伐採すること。: an act named
        else:
            rules = rule_reader.rules(vc, vc.start, vc.end, clang, [(x.start, x.end) for x in cands], content)
        if not cands and not rules:
            continue
        items = sorted([(x.start, x.end, x) for x in cands] + [(r.start, r.end, r) for r in rules], key=lambda x: x[:2])
        line, at = c.line, c.start  # counted on from the previous measure: linear in the clause
        for n, (vs, ve, what) in enumerate(items, 1):
            s, e = view.span(vs, ve)
            line, at = line + body.count("\n", at, s), s
            mid = f"{c.id}/m{n}"
            if isinstance(what, RuleHit):
                out.append(Measure(mid, c.record_id, c.id, "rule", what.kind, None, None, None, None,
                                        body[s:e], s, e, line))
            else:
                r, surface = what.role, body[s:e]
                unit = named_cent(named_dollar(what.unit, dollar), surface, dollar, cent)
                unit = named_rupee(named_yuan(unit, surface, yuan), surface, rupee)
                out.append(Measure(mid, c.record_id, c.id, what.kind, r.key if r else UNSPECIFIED,
                                        what.value, what.value_max, unit, what.comparator, surface, s, e, line,
                                        what.label or None))
    return out


def _one_frequency_each(cands: list) -> list:
    """cands without a frequency word that repeats an interval the clause already stated (每年徵收一次，
    由…於每年七月一日起開徵: one yearly interval)."""
    seen, out = set(), []
    for x in cands:
        if x.kind == "duration" and is_frequency(x.q.surface):
            if (x.value, x.unit) in seen:
                continue
            seen.add((x.value, x.unit))
        out.append(x)
    return out


_LINE_END = regex_cache.compile(r"[ \t]*(?:\r?\n|\Z)")  # nothing but blanks left on the line
_HEADER_ROWS = 3  # a table's header is at most this many rows (numbers, names, units); the rest is body
_ONLY_SPACE = regex_cache.compile(r"\s*")  # nothing but blanks between two headings: the first stands over the second
_LABEL_LINE = regex_cache.compile(r"[【［\[][^【】［］\[\]\n]{1,40}[】］\]]")  # a line that is only a bracketed label
_UNIT_NOTE = regex_cache.compile(r"[(（]")  # opens the unit note of a label cell
_CAPTION_MAX = 120  # a line this short just above a table is its caption, which can name its figures' role


class _Lead:
    """The lead-in of the list being read (the applicable amount shall be: / 次のとおりとする。), followed
    clause by clause: its cues name the roles of the figures in the items under it, up to the next
    clause that is not an item (roles.json lead_ins)."""

    def __init__(self, text: str):
        self.t, self.span, self.items, self.numbered = text, None, 0, False
        self.ends = taxonomy().lead_ins

    def enter(self, c: Clause, lang: str, opens_line: bool) -> None:
        """Follow the list past clause c; opens_line: whether c starts its line."""
        rx = self.ends.get("en" if lang == "en" else "cjk")
        if rx is not None and rx.search(self.t, max(c.start, c.end - 40), c.end):
            self.span, self.items, self.numbered = (c.start, c.end), 0, False
        elif c.kind not in _LIST_ITEMS or self.items >= _LEAD_REACH or (self.numbered and c.kind != "item" and opens_line):
            self.span = None  # past its items; after numbered ones (（六）…), a plain paragraph is not one
        else:
            self.items += 1
            self.numbered = self.numbered or c.kind == "item"


_LIST_ITEMS = frozenset({"item", "subclause"})
_LEAD_REACH = 24  # items a lead-in names at most


class _Contexts:
    """Units that headings, label lines and table header rows give the figures under them, followed
    clause by clause: a heading or a label line sets its section's, a table's header rows its columns'."""

    def __init__(self, text: str):
        self.t = text
        self.section: ContextUnit | None = None
        self.heading_section: ContextUnit | None = None  # what the last heading alone gives
        self.columns: list[ContextUnit | None] = []
        self.header_cells: list[list[tuple[int, int]]] = []  # per column, view spans of its header cells
        self.row: Clause | None = None  # the table row being read
        self.bars: list[int] = []  # its cell separators
        self.in_table = False
        self.header_rows = 0  # header rows of the current table read so far
        self.unit_col: tuple[int, ContextUnit] | None = None  # a unit column (Unit $ per) and what its header says
        self.before: tuple[int, int] | None = None  # the span of the last clause read outside a table
        self.caption: tuple[int, int] | None = None  # the current table's caption (Table 1 – Fuel charge rates)
        self.label: tuple[int, int] | None = None  # the current row's label cell, if it holds no figure
        self.last_row_end = 0  # where the last table row read ended

    def enter(self, c: Clause, has_figures: bool):
        """The context function for the quantities of clause c (call once per clause, in order)."""
        t = self.t
        if c.kind == "table_row":
            if self.in_table and "\n\n" in t[self.last_row_end:c.start]:
                self.in_table, self.row = False, None  # a blank line ends a table: the next row heads another
            self.last_row_end = c.end
            # Header rows: a table's first row, and each row after it until one holds a figure (a
            # row of column numbers over the names, names over units, as statute schedules have).
            if not self.in_table or (self.row is None and not has_figures and self.header_rows < _HEADER_ROWS):
                if not self.in_table:
                    self.caption = self.before
                self._header(c, first=not self.in_table)
                self.in_table = True
                return lambda q: self.section
            self.row, self.bars = c, [m.start() for m in CELL_BAR.finditer(t, c.start, c.end)]
            columns, per_row = self.columns, self._row_unit()
            section = self._row_label() or self.section  # CI reduction requirement (gCO2e/MJ) | 2.4 | 3.6
            if per_row is None:
                return lambda q: _column(columns, self.column_of(q.start)) or section
            return lambda q: _per_row(_column(columns, self.column_of(q.start)) or section, per_row)
        was_table, self.in_table, self.row, self.caption = self.in_table, False, None, None
        self.before = (c.start, c.end) if c.end - c.start <= _CAPTION_MAX else None
        if c.kind == "heading":
            self.section = self.heading_section = context_unit(c.text)
        elif not has_figures and not ends_sentence(t, c.end) and (ctx := context_unit(t, c.start, c.end)) is not None:
            self.section = ctx  # a label line: 調達価格（1kWhあたり）; a sentence (…每度不能超過…。) is none
        elif was_table and c.kind in ("paragraph", "sentence") and ends_sentence(t, c.end):
            self.section = self.heading_section  # running text after the table a label line headed: the label is done
        section = self.section
        return lambda q: section


    def _header(self, c: Clause, first: bool) -> None:
        t = self.t
        units = [context_unit(cell.strip()) for cell in CELL_BAR.split(t[c.start:c.end])]
        bounds = [c.start - 1] + [m.start() for m in CELL_BAR.finditer(t, c.start, c.end)] + [c.end]
        spans = [(a + 1, b) for a, b in zip(bounds, bounds[1:])]
        cols = [(i, u) for i, (a, b) in enumerate(spans) if (u := unit_column(t[a:b])) is not None]
        if first:
            self.columns, self.header_cells, self.header_rows = units, [[span] for span in spans], 1
            self.unit_col = cols[0] if cols else None
            return
        self.unit_col = cols[0] if cols else self.unit_col
        self.header_rows += 1
        for i, (unit, span) in enumerate(zip(units, spans)):
            if i < len(self.columns):
                self.columns[i] = unit or self.columns[i]  # a lower row's unit, else the one above
                self.header_cells[i].insert(0, span)  # the nearest row's cell is read first
            else:
                self.columns.append(unit)
                self.header_cells.append([span])

    def _row_unit(self) -> ContextUnit | None:
        """What the current row's cell in the unit column says its prices are per (Litre), with the
        currency the column's header names; None in a table with no unit column."""
        if self.unit_col is None:
            return None
        k, head = self.unit_col
        bounds = self._row_bounds()
        if k + 1 >= len(bounds):
            return None
        cell = self.t[bounds[k] + 1:bounds[k + 1]]
        if (per := row_unit(cell)) is not None:
            return ContextUnit(head.currency, per)
        own = context_unit(cell.strip())  # | £/kWh |: the cell names the currency and the denominator
        return ContextUnit(own.currency or head.currency, own.per) if own is not None and own.per else None

    def _row_label(self) -> ContextUnit | None:
        """The unit the current row's first cell gives the figures after it, where that cell is a
        label with no figure of its own (a table with years as columns and measures as rows)."""
        bounds = self._row_bounds()
        a, b = next(((a + 1, b) for a, b in zip(bounds, bounds[1:]) if self.t[a + 1:b].strip()), (0, 0))
        self.label = None
        if a >= b or DIGIT_RX.search(_UNIT_NOTE.split(self.t[a:b], 1)[0]):  # a digit in the unit note (gCO2e) is no figure
            return None
        self.label = (a, b)
        return context_unit(self.t, a, b)

    def _row_bounds(self) -> list[int]:
        """The current row's cell bounds: each cell lies between two of them."""
        return [self.row.start - 1] + self.bars + [self.row.end]

    def column_of(self, pos: int) -> int:
        """The header column of position pos in the current row: its cells counted from the left, or
        from the right in a row with more or fewer cells than the header (a number cell before them,
        or a first cell spanned over several rows that conversion wrote only once)."""
        i = bisect_right(self.bars, pos)  # cell separators before pos in the current row
        return i + len(self.header_cells) - len(self.bars) - 1 if self.header_cells else i

    def header_cells_of(self, pos: int, others: bool = False) -> list[tuple[int, int]]:
        """The view spans of the header cells above position pos of the current table row, the
        nearest first, then with `others` those of the other columns, left to right (| 手数料を納付すべき者
        | 金額 |: the fee named over the payers' column); none outside a table's body."""
        if self.row is None:
            return []
        i = self.column_of(pos)
        own = self.header_cells[i] if 0 <= i < len(self.header_cells) else []
        return own + [span for k, cells in enumerate(self.header_cells) if k != i for span in cells] if others else own


def _per_row(ctx: ContextUnit | None, row: ContextUnit) -> ContextUnit | None:
    """The context of a figure in a row whose unit column names its denominator: the column's or
    section's currency per the row's unit; the row's own context where nothing above names a unit."""
    if ctx is None or (ctx.currency is None and ctx.measure is None and not ctx.interval):
        return row if row.currency else ctx
    return replace(ctx, per=row.per) if ctx.currency and ctx.per is None else ctx


def _column(columns: list, i: int):
    return columns[i] if 0 <= i < len(columns) else None
