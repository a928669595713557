"""Step 6 of extraction: dates.

Two jobs, both driven by kb/data/dates.json:

- forms: the English and numeric dates the numeral scanner does not read (1 July 2029, July 1,
  2029, July 2029, July 1 or 1 July with no year, 7/1/29, end of 2036), as date quantities with the value
  YYYY.MM (a day keeps its month: 1 July 2029 -> 2029.07) or None when no year is given;
- relations: a date is a measure only when the text relates it to the policy. Each date of a
  clause gets one of deadline, start, period (a range of years), point (the year a target is set
  for), recurring (每年7月1日), or none; a date with none is an event, publication, base or slogan
  year and is dropped. A start or point in a sentence that reports a past event is dropped too.

Table cells add two readings: a four-digit year alone in a cell is the year its row applies to
(table_years), and a month with no year takes the one year its column's header names (header_years).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import NamedTuple

from kb import regex_cache
from kb.extract.clauses import CELL_BAR, Clause, fills_cell, sentence_end
from kb.extract.numerals import core_value, numeral_rules
from kb.extract.patterns import LANG_KEYS, ROUND_CLOSE, ROUND_OPEN, load_data
from kb.extract.quantities import Quantity, changes_from, non_overlapping
from kb.scripts import DIGITS, WIDE_DIGITS

__all__ = ["NoticeYears", "english_dates", "header_years", "relations", "table_years"]

_LOOK = 48  # how far before a date its relation words are looked for
_EVENT_REACH = 200  # how far after a date its sentence's verb is looked for
_PROVISION_REACH = 600  # how far before a date a modal of its (long, statutory) sentence is looked for
_COMMAS = frozenset(",，、")
_AS_OF_WORDS = "(?:時点|時點|現在)"
_AS_OF = regex_cache.compile(f"[ ]?{_AS_OF_WORDS}")
# （出典: …／2025年度時点）, 2025年度時点の公表情報: the year a source's figures stand as of, closing a note or
# naming the information, not a year a provision is set for
_AS_OF_NOTE = regex_cache.compile(
    f"(?:年度?)?[ ]?{_AS_OF_WORDS}(?:の(?:公表|情報|データ|数値|数字|価格|内容|資料)|[)）]|[・／/][^。（）()\n]{{0,16}}[)）])")


@dataclass(frozen=True, slots=True)
class _Grammar:
    forms: tuple[tuple[str, re.Pattern], ...]
    months: dict[str, int]
    pivot: int
    after: dict[str, list[tuple[str, re.Pattern]]]  # language list -> (relation, pattern)
    before: dict[str, list[tuple[str, re.Pattern]]]
    events: dict[str, re.Pattern]
    provisions: dict[str, re.Pattern]  # a sentence holding one states a rule, not an event
    range_opener: re.Pattern  # an opener word ending where a date starts (lower-case text)
    range_joins: dict[str | None, re.Pattern]  # opener (None: no opener) -> what joins the two dates
    full_join: re.Pattern  # what joins two dates written down to the day with no opener (… to …)
    datelines: dict[str, re.Pattern]  # language list -> a publication label ending where a date starts
    dated_after: re.Pattern  # a mark right after a date that says a document bears it (…付)
    defined_in: re.Pattern  # a mark that a parenthetical defines a term (をいう)
    reference_after: re.Pattern  # a past verb after a bound date: a reference point (…前に終了した年度)
    titles: re.Pattern  # a document's title (关于…的通知): its dates label it
    coordinated: re.Pattern  # what joins a date to the one before it (3月20日及び9月20日)
    cell_after: dict[str, list[tuple[str, re.Pattern]]]  # language -> (relation, label opening the next cell)
    cell_before: dict[str, list[tuple[str, re.Pattern]]]  # language -> (relation, label ending the cell before)
    news_lead: dict[str, tuple[re.Pattern, re.Pattern]]  # language -> (before the date, after it): On <date>, <who> <did>
    named_after: re.Pattern  # a document or event a date names (the March 2022 consultation)
    provision_years: dict[str, tuple[re.Pattern, re.Pattern]]  # language -> (mark before a year, a provision's verb)
    figure_years: dict[str, re.Pattern]  # language -> a figure and for / in before a year (£190 for 2024)
    years_of_figures: re.Pattern  # a year, a dash or colon and the figure it carries (2025 - ZAR 236)
    day_first: frozenset[str]  # countries whose numeric dates put the day first (01/04/2026: 1 April)
    point_surfaces: re.Pattern  # a year read with its kind (the 2026 model year): the year a standard applies to
    span_surfaces: re.Pattern  # a quarter of a year (Q4 2023, the fourth quarter of 2021): the months a provision covers
    onward: re.Pattern  # what makes a year or a quarter the start of what follows (2030 onwards, Q3 2025 and beyond)
    subordinate: dict[str, re.Pattern]  # language -> a subordinator: past forms after it belong to a condition


@cache
def _grammar() -> _Grammar:
    d = load_data("dates.json")
    months = d["months"]
    month_rx = "|".join(sorted(months, key=len, reverse=True))
    forms = tuple((name, regex_cache.compile(src.replace("MONTH", month_rx).replace("ERA_INITIAL", f"[{_era_initials()}]"), re.I))
                  for name, src in d["english_forms"].items() if not name.startswith("_"))
    after: dict[str, list] = {"ja": [], "zh": [], "en": []}
    before: dict[str, list] = {"ja": [], "zh": [], "en": []}
    for rel, block in d["relations"].items():
        for lang in after:
            flags = re.I if lang == "en" else 0
            # Pattern.match(text, pos) anchors at pos by itself; a '^' would only match at 0.
            after[lang] += [(rel, regex_cache.compile(p.removeprefix("^"), flags)) for p in block.get(lang, {}).get("after", [])]
            before[lang] += [(rel, regex_cache.compile(f"(?:{p})", flags)) for p in block.get(lang, {}).get("before", [])]
    events = {lang: regex_cache.compile("|".join(ps), re.I if lang == "en" else 0) for lang, ps in d["events"].items()}
    provisions = {lang: regex_cache.compile("|".join(ps), re.I if lang == "en" else 0) for lang, ps in d["provisions"].items()}
    ranges = d["english_ranges"]
    join_of = {w: group["join"] for group in ranges["openers"] for w in group["words"]}  # each opener word's join
    openers = sorted(join_of, key=len, reverse=True)
    edge = ranges["edge"]  # between the start of 1 July 2027 and the end of 30 June 2040
    # between the January 1 and …
    opener = regex_cache.compile(f"(?<![a-z])(?P<o>{'|'.join(map(re.escape, openers))}) (?:the )?(?:{edge})?$")
    # A bracket may close an amended date before the join (1 July [F22025] and ending on …).
    joins: dict[str | None, re.Pattern] = {o: regex_cache.compile(f"\\]?[ ,]*(?:{j})[ ,]*(?:the )?(?:{edge})?")
                                           for o, j in join_of.items()}
    joins[None] = regex_cache.compile(f"[ ,]*(?:{ranges['bare']})[ ,]*")
    datelines = {lang: regex_cache.compile(rx, re.I if lang == "en" else 0) for lang, rx in d["datelines"].items()}
    full = regex_cache.compile(f"[ ,]*(?:{ranges['bare_full']})[ ,]*")
    return _Grammar(forms, months, d["two_digit_pivot"], after, before, events, provisions, opener, joins, full, datelines,
                    regex_cache.compile(d["datelines_after"]), regex_cache.compile(d["defined_in"]),
                    regex_cache.compile(d["reference_after"]), regex_cache.compile(d["titles"]),
                    regex_cache.compile(f"(?:{_NOTE_AFTER.pattern})?{d['coordinated']}", re.I),
                    *_cell_labels(d["cell_labels"]),
                    {lang: (regex_cache.compile(n["before"], re.I), regex_cache.compile(n["after"], re.I))
                     for lang, n in d["news_lead"].items()},
                    regex_cache.compile(d["named_after"]),
                    {lang: (regex_cache.compile(f"(?:{b['before']})$", re.I), regex_cache.compile(b["clause"], re.I))
                     for lang, b in d["provision_years"].items() if not lang.startswith("_")},
                    {lang: regex_cache.compile(f"(?:{b})$", re.I) for lang, b in d["figure_years"].items()},
                    regex_cache.compile(d["years_of_figures"]),
                    frozenset(d["day_first"]), regex_cache.compile(d["point_surfaces"]), regex_cache.compile(d["span_surfaces"]),
                    regex_cache.compile(load_data("quantities.json")["year_onward"], re.I),
                    {lang: regex_cache.compile(rx, re.I) for lang, rx in d["subordinate"].items()})


def _cell_labels(d: dict) -> tuple[dict, dict]:
    """dates.json cell_labels as (relation, pattern) lists per language: a label opening the cell after
    a date, and one ending the cell before it."""
    after: dict[str, list] = {}
    before: dict[str, list] = {}
    for rel, block in d.items():
        for lang, rx in block.items():
            after.setdefault(lang, []).append((rel, regex_cache.compile(rx, re.I)))
            before.setdefault(lang, []).append((rel, regex_cache.compile(f"(?:{rx})[ :：]*$", re.I)))
    return after, before


# ---------------------------------------------------------------- forms

_MONTH_STEMS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# A month name next to a number, in any form the month forms read (july 1, 1 july, july 2029).
# Two searches, each starting with plain characters so that the engine skips ahead to them.
_MONTH_THEN_NUMBER = regex_cache.compile("|".join(f"{m}[a-z]{{0,6}}\\.?,? (?:of )?[0-9]" for m in _MONTH_STEMS))
_NUMBER_THEN_MONTH = regex_cache.compile(f"[0-9](?:st|nd|rd|th)? (?:day )?(?:of )?(?:{'|'.join(_MONTH_STEMS)})")
_DIGIT_SLASH = regex_cache.compile("[0-9]/[0-9]")  # what every numeric date (7/1/29) holds
_DOTTED = regex_cache.compile(r"[0-9]\.[0-9]{1,2}\.(?:19|20)[0-9]{2}")  # what every dotted date (1.1.2027) holds
_DOTTED_YMD = regex_cache.compile(r"(?:19|20)[0-9]{2}\.[0-9]{1,2}\.[0-9]")  # what every year-first dotted date (2023.3.20) holds


def english_dates(text: str, low: str | None = None, country: str | None = None) -> list[Quantity]:
    """Dates written with month names, as M/D/Y (D/M/Y in a country that puts the day first) or
    D.M.Y, or as the end of a month named by a word (毎月末, 翌月末日), sorted and non-overlapping (the
    longest form wins where two overlap: July 1, 2029 over July 1). low is text lower-cased, when at hand."""
    g = _grammar()
    low = text.lower() if low is None else low
    found = []
    # Cheap tests first (substring searches in C): most texts hold no month name, no slash and no
    # 'end of'; the month forms run only where a month's first three letters stand.
    slash = "/" in text and _DIGIT_SLASH.search(text) is not None
    day_first = country in g.day_first
    present = {"numeric": slash and not day_first, "numeric_dmy": slash and not day_first, "numeric_day_first": slash and day_first,
               "dotted": "." in text and _DOTTED.search(text) is not None,
               "dotted_ymd": "." in text and _DOTTED_YMD.search(text) is not None,
               "era_dotted": "." in text and _era_dotted().search(text) is not None,
               "month_end": "月末" in text or "月底" in text or "月の末" in text,
               "day_month_year_hyphen": "-" in low and any(f"-{m}" in low for m in _MONTH_STEMS),
               "end_of_year": "end of" in low,
               "start_of_year": "start of" in low or "beginning of" in low,
               "end_of_month": "end of" in low and any(m in low for m in _MONTH_STEMS),
               "day_of_each_month": " month" in low and ("of each" in low or "of every" in low),
               "quarter": "quarter" in low or _QUARTER.search(low) is not None}
    present["year_quarter"] = present["quarter"]
    present["cjk_quarter"] = ("季" in text or "四半期" in text) and _CJK_QUARTER.search(text) is not None
    present["half"] = " half" in low or _HALF.search(low) is not None
    present["year_end"] = "年底" in text or "年末" in text or "年度末" in text
    present["cjk_half"] = "半期" in text or "半年" in text
    months = any(m in low for m in _MONTH_STEMS) and (
        _MONTH_THEN_NUMBER.search(low) is not None or _NUMBER_THEN_MONTH.search(low) is not None)
    for name, rx in g.forms:
        if not present.get(name, months):
            continue
        for m in rx.finditer(text):
            q = _read(name, m, g)
            if q is not None:
                found.append(q)
    out = [_first_of_yearly(text, low, q, g) for q in non_overlapping(found)]
    return _ranges(text, low, out, g) if len(out) > 1 else out


# a yearly day's first year: by June 1 of each year, beginning in 2025 (its first deadline is 1 June 2025)
_FIRST_YEAR = regex_cache.compile(r"(?: of (?:each|every) (?:calendar )?year)?,? (?:beginning|starting|commencing) (?:in|with) "
                                  r"(?:(?:calendar|fiscal) year |the year )?(?P<y>(?:19|20)[0-9]{2})(?![0-9])")


def _first_of_yearly(text: str, low: str, q: Quantity, g: _Grammar) -> Quantity:
    """q, a day and month with no year that the text says recurs from a first year, dated in that year."""
    if q.value is not None or q.kind != "date" or (m := _FIRST_YEAR.match(low, q.end)) is None:
        return q
    dated = _in_year_of(q, replace(q, value=float(m.group("y"))), g)
    return replace(dated, surface=text[q.start:m.end()], end=m.end()) if dated.value is not None else q


_RANGE_GAP = 40  # the most characters a join between two dates of one range holds
_OPENER_REACH = 34  # the longest opener with its blanks and an edge (commencing on the beginning of )


def _ranges(text: str, low: str, dates: list[Quantity], g: _Grammar) -> list[Quantity]:
    """Two full dates that bound one period (from 1 April 2026 to 31 March 2031, between ... and
    ..., after ... but before ...) as one date: value the first, value_max the second."""
    out: list[Quantity] = []
    i = 0
    while i < len(dates):
        a = dates[i]
        b = dates[i + 1] if i + 1 < len(dates) else None
        merged = _range(text, low, a, b, g) if b is not None else None
        if merged is None and b is not None and a.value is None and b.value is not None \
                and g.coordinated.fullmatch(low, a.end, b.start) and (shared := _in_year_of(a, b, g)).value <= b.value:
            a = shared  # by the 31 August and 1 September 2019 deadlines: the year named once dates both
        out.append(merged or a)
        i += 2 if merged else 1
    return out


def _range(text: str, low: str, a: Quantity, b: Quantity, g: _Grammar) -> Quantity | None:
    if a.value is None and b.value is not None:
        a = _in_year_of(a, b, g)  # from 1 June to 31 August 2023: the start in the end's year
    yearless = a.value is None and b.value is None and _day_precise(a) and _day_precise(b)
    if not yearless and (a.value is None or b.value is None or b.value < a.value) or b.start - a.end > _RANGE_GAP:
        return None  # between the January 1 and the March 31 (no year either end): one period with no year
    m = g.range_opener.search(low, max(0, a.start - _OPENER_REACH), a.start)
    opener = m.group("o") if m else None
    if opener == "from" and changes_from(low, m.start("o")):
        return None  # the deadline was moved from 1 April to 1 July 2025: an old and a new date
    if not g.range_joins[opener].fullmatch(low, a.end, b.start) and not (
            opener is None and _day_precise(a) and _day_precise(b) and g.full_join.fullmatch(low, a.end, b.start)):
        return None
    start = m.start("o") if m else a.start
    end = b.value if b.value_max is None else b.value_max  # … to Q4 2026: the quarter's last month
    return Quantity("date", a.value, end, "date", "range", text[start:b.end], start, b.end)


_MONTH_WORD = regex_cache.compile("[A-Za-z]+")
# where a quarter form may stand (q4 2025, 2025-q4); led by the letter so that the engine skips ahead
_QUARTER = regex_cache.compile("q(?:(?<![a-z0-9]q)|(?<=[0-9]{4}q)|(?<=[0-9]{4}[ -]q))[1-4](?![0-9])")
_HALF = regex_cache.compile("h(?:(?<![a-z0-9]h)[12]|(?<=[12]h)(?![a-z]))")  # where a half form may stand (h1 2024, 2h 2023)
_CJK_QUARTER = regex_cache.compile("季(?<=[1-4一二三四１-４]季)|四半期(?<=[1-4一二三四１-４]四半期)")  # 第4四半期, 第一季度
_ORDINAL_SUFFIX = regex_cache.compile("(?<=[0-9])(?:st|nd|rd|th)$")


@cache
def _ordinal_words() -> dict[str, int]:
    return {w: int(n) for w, n in load_data("quantities.json")["ordinal_words"].items()}


def _nth(word: str) -> int | None:
    """The number an ordinal or a numeral names (fourth, 4th, 4, 四, ４), or None."""
    w = word.lower()
    if w in _ordinal_words():
        return _ordinal_words()[w]
    value = core_value(_ORDINAL_SUFFIX.sub("", w), numeral_rules())
    return int(value[0]) if value and value[0] == int(value[0]) else None


def _in_year_of(a: Quantity, b: Quantity, g: _Grammar) -> Quantity:
    """a (a day and month with no year) dated in b's year, when its month is a month name."""
    month = next((g.months[w.lower()] for w in _MONTH_WORD.findall(a.surface) if w.lower() in g.months), None)
    if month is None:
        return a
    return replace(a, value=round(int(b.value) + month / 100, 2))


