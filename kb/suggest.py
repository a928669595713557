"""Suggestions with evidence: metadata for a raw document (`policy-kb new`) and values for the
empty regulatory fields of a record from its extracted clauses (`policy-kb suggest`).

Every suggestion carries the line and the words it was read from; a field the text does not
clearly support gets no suggestion and stays empty. The cue words are data (kb/data/suggest.json).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from kb import regex_cache
from kb.extract.patterns import alt, load_data, lowered, trie
from kb.scripts import CJK_RX, HAN_RX, KANA_RX, WIDE_DIGITS

__all__ = ["Evidence", "Suggestion", "Draft", "REGULATORY_FIELDS", "draft_record", "regulatory_suggestions",
           "suggest_lang", "suggest_country", "suggest_title", "suggest_year", "suggest_status", "suggest_category",
           "make_id"]

QUOTE_MAX = 100


@dataclass(frozen=True, slots=True)
class Evidence:
    line: int  # 1-based line of the document (or of the record file, for regulatory suggestions)
    text: str  # the words read, with a little of their line around them


@dataclass(frozen=True, slots=True)
class Suggestion:
    field: str  # dotted field path: "country", "regulatory.liability_period"
    value: Any
    evidence: Evidence
    clause_id: str = ""  # the clause a regulatory suggestion comes from
    reason: str = ""  # why these words support the value, when the quote alone does not say


@dataclass(frozen=True, slots=True)
class Draft:
    """The frontmatter `new` writes, the suggestions it holds, and the fields left empty."""

    meta: dict
    suggestions: tuple[Suggestion, ...]
    empty: tuple[str, ...]


@cache
def cues() -> dict:
    return load_data("suggest.json")


REGULATORY_FIELDS = ("liability_period", "liability_transfer", "financial_assurance", "permitting_lead_time",
                     "pore_space_rights", "cross_border_rules", "co2_definition")


# --- lines and quotes ----------------------------------------------------------------------------


class Lines:
    """Line numbers and quotes for offsets into one text."""

    def __init__(self, text: str, first_line: int = 1):
        self.text = text
        self.first = first_line
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1 + self.first

    def quote(self, start: int, end: int) -> Evidence:
        """The words at start:end with up to QUOTE_MAX characters of their line around them."""
        i = bisect_right(self.starts, start) - 1
        line_start = self.starts[i]
        line_end = self.text.find("\n", start)
        line_end = len(self.text) if line_end < 0 else line_end
        room = max(0, QUOTE_MAX - (end - start)) // 2
        a, b = max(line_start, start - room), min(line_end, end + room)
        text = " ".join(self.text[a:b].split())
        return Evidence(i + self.first, ("…" if a > line_start else "") + text + ("…" if b < line_end else ""))


# --- language ------------------------------------------------------------------------------------

_LATIN = regex_cache.compile("[A-Za-z\u00c0-\u024f]")


def suggest_lang(body: str) -> Suggestion | None:
    """ja, zh or en by the majority script of the body (see suggest.json lang._decision)."""
    rules = cues()["lang"]
    kana, han, latin = (len(rx.findall(body)) for rx in (KANA_RX, HAN_RX, _LATIN))
    cjk = kana + han
    if not cjk and not latin:
        return None
    lines = Lines(body)
    if cjk * rules["cjk_weight"] >= latin:
        if kana and kana >= rules["kana_share"] * cjk:
            lang, rx, why = "ja", KANA_RX, f"kana ({kana} of {cjk} CJK characters)"
        else:
            lang, rx, why = "zh", HAN_RX, f"Han without kana ({han} characters)"
    else:
        lang, rx, why = "en", _LATIN, f"Latin script ({latin} letters against {cjk} CJK characters)"
    m = rx.search(body)
    return Suggestion("lang", lang, lines.quote(m.start(), m.end()), reason=why)


# --- country -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cue:
    country: str
    kind: str
    word: str


@dataclass(frozen=True, slots=True)
class _Hit:
    cue: _Cue
    start: int
    end: int


@cache
def _country_matcher() -> tuple[re.Pattern, dict[str, _Cue]]:
    """One prefix-tree regex over every cue word and every country name of the vocabulary."""
    from kb.vocabularies import vocabulary

    data = cues()["country"]
    table: dict[str, _Cue] = {}
    ignore = set(data["ignore_names"])
    for term in vocabulary("country"):
        for _lang, name, _label in term.names():
            if name in ignore or len(name) < 2 or (name.isascii() and (len(name) < 4 or not name[0].isupper())):
                continue  # codes and short or lowercase names are words in running text
            table.setdefault(name, _Cue(term.key, "name", name))
    for code, kinds in data["cues"].items():
        for kind, words in kinds.items():
            for w in words:
                table[w] = _Cue(code, kind, w)  # a listed cue outranks the same word as a plain name
    return regex_cache.compile(trie(table)), table


def _bounded(text: str, start: int, end: int) -> bool:
    """A cue starting or ending with a Latin letter or digit must not run into a word."""
    word = text[start:end]
    if word[:1].isascii() and word[:1].isalnum() and start and text[start - 1].isascii() and text[start - 1].isalnum():
        return False
    if word[-1:].isascii() and word[-1:].isalnum() and end < len(text) and text[end].isascii() and text[end].isalnum():
        return False
    return True


def _country_hits(body: str) -> list[_Hit]:
    rx, table = _country_matcher()
    gap = cues()["country"]["adjacent_chars"]
    out: list[_Hit] = []
    for m in rx.finditer(body):
        if m.group() not in table or not _bounded(body, m.start(), m.end()):
            continue
        cue = table[m.group()]
        prev = out[-1] if out else None
        if prev and prev.cue.kind in ("name", "place") and prev.cue.country != cue.country and m.start() - prev.end <= gap:
            cue = _Cue(prev.cue.country, cue.kind, cue.word)  # 路易斯安那州自然资源部: Louisiana's, not China's
        out.append(_Hit(cue, m.start(), m.end()))
    return out


def suggest_country(body: str, lang: str) -> Suggestion | None:
    """A country code when the cues agree (score, share and lead of suggest.json), else None."""
    data = cues()["country"]
    weights = data["weights"]
    _, head_end = _head(body, data["head_lines"])
    scores: dict[str, float] = {}
    best: dict[str, _Hit] = {}
    hits = _country_hits(body)
    for hit in hits:
        c = hit.cue.country
        scores[c] = scores.get(c, 0) + weights[hit.cue.kind] * (data["head_factor"] if hit.start < head_end else 1)
        if c not in best or weights[hit.cue.kind] > weights[best[c].cue.kind]:
            best[c] = hit
    for umbrella, covered in data["umbrellas"].items():
        if umbrella in scores and any(s >= data["min_score"] for c, s in scores.items()
                                      if c != umbrella and (covered == "*" or c in covered)):
            del scores[umbrella]
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    top, score = ranked[0]
    runner = ranked[1][1] if len(ranked) > 1 else 0
    total = sum(scores.values())
    if score < data["min_score"] or score < data["min_share"] * total or score < data["min_lead"] * runner:
        return None
    hit = best[top]
    kinds = sorted({h.cue.kind for h in hits if h.cue.country == top})
    why = f"{hit.cue.kind} {hit.cue.word!r}; score {score:g} of {total:g} from {', '.join(kinds)}"
    return Suggestion("country", top, Lines(body).quote(hit.start, hit.end), reason=why)


def country_label(code: str, lang: str) -> str:
    """The vocabulary's label for a country or subdivision code in the record's language (what
    validate expects): 中国 for CN, 广东省 for CN-GD."""
    return vocab_label("jurisdiction", code, lang)


@cache
def _subdivision_names() -> tuple[re.Pattern, dict[str, str]]:
    """Every name of a province, state or prefecture (subdivision vocabulary) -> its code."""
    from kb.vocabularies import vocabulary

    names = {text: term.key for term in vocabulary("subdivision").terms for _, text, _ in term.names() if len(text) >= 2}
    return regex_cache.compile(trie(sorted(names))), names


def suggest_subdivision(title: Suggestion | None, country: Suggestion | None) -> Suggestion | None:
    """The province, state or prefecture the title names, when it lies in the suggested country
    (广东省碳排放管理试行办法 -> CN-GD): the record's `country` then names it, and its country
    follows. A name in the body alone is not enough (a national rule names provinces too)."""
    from kb.vocabularies import jurisdiction

    if title is None or country is None:
        return None
    rx, names = _subdivision_names()
    text = title.value
    for m in rx.finditer(text):
        code = names[m.group()]
        if _bounded(text, m.start(), m.end()) and jurisdiction(code).country == country.value:
            why = f"the title names {m.group()!r} ({code}), in {country.value}; {country.reason}"
            return Suggestion("country", code, title.evidence, reason=why)
    return None


# --- title ---------------------------------------------------------------------------------------

_HEADING = regex_cache.compile(r"#{1,6}[ \t]+(\S[^\n]*)")
_LETTER = regex_cache.compile(r"[^\W\d_]")
_MARKUP = regex_cache.compile(r"\*\*|__|`|<[^<>\n]{0,200}>")


def suggest_title(body: str) -> Suggestion | None:
    """The first heading, else the first line holding a letter; None when that line is a paragraph."""
    rules = cues()["title"]
    skip = {s.casefold() for s in rules["skip"]}
    for n, raw in enumerate(body.split("\n"), start=1):
        line = raw.strip()
        if not _LETTER.search(line):
            continue
        heading = _HEADING.fullmatch(line)
        text = " ".join(_MARKUP.sub("", heading.group(1) if heading else line).strip(" #").split())
        if text.casefold().rstrip(":：") in skip:
            continue
        if len(text) > rules["max_length"] or not text:
            return None
        return Suggestion("title", text, Evidence(n, line[:QUOTE_MAX]))
    return None


def _head(body: str, lines: int | None = None) -> tuple[str, int]:
    """The first `lines` lines holding a letter (status.head_lines by default), and the offset
    where they end."""
    want, seen, end = lines or cues()["status"]["head_lines"], 0, 0
    for m in re.finditer(r"[^\n]*\n?", body):
        if not m.group():
            break
        end = m.end()
        if _LETTER.search(m.group()):
            seen += 1
            if seen == want:
                break
    return body[:end], end


# --- status and category ---------------------------------------------------------------------------


@cache
def _cue_rx(words: tuple[str, ...]) -> re.Pattern:
    return regex_cache.compile(trie(words))


def _find_cue(text: str, words) -> re.Match | None:
    for m in _cue_rx(tuple(words)).finditer(text):
        if _bounded(text, m.start(), m.end()):
            return m
    return None


def _one_class(text: str, classes: dict[str, list[str]]) -> tuple[str, re.Match] | None | bool:
    """The only class with a cue in text: (class, match); None when none has one; False when several do."""
    found = {name: m for name, words in classes.items() if (m := _find_cue(text, words))}
    if len(found) == 1:
        return next(iter(found.items()))
    return False if found else None


def suggest_status(body: str) -> Suggestion | None:
    rules = cues()["status"]
    head, _ = _head(body)
    lines = Lines(body)
    hit = _one_class(head, rules["head"])
    if not hit:
        if hit is False:
            return None
        hit = _one_class(body, rules["body"])
        if not hit:
            return None
    status, m = hit
    return Suggestion("status", status, lines.quote(m.start(), m.end()))


def suggest_category(body: str) -> Suggestion | None:
    head, _ = _head(body)
    hit = _one_class(head, cues()["category"]["head"])
    if not hit:
        return None
    category, m = hit
    return Suggestion("category", category, Lines(body).quote(m.start(), m.end()))


def vocab_label(vocab: str, key: str, lang: str) -> str:
    from kb.vocabularies import vocabulary

    return vocabulary(vocab).label(key, lang) or vocabulary(vocab).label(key, "en") or key


# --- year ----------------------------------------------------------------------------------------



@cache
def _year_rx() -> tuple[re.Pattern, dict[str, int]]:
    """Era and ROC years (the extractor's era table, kb/data/quantities.json: the year before an
    era's first), and Latin four-digit years."""
    eras = load_data("quantities.json")["eras"]
    rx = regex_cache.compile(f"(?P<era>{alt(eras)})\\s?(?P<en>元|[0-9]{{1,3}}|[〇一二三四五六七八九十百]{{1,5}})\\s?年"
                    r"|(?<![0-9,.])(?P<y>(?:19|20)[0-9]{2})(?![0-9]|,[0-9]|\.[0-9]{2})")
    return rx, eras


_CJK_AFTER = regex_cache.compile(r"\s?(?:年|[-/.](?:0?[1-9]|1[0-2])(?![0-9]))")
_DATE_TAIL = regex_cache.compile(r"(?:\s?年度?|[-/.][0-9]{1,2})?(?:\s?[0-9]{1,2}\s?月)?(?:\s?[0-9]{1,2}\s?日)?(?:[-/.][0-9]{1,2})?")
_NOT_A_YEAR_AFTER = regex_cache.compile(r"\s?(?:万|萬|億|亿|千|百|%|％|t\b|tons|tonnes|吨|噸|トン|MW|GW|km|m3|Mt)")


@dataclass(frozen=True, slots=True)
class _Year:
    year: int
    start: int
    end: int
    rank: int  # 3: in the title line, 2: near a publication cue, 1: neutral


def _numeral(text: str) -> int | None:
    if text == "元":
        return 1
    if text.isdigit():
        return int(text)
    from kb.extract.numerals import parse_number

    value = parse_number(text)
    return int(value) if value is not None and float(value).is_integer() else None


def _years(body: str, lang: str, now: datetime) -> list[_Year]:
    rules = cues()["year"]
    text = body.translate(WIDE_DIGITS)  # same length: offsets stay offsets of the body
    before_words, after_words, policy = ([w for k in ("ja", "zh", "en") for w in rules[part][k]]
                                         for part in ("before", "after", "policy"))
    _, title_end = _head(text, 1)
    out = []
    year_rx, eras = _year_rx()
    for m in year_rx.finditer(text):
        if m.group("era"):
            n = _numeral(m.group("en"))
            year = None if n is None else eras[m.group("era")] + n
        else:
            year = int(m.group("y"))
            after = text[m.end():m.end() + 6]
            if _NOT_A_YEAR_AFTER.match(after):
                continue
            if lang != "en" and not _CJK_AFTER.match(after) and text[max(0, m.start() - 1):m.start()] != "/":
                continue  # in Chinese and Japanese a year is written 2024年 or 2024-05
        if year is None or not 1900 <= year <= now.year:
            continue
        end = _DATE_TAIL.match(text, m.end()).end()  # 年5月1日, -05-01, " May": the rest of the date
        before = text[max(0, m.start() - rules["before_chars"]):m.start()]
        after = text[end:end + rules["after_chars"]]
        if _find_cue(before, before_words) or _find_cue(after, after_words):
            continue
        law_number = text[max(0, m.start() - 1):m.start()] == "/"
        near = text[max(0, m.start() - rules["policy_chars"]):m.start()] + " " + text[end:end + rules["policy_chars"]]
        rank = 3 if m.start() < title_end else 2 if law_number or _find_cue(near, policy) else 1
        out.append(_Year(year, m.start(), m.end(), rank))
    return out


def suggest_year(body: str, lang: str, now: datetime) -> Suggestion | None:
    """The latest year given near a publication cue, else the latest year given at all, leaving out
    base years, targets and years after `now`."""
    years = _years(body, lang, now)
    if not years:
        return None
    top = max(y.rank for y in years)
    pick = max((y for y in years if y.rank == top), key=lambda y: (y.year, -y.start))
    return Suggestion("year", pick.year, Lines(body).quote(pick.start, pick.end))


# --- id ------------------------------------------------------------------------------------------

_ASCII_WORD = regex_cache.compile(r"[A-Za-z0-9]+")


def make_id(country: str | None, title: str | None, fallback: str) -> str:
    """A slug from the country code and the title's Latin words; a title in Chinese or Japanese
    adds a short digest of itself, so two such titles never share an id."""
    words = [w.lower() for w in _ASCII_WORD.findall(title or "")][:8]
    parts = ([country.lower()] if country else []) + words
    if title and CJK_RX.search(title):
        parts.append(hashlib.sha1(title.encode("utf-8")).hexdigest()[:6])
    if not words and not (title and CJK_RX.search(title)):
        parts += [w.lower() for w in _ASCII_WORD.findall(fallback)]
    slug = "-".join(p for p in parts if p)[:120].strip("-")
    return slug or "record"


# --- the draft `new` writes -----------------------------------------------------------------------

REQUIRED_ORDER = ("id", "lang", "title", "country", "category", "status", "year", "pubDate", "source", "url",
                  "reviewStatus", "provenance")


def draft_record(body: str, source_name: str, *, record_id: str | None = None, now: datetime,
                 tool: str = "policy-kb") -> Draft:
    """The frontmatter for a raw document: each field the text supports with its evidence, every
    other required field empty, marked unreviewed, with a provenance note naming what was done."""
    found: list[Suggestion] = []
    lang = suggest_lang(body)
    lang_code = lang.value if lang else "en"
    for s in (lang, suggest_title(body), suggest_country(body, lang_code), suggest_year(body, lang_code, now),
              suggest_category(body), suggest_status(body)):
        if s is not None:
            found.append(s)
    by = {s.field: s for s in found}
    if (sub := suggest_subdivision(by.get("title"), by.get("country"))) is not None:
        found[found.index(by["country"])] = by["country"] = sub
    country = by["country"].value if "country" in by else None
    title = by["title"].value if "title" in by else ""
    rid = record_id or make_id(country, title, source_name.rsplit(".", 1)[0])
    labelled = {"country": country_label(country, lang_code) if country else "",
                "category": vocab_label("category", by["category"].value, lang_code) if "category" in by else "",
                "status": vocab_label("status", by["status"].value, lang_code) if "status" in by else ""}
    meta: dict[str, Any] = {
        "id": rid, "lang": lang_code if lang else "", "title": title, **labelled,
        "year": by["year"].value if "year" in by else None,
        "pubDate": "", "source": "", "url": "", "reviewStatus": "unreviewed",
    }
    meta = {k: meta[k] for k in REQUIRED_ORDER if k in meta}
    meta.pop("lang") if not lang else None
    empty = tuple(k for k, v in meta.items() if v in ("", None))
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    suggested = {s.field: {"value": s.value, "line": s.evidence.line, "quote": s.evidence.text,
                           **({"reason": s.reason} if s.reason else {}), "by": f"{tool} new", "at": stamp}
                 for s in found}
    if record_id is None:
        suggested["id"] = {"value": rid, "line": 0, "quote": "slug of the suggested country and title",
                           "by": f"{tool} new", "at": stamp}
    meta["provenance"] = {
        "author": f"{tool} new (suggested, not reviewed)",
        "reviewer": "",
        "sourceFile": source_name,
        "note": (f"Frontmatter suggested by {tool} on {stamp} from the document's own text; each suggested"
                 f" field's evidence is in provenance.suggested. Left empty: {', '.join(empty) or 'nothing'}."
                 " The body is the document, byte for byte."),
        "suggested": suggested,
    }
    return Draft(meta, tuple(found), empty)


# --- regulatory suggestions -----------------------------------------------------------------------


@cache
def _field_rules() -> dict[str, tuple[tuple[re.Pattern, ...], str | None]]:
    fields = cues()["regulatory"]["fields"]
    # Any case: an English cue opens a sentence as often as not (Financial security must ...). The
    # words are lower-cased and the text is read lower-cased (patterns.lowered, same length), not
    # under re.I, which keeps the engine skipping ahead over a long text.
    return {name: (tuple(regex_cache.compile(trie(sorted({w.lower() for w in group}))) for group in spec["all"]),
                   spec.get("measure"))
            for name, spec in fields.items()}


def _holds(text: str, low: str, group: re.Pattern) -> bool:
    """Whether text (low: lowered(text)) holds a cue of group as a word of its own (most clauses
    hold none, and one search in C says so)."""
    return group.search(low) is not None and any(_bounded(text, m.start(), m.end()) for m in group.finditer(low))


def _cue_spans(text: str, group: re.Pattern) -> list[tuple[int, int]]:
    low = lowered(text)  # same length: the spans index text
    return [m.span() for m in group.finditer(low) if _bounded(text, m.start(), m.end())]


def _in_clause(c, m) -> int:
    """Where measure m stands in the clause's display text (-1: not found)."""
    at = m.start - c.start
    if c.text[at:at + len(m.surface)] == m.surface:
        return at
    # Display text only ever drops characters (markup, runs of blanks): m stands at or before `at`,
    # and the search back costs what was dropped, not the clause's length.
    return c.text.rfind(m.surface, 0, at + len(m.surface))


def _near(spans: list[tuple[int, int]], at: int, end: int, reach: int) -> bool:
    """Whether one of `spans` (sorted, disjoint cue spans) lies within `reach` characters of
    [at, end): the last cue starting before end + reach is the only one to look at."""
    i = bisect_right(spans, (end + reach, len(spans) and spans[-1][1] + 1)) - 1
    return i >= 0 and spans[i][1] >= at - reach


def empty_regulatory(meta: dict) -> list[str]:
    """The regulatory fields a suggestion may fill: absent, null or blank."""
    block = meta.get("regulatory")
    block = block if isinstance(block, dict) else {}
    return [f for f in REGULATORY_FIELDS
            if block.get(f) is None or (isinstance(block.get(f), str) and not block.get(f).strip())]


def regulatory_suggestions(meta: dict, clauses, measures) -> list[Suggestion]:
    """One suggestion per empty regulatory field: the first clause (in body order) that says both
    things the field needs (suggest.json regulatory.fields), valued by its text, or for a field that
    names a measure kind, by a figure of that kind within `measure_reach` characters of a cue of
    its last group (the words that say what the figure is: after closure, valid for) and not
    already given to another field (no such figure: the clause is passed over)."""
    if isinstance(meta.get("regulatory"), (str, int, float, list)):
        return []  # a malformed block is validate's finding; nothing to fill
    limit, reach = cues()["regulatory"]["max_value"], cues()["regulatory"]["measure_reach"]
    rules = _field_rules()
    by_clause: dict[str, list] = {}
    for m in measures:
        by_clause.setdefault(m.clause_id, []).append(m)
    out = []
    used: set[str] = set()  # a figure answers one field: 20 years after closure is no permit's lead time
    everything = lowered("\n".join(c.text for c in clauses))
    lows: list[str] | None = None  # each clause's text lower-cased, made once for all fields
    for field in empty_regulatory(meta):
        groups, kind = rules[field]
        if not all(g.search(everything) for g in groups):  # `everything` is lower-cased
            continue  # one pass over the whole text spares a pass per clause for most fields
        if lows is None:
            lows = [lowered(c.text) for c in clauses]
        for c, low in zip(clauses, lows):
            if c.kind in ("heading", "table_row") or not all(_holds(c.text, low, g) for g in groups):
                continue
            quote = c.text if len(c.text) <= limit else c.text[:limit - 1] + "…"
            value = quote
            if kind:  # the value is a figure of this kind standing next to the field's cues
                spans = _cue_spans(c.text, groups[-1])
                measure = next((m for m in by_clause.get(c.id, ()) if m.kind == kind and m.id not in used
                                and (at := _in_clause(c, m)) >= 0 and _near(spans, at, at + len(m.surface), reach)),
                               None)
                if measure is None:
                    continue
                used.add(measure.id)
                value = measure.surface
            out.append(Suggestion(f"regulatory.{field}", value, Evidence(c.line, quote), c.id))
            break
    return out


# --- files: `new` writes a record, `suggest --write` fills a record's empty fields ----------------


class SuggestError(Exception):
    """A one-line reason why no file was written."""


@dataclass(frozen=True, slots=True)
class Created:
    path: str
    draft: Draft


def render(meta: dict, body: str) -> str:
    """A record file: the frontmatter as block YAML a person can edit (python-frontmatter's YAML
    handler, keys in the order given), then the body exactly as it is. python-frontmatter's own
    dumps() strips the text and adds a blank line, so it only writes the frontmatter here."""
    from frontmatter import YAMLHandler

    return f"---\n{YAMLHandler().export(meta, sort_keys=False, width=100)}\n---\n{body}"


def new_record(document: str, out_dir: str, *, record_id: str | None, now: datetime) -> Created:
    """Read a raw document, suggest its frontmatter and write `out_dir/<id>.md` (never over a file)."""
    import os
    from pathlib import Path

    from kb.records import RecordError, parse_record, read_text

    try:
        body, _ = read_text(document)
    except RecordError as exc:
        raise SuggestError(f"{exc.path}: {exc.message}") from None
    if not body.strip():
        raise SuggestError(f"{document}: empty document: nothing to make a record from")
    try:
        if parse_record(body, document).fm_format:
            raise SuggestError(f"{document}: already a record (it has a frontmatter block); edit it, or run `policy-kb suggest` on it")
    except RecordError:
        pass  # no frontmatter, or a broken one: then it is text like any other
    if record_id is not None and not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", record_id):
        raise SuggestError(f"--id {record_id!r}: an id is a lowercase slug (letters, digits and single hyphens)")
    draft = draft_record(body, Path(document).name, record_id=record_id, now=now)
    target = Path(out_dir) / f"{draft.meta['id']}.md"
    text = render(draft.meta, body)
    if parse_record(text, str(target)).body != body:
        raise SuggestError(f"{document}: the body would not come back byte for byte; nothing written")
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SuggestError(f"cannot create the folder {out_dir}: {exc.strerror or exc}") from None
    try:  # O_EXCL: a file that appears between a check and the write is not overwritten either
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise SuggestError(f"{target} already exists; not overwritten (choose another --id or --out)") from None
    except OSError as exc:
        raise SuggestError(f"cannot write {target}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode("utf-8"))
    return Created(str(target), draft)


def record_suggestions(path: str) -> tuple[Any, list[Suggestion]]:
    """A record file's regulatory suggestions (it must load; its frontmatter may be JSON or YAML)."""
    from kb.extract import extract
    from kb.records import RecordError, load_record

    try:
        record = load_record(path)
    except RecordError as exc:
        raise SuggestError(f"{exc.path}:{exc.line}:{exc.col}: {exc.message}") from None
    result = extract(record)
    return record, regulatory_suggestions(record.meta, result.clauses, result.measures)


def write_suggestions(path: str, suggestions: list[Suggestion], *, now: datetime, tool: str = "policy-kb") -> None:
    """Fill the suggested (empty) fields of a record file in place and note each in
    provenance.suggested; every other byte of the file stays as it was."""
    from kb.fmedit import EditError, FieldEdit, apply_edits
    from kb.records import read_text

    if not suggestions:
        return
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    text, _ = read_text(path)
    raw = open(path, "rb").read()
    bom = raw.startswith(b"\xef\xbb\xbf")
    edits = []
    for s in suggestions:
        edits.append(FieldEdit(tuple(s.field.split(".")), s.value))
        edits.append(FieldEdit(("provenance", "suggested", s.field),
                               {"value": s.value, "line": s.evidence.line,
                                **({"quote": s.evidence.text} if s.evidence.text != s.value else {}),
                                "clause": s.clause_id, "by": f"{tool} suggest --write", "at": stamp}))
    try:
        edited = apply_edits(text, edits, path)
    except EditError as exc:
        raise SuggestError(f"{path}: {exc}; the file was not changed") from None
    _replace_file(path, (b"\xef\xbb\xbf" if bom else b"") + edited.encode("utf-8"))


def _replace_file(path: str, data: bytes) -> None:
    """Write beside the file, then rename over it: a crash leaves the old file or the new one."""
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".policy-kb-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