def _read(name: str, m: re.Match, g: _Grammar) -> Quantity | None:
    groups = m.groupdict()
    if "m" in groups and groups["m"] and not groups["m"].isdigit():
        word = groups["m"]
        if name in ("month_day", "day_month", "month_year", "month_span") and not word[0].isupper():
            return None  # 'may 10' is a modal and a number; a month name is capitalised
        month = g.months[word.lower()]
    else:
        month = int(groups["m"]) if groups.get("m") else 1 if groups.get("s") else 12  # start of 2025: January
    if groups.get("d") and not 1 <= int(groups["d"]) <= 31:
        return None
    value = None
    if groups.get("era"):  # H22.3.1: the year in the era its initial names
        y = _era_bases()[groups["era"]] + int(groups["y"])
        value = round(y + month / 100, 2)
    elif groups.get("y"):
        y = int(groups["y"])
        if len(groups["y"]) == 2:
            y += 2000 if y < g.pivot else 1900
        value = round(y + month / 100, 2)
    if groups.get("h") or groups.get("h2") or groups.get("hw") or groups.get("hc"):
        # 2H 2023, the first half of 2024, 2024年上半期: its six months, as a quarter is its three; the halves of a
        # Japanese fiscal year (年度上半期) start in April
        named = groups.get("h") or groups.get("h2") or groups.get("hw")
        half = 2 if groups.get("hc") == "下" or (named and _nth(named) == 2) else 1
        first = 6 * half - 5 + (3 if groups.get("fy") and "期" in m.group() else 0)
        return _span_of_months(m, g, _month_of(y, first), _month_of(y, first + 5))
    if groups.get("q") or groups.get("qw"):
        # Q4 2025: its first and last months, a point in time as a month is (no period unless a cue
        # makes it one); the quarters of a Japanese fiscal year (年度) start in April
        q = _nth(groups.get("q") or groups["qw"])
        first = 3 * q - 2 + (3 if groups.get("fy") and groups.get("qn") == "四半期" else 0)
        return _span_of_months(m, g, _month_of(y, first), _month_of(y, first + 2))
    if groups.get("m1"):  # between April and September 2025: both months in the year named once
        first = g.months[groups["m1"].lower()]
        if not groups["m1"][0].isupper() or first > month:
            return None
        return Quantity("date", round(y + first / 100, 2), value, "date", "range", m.group(), m.start(), m.end())
    return Quantity("date", value, None, "date", None, m.group(), m.start(), m.end())


@cache
def _era_bases() -> dict[str, int]:
    """An era's initial (H, R, S) -> the year before that era's first."""
    d = load_data("quantities.json")
    return {initial: d["eras"][era] for initial, era in d["era_initials"].items()}


@cache
def _era_initials() -> str:
    """The era initials as the body of a character class."""
    return re.escape("".join(_era_bases()))


@cache
def _era_dotted() -> re.Pattern:
    return regex_cache.compile(f"[{_era_initials()}][0-9]{{1,2}}\\.[0-9]")  # what every dotted date in an era (H22.3.1) holds


def _span_of_months(m: re.Match, g: _Grammar, first: float, last: float) -> Quantity:
    """A quarter or half read at m: its first and last months, or only the first where what follows
    makes it a start (Q3 2025 and beyond: from July 2025 on)."""
    last = None if g.onward.match(m.string, m.end()) else last
    return Quantity("date", first, last, "date", None, m.group(), m.start(), m.end())


def _month_of(year: int, month: int) -> float:
    """YYYY.MM of a month counted on from January of year (month 13 is January of the next)."""
    return round(year + (month - 1) // 12 + ((month - 1) % 12 + 1) / 100, 2)


def table_years(text: str, clause: Clause, quantities: list[Quantity]) -> list[Quantity]:
    """A four-digit year alone in a table cell (| 2023 | 65 |) is the year its row applies to."""
    if clause.kind != "table_row":
        return quantities
    return [replace(q, kind="date", unit="date")
            if q.kind == "number" and len(q.surface) == 4 and q.surface.isdigit() and 1900 <= int(q.surface) <= 2100
            and fills_cell(text, clause, q.start, q.end) else q
            for q in quantities]


def abbreviated_years(text: str, quantities: list[Quantity], lang: str) -> list[Quantity]:
    """A two-digit N年 (21年からは) that is no span is the year 20NN where the text before it wrote that
    year in full (dates.json abbreviated_years): Japanese news names a year once, then by its last two digits."""
    ab = _abbreviated()
    if lang not in ab.langs:
        return quantities
    first: dict[str, int] | None = None  # where each 20NN年 is first written in full, by its NN
    out, candidates, shortened = [], [], None  # shortened: where the text first named a full year by its NN
    for q in quantities:
        m = _TWO_DIGIT_YEAR.fullmatch(q.surface) if q.kind == "duration" and q.value_max is None else None
        if m and not ab.not_after.match(text, q.end) and text[q.start - 1:q.start] not in _SPAN_MARKS:
            if first is None:
                first = {}
                for y in _FULL_YEAR.finditer(text):
                    first.setdefault(y.group(1).translate(WIDE_DIGITS), y.start())
            if first.get(m.group(1).translate(WIDE_DIGITS), q.start) < q.start:
                q = _as_year(q, m)
                shortened = q.start if shortened is None else shortened
            elif ab.year_after.match(text, q.end):
                candidates.append((len(out), m))
        out.append(q)
    # Once the text has named a year by its last two digits, a later N年 with a date's particle (25年には,
    # 26年から) near the years it wrote in full is one too.
    if shortened is not None and first:
        years = [int(k) for k in first]
        low, high = min(years) - ab.reach_before, max(years) + ab.reach_after
        for i, m in candidates:
            q = out[i]
            if q.start > shortened and low <= q.value <= high:
                out[i] = _as_year(q, m)
    return out


def _as_year(q: Quantity, m: re.Match) -> Quantity:
    """N年 read as a span turned into the year 20NN; a bound it was read with (40年まで) stays, as on a year in full."""
    return replace(q, kind="date", unit="date", value=2000.0 + q.value, comparator=q.comparator if m.group(2) else None)


class _Abbreviated(NamedTuple):
    langs: frozenset[str]
    not_after: re.Pattern  # what makes N年 a span (間, 以上, 目, a range's dash)
    year_after: re.Pattern  # a date's particle after N年 (には, から), for years not written in full
    reach_before: int  # how many years before the earliest full year such a year may be
    reach_after: int  # and after the latest


@cache
def _abbreviated() -> _Abbreviated:
    d = load_data("dates.json")["abbreviated_years"]
    return _Abbreviated(frozenset(d["langs"]), regex_cache.compile(d["not_after"]), regex_cache.compile(d["year_after"]),
                        d["reach"][0], d["reach"][1])


# 21年, and 40年まで with the bound it was read with (a deadline: 40年までに)
_TWO_DIGIT_YEAR = regex_cache.compile(f"([1-9１-９][{DIGITS}])年(まで|迄)?")
_FULL_YEAR = regex_cache.compile(f"(?<![{DIGITS}])[2２][0０]([{DIGITS}]{{2}})年")
_SPAN_MARKS = frozenset("0123456789０１２３４５６７８９.．〜～~-－・約")


def header_years(text: str, clause: Clause, quantities: list[Quantity],
                 header_cells: Callable[[int], list[tuple[int, int]]]) -> list[Quantity]:
    """A month with no year in a table cell (| 9月末日 |) takes the one year its column's header
    names (| 2020年度の提出期限 |); header_cells(pos) gives the header cells above pos."""
    if clause.kind != "table_row":
        return quantities
    out = []
    for q in quantities:
        mm = _CELL_MONTH.match(q.surface) if q.kind == "date" and q.value is None else None
        years = {y.group() for a, b in header_cells(q.start) for y in _HEADER_YEAR.finditer(text, a, b)} if mm else set()
        month = numeral_month(mm.group(1)) if mm and len(years) == 1 else None
        out.append(replace(q, value=round(int(years.pop()) + month / 100, 2)) if month else q)
    return out


class NoticeYears:
    """The year a one-off deadline or start with none takes in a notice or call (dates.json
    notice_years): that of the nearest date before it that has a year and a month (a fiscal year stated
    alone counts from its first month), the next year when its own month comes earlier."""

    _REACH = 12  # how far before a date its relative or yearly mark is looked for

    def __init__(self, text: str, quantities: list[Quantity], lang: str):
        nr = _notice()
        self.t = text
        on = lang in nr.langs and not nr.statute.search(text)
        self.anchors = sorted((q.start, q.value if q.value != int(q.value) else q.value + nr.fiscal_first_month / 100)
                              for q in quantities if q.kind == "date" and q.value is not None
                              and (q.value != int(q.value) or q.value_max is None and q.surface.endswith(nr.fiscal_suffix))) if on else []
        self.starts = [s for s, _ in self.anchors]

    def year_of(self, clause: Clause, q: Quantity, relation: str | None) -> Dated | None:
        """The values (YYYY.MM) q takes, or None: it keeps no year. A yearless period (6月10日～6月20日)
        takes the year for both its ends, the next for an end whose month comes before its start's."""
        if not self.anchors or q.kind != "date" or q.value is not None or q.value_max is not None or clause.kind == "table_row":
            return None
        period = relation == "period" and q.comparator == "range"
        if relation not in ("deadline", "start") and not period:
            return None
        i = bisect_right(self.starts, q.start) - 1
        # a period's months wherever they stand (its two ends); a point's the month it opens with
        months = [numeral_month(m.group(1)) for m in _CELL_MONTH.finditer(q.surface)] if period \
            else [numeral_month(m.group(1))] if (m := _CELL_MONTH.match(q.surface)) else []
        if i < 0 or not months or None in months \
                or _notice().relative_before.search(self.t, max(clause.start, q.start - self._REACH), q.start):
            return None
        month, end = months[0], months[-1]
        value = self.anchors[i][1]
        year = int(value) + (month < round(value % 1 * 100))
        if not period:
            return Dated(round(year + month / 100, 2), None)
        return Dated(round(year + month / 100, 2), round(year + (end < month) + end / 100, 2))


class Dated(NamedTuple):
    """The values a yearless date takes in a notice that states its year (NoticeYears)."""

    value: float
    value_max: float | None


class _NoticeRules(NamedTuple):
    """dates.json notice_years, compiled."""

    langs: frozenset[str]
    statute: re.Pattern  # what marks a statute (numbered articles): no notice
    relative_before: re.Pattern  # a relative or yearly mark before a date (毎年, 翌年)
    fiscal_suffix: str  # what writes a fiscal year (年度)
    fiscal_first_month: int  # the month a fiscal year opens with (4: April)


@cache
def _notice() -> _NoticeRules:
    d = load_data("dates.json")["notice_years"]
    return _NoticeRules(frozenset(d["langs"]), regex_cache.compile(d["statute"]), regex_cache.compile(d["relative_before"]),
                        d["fiscal_year"]["suffix"], d["fiscal_year"]["first_month"])


_CELL_MONTH = regex_cache.compile(r"([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})月")  # a month; matched whole, one with no day or year
_HEADER_YEAR = regex_cache.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")


def numeral_month(s: str) -> int | None:
    """The month a numeral of one to two digits or kanji names (7, ７, 十二), or None."""
    value = core_value(s, numeral_rules())
    return int(value[0]) if value and value[0] == int(value[0]) and 1 <= value[0] <= 12 else None


# ---------------------------------------------------------------- relations


def relations(text: str, clause: Clause, quantities: list[Quantity], lang: str,
              ends_line: Callable[[int], bool] | None = None) -> dict[int, str]:
    """start offset -> relation, for each date among `quantities` (those of one clause) that the
    text relates to the policy. ends_line(pos): whether the source line ends at text position pos
    with no closing mark (the joined view has mended soft breaks into spaces)."""
    g = _grammar()
    if all(q.kind != "date" for q in quantities):
        return {}  # no date to relate (most clauses with figures)
    keys = [k for k in LANG_KEYS[lang] if k in g.after]
    out: dict[int, str] = {}
    titles = _titles(text, clause, g)
    glossed = _glossed(text, quantities)
    inner = {gl.inner for gl in glossed.values()}
    prev: Quantity | None = None
    unrelated: set[int] = set()  # dates read with no relation of their own
    next_dates = _next_date_starts(quantities)
    for i, q in enumerate(quantities):
        if q.kind != "date" or _in_definition(text, clause, q, g) or any(a <= q.start < b for a, b in titles) \
                or q.start in inner:
            continue
        nxt = _alternative_before(text, q, next_dates[i])  # where another date's alternative opens
        rel = _comparator_relation(q) or _relation(text, clause, q, keys, g, glossed.get(q.start))
        if rel == _NAMES:
            prev = q
            continue  # the compliance period that ends on December 31, 2019: a period's name
        named = g.named_after.match(text, q.end, clause.end) is not None  # the March 2022 consultation
        if rel in ("deadline", "start") and g.reference_after.match(text, q.end, clause.end) or rel == "deadline" and named:
            rel = None
        if rel is None and q.value is not None and q.value != int(q.value) and _day_precise(q) \
                and not _dateline(text, clause, q, LANG_KEYS[lang], g) \
                and not any(g.reference_after.match(text, at, clause.end) for at in {q.end, _pair_end(text, q, quantities[i + 1:], g)}) \
                and not (ends_line and _after_title(text, clause, q) and ends_line(q.end)) and not named:
            rel = "dated"  # a full date (1 July 2029) in a provision, unless it dates an event, closes a title line or names a document
        elif rel is None and q.value is not None and q.value != int(q.value) and "en" in keys \
                and _MONTH_IN.search(text, max(clause.start, q.start - 7), q.start) \
                and g.provisions["en"].search(text, clause.start, clause.end):
            rel = "dated"  # its final report in April 2026: the month a provision names
        elif rel is None and q.value is None and "en" in keys and _day_precise(q) \
                and g.provisions["en"].search(text, clause.start, clause.end) \
                and not _dateline(text, clause, q, LANG_KEYS[lang], g) and not named \
                and not _event(text, clause, q, keys, g, True, nxt):
            rel = "recurring"  # customers on the preceding 31st December, must apply on 26 April: a provision's day of the year
        elif rel is None and q.value is not None and q.value == int(q.value) and q.value_max is None \
                and (_provision_year(text, clause, q, keys, g) or _figure_year(text, clause, q, keys, g)) \
                and not _event(text, clause, q, keys, g, True, nxt):
            rel = "point"  # must register in 2025, would be effective in 2026: the year a provision names
        elif rel is None and g.point_surfaces.search(q.surface) and not _event(text, clause, q, keys, g, True, nxt):
            rel = "point"  # credits of the 2026 model year: the year a standard or a credit applies to
        elif rel is None and q.value_max is not None and g.span_surfaces.search(q.surface) \
                and not _event(text, clause, q, keys, g, True, nxt):
            rel = "period"  # for imports in Q4 2023, results in the fourth quarter of 2021: the months covered
        if rel in ("start", "dated") and _event(text, clause, q, keys, g, rel == "dated", nxt):
            prev = q
            continue  # the date of an event: no relation, and none borrowed from a date after it
        if rel == "recurring" and q.value is not None:
            # a date with its year does not come back (2021 – report says); a span of years after a
            # yearly marker (each year between 2028 and 2030) is the period the rule recurs in
            rel = "period" if q.value_max is not None else None
        if rel is not None and ((q.value is not None and q.value != int(q.value) and _AS_OF.match(text, q.end))
                                or (_day_precise(q) and g.dated_after.match(text, q.end)) or _AS_OF_NOTE.match(text, q.end)):
            rel = None  # 2026年1月30日時点では, 2025年3月時点, 2024.05.24 18:05: the day or month a text speaks as of or is stamped with
        if rel == "point" and q.value is None:
            # 4月1日時点 with no year: the reference day of a count, not a target; a window with no year
            # that a plan schedules (將於7月至11月推出) is still the period it runs
            rel = "period" if q.comparator == "range" else None
        if rel is not None and q.value is None and _labelled_dateline(text, clause, q, LANG_KEYS[lang], g):
            rel = None  # SINGAPORE, Sept 8 —: the day a news item went out, whatever follows it
        if rel is None and prev is not None and prev.kind == "date" and prev.start in out \
                and (q.value is None) == (prev.value is None) and g.coordinated.fullmatch(text, prev.end, q.start):
            if q.value is None and _CELL_MONTH.fullmatch(q.surface) and _CELL_MONTH.fullmatch(prev.surface):
                continue  # 每年三月、六月、九月及十二月: one schedule of months, measured once (prev stays its head)
            rel = out[prev.start]  # 毎年3月20日及び9月20日: the second date of a pair is read as the first
        if rel is not None:
            out[q.start] = rel
        else:
            unrelated.add(q.start)
        prev = q
    # 2018年10月(中電)及2019年1月(港燈)生效: a first date whose relation stands after the second
    dates = [q for q in quantities if q.kind == "date"]
    for a, b in zip(reversed(dates[:-1]), reversed(dates[1:])):
        if a.start in unrelated and b.start in out and (a.value is None) == (b.value is None) \
                and g.coordinated.fullmatch(text, a.end, b.start) \
                and not (a.value is None and _CELL_MONTH.fullmatch(a.surface) and _CELL_MONTH.fullmatch(b.surface)):
            out[a.start] = out[b.start]
    return out


def _provision_year(text: str, clause: Clause, q: Quantity, keys: list[str], g: _Grammar) -> bool:
    """Whether a bare year after in, during or for (dates.json provision_years) stands in a stretch of
    its clause whose verb binds or schedules (must register … in 2025, would be effective in 2026): the
    year that provision names. The stretch runs between commas and semicolons; a year fronted on its
    own (In 2026, importers must …) takes the stretch after it."""
    for k in keys:
        if (py := g.provision_years.get(k)) is None or not py[0].search(text, max(clause.start, q.start - 12), q.start):
            continue
        a = max(text.rfind(",", clause.start, q.start), text.rfind(";", clause.start, q.start), clause.start - 1) + 1
        b = _stretch_end(text, q.end, clause.end)
        if py[0].fullmatch(text, a, q.start) and b < clause.end:
            b = _stretch_end(text, b + 1, clause.end)  # In 2026, importers must …: the stretch after it
        if py[1].search(text, a, b):
            return True
    return False


def _figure_year(text: str, clause: Clause, q: Quantity, keys: list[str], g: _Grammar) -> bool:
    """Whether a bare year follows a figure and for or in (£190 for 2024, 22% for cars in 2024), or
    leads one after a dash or colon (2025 - ZAR 236): the year that figure applies to (dates.json
    figure_years, years_of_figures)."""
    return any((rx := g.figure_years.get(k)) is not None and rx.search(text, max(clause.start, q.start - 64), q.start)
               for k in keys) or g.years_of_figures.match(text, q.end, clause.end) is not None


def _stretch_end(text: str, pos: int, end: int) -> int:
    """Where the stretch of a clause from pos ends: its next comma or semicolon, or the clause's end."""
    m = _STRETCH_END.search(text, pos, end)
    return m.start() if m else end


_STRETCH_END = regex_cache.compile("[,;]")


def _pair_end(text: str, q: Quantity, rest: list[Quantity], g: _Grammar) -> int:
    """Where q ends, or the date coordinated with it right after (依八十八年七月一日或九十三年一月一日施行之
    標準: what follows the pair describes both)."""
    nxt = rest[0] if rest else None
    if nxt is not None and nxt.kind == "date" and g.coordinated.fullmatch(text, q.end, nxt.start):
        return nxt.end
    return q.end


_NAMES = "names"  # the relation of a date that only names a period (dates.json)


@cache
def _names_before(key: str) -> tuple[re.Pattern, ...]:
    """The 'before' patterns of the names relation for a language key."""
    return tuple(rx for rel, rx in _grammar().before.get(key, ()) if rel == _NAMES)


def _ends_with(rx: re.Pattern, left: str) -> bool:
    """Whether a match of rx ends where left does (a 'before' pattern right before the date)."""
    return (m := rx.search(left)) is not None and m.end() == len(left)


_DEF_REACH = 120  # how far around a date the parenthetical it may stand in is looked for


def _in_definition(text: str, clause: Clause, q: Quantity, g: _Grammar) -> bool:
    """Whether q stands in a parenthetical that defines a term: the nearest bracket before it is
    still open, and the text up to the next closing one holds a definition mark (g.defined_in)."""
    lo, hi = max(clause.start, q.start - _DEF_REACH), min(clause.end, q.end + _DEF_REACH)
    opened = max(text.rfind(c, lo, q.start) for c in ROUND_OPEN)
    if opened < 0 or max(text.rfind(c, opened, q.start) for c in ROUND_CLOSE) >= 0:
        return False
    closes = [i for i in (text.find(c, q.end, hi) for c in ROUND_CLOSE) if i >= 0]
    return bool(closes) and g.defined_in.search(text, q.end, min(closes)) is not None


def _titles(text: str, clause: Clause, g: _Grammar) -> list[tuple[int, int]]:
    """Spans of the document titles in the clause (关于…的通知, 《…》)."""
    if all(text.find(mark, clause.start, clause.end) < 0 for mark in _TITLE_MARKS):
        return []
    return [m.span() for m in g.titles.finditer(text, clause.start, clause.end)]


_MONTH_IN = regex_cache.compile(r"(?<![a-z])(?:in|during) $")  # before a month and year a provision names
_TITLE_MARKS = ("关于", "關於", "《", "「")  # what every title the titles pattern reads holds (a substring test in C first)


def _comparator_relation(q: Quantity) -> str | None:
    """A date the scanner already bounded: 2030年まで (<=) is a deadline, 2027年度以降 (>=) a start."""
    if q.comparator in ("<=", "<"):
        return "deadline"
    if q.comparator in (">=", ">"):
        return "start"
    return None


_NOTE_AFTER = regex_cache.compile(r"[(（][^()（）\n]{1,8}[)）]")  # 2019年1月(港燈)生效: a short note between a date and its relation
# by the year 2020, through model year 2030: the relation stands before the year's name
_YEAR_WORD_BEFORE = regex_cache.compile(r"(?<![a-z])(?:the )?(?:(?:model|calendar|compliance|fiscal|financial|taxable) )?years? $")
_WEEKDAY_BEFORE = regex_cache.compile(  # a weekday between a relation and its date (opens on Mon 3 Feb 2025)
    r"(?<![A-Za-z])(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)\.?,? $")


_WEEKDAY_AFTER = regex_cache.compile(  # a CJK weekday in brackets after a date, and the hour after it
    r"[（(](?:[月火水木金土日](?:曜日?)?|星期[一二三四五六日天]|[週周][一二三四五六日])[）)]"
    r"(?:[ ]?(?:午前|午後|上午|下午|正午)?[0-9０-９]{1,2}(?:[:：][0-9０-９]{2}|時|点|點)(?:[0-9０-９]{1,2}分)?)?[ ]?")


class _Gloss(NamedTuple):
    inner: int  # where the glossing date starts
    after: int  # just past its closing bracket


def _glossed(text: str, quantities: list[Quantity]) -> dict[int, _Gloss]:
    """start of a date -> the same date glossed in brackets right after it (令和32年度(2050年度)): the
    pair is one date, read by its first, whose relation stands after the bracket."""
    out = {}
    for a, b in zip(quantities, quantities[1:]):
        if a.kind == b.kind == "date" and a.value is not None and a.value == b.value and b.start == a.end + 1 \
                and text[a.end] in ROUND_OPEN and b.end < len(text) and text[b.end] in ROUND_CLOSE:
            out[a.start] = _Gloss(b.start, b.end + 1)
    return out


def _relation(text: str, clause: Clause, q: Quantity, keys: list[str], g: _Grammar, gloss: _Gloss | None = None) -> str | None:
    at = q.end if gloss is None else gloss.after
    while at < clause.end and text[at] == " ":
        at += 1
    left = text[max(clause.start, q.start - _LOOK):q.start]
    if "en" in keys and (wd := _WEEKDAY_BEFORE.search(left)) is not None:
        left = left[:wd.start()]  # opens on Mon 3 Feb 2025: the relation stands before the weekday
    if (wd := _WEEKDAY_AFTER.match(text, at, clause.end)) is not None:
        at = wd.end()  # 11月30日(木)までに, 6月20日（金）17時まで: the relation stands after the weekday and hour
    elif (note := _NOTE_AFTER.match(text, at, clause.end)) is not None:
        at = note.end()
    if any(_ends_with(rx, left) for k in keys for rx in _names_before(k)):
        return _NAMES  # a date a change replaces (instead of on 1 January 2025) is none, whatever follows it
    after = next((rel for k in keys for rel, rx in g.after[k] if rx.match(text, at, clause.end)), None)
    if after is not None and not (after == "recurring" and q.value is not None):
        return after
    if "en" in keys and (yw := _YEAR_WORD_BEFORE.search(left)) is not None:
        lefts = (left, left[:yw.start()])
    else:
        lefts = (left,)
    for k in keys:
        for rel, rx in g.before[k]:
            if any(_ends_with(rx, lf) for lf in lefts):
                return rel
    if after is not None:
        return after  # a yearly marker after a date with its year (2021 – report says): see relations()
    in_cell = clause.kind == "table_row" and fills_cell(text, clause, q.start, q.end)
    if in_cell:
        cells = _neighbour_cells(text, clause, q)
        if _reports_event(text, cells, keys, g):
            return None  # | 6 August 2024 | Report published |: a timetable row saying what happened that day
        if (rel := _cell_relation(text, clause, cells, keys, g)) is not None:
            return rel
    if q.comparator == "range" and (q.value_max is not None or q.value is None):
        return "period"  # 令和八年度から令和十一年度まで; 四月一日から三月三十一日まで, a window with no year
    if in_cell:
        return "point"  # | 2023 | 65 |: the year a row of a rate table applies to
    return None


class _Cells(NamedTuple):
    """The cells beside a date that fills its own cell of a table row."""
    after: tuple[int, int] | None  # the next cell's span, from its first non-blank character
    before: str | None  # the text of the cell before, up to the bar opening the date's cell


def _neighbour_cells(text: str, clause: Clause, q: Quantity) -> _Cells:
    j = q.end
    while j < clause.end and text[j] == " ":
        j += 1
    after = None
    if j < clause.end:  # the bar or tab closing the date's cell
        j += 1
        while j < clause.end and text[j] == " ":
            j += 1
        bar = CELL_BAR.search(text, j, clause.end)
        after = (j, bar.start() if bar else clause.end)
    i = q.start
    while i > clause.start and text[i - 1] == " ":
        i -= 1
    before = None
    if i > clause.start:  # the bar or tab opening the date's cell
        bars = [m.end() for m in CELL_BAR.finditer(text, clause.start, i - 1)]
        before = text[bars[-1] if bars else clause.start:i - 1]
    return _Cells(after, before)


def _reports_event(text: str, cells: _Cells, keys: list[str], g: _Grammar) -> bool:
    return cells.after is not None and any(k in g.events and g.events[k].search(text, *cells.after) for k in keys)


def _cell_relation(text: str, clause: Clause, cells: _Cells, keys: list[str], g: _Grammar) -> str | None:
    """The relation the label opening the next cell (8 July 2024 | Deadline for receipt |) or ending the
    cell before (Closing date | 8 July 2024) gives a date that fills its table cell."""
    if cells.after is not None:
        for k in keys:
            for rel, rx in g.cell_after.get(k, ()):
                if rx.match(text, cells.after[0], clause.end):
                    return rel
    if cells.before is not None:
        for k in keys:
            for rel, rx in g.cell_before.get(k, ()):
                if rx.search(cells.before):
                    return rel
    return None


def _after_title(text: str, clause: Clause, q: Quantity) -> bool:
    """Whether q follows a word directly, as the date closing a listed title does (… Energy Property
    April 11, 2024), not a label or a key (償還予定日は令和16年3月20日, Deadline: 1 July 2029)."""
    i = q.start
    while i > clause.start and text[i - 1] == " ":
        i -= 1
    return i > clause.start and text[i - 1].isascii() and text[i - 1].isalnum()


_LINE_REST = regex_cache.compile(r"[\s:：.。,，()（）\[\]]*")


def _dateline(text: str, clause: Clause, q: Quantity, keys, g: _Grammar) -> bool:
    """Whether q dates the page or document rather than a provision: alone in its clause, or after a
    publication label (Last updated:, 公開日：, 发布日期：)."""
    if _LINE_REST.fullmatch(text, clause.start, q.start) and _LINE_REST.fullmatch(text, q.end, clause.end):
        return True
    if g.dated_after.match(text, q.end):
        return True
    return _labelled_dateline(text, clause, q, keys, g)


def _labelled_dateline(text: str, clause: Clause, q: Quantity, keys, g: _Grammar) -> bool:
    """Whether q follows a publication label or a news wire's city (Last updated:, SINGAPORE, Sept 8 —)."""
    left = text[max(clause.start, q.start - _LOOK):q.start]
    return any(k in g.datelines and g.datelines[k].search(left) for k in keys)


@cache
def _day() -> re.Pattern:
    """What a date written down to the day holds: 日, a numeric day, a dotted one (2023.3.20, H22.3.1), a month and day."""
    era = _era_initials()
    return regex_cache.compile(f"日|/[0-9]{{1,2}}/|^(?:19|20)[0-9]{{2}}\\.[0-9]{{1,2}}\\.[0-9]|^[{era}][0-9]{{1,2}}\\.[0-9]{{1,2}}\\.[0-9]"
                               r"|[A-Za-z]\.? [0-9]{1,2}(?![0-9])|^[0-9]{1,2}(?:st|nd|rd|th)? ")


def _day_precise(q: Quantity) -> bool:
    """A date written down to the day (1 July 2029, 2024年6月1日, 7/1/29): a legal date, not a year."""
    return _day().search(q.surface) is not None


def _next_date_starts(quantities: list[Quantity]) -> list[int | None]:
    """For each quantity, where the next date after it starts (None after the last): one pass."""
    out: list[int | None] = [None] * len(quantities)
    nxt = None
    for i in range(len(quantities) - 1, -1, -1):
        out[i] = nxt
        if quantities[i].kind == "date":
            nxt = quantities[i].start
    return out


def _alternative_before(text: str, q: Quantity, nxt: int | None) -> int | None:
    """Where a coordinated phrase holding the next date (starting at nxt) opens after q (…, or / …, and), or None."""
    m = _COORDINATED_PHRASE.search(text, q.end, nxt) if nxt is not None and nxt > q.end else None
    return m.start() if m else None


_COORDINATED_PHRASE = regex_cache.compile(r", (?:or|and) ")


def _main(rest: str, key: str, g: _Grammar) -> str:
    """The words after a date up to the first subordinator: a past form after it is a condition's."""
    m = g.subordinate[key].search(rest) if key in g.subordinate else None
    return rest[:m.start()] if m else rest


def _event(text: str, clause: Clause, q: Quantity, keys: list[str], g: _Grammar, before_too: bool = False,
           until: int | None = None) -> bool:
    """Whether the sentence after the date (and with `before_too`, before it: a date no cue relates,
    as in 'the FAQs were released on …, December 22, 2022') reports a past event, and the clause
    around it states no rule: 'shall apply … until … have been taken into account' is a provision.
    The words from `until` on are another date's alternative (commenced construction after January
    8, 2014, or commenced modification after June 18, 2014)."""
    end = clause.end
    if end < len(text) and text[end - 1] in _COMMAS:  # a sub-clause cut at a comma: its sentence goes on
        end = sentence_end(text, end, q.end + _EVENT_REACH) or q.end + _EVENT_REACH
    stop = min(end, q.end + _EVENT_REACH, until if until is not None else len(text))
    rest = text[q.end:sentence_end(text, q.end, stop) or stop]
    head = text[max(clause.start, q.start - _PROVISION_REACH):q.start]
    if any(k in g.news_lead and g.news_lead[k][0].fullmatch(text, clause.start, q.start)
           and g.news_lead[k][1].match(text, q.end, stop) for k in keys):
        return True  # the lead's verb reports; a rule after it is what was announced
    if not any(k in g.events and (g.events[k].search(_main(rest, k, g)) or before_too and g.events[k].search(head))
               for k in keys):
        return False
    return not any(k in g.provisions and (g.provisions[k].search(head) or g.provisions[k].search(rest)) for k in keys)
