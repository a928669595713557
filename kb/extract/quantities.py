"""Steps 3-5 of extraction: amounts and units, ranges and comparators, rates and frequencies (and
the date forms a numeral makes: 2030年, 令和8年度, 民國139年, 2024-06-01) in ja/zh/en text.

One anchor regex finds a numeric core (Arabic digits, kanji numerals, a leading 半, 元 of an era's
first year, 每年-style frequencies, or a letter run that may be an English number word).  What stands
around the core -- currency, comparator or era before it; multiplier, unit, comparator or a second range
end after it -- is matched with anchored regexes at known positions, so the work per core is bounded and
a scan is linear.  Words *before* a core are matched anchored on the reversed text (a `$`-anchored search
of a window was the slowest step).  Word lists live in data/quantities.json; numerals.py reads the numeral itself.

Offsets: full-width ASCII is folded one character for one (patterns.fold, never NFKC), so an offset in the
folded text is an offset in the caller's text.
"""
from __future__ import annotations

import itertools
import math
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache
from typing import NamedTuple

from kb import regex_cache
from kb.extract.numerals import (
    MAX_RUN,
    NumeralRules,
    cached_core_value,
    core_value,
    english_cardinal,
    finite,
    loose_number,
    parse_number,
)
from kb.extract.patterns import (
    ROUND_CLOSE,
    ROUND_OPEN,
    alt,
    bracketed_spans,
    caseless,
    ci_firsts,
    firsts,
    fold,
    key,
    load_data,
    lowered,
    trie,
)
from kb.scripts import CJK_RX, HAN, HAN_RX

__all__ = ["Quantity", "counts_number_of", "find_quantities", "is_bare_year", "parse_quantity"]


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which doubles the
# cost of the hundreds of thousands of these a build makes. Nothing changes them once made.
@dataclass(slots=True)
class Quantity:
    kind: str  # number | duration | percent | money | quantity | date | count | ordinal
    value: float | None  # normalised; the low end of a range
    value_max: float | None  # the high end of a range
    unit: str | None
    comparator: str | None  # >= <= < > range ~ or None
    surface: str
    start: int
    end: int


_ISO_SEPARATORS = frozenset("-/.")  # the character after the year of an ISO-like date (r.iso)
_TIMELINE_OPEN = regex_cache.compile(r"(?:^|\n)[ \t]*(?:[-*•・▪●][ \t]*)?$")  # a line's start, after a list marker if any
# a year listed after another (targets for 2030, 2035 and 2040): a year too
_YEAR_LIST_BEFORE = regex_cache.compile(r"(?<![0-9.,])(?:19|20)[0-9]{2}(?:,| and| or|, and|, or) $")


def _before(words, ci=False) -> tuple[re.Pattern, frozenset]:
    """Pattern over the reversed text: one of words, then an optional space, ending where we stand."""
    return regex_cache.compile(f"[ ]?(?P<c>{alt(words, ci, reverse=True)})"), firsts(words, -1)


_WITHIN = frozenset("內内間间")  # after 年: a span of years (一百年內), not an era year
# a short gloss in brackets after a range's start or a rate of money (its value in another currency or unit)
_GLOSS = regex_cache.compile(r"[ ]?[（(][^（()）\n]{1,60}[)）]")


# Unit names set in one square character (㎘ kl, ㎾ kW, ㌧ トン): Unicode's compatibility form of each
# square in the CJK Compatibility block spells the unit out.
def _squares_by_first() -> dict[str, list[tuple[str, str]]]:
    """(spelt-out form, square) of each square, keyed by the form's first character."""
    out: dict[str, list[tuple[str, str]]] = {}
    for c in map(chr, range(0x3300, 0x3400)):
        if (spelt := unicodedata.normalize("NFKC", c)) != c:
            out.setdefault(spelt[0], []).append((spelt, c))
    return out


_SQUARES = _squares_by_first()


def _with_squares(words: list[str]) -> list[str]:
    """words and each one spelt with the square character of its unit (kW → ㎾, /kl → /㎘, トン当たり → ㌧当たり)."""
    out = list(words)
    for w in words:
        lead = "/" if w.startswith("/") else ""
        body = w[len(lead):]
        for spelt, square in _SQUARES.get(body[:1], ()):
            if body.startswith(spelt) and (len(body) == len(spelt) or not body[len(spelt)].isascii()):
                alias = lead + square + body[len(spelt):]
                if alias not in out:
                    out.append(alias)
    return out


class _UnitWords:
    """`(?:[ ]|-(?=[A-Za-z]))?(?P<u>p1|p2|...)`: a unit word after an optional space or hyphen,
    the first of the alternatives (longest words first) that matches.

    With some 270 alternatives the engine tried every one at every position. Here they are
    grouped by the characters they can start with, keeping their order, and the group of the
    character at hand alone is tried: the same match, four times faster. A group is compiled the
    first time its character comes up: a build that extracts one file meets a few dozen of the
    ~250 (compiling them all cost an incremental build ~30 ms)."""

    def __init__(self, entries: list[tuple[str, str, bool]]):
        # entries: (word, its pattern from _alt, case-insensitive); firsts None: could start anywhere
        self.firsts = [(p, ci_firsts([w]) if ci else frozenset(w[0])) for w, p, ci in entries]
        self.chars = frozenset().union(*(f for _, f in self.firsts if f is not None))
        self.by_first: dict[str, re.Pattern | None] = {}
        self.anywhere = self._group(None)  # for other characters: the words of unknown first character

    def _group(self, c: str | None) -> re.Pattern | None:
        ps = [p for p, f in self.firsts if f is None or c in f]
        return regex_cache.compile(f"(?P<u>{'|'.join(ps)})") if ps else None

    def _for(self, c: str) -> re.Pattern | None:
        try:
            return self.by_first[c]
        except KeyError:
            rx = self.by_first[c] = self._group(c) if c in self.chars else self.anywhere
            return rx

    def match(self, t: str, pos: int) -> re.Match | None:
        """Pattern.match(t, pos) of the whole pattern: group 'u' and end() are the same."""
        c, nxt = t[pos:pos + 1], t[pos + 1:pos + 2]
        if c == " " or (c == "-" and nxt.isascii() and nxt.isalpha()):  # the optional lead, taken first
            rx = self._for(nxt)
            if rx is not None and (m := rx.match(t, pos + 1)):
                return m
        rx = self._for(c)
        return rx.match(t, pos) if rx is not None else None


class _Rules(NumeralRules):
    """Everything compiled from the data files, built once."""

    def __init__(self, numerals: dict, d: dict):
        super().__init__(numerals)
        d = self.d = {**numerals, **d}
        e = re.escape
        self.seconds, self.half_grain = d["grain_seconds"], d["half_grain"]
        self.freq = {**d["frequency_words"], **_once_words(d["frequency_once"]), **_en_intervals(d["en_frequency"])}
        self.law_number_before = regex_cache.compile(d["law_number_before"])  # Regulation (EU) 2023/2024: no year
        # kanji digits written in place, as a year is (一六年, 二○年), not counted with 十
        self.place_digits = frozenset(c for c, v in d["digits"].items() if v < 10) | frozenset(d["zero_marks"])
        dig = e("".join(d["digits"]))
        num = self.num_src
        # English number words are plain letter runs looked up afterwards: a case-insensitive word
        # alternation in the anchor made the scan of CJK text ten times slower.
        cjk_freq = alt([w for w in self.freq if not w.isascii()])
        # Frequency words first: 四半期ごと starts with a numeral.
        self.anchor = regex_cache.compile(f"(?P<f>{cjk_freq})|(?P<n>{num})|(?P<h>半)|(?P<e>{e(d['era_first_year'])}(?=年))"
                                 f"|(?P<w>[A-Za-z]+)")
        self.words = set(d["en_numbers"]) | {w for w in self.freq if w.isascii()}
        # The scan finds anchors in two passes that skip ahead in C: a search for a character that
        # can begin a CJK or Arabic core, then an anchored match there; and the English words
        # as a prefix tree over the lower-cased text. Searching the anchor itself tries all its
        # branches at every position (three times slower over a policy corpus).
        freq_first = "".join(sorted({w[0] for w in self.freq if not w.isascii()}))
        # a full stop may begin a decimal with no whole part (.05): in the class, since an alternation
        # beside it would slow the search twofold; the anchor's own match then rejects the rest
        self.anchor_first = regex_cache.compile(f"[{self.num_first}{e(freq_first)}半{e(d['era_first_year'][:1])}.]")
        self.en_anchor = regex_cache.compile(f"(?P<w>{trie(dict.fromkeys(sorted(self.words)))})(?![a-z])")
        # 十分 (enough) is no number, but 十分の九 / 十分之一 is a fraction and 十分間 ten minutes: a stopword
        # ending in 分 before の or 之 and a numeral, or before 間, does not stop the scan; nor does one that
        # numerals.json stopwords_counted finds counted (四周内, 每四周: four weeks, where 四周 is all around).
        counted = "".join(f"(?!(?<={e(x['word'])})(?:{x['after']}))(?<!{e(x['before'] + x['word'])})"
                          for x in d["stopwords_counted"])
        self.stop = regex_cache.compile(f"(?:{alt(d['stopwords'])})(?!(?<=分)(?:[の之][{self.num_first}]|間)){counted}")
        # First characters of the patterns tried at most anchors: a set test is much cheaper than
        # a regex call that fails.
        self.stop_first = frozenset(w[0] for w in d["stopwords"])
        numeral_chars = set(d["digits"]) | set(d["small_multipliers"]) | set(d["big_multipliers"])
        self.numeral_stops = frozenset(w for w in d["stopwords"] if set(w) <= numeral_chars)
        self.units: dict[str, dict] = {}
        entries = []  # (word, pattern, ci, loose), sorted over all groups so that 年間 is tried before 年
        qualifiers = [" ".join(w for w in pick if w) for pick in itertools.product(*([""] + q for q in d["duration_qualifiers"]))][1:]
        # in 2024 and 2025, for calendar years 2022 and 2023, model year 2014, 2015, or 2016: a preposition, a kind of year
        # (the qualifiers' last list), or both
        kinds = alt(d['duration_qualifiers'][-1])
        self.in_before = regex_cache.compile(f"(?<![a-z])(?:(?:in|for|during)(?: (?:the )?(?:{kinds}) years?)?|(?:{kinds}) years?) $")
        for g in d["units"]:
            words = g["words"] + [f"{q} {w}" for q in qualifiers for w in g["words"]] if g.get("qualified") else g["words"]
            words = _with_squares(words)
            for w in words:
                self.units[w.lower() if g.get("ci") else w] = g
                rx = alt([w], g.get("ci", False), g.get("not_before", "")) + (f"(?!{g['not_before_rx']})" if "not_before_rx" in g else "") \
                    + (f"(?={g['before_rx']})" if "before_rx" in g else "")
                entries.append((w, rx, g.get("ci", False), g.get("loose", False)))
        entries.sort(key=lambda x: len(x[0]), reverse=True)
        self.unit_strict = _UnitWords([x[:3] for x in entries if not x[3]])
        self.unit_loose = _UnitWords([x[:3] for x in entries])
        self.unit_first = firsts(x[0] for x in entries)
        self.half_infix, self.half_infix_first = regex_cache.compile("[ ]?[個个]?半"), frozenset(" 個个半")
        self.half_before_end = tuple(d["half_before_end"])
        self.half_tail = regex_cache.compile(f"半(?![{e(d['half_not_before'])}])[{e(d['half_tails'])}]?")
        self.join = regex_cache.compile("[ ]?(?:零|又|and )?[ ]?")
        heads = self.d["si_prefix_heads"]
        big = "|".join(f"{e(k)}(?![{e(heads[k])}])" if k in heads else e(k) for k in self.big)  # 100兆瓦: MW, not 10^12 W
        self.spaced_big, self.spaced_big_first = regex_cache.compile(f"[ ]?((?:{big})+)"), frozenset(" " + "".join(self.big))
        self.en_mult_first = ci_firsts(d["en_multipliers"])  # None: no cheap test
        self.frac, self.frac_first = regex_cache.compile("分之|分の"), "分"
        self.per = {w.lower(): k for units in (d["per_units"], d["per_after_only"]) for k, ws in units.items()
                    for w in _with_squares(_per_variants(ws))}
        # Mt CO2/yr, 65 tonnes of CO2 emissions per GWh, 30 tonnes of carbon dioxide equivalent (CO2e) per GWh:
        # a short 'of ...' phrase, and the abbreviation it defines, may stand between
        substance = "[ ]?CO(?:2e?|₂)|二氧化碳(?:当量|當量)?|[ ]of(?:[ ][A-Za-z0-9₂-]+){1,3}?(?:[ ][(][A-Za-z0-9₂]{1,8}[)])?(?=[ ]per[ ]|/)"
        # /台, not /台北; per unit (for each unit, a unit), not per unit of electricity
        self.per_guard = {v.lower(): nb for w, nb in d["per_unit_not_before"].items() for v in _per_variants([w])}
        pers = "|".join([alt([w for w in self.per if w not in self.per_guard], ci=True)]
                        + [f"(?:{alt([w], ci=True)})(?!{nb})" for w, nb in self.per_guard.items() if w in self.per])
        # 190 rand (R190) per ton: a short gloss in brackets may stand before the denominator
        gloss = "[ ]?[(（][^()（）\\n]{1,24}[)）]"
        self.per_re = regex_cache.compile(f"(?:{substance})?(?:{gloss})?[ ]?(?P<p>{pers})")
        # £18 / tCO2e, 50-80新元/ tCO2e: a slash with a blank after it, as web pages write it
        self.per_spaced_map = {w[1:]: k for w, k in self.per.items() if w.startswith("/") and w[1:2].isalpha()}
        self.per_spaced = regex_cache.compile(f"[ ]?/[ ](?P<p>{alt(self.per_spaced_map, ci=True)})")
        pi = d["per_item"]
        self.per_item = regex_cache.compile(f"[ ](?:{alt(pi['leads'])}) {pi['describing']}(?P<p>{alt(pi['things'])})(?![A-Za-z-])")
        self.per_after = tuple(d["rate_markers"])
        self.step_after = regex_cache.compile(d["step_after"])
        self.cur_map = d["currency_prefixes"]
        self.cur_floor = d["currency_prefix_floor"]
        self.concentration_per = frozenset(d["concentrations"]["per"])
        # (word, unit, its size in grams): the words are the gram entries' of units with the unit's factor
        self.concentration_masses = [(w, name, factor) for name, factor in d["concentrations"]["masses"].items()
                                     for g in d["units"] if g["unit"] == "g" and g.get("factor") == factor for w in g["words"]]
        self.cur_fwd = regex_cache.compile(f"(?P<c>{alt(self.cur_map)})[ ]?")
        self.cmp_pre = {k.lower(): v for k, v in d["comparator_prefixes"].items()}
        self.spread_before = frozenset(d["spread_before"])
        self.cmp_suf = {k.lower(): v for k, v in d["comparator_suffixes"].items()}
        self.cmp_suf_re = regex_cache.compile(f"[ ]?(?P<c>{alt(d['comparator_suffixes'], ci=True)})(?!{d['comparator_suffix_not_before']})")
        self.cmp_first = firsts(d["comparator_suffixes"])
        self.substance_after = regex_cache.compile("|".join(d["substance_after"].values()), re.I)
        self.connector = regex_cache.compile(f"[ ]?(?:{alt(d['range_connectors'], ci=True)})[ ]?")
        # 5 to less than 50 tonnes, from 19 kW to under 56 kW: an English upper-bound prefix may open a range's top
        uppers = [w for w, c in d["comparator_prefixes"].items() if c in ("<", "<=") and w[:1].isalpha() and w.isascii()]
        self.upper_word = regex_cache.compile(f"(?:{alt(uppers, ci=True)}) (?=[0-9])")
        self.connector_first = firsts(d["range_connectors"] + [w for v in d["range_openers"].values() for w in v])
        self.date_gap = regex_cache.compile(d["date_range_gap"])
        self.date_latest = regex_cache.compile(d["date_range_latest"])
        self.change_to = regex_cache.compile(d["change_to"])
        self.cur_mult = regex_cache.compile("(?P<m>[" + "".join(d["currency_multipliers"]) + "])(?![A-Za-z0-9])", re.I)
        self.cur_mult_first = frozenset(c for k in d["currency_multipliers"] for c in (k, k.upper()))
        self.closers = {k: regex_cache.compile(f",?[ ]?(?i:{'|'.join(map(e, v))})[ ]") for k, v in d["range_openers"].items()}
        self.month_count = regex_cache.compile("|".join(map(e, d["month_count_after"])))
        # 4月至7月間, 4月から7月まで: a month after a month and a joiner ends a span of the year (日から六月以内 counts)
        self.month_range_ends = tuple("月" + j for j in d["month_range_joiners"])
        self.month_count_before = regex_cache.compile("|".join(map(e, d["month_count_before"])))
        self.day_event = regex_cache.compile("|".join(map(e, d["day_event_verbs"])))
        self.day_bracket_before = regex_cache.compile(d["day_bracket_before"])
        self.day_glossed_after = regex_cache.compile(d["day_glossed_after"])
        self.day_news_before = regex_cache.compile(d["day_news_before"])
        self.monthly_day_before = tuple(d["monthly_day_before"])
        self.more_than = frozenset(d["more_than_marks"])
        self.si_heads = d["si_prefix_heads"]
        self.minus = frozenset(w for w in self.d["negative_words"] if len(w) == 1 and not w.isalpha())  # -2.5
        self.b_minus_word = _before([w for w in self.d["negative_words"] if w not in self.minus])  # 零下, マイナス
        self.minus_word_ends = frozenset(w[-1] for w in self.d["negative_words"] if w not in self.minus)
        self.minus_not_after = frozenset(self.d["negative_not_after"])  # 正負: a tolerance
        self.vulgar_fractions = {c: float(v) for c, v in self.d["vulgar_fractions"].items()}
        self.frequency_attributive = regex_cache.compile(d["frequency_attributive"])
        self.frequency_adverbs = frozenset(d["frequency_adverbs"])
        self.freq_en_not_after = regex_cache.compile(d["frequency_en_not_after"])
        self.freq_en_not_before = regex_cache.compile(d["frequency_en_not_before"])
        self.clock, self.ordinal_unit = regex_cache.compile(d["clock"]), regex_cache.compile(d["ordinal_unit"])
        led = d["ordinal_led"]  # by the 3rd year: a word of a bound before the ordinal, the period after it
        self.ordinal_led_unit = regex_cache.compile(f"(?:st|nd|rd|th) (?P<u>{alt(led['units'])})s?(?![a-z-])")
        self.ordinal_led_before = regex_cache.compile(f"{led['lead']}$", re.I)
        self.ordinal_full = regex_cache.compile(f"(?:{alt(d['ordinal_prefixes'], ci=True)})[ ]?(?P<n>{num})")
        letters = firsts("abcdefghijklmnopqrstuvwxyz")
        # A rate's denominator written before the figure (每吨50元, 每千瓦时0.3元, トン当たり289円).
        prefixes = {unit: _glossed_pers(unit, words) for unit, words in d["per_prefixes"].items()}
        self.per_prefix = {key(w): unit for unit, words in prefixes.items() for w in words}
        self.per_prefix_context = {key(w): c for w, c in d["per_prefix_context"].items()}
        self.per_scaled = tuple(w for ws in d["per_prefixes"].values() for w in ws  # 每千度, 每百公里: 每, a multiplier, a unit
                                if w.startswith("每") and w[1:2] and (w[1] in self.small or w[1] in self.big))
        self.b_cur, self.b_per_prefix = _before(self.cur_map), _before([w for ws in prefixes.values() for w in ws], True)
        self.b_per_verb = _before(d["per_prefix_verbs"])
        self.per_year_sum = regex_cache.compile(f"(?:{alt(d['per_year_sum_verbs'])}){d['per_year_sum']}")
        # 每節省一度電, 每减排一吨: an act between 每 and a per-prefix's unit (its tail: 度電, 吨)
        tails = {w[1:]: u for u, ws in d["per_prefixes"].items() for w in ws if w.startswith("每") and not w.startswith("每一")}
        self.per_act_tail = {key(w): u for w, u in tails.items()}
        acts = alt(d["per_prefix_acts"], reverse=True)
        self.b_per_act = (regex_cache.compile(f"[ ]?(?P<c>{alt(tails, reverse=True)})[ ]?[一1]?[ ]?(?:{acts})每"), firsts(tails, -1))
        self.per_head = regex_cache.compile(d["per_head"])
        self.b_per_year, self.b_cmp = _before(d["per_year_prefixes"]), _before(d["comparator_prefixes"], True)
        self.year_words = frozenset(key(w) for w in d["per_year_prefixes"])
        self.b_ordinal, self.b_era = _before(d["ordinal_prefixes"], True), _before(d["eras"])
        self.press_years = _PressYears(*(regex_cache.compile(d["press_years"][k]) for k in _PressYears._fields))
        self.era_fwd = regex_cache.compile(alt(d["eras"]))
        self.same_year = regex_cache.compile(alt(d["same_year"]))
        not_modifier = '|'.join(map(re.escape, d['count_modifier_not']))
        word = f"(?:(?!(?:{not_modifier})(?![a-z-]))[a-z][a-z-]{{1,20}}|[A-Z][A-Z0-9]{{1,5}}(?![A-Za-z0-9]))"
        # one to four words before a counted noun, lower-case or an acronym (2 EV cars, 10 ZEV trucks)
        self.modifiers = regex_cache.compile(f"( {word})( {word})?( {word})?( {word})?(?= )")
        self.uncounted_words = frozenset(d["uncounted_words"])
        self.irregular_plurals = frozenset(d["irregular_plurals"])
        self.context_yearly = frozenset(d["context_yearly"])
        fy = load_data("dates.json")["notice_years"]["fiscal_year"]  # the Japanese fiscal year, defined once
        self.fiscal_suffix, self.fiscal_first_month = fy["suffix"], fy["first_month"]
        self.ordinal_after_event = regex_cache.compile(d["ordinal_after_event"])
        joiners = alt(d["alternative_joiners"])
        self.alternative = regex_cache.compile(f"[ ]?(?:{joiners})[ ]?")
        self.listed_next = regex_cache.compile(f"(?:,?[ ]?(?:{joiners})|[、，,])[ ]?")  # 15%、18%及25%, 2%, 3% and 4%
        self.index_units = [_Index(x.get("kind", "quantity"), x["unit"], regex_cache.compile(x["before"])) for x in d["index_units"]]
        self.index_names = tuple(n for x in d["index_units"] for n in x["names"])
        self.index_chain = regex_cache.compile(f"(?:,? (?:{joiners}|to)(?: either)? |{joiners}|から|～|~|至)")
        self.times = regex_cache.compile(f"[ ]?(?:{alt(d['times_signs'])})[ ]?")
        self.per_unit_names = frozenset(d["per_units"])
        # what may stand between one unit and its price: a blank, or the substance it measures (一噸碳 300 元)
        self.one_unit_gap = regex_cache.compile(f"[ 　]?(?:{alt(d['one_unit_substances'])})?[ 　]?")
        self.year_reference_nouns = frozenset(d["year_reference_nouns"])
        self.times_per = regex_cache.compile(d["times_per"], re.I)
        self.times_repeated_after = regex_cache.compile(d["times_repeated"]["after"])
        self.times_repeated_before = regex_cache.compile(d["times_repeated"]["before"])
        fines = d["fine_nouns"]
        self.fine_after = regex_cache.compile("|".join(f"(?P<{k}>{p})" for k, p in fines["after"].items()))
        # a sum with its currency left out: after a grant's verb (最高補助30萬), after a noun naming a sum
        # (投資額1000萬以上); each lead, with the scale and the ends it needs
        grant, noun = d["grant_bare_amounts"], d["money_noun_bare"]
        self.bare_sums = ((grant, _before(grant["verbs"])),
                          (noun, _before([n + f for n in noun["nouns"] for f in noun["fillers"]])))
        self.rounding_before = regex_cache.compile(d["rounding_before"], re.I)
        self.rounding_after = regex_cache.compile(d["rounding_after"])
        self.count_cmp = dict(d["count_bounds_before_verb"]["words"])
        self.count_cmp_before = regex_cache.compile(f"(?P<c>{alt(self.count_cmp)}){d['count_bounds_before_verb']['verb']}$")
        self.inclusive_marks = tuple(d["inclusive_marks"])
        # a label word right before a number (whole words: around 215 facilities is no Round 215), or
        # a number coordinated after a labelled one (Scope 1, 2 and 3 emissions)
        self.b_label = _before(d["label_before"], True)
        self.label_list_before = regex_cache.compile(
            f"(?<![a-z])(?:{alt(d['label_before'])}) [0-9]{{1,4}}(?:(?:,|,? and|,? or) [0-9]{{1,4}}){{0,6}}(?:,|,? and|,? or) $")
        self.provision_after = regex_cache.compile(d["provision_after"])
        self.number_of = regex_cache.compile(d["number_of_before"])
        self.bounded_noun = regex_cache.compile(f" (?P<n>{word})(?![a-z-])(?: (?P<n2>{word})(?![a-z-]))?")  # a maximum of one loan
        self.bounded_noun3 = regex_cache.compile(f" {word} {word} (?P<n3>{word})(?![a-z-])")  # more than 300 similar domestic voyages
        self.bounded_noun4 = regex_cache.compile(f" {word} {word} {word} (?P<n3>{word})(?![a-z-])")
        self.grouping_counters = d["grouping_counters"]
        self.anaphora = regex_cache.compile(f"(?:{alt(d['anaphora_before'], ci=True)})[ ]?$")
        # an English that before a number is mostly a conjunction (estimated that 10,000 entities)
        self.counted_anaphora = regex_cache.compile(f"(?:{alt([w for w in d['anaphora_before'] if not w.isascii()])})[ ]?$")
        self.list_summing = frozenset(d["list_summed"]["words"])
        self.list_summed = regex_cache.compile(d["list_summed"]["before"])
        self.duration_label_after = tuple(d["duration_label_after"])
        self.flow_period_units = frozenset(d["flow_period"]["units"])
        self.flow_period_after = regex_cache.compile(d["flow_period"]["after"])
        self.news_day = regex_cache.compile(d["news_day"]["after"])
        self.news_day_before = frozenset(d["news_day"]["before"])
        self.sibling_day_before = regex_cache.compile(d["news_day"]["sibling_before"])
        self.sibling_day_after = regex_cache.compile(d["news_day"]["sibling_after"])
        self.joined_day_before = regex_cache.compile(d["news_day"]["joined_before"])
        self.lookback_after = tuple(d["duration_lookback_after"])
        self.not_even_one = regex_cache.compile(d["not_even_one"])
        ago = d["duration_ago"]
        self.ago_units, self.ago_after, self.ago_not_after = frozenset(ago["units"]), tuple(ago["after"]), frozenset(ago["not_after"])
        self.narrative_before = regex_cache.compile(
            f"(?:{alt(d['duration_narrative_before'], ci=True)})(?:{alt(d['duration_narrative_hedges'])})?[ ]?$")
        self.b_fiscal = _before(d["fiscal_prefixes"], True)
        self.b_multiple = _before(d["multiple_prefixes"], True)
        self.multiply_by = regex_cache.compile(d["multiply_by"], re.I)
        self.b_count_limit = _before(d["count_limit_verbs"]["words"])
        self.cmp_pre_fwd = regex_cache.compile(f"(?:{alt(d['comparator_prefixes'], True)})[ ]?")
        self.b_opener = regex_cache.compile(f"[ ](?P<c>{alt(d['range_openers'], True, reverse=True)})"), letters
        self.change_before = regex_cache.compile(d["change_before"])
        self.date_changed = regex_cache.compile(d["date_change_before"])
        self.schedule_gap = regex_cache.compile(d["schedule_gap"])
        self.b_word = regex_cache.compile("[ ](?P<c>[A-Za-z]+)"), letters
        self.bare_bound_min = d["bare_bounds"]["min"]
        self.bare_bound_before = regex_cache.compile(d["bare_bounds"]["before"], re.I)
        self.population_before = regex_cache.compile(d["bare_bounds"]["population_before"])
        self.year_of_figure = regex_cache.compile(load_data("dates.json")["years_of_figures"])
        self.year_hyphen = regex_cache.compile(f"(?<![A-Za-z])(?:{alt(d['year_hyphen_modifiers'], ci=True)})-$")
        day = f"(?:[0-9]{{1,2}}|[{dig}十廿卅]{{1,4}})[ ]?[{e(''.join(d['day_markers']))}]"
        self.id_suffix = frozenset(d["identifier_suffixes"])
        self.xref_before, self.xref_after = frozenset(d["cross_references"]["before"]), frozenset(d["cross_references"]["after"])
        self.xref_counted = tuple(d["cross_references"]["counted_after"])
        self.year_end = tuple(d["year_end_marks"])
        self.score_before = regex_cache.compile(d["score_before"])
        self.score_sentence = regex_cache.compile(d["score_sentence"]["words"])
        self.score_band_ends = tuple(d["score_sentence"]["band_ends"])  # after a score's 分 (95分以上)
        self.score_band_starts = tuple(f"分{w}" for w in d["score_sentence"]["band_joiners"])  # 80分至94分
        self.speed_before = regex_cache.compile(alt(d["speed_words"]) + "[^，。；,;\\n]{0,6}$")
        self.section_before = regex_cache.compile(d["section_before"])
        self.section_after = regex_cache.compile(d["section_after"])
        self.year_onward = regex_cache.compile(d["year_onward"])
        self.year_gloss = regex_cache.compile(d["year_gloss"])
        self.year_timeline = regex_cache.compile(d["year_timeline"])
        self.year_start = regex_cache.compile(d["year_start"])
        self.doc_brackets = {pair[0]: pair[1] for pair in d["document_number_brackets"]}
        # 2月末日: the last day; 3月下旬, 3月末: a part of the month
        self.month = regex_cache.compile(f"[ ]?(?P<m>[0-9]{{1,2}}|[{dig}十]{{1,3}})[ ]?月(?:[ ]?{day}|末日|[上中下初]旬|末|底)?")
        self.day = regex_cache.compile(f"[ ]?{day}")
        self.iso = regex_cache.compile(r"(?:19|20)[0-9]{2}([-/.])(0?[1-9]|1[0-2])(?:\1(?:[0-2]?[0-9]|3[01]))?(?![0-9])")
        self.denoms = {w: float(k) for k, ws in d["money_denominations"].items() for w in ws}
        self.denom_re = regex_cache.compile(alt(self.denoms))
        self.denom_not_before = frozenset(d["money_denomination_not_before"])
        money_words = [w for g in d["units"] if g["kind"] == "money" for w in g["words"]]
        self.money_suffix = regex_cache.compile(f"(?P<c>{alt(money_words, ci=True)})$")

    def unit_of(self, word: str) -> dict:
        return self.units.get(word) or self.units[key(word)]


@cache
def _rules() -> _Rules:
    return _Rules(load_data("numerals.json"), load_data("quantities.json"))


# ---------------------------------------------------------------- scanning

class _Draft:
    """A quantity being built; offsets index the folded text."""
    __slots__ = ("kind", "value", "vmax", "unit", "cmp", "start", "end", "scale", "small", "bare_kanji")

    def __init__(self, kind, value, unit, start, end, scale=1.0, bare_kanji=False, small=1.0):
        self.kind, self.value, self.vmax, self.unit, self.cmp = kind, value, None, unit, None
        # scale: what the trailing 万/億, multiplier words and unit made of one unit of the numeral
        # (万吨 -> 1e4), and small the 十/百/千 before a trailing 万 (千万 -> 1000): the bare low end
        # of 600-1200万吨 or 3-5千万円 is read with them
        self.start, self.end, self.scale, self.small, self.bare_kanji = start, end, scale, small, bare_kanji

    def unbounded_from(self, start: int) -> _Draft:
        """A copy that starts at start, with no comparator."""
        c = _Draft(self.kind, self.value, self.unit, start, self.end, self.scale, self.bare_kanji, self.small)
        c.vmax = self.vmax
        return c


def _base(g: dict | None, r: _Rules, month_ok: bool = False) -> float | None:
    """Size of one unit in its family's base (seconds, grams, inches), for chains like 一小時零十五秒.  年 counts
    as a year here; 月 as a month only after 半/个半 (month_ok), where it cannot be a calendar month."""
    if g is None:
        return None
    if g.get("role") == "year" or (month_ok and g.get("role") == "month"):
        return r.seconds[g["unit"]]
    if g["kind"] == "duration":
        return r.seconds[g["unit"]] * g.get("factor", 1)
    if "chain" in g:
        return g["chain"]
    return g.get("factor", 1) if g["unit"] == "g" else None


def _is_year(v: float | None, r: _Rules) -> bool:
    return v is not None and r.d["date_year_min"] <= v <= r.d["date_year_max"] and v == int(v)


def is_bare_year(q: Quantity) -> bool:
    """Whether quantity q is a bare number written as a year in four digits (2021)."""
    return q.kind == "number" and len(q.surface) == 4 and q.surface.isdigit() and _is_year(q.value, _rules())


_START = re.Match.start
_CLOCK_MARKS = frozenset("時时")  # what follows the hour of 14時30分 (a cheap test before the clock pattern)
_ORDINAL_SUFFIXES = frozenset(("st", "nd", "rd", "th"))
# what a mass, volume or heat is counted per (t: of product)
_FLOW_PER = frozenset({"yr", "month", "day", "GWh", "MWh", "kWh", "mmBTU", "MJ", "GJ", "TJ", "kg", "t", "hour", "minute", "hp-hr", "km"})
# what is counted per one of _FLOW_PER: a mass or volume (t/yr, kg/GJ, g/kWh, g/hp-hr, scf per hour), heat (GJ/hour), distance (km/yr)
# or electricity (kWh/month, kWh/kg)
_FLOWING = frozenset({"t", "m3", "ft3", "kg", "g", "lb", "MJ", "GJ", "TJ", "PJ", "mmBTU", "km", "kWh", "MWh", "GWh"})
# energy or power per floor or collector area (60千瓦时/平方米, 400MJ/m2, 7.1 watts per square foot of door opening)
_PER_AREA = frozenset({"kWh", "MWh", "MJ", "GJ", "kW"})
_AREAS = frozenset({"m2", "ft2"})
# speeds, flows per second and field strengths (風速四十メートル毎秒, 三キロボルト毎メートル, 10 m3 per second); hours
# of running a year (50 hours per calendar year: an operating allowance); certificates per MWh supplied (0.097 ROCs);
# fuel used per 100 km (3 litres per 100 kilometres: renamed L/100km)
_PHYSICAL_RATES = frozenset({("m", "s"), ("m3", "s"), ("L", "s"), ("kV", "m"), ("V", "m"), ("hour", "yr"), ("ROC", "MWh"),
                             ("m3", "100km")})
_RATE_NUMERATORS = _FLOWING | _PER_AREA | {u for u, _ in _PHYSICAL_RATES}  # what a denominator right after it may make a rate of
# what one of _FLOWING written after its denominator is counted per (1kWh当たり0.45キログラム: kg/kWh)
_INTENSITY_OF = frozenset({"kWh", "MWh", "GWh", "t", "kg", "L", "m3", "m2", "km", "100km", "vehicle", "unit", "dwelling"})


def _rename_rate(d: _Draft, r: _Rules) -> None:
    """Give a composed rate the name it goes by (m3/100km is fuel consumption in L/100km), its value rescaled."""
    if renamed := r.d["rate_renames"].get(d.unit):
        d.unit, factor = renamed
        d.value, d.vmax = d.value * factor, None if d.vmax is None else d.vmax * factor


def _flow_of(unit: str, per: str) -> bool:
    """Whether a figure in `unit` with the denominator `per` after it is a rate of the two."""
    return (unit in _FLOWING and per in _FLOW_PER) or (unit in _PER_AREA and per in _AREAS) or (unit, per) in _PHYSICAL_RATES


class _Per(NamedTuple):
    unit: str  # a key of quantities.json per_units or per_after_only
    end: int  # where the denominator ends


def _per_after(t: str, at: int, r: _Rules) -> _Per | None:
    """The denominator right after a figure's unit at `at` (per tonne, /t, 万吨/年), or one after a slash
    followed (and perhaps preceded) by a blank, as web pages and PDFs write it (£18 / tCO2e, 1 万公里 / 年, 80新元/ tCO2e)."""
    if pm := r.per_re.match(t, at):
        return _Per(r.per[key(pm.group("p"))], pm.end())
    if (t.startswith(" /", at) or t.startswith("/ ", at)) and (pm := r.per_spaced.match(t, at)):
        return _Per(r.per_spaced_map[key(pm.group("p"))], pm.end())
    if t.startswith(" ", at) and (pm := r.per_item.match(t, at)):
        return _Per(pm.group("p"), pm.end())
    return None


def _once_words(spec: dict) -> dict[str, str]:
    """The frequency words that say once in an interval (毎月一回, 年に1回), each with its interval's unit."""
    return {form.format(interval=interval, once=once): unit for interval, unit in spec["intervals"].items()
            for form in spec["forms"] for once in spec["once"]}


def _en_intervals(spec: dict) -> dict:
    """The English frequency words of the grammar (each fiscal year, once per calendar year), each with its interval."""
    return {f"{lead} {kind}{word}": unit for lead in spec["leads"] for kind in spec["kinds"]
            for word, unit in spec["intervals"].items()}


def _frequency(v) -> tuple[float, str]:
    """(value, unit) of a frequency word's entry: 'year' or [3, 'month']."""
    return (1.0, v) if isinstance(v, str) else (float(v[0]), v[1])


def _day_of_month(t: str, start: int, end: int, value: float, r: _Rules) -> bool:
    """N日 right before a verb reporting an event (生态环境部15日召开), dating a news lead after its
    acting body (経済産業省は19日、), in brackets after a weekday or today (周三（25日）, 今天(2日)), or
    glossed with its full date (31日(109.12.31)): the day of the month, not a number of days."""
    if value != int(value) or not 1 <= value <= 31:
        return False
    return r.day_event.match(t, end) is not None or (
        t[end:end + 1] in "、，," and r.day_news_before.search(t, max(0, start - 4), start) is not None) \
        or r.day_bracket_before.search(t, max(0, start - 5), start) is not None \
        or r.day_glossed_after.match(t, end) is not None


def _same_dimension(a: _Draft, b: _Draft) -> bool:
    return a.kind == b.kind and (a.unit == b.unit or a.kind == "money") and b.value is not None


_FRACTION = regex_cache.compile(r"([0-9]{1,2})/([0-9]{1,2})(?![0-9/]|\.[0-9])")  # 1/2, 2/3; not 7/1/29 or 1/2.5
_ERA_SLASH = regex_cache.compile(r"([0-9]{2,3})/(1[0-2]|0?[1-9])/(3[01]|[12][0-9]|0?[1-9])(?![0-9/])")  # 109/1/10: a day in a bare era year
_WAVES = frozenset("~〜～")  # after a date each in a row (平成24年10月1日~ 平成26年4月1日~): each a start
# what joins the two ends of a range written tight, and may stand after a bound's suffix before the upper
# bound (2.8kW超~28.0kW以下, 10%以上—20%以下)
_DASHES = _WAVES | frozenset("-–—")
_ITEM_BEFORE = frozenset(" \n\t、。：:")  # what stands before a lone kanji enumerator (… 一　年度別の…)
# what may stand between a band's lower bound and its upper one (超過10千瓦但不超過200千瓦: but, and)
_BAND_GAP = frozenset(" ，,、但而且")
_BAND_TO = regex_cache.compile("[ ]?[至到~～〜][ ]?(?=[0-9０-９〇零一二三四五六七八九十百千萬万億亿兩两])")  # 大於75kW至200kW
_FROM_ALTERNATIVE = regex_cache.compile(r"(?<![a-z])from [0-9][0-9,.]{0,12},? (?:or|and) $")
_ERA_SPAN = 50  # the most years a period written in one era may run
_INDEX_REACH = 80  # how far before a bare number an index's name (index_units) may stand


class _Index(NamedTuple):
    kind: str  # what a figure named by the index is (quantity; an age: duration)
    unit: str  # its unit (GWP, year)
    before: re.Pattern  # the index's name ending right before the figure
_TO_A_YEAR = regex_cache.compile(r"[ ]?(?:to|through|until|till|[-–—~～])[ ]?(?:19|20)[0-9]{2}(?![0-9])")
_DIGIT_GLOSS = regex_cache.compile(r" ?\(([0-9]{1,3}(?:,[0-9]{3})*)\)")  # the digits glossing a word number
# 逾5峰瓩,且在10峰瓩以下: 且 (and) before the second bound of a band
_BAND_LEAD = regex_cache.compile("[且並并](?:在|為|为)?(?=[0-9０-９〇零一二三四五六七八九十百千萬万億亿兩两未不低少小逾超])")
_CAP_LEAD = regex_cache.compile("[且並并但]?以(?=[0-9０-９〇零一二三四五六七八九十百千萬万億亿兩两新])")
# at least 5 and less than 15, more than 24 kV up to and including 52 kV, >24 kV ≤ 52 kV, exceeds 4999 and is less than
# 50,000: a band past 'and' (and a copula) or an upper bound
_EN_BAND_JOIN = regex_cache.compile(
    r",? (?:(?:and|but) (?:(?:is|are|remains?) )?(?=[a-z])"
    r"|(?=up to |less than |below |under |not exceeding |no more than |at most |[≤<] ?[0-9]))")
_LIST_GAP = _BAND_GAP - {" "}  # after a bound written before its figure (最短為一年、), only a list mark


def _in_unit_of(a: _Draft, b: _Draft, r) -> float | None:
    """b's value in a's unit, to close a range a opens: as it is when both have one dimension; a
    duration in a larger unit converted (3个月以上1年以下: 3 to 12 months); else None."""
    if _same_dimension(a, b):
        return b.value
    f = _EXACT_RATIOS.get((a.unit, b.unit)) if a.kind == b.kind == "duration" and b.value is not None else None
    return b.value * f if f else None


# Units a duration range may mix: exact ratios only (a year is not 360 days, nor a month 30).
_EXACT_RATIOS = {("month", "year"): 12, ("day", "week"): 7, ("hour", "day"): 24, ("minute", "hour"): 60,
                 ("second", "minute"): 60}


_NAMED_YEARS = regex_cache.compile(f"[{HAN}]{{0,4}}?年度")  # after 个: the kind of year counted (纳税, 完整操作)
_DURATION_MONTH, _DURATION_YEAR = {"kind": "duration", "unit": "month"}, {"kind": "duration", "unit": "year"}


class _PressYears(NamedTuple):
    """How a text shows two-digit years (data: press_years)."""

    evidence: re.Pattern  # a two-digit year no duration can be (05年, 13年比)
    after: re.Pattern  # what follows a year's 年
    not_before: re.Pattern  # a word of length before a duration


class _Scan:
    """One pass over one folded text.  loose admits Duckling-style readings (whole-string parsing);
    dim is the dimension asked for, which settles 十 月 (October or ten months) and the like."""

    def __init__(self, t: str, loose: bool, dim: str | None, era: int | None = None):
        self.r, self.t, self.n, self.loose, self.dim = _rules(), t, len(t), loose, dim
        self.era = era  # the base of years written without their era (Taiwan: 115年 is 民國115年), or None
        self.units = self.r.unit_loose if loose else self.r.unit_strict
        self._rev: str | None = None

    @cached_property
    def low(self) -> str:
        """The text lower-cased, the same length (English words are read on it)."""
        return lowered(self.t)

    def follows(self, pos: int, first: frozenset, skip: str = " -") -> bool:
        """Could a word starting with one of first begin at pos (after one skip character)?"""
        c = self.t[pos:pos + 1]
        return (self.t[pos + 1:pos + 2] if c and c in skip else c) in first

    def may_be(self, pos: int, first: frozenset | None) -> bool:
        """Could a word of `first` start at pos after an optional space or hyphen (None: no test known)?"""
        c = self.t[pos:pos + 1]
        return first is None or c == " " or c == "-" or c in first

    def before(self, pat: tuple[re.Pattern, frozenset], s: int, floor: int) -> tuple[int, str] | None:
        """(start, word) of the word of pat ending at s, after an optional space, not below floor."""
        rx, last = pat
        if s <= floor or (self.t[s - 1] not in last and not (self.t[s - 1] == " " and s - 1 > floor
                                                             and self.t[s - 2] in last)):
            return None
        if self._rev is None:
            self._rev = self.t[::-1]
        m = rx.match(self._rev, self.n - s, self.n - floor)
        return (self.n - m.end(), m.group("c")[::-1]) if m else None

    def era_initial(self, s: int, floor: int) -> tuple[int, str] | None:
        """(start, era) of an era's initial right before s (H21年度), no Latin letter or digit before it."""
        era = self.r.d["era_initials"].get(self.t[s - 1:s]) if s > floor else None
        return (s - 1, era) if era and not (s - 2 >= 0 and self.t[s - 2].isascii() and self.t[s - 2].isalnum()) else None

    def labelled(self, d: _Draft) -> bool:
        """Whether a number names a part, a bill, a scope, a round or a provision rather than counting (SB 253,
        Scope 1, 2 and 3 emissions, 4 (1) These Regulations, GEA-3)."""
        if self.before(self.r.b_label, d.start, 0) is not None or self.r.provision_after.match(self.t, d.end):
            return True
        if self.t[d.start - 1:d.start] == "-" and _NAME_HYPHEN.search(self.t, max(0, d.start - 12), d.start):
            return True  # GEA-3 marks, COP-28 delegates, Tier-2 suppliers: the number of a name
        return self.low.endswith(_LIST_JOINS, 0, d.start) \
            and self.r.label_list_before.search(self.low, max(0, d.start - 40), d.start) is not None

    def bare_year(self, d: _Draft, floor: int) -> bool:
        """Whether a number is a year written in digits with no bound before it (in 2021 whereby …
        clusters), not a count of what follows (at least 2000 households is one)."""
        return d.value is not None and _is_year(d.value, self.r) and self.t[d.start:d.start + 4].isdigit() \
            and self.before(self.r.b_cmp, d.start, floor) is None

    def counted_after_modifiers(self, pos: int) -> tuple[tuple[dict, int], str | None] | None:
        """((unit group, end), comparator) of an English count noun one to four lower-case words after
        pos (seven regional clean hydrogen hubs, 5,000 light duty alternative fueled vehicles, 132 bids): the
        words between describe what is counted.
        A bound may stand first (150,000 or more domestic customers: >=)."""
        cmp = None
        if (b := _COUNT_BOUND.match(self.t, pos)) is not None:
            cmp, pos = (">=" if b.group(1) in ("more", "above", "over") else "<="), b.end()
            if (hit := self.unit(pos)) is not None and hit[0].get("kind") == "count":
                return hit, cmp
        m = self.r.modifiers.match(self.t, pos)
        if m is None:
            return None
        for end in sorted({m.end(), m.end(3), m.end(2), m.end(1)} - {-1}, reverse=True):  # the most words first
            hit = self.unit(end)
            if hit is not None and hit[0].get("kind") == "count":
                return hit, cmp
        return None

    def _modified_plural(self, m: re.Match, d: _Draft, floor: int) -> bool:
        """Whether an unbounded number counts a plural noun past one or two words describing it (two
        compensation deadlines, 53 sector bodies, 66,000 public water systems), not an amount (£1bn
        green projects); the caller has found that first word no plural."""
        if self.before(self.r.b_cur, d.start, floor):
            return False
        if self.plural(m.group("n2")):
            return self.counted_plural(m.group("n2"))
        return self.third_noun(d.end) is not None

    def counted_again(self, s: int, floor: int) -> bool:
        """Whether a count at s follows a word pointing back to things stated before (这两项要求), and not one
        summing up the list it closes (电力和氢这六大高碳行业)."""
        r, t = self.r, self.t
        an = r.counted_anaphora.search(t, max(floor, s - _ANAPHORA_REACH), s)
        return an is not None and not (an.group().rstrip(" ") in r.list_summing
                                       and r.list_summed.search(t, max(floor, an.start() - _LIST_REACH), an.start()))

    def counted_plural(self, noun: str) -> bool:
        """Whether an English word is a plural noun a number may count (not paragraphs, times, applies)."""
        return self.plural(noun) and noun not in self.r.uncounted_words

    def third_noun(self, end: int) -> re.Match | None:
        """The match of a plural noun a number ending at `end` counts past two describing words (66,000 public
        water systems), neither of them a frequency (four consecutive quarterly measurements keeps its quarterly)."""
        m3 = self.r.bounded_noun3.match(self.t, end)
        if m3 is None or not self.counted_plural(m3.group("n3")) or any(w in self.r.freq for w in self.low[end:m3.start("n3")].split()):
            return None
        return m3

    def plural_after(self, pos: int) -> int | None:
        """The end of the plural noun a bound's number counts at pos (' children', ' eligible
        households'), or None."""
        m = self.r.bounded_noun.match(self.t, pos)
        if m is None or m.group("n") in self.r.uncounted_words:
            return None
        if self.plural(m.group("n")):
            return m.end("n")
        if m.group("n2") is None or m.group("n2") in self.r.uncounted_words:
            return None
        if self.plural(m.group("n2")):
            return m.end("n2")
        for rx in (self.r.bounded_noun3, self.r.bounded_noun4):  # 20 or more single-use plastic (flexible) straws
            if (m := rx.match(self.t, pos)) is not None and self.counted_plural(m.group("n3")):
                return m.end("n3")
        return None

    def plural(self, noun: str) -> bool:
        """Whether an English noun is a plural (in -s, or irregular: children)."""
        return noun.endswith("s") or noun in self.r.irregular_plurals

    def decimal_written(self, d: _Draft) -> bool:
        """Whether a number is written with a decimal part of its own (Industry 4.0, Plan 5.0): a version
        or a measurement, never a count of the things after it."""
        return d.scale == 1 and "." in self.t[d.start:d.end]

    def bounded_count(self, d: _Draft, floor: int) -> tuple[dict, int] | None:
        """(count group, end) of any English noun counted by a number under an English bound
        (a maximum of one loan, at most two applications): what a bound limits is a count whatever
        its noun; a plural after more than one."""
        if not ("a" <= self.t[d.end + 1:d.end + 2] <= "z") or (m := self.r.bounded_noun.match(self.t, d.end)) is None:
            return None
        if self.before(self.r.b_cur, d.start, floor):
            return None  # on £25,000 earns: a sum, whatever word follows it
        cp = self.before(self.r.b_cmp, d.start, floor)
        if cp is not None and not cp[1][:1].isascii():
            return None
        if cp is None and (d.value is None or d.value < 2 or d.value != int(d.value) or _is_year(d.value, self.r)
                           or self.decimal_written(d)
                           or m.group("n") in self.r.uncounted_words or self.labelled(d)
                           or (m.group("n2") is not None and not self.plural(m.group("n")) and not self._modified_plural(m, d, floor))):
            return None  # unbounded: a whole number of two or more right before its plural noun (132 bids)
        if self.unit(m.start("n") - 1) is not None or (m.group("n2") is not None and self.unit(m.start("n2") - 1) is not None):
            return None  # a unit word (years, tonnes, whole tonnes) is read as a unit
        if _is_year(d.value, self.r) and m.group("n") in self.r.year_reference_nouns:
            return None  # below 2005 levels: a reference year
        if cp is not None and d.value == 1 and self.r.cmp_pre[key(cp[1])] != "<=":
            return None  # at least one member, more than one condition: an idiom, no limit
        for g in ("n", "n2"):  # the noun, or a modifier and then the noun (two eligible loans)
            noun = m.group(g)
            if noun is not None and (d.value != 1) == self.plural(noun):
                return _COUNTED, m.end(g)  # 'two loan' is no count
        if (cp is not None or m.group("n2") is not None) and (m3 := self.third_noun(d.end)) and self.unit(m3.start("n3") - 1) is None:
            return _COUNTED, m3.end("n3")  # a plural after two modifiers is what it counts (66,000 public water systems)
        return None

    def unit(self, pos: int, month_ok: bool = False) -> tuple[dict, int] | None:
        """(unit group, end) of the unit word at pos."""
        t, end_mark = self.t, ""
        if t[pos:pos + 1] == "[":  # 3,000万[トンキロ]: a unit written in brackets
            pos, end_mark = pos + 1, "]"
        um = self.units.match(t, pos) if self.follows(pos, self.r.unit_first) else None
        if um is None or (end_mark and t[um.end():um.end() + 1] != end_mark):
            return None
        g = self.r.unit_of(um.group("u"))
        if (t[pos:pos + 1] == " " and t[pos - 1:pos] in self.r.cjk_numeral_chars and not t[pos + 1:pos + 2].isascii()
                and (g["kind"] == "count" or (not self.loose and pos >= 2 and t[pos - 2] in _ITEM_BEFORE))):
            return None  # 三　工場, 二　次に, 一　年度別の…: a numbered item's number, then its text
        if "context_before" in g and not self.unit_context(pos, g):
            # 1000度 is kilowatt hours only where the phrase speaks of electricity (用電量); 用水量超過9,000度:
            # cubic metres of water; 攝氏二十六度, 室溫26度: degrees Celsius
            g = next((alt for alt in g.get("otherwise", ()) if self.unit_context(pos, alt)), None)
            if g is None:
                return None
        if "instead" in g:  # 総トン数四百トン: tons of a gross tonnage
            g = next((alt for alt in g["instead"] if self.unit_context(pos, alt)), g)
        return (_DURATION_MONTH if g.get("role") == "month" and (month_ok or self.dim == "duration") else g), um.end() + len(end_mark)

    def unit_context(self, pos: int, g: dict) -> bool:
        """Whether the words a unit word needs before it (電 for 度) stand in its phrase, or those it may
        have after it (context_after: 二十五度以上陡坡地), or the ones before stand earlier in its sentence
        with nothing in its phrase that gives the word another sense (住宅電價有六個級距，700度以下: kWh;
        空調溫度26度: a temperature), or, for a unit with a wide context, in the text shortly before with
        nothing near that gives it another sense (quantities.json context_wide)."""
        t, words = self.t, g.get("context_before", ())
        phrase = _PHRASE_END.split(t[max(0, pos - _UNIT_CONTEXT_REACH):pos])[-1]
        other = g.get("context_not", ())
        if any(w in phrase for w in other):
            return False
        if any(w in phrase for w in words):
            return True
        if "context_after" in g and any(w in _PHRASE_END.split(t[pos:pos + _UNIT_CONTEXT_REACH])[0] for w in g["context_after"]):
            return True  # 二十五度以上陡坡地: the slope named after the figure
        if g.get("phrase_only"):
            return False
        sentence = _STATEMENT_END.split(t[max(0, pos - _UNIT_SENTENCE_REACH):pos])[-1]
        if any(w in sentence for w in words):
            return not any(w in sentence for w in other)
        wide = g.get("context_wide")
        if wide is None or any(w in sentence for w in other):
            return False
        ahead = _STATEMENT_END.split(t[pos:pos + _UNIT_SENTENCE_REACH])[0]
        return any(w in t[max(0, pos - wide["reach"]):pos] for w in wide["words"]) \
            and not any(w in sentence or w in ahead for w in wide["not_near"])

    def run(self) -> list[_Draft]:
        r, t = self.r, self.t
        out: list[_Draft] = []
        last = skip = 0
        for m in self.anchors():
            s, g = m.start(), m.lastgroup
            if s < last or s < skip:
                continue
            if g == "n" and m.end() - s > MAX_RUN:
                skip = r.run_tail.match(t, m.end()).end()  # an over-long digit run is an identifier
            elif not self.loose and t[s] in r.stop_first and (st := r.stop.match(t, s)) \
                    and not (st.group() in r.numeral_stops and self.unit(st.end()) is not None):
                skip = st.end()  # 千万不要 stops the scan; 千万円以下 is ten million yen
            elif g == "n" and not self.loose and t[m.end():m.end() + 1] in _CLOCK_MARKS and (ck := r.clock.match(t, s)):
                skip = ck.end()  # 14時30分: a time of day
            elif (d := self.read(m, last, True)) and d.start >= last and \
                    all(v is None or math.isfinite(v) for v in (d.value, d.vmax)) and not _negative_period(d):
                out.append(d)
                last = d.end
        out = self.act_rates(out)
        self.alternatives(out)
        self.indexed(out)
        _rates_times_quantity(self.t, out, r)
        out = _one_unit_rates(self.t, _groupings_named_once(self.t, out, r), r)
        return _priced_in_context(self.t, _shared_denominators(self.t, out, r), r.d["price_context"])

    def act_rates(self, drafts: list[_Draft]) -> list[_Draft]:
        """An amount of money after 每, an act and the one unit it is counted in (每節省一度可獲得0.6元,
        每减排一吨补贴100元) is a rate per that unit; a figure read inside that phrase (一吨) is its
        denominator, no measure of its own."""
        if "每" not in self.t:
            return drafts  # most texts
        r = self.r
        acts = (r.b_per_act, r.per_act_tail)  # it looks past the figures read before the amount: the one unit (一吨) is part of it
        out: list[_Draft] = []
        for d in drafts:
            if d.kind == "money" and d.unit and "/" not in d.unit and (den := self.denominator_before(d.start, 0, r.b_per_verb, acts)):
                d.unit, d.start = f"{d.unit}/{den.unit}", den.start
                while out and out[-1].end > d.start:
                    out.pop()
            out.append(d)
        return out

    def alternatives(self, drafts: list[_Draft]) -> None:
        """A bare number right before an amount of a unit, joined by and / or (10,000 and 25,000
        tonnes, 每公噸50或100元, 5万又は10万円): two alternatives in the unit said once, the scale of
        the second (5 or 10 million tonnes) and a rate's denominator before the first (每公噸) too."""
        r, t = self.r, self.t
        for a, b in zip(drafts, drafts[1:]):
            if not (a.kind == "number" and a.unit is None and a.value is not None and b.unit
                    and b.kind in _ALTERNATIVE_KINDS and not _is_year(a.value, r) and r.alternative.fullmatch(t, a.end, b.start)):
                continue
            if a.scale == 1 and b.scale > 1:
                own_small = any(c in r.small or c in r.tens for c in t[a.start:a.end])
                a.value *= b.scale * (1 if own_small else b.small)
            a.kind, a.unit = b.kind, b.unit
            if a.kind == "money" and "/" not in a.unit and (den := self.denominator_before(a.start, 0, r.b_per_verb)):
                a.unit = b.unit = f"{a.unit}/{den.unit}"
                a.start = den.start

    def indexed(self, drafts: list[_Draft]) -> None:
        """A bare number right after an index's name (a GWP threshold of 150, GWP値150; aged 18) is a quantity
        in that index, or the kind it names (quantities.json index_units), and so are the numbers chained
        to it (150 or 300, from 150 to 1,400)."""
        r, low = self.r, self.low
        if not any(n in low for n in r.index_names):
            return  # no index named anywhere: most texts
        prev: _Draft | None = None
        for d in drafts:
            named = False
            if d.kind == "number" and d.unit is None and d.value is not None and not _is_year(d.value, r):
                if prev is not None and r.index_chain.fullmatch(low, prev.end, d.start):
                    d.kind, d.unit, named = prev.kind, prev.unit, True
                else:
                    window = low[max(0, d.start - _INDEX_REACH):d.start]
                    if ix := next((ix for ix in r.index_units if ix.before.search(window)), None):
                        d.kind, d.unit, named = ix.kind, ix.unit, True
            prev = d if named else None

    def anchors(self) -> list[re.Match]:
        """What r.anchor.finditer(t) yields that can begin a quantity, in text order: the English
        letter runs among them only when they are number or frequency words."""
        r, t = self.r, self.t
        out, pos = [], 0
        search, match = r.anchor_first.search, r.anchor.match
        while (c := search(t, pos)) is not None:
            m = match(t, c.start())
            if m is None:
                pos = c.start() + 1
            else:
                out.append(m)
                pos = m.end()
        low = self.low
        words = [m for m in r.en_anchor.finditer(low)
                 if not (m.start() and "a" <= low[m.start() - 1] <= "z") and t[m.start():m.end()].isascii()]
        return sorted(out + words, key=_START) if words else out

    def core(self, m: re.Match, floor: int) -> _Draft | None:
        """The bare number at anchor m, with a spaced or English multiplier (2000 万, 1.2 million)."""
        r, t = self.r, self.t
        s, pos, g, core = m.start(), m.end(), m.lastgroup, m.group()
        if g == "w":
            got = english_cardinal(self.low, s, r)  # twenty-four, three hundred and fifty
            d = _Draft("number", got[0], None, s, got[1]) if got else _Draft("number", float(r.d["en_numbers"][key(core)]), None, s, pos)
        elif g == "h":  # 半年, 半個鐘: only before a unit; 上半年/下半年 is a half of a year, not a period
            if s and t[s - 1] in r.d["half_not_after"] and not (t[s - 1] == "前" and t.endswith(r.half_before_end, 0, s - 1)):
                return None
            return _Draft("number", 0.5, None, s, pos) if self.follows(pos, r.unit_first) else None
        elif g == "e":  # 元 of 令和元年
            return _Draft("number", 1.0, None, s, pos) if self.before(r.b_era, s, floor) else None
        else:
            prev = t[s - 1] if s else ""
            if prev and self.ordinal_before(s) and not (prev == "第" and self.after_event(s - 1)):
                return None
            if prev and ((core == "一" and prev in r.d["word_before_one"]
                          and (s < 2 or t[s - 2] not in r.d["word_before_one_not_after"].get(prev, ""))
                          and not (pos < len(t) and t[pos] in r.d["word_before_one_unless_before"].get(prev, "")))
                         or (core == "一" and any(t.endswith(w, 0, s) for w in r.d["last_before_one"]))
                         or (prev in r.d["vague_before"] and core[0] in r.small and not r.frac.match(t, pos))):
                return None  # 统一, 上一年度, 每一公噸; 数百万トン and 几十万元 have no value to give (時數十分之一 is a share)
            if core[0] in r.si_heads and t[pos:pos + 1] and t[pos] in r.si_heads[core[0]]:
                return None
            if t[pos:pos + 1] in r.id_suffix or (prev in r.doc_brackets and t[pos:pos + 1] == r.doc_brackets[prev]):
                return None  # 4号文, 〔2020〕: a document's number, not a quantity
            if prev in r.xref_before and t[pos:pos + 1] in r.xref_after and not t.startswith(r.xref_counted, pos + 1):
                return None  # 前二項, 同三条: a cross-reference to provisions, not a count
            arabic = core[0].isdigit() or core[0] == "."
            if arabic and prev.isascii() and prev.isalpha() and not self.before(r.b_fiscal, s, 0) \
                    and not self.before(r.b_cur, s, 0) and not (t.startswith("年", pos) and self.era_initial(s, 0)) \
                    and not (prev in "xX" and _times_sign(t, s - 1)):
                return None  # CO2, A1, COP28: part of an identifier (EUR150: a currency code glued on; 成本x30％ multiplies)
            iso = r.iso.match(t, s) if arabic and t[s + 4:s + 5] in _ISO_SEPARATORS else None
            if iso and iso.end() > pos:  # 2024-06-01
                return _Draft("date", int(t[s:s + 4]) + int(iso.group(2)) / 100, "date", s, iso.end())
            if arabic and self.era is not None and t[pos:pos + 1] == "/" and prev != "/" and (em := _ERA_SLASH.match(t, s)) \
                    and self.r.d["bare_era_years"]["span"][0] <= int(em.group(1)) <= self.r.d["bare_era_years"]["span"][1]:
                return _Draft("date", self.era + int(em.group(1)) + int(em.group(2)) / 100, "date", s, em.end())
            if arabic and t[pos:pos + 1] == "/" and (fr := _FRACTION.match(t, s)) and not self.loose:
                num, den = int(fr.group(1)), int(fr.group(2))
                if (0 < num < den <= 10 or num == den == 10) and not _PAGE_AFTER.match(t, fr.end()):
                    # 最大1/2, 補助率1/3, 定額10/10: a share (1/1 is a date; (3/4 ページ) a page of four)
                    return _Draft("percent", round(num * 100 / den, 2), "percent", s, fr.end())
            cv = cached_core_value(core)
            if cv is None:
                return None
            d = _Draft("number", cv[0], None, s, pos, cv[1], len(core) == 1 and not arabic, cv[2])
            if arabic and s > floor and t[s - 1] in r.minus and (s - 1 == floor or t[s - 2] in _BEFORE_MINUS):
                d.value, d.start = -d.value, s - 1  # -2.5 kilograms per mmBTU: a minus sign, not a range's dash
            elif s > floor and t[s - 1] in r.minus_word_ends and (mw := self.before(r.b_minus_word, s, floor)) \
                    and t[mw[0] - 1:mw[0]] not in r.minus_not_after:
                d.value, d.start = -d.value, mw[0]  # 零下三十度, マイナス5%: below zero (正負百分之二 is a tolerance)
            if core[0] == "0" and core != core.rstrip(r.big_chars) and not core.rstrip(r.big_chars).strip("0"):
                return None  # 0万: the tail of a figure that conversion cut in two, not a zero
            if arabic and core.isdigit() and t[pos:pos + 1] in r.vulgar_fractions:
                d.value, pos = d.value + r.vulgar_fractions[t[pos]], pos + 1  # 12½ percent: a whole and a fraction sign
                d.end = pos
            if core[-1].isdigit() and t[pos:pos + 1] in r.spaced_big_first and (bm := r.spaced_big.match(t, pos)):
                k = math.prod(r.big[c] for c in bm.group(1))
                d.value, d.scale, d.end = d.value * k, d.scale * k, bm.end()
            if arabic and t[pos:pos + 2] in _ORDINAL_SUFFIXES and ((om := r.ordinal_unit.match(t, pos)) or (
                    (om := r.ordinal_led_unit.match(t, pos)) and r.ordinal_led_before.search(t, max(floor, s - _ORDINAL_LEAD_REACH), s))):
                unit = self.unit(om.start("u"))  # the 60th day after, by the 3rd year
                if unit and unit[0]["kind"] == "duration":
                    return _Draft("duration", d.value * unit[0].get("factor", 1), unit[0]["unit"], s, unit[1])
            if arabic and d.end == pos and t[pos:pos + 1] in r.cur_mult_first and (cm := r.cur_mult.match(t, pos)) \
                    and self.before(r.b_cur, s, floor):
                k = r.d["currency_multipliers"][cm.group("m").lower()]  # £10m, $500k
                d.value, d.scale, d.end = d.value * k, d.scale * k, cm.end()
                return d if math.isfinite(d.value) else None
            if arabic and d.end == pos and t[pos:pos + 1].isascii() and t[pos:pos + 1].isalpha() \
                    and not self.unit(pos) and not (self.may_be(pos, r.en_mult_first) and r.en_mult.match(t, pos)):
                return None  # 5G, 2nd, 3D
            if not core[-1].isdigit():
                return d if math.isfinite(d.value) else None
        if self.may_be(d.end, r.en_mult_first) and (em := r.en_mult.match(t, d.end)):
            k = float(r.d["en_multipliers"][key(em.group("m"))])
            d.value, d.scale, d.end = d.value * k, d.scale * k, em.end()
        return d if math.isfinite(d.value) else None

    def read(self, m: re.Match, floor: int, ranged: bool) -> _Draft | None:
        """The quantity whose core is anchor m, or None."""
        r, t, g = self.r, self.t, m.lastgroup
        if g == "f" or (g == "w" and key(m.group()) in r.freq):  # 每年 = every year: 1 year
            at = m.end() + (t[m.end():m.end() + 1] == " ")
            if g == "f" and (cm := r.cmp_pre_fwd.match(t, at)):
                at = cm.end()  # 每年超过1万吨: the comparator belongs to the flow after it
            nm = r.num.match(t, at)
            if nm and not r.month.match(t, m.end()) and not (m.group() in r.monthly_day_before and t[nm.end():nm.end() + 1] == "日"):
                return None  # 每年100万吨 is a per-year prefix; 每年7月1日 and 每月十五日 are a frequency, then a date
            if g == "f" and r.per_year_sum.match(t, at):
                return None  # 每平方公里每年缴纳100元: 每年 and the verb lead to the sum, yearly (CNY/km2/yr)
            if g == "f" and m.group() not in r.frequency_adverbs and r.frequency_attributive.match(t, m.end()):
                return None  # 每月交換紀錄: a monthly record, no interval
            if g == "w" and (r.freq_en_not_after.search(self.low, max(0, m.start() - 24), m.start())
                             or r.freq_en_not_before.match(self.low, m.end())):
                return None  # by 31 March each year: a recurring date; each year thereafter
            value, unit = _frequency(r.freq[key(m.group())])
            return self.finish(_Draft("duration", value, unit, m.start(), m.end()), floor, ranged)
        if (g == "w" and key(m.group()) not in r.d["en_numbers"]) or not (d := self.core(m, floor)):
            return None
        if g == "w" and (gl := _DIGIT_GLOSS.match(t, d.end)) and float(gl.group(1).replace(",", "")) == d.value:
            d.end = gl.end()  # thirty (30) days, five (5) years: the figure glossed in digits, then its unit
        if d.kind in ("date", "duration"):
            return self.finish(d, floor, ranged)
        fm = r.frac.match(t, d.end) if g == "n" and t[d.end:d.end + 1] == r.frac_first else None
        nm = r.num.match(t, fm.end()) if fm else None
        if nm and (nv := core_value(nm.group(), r)) and d.value:  # 三分之一, 百分之七十五, 3分の1
            if d.value in (100, 1000):
                d.kind, d.unit, d.value = "percent", "percent", nv[0] * 100 / d.value
            elif d.value == 1_000_000:
                d.kind, d.unit, d.value = "quantity", "ppm", nv[0]  # 百萬分之一: one part per million
            else:
                d.value = nv[0] / d.value
            d.end, d.bare_kanji = nm.end(), False
            return self.finish(d, floor, ranged)
        hm = r.half_infix.match(t, d.end) if g != "h" and t[d.end:d.end + 1] in r.half_infix_first else None
        hit = self.unit(hm.end(), True) if hm else None
        infix = half = _base(hit and hit[0], r, True) is not None  # 一個半小時, 一个半月
        if not infix:
            hit, half = self.unit(d.end, g == "h"), g == "h"
            if half and _base(hit and hit[0], r, True) is None:
                return None
        if hit is not None and d.kind == "percent" and hit[0].get("unit") == "multiple":
            hit = None  # 補助対象経費に1/3を乗じた額: a share the base is multiplied by stays a share
        if hit is None and g == "n" and t[d.end:d.end + 1] in r.more_than and (more := self.unit(d.end + 1)) is not None \
                and more[0].get("kind") in ("count", "quantity", "money"):
            hit, d.cmp = more, ">"  # 300多家, 3万余吨: more than the figure
        if hit is None and g == "n" and t[d.end:d.end + 1] in r.more_than and (mult := r.big.get(t[d.end + 1:d.end + 2])) \
                and d.value is not None and (more := self.unit(d.end + 2)) is not None \
                and more[0].get("kind") in ("count", "quantity", "money"):
            d.value, d.scale = d.value * mult, d.scale * mult
            hit, d.cmp = more, ">"  # 2100多萬元, 十多万吨, 100多亿元: more than the figure, its multiplier after the mark
        if hit is None and g in ("n", "w") and d.value != 1 and (om := _OR_MORE_INFIX.match(self.low, d.end)) is not None \
                and (more := self.unit(om.end())) is not None and more[0].get("kind") in ("count", "quantity", "duration"):
            hit, d.cmp = more, "<=" if om.group(1) in _OR_LESS else ">="  # 10 or more tonnes (one or more: an idiom)
        if hit is None and g in ("n", "w") and d.value is not None and d.value >= 2 and not _is_year(d.value, r) \
                and (om := _OR_MORE_INFIX.match(self.low, d.end)) is not None and (plural := self.plural_after(om.end() - 1)):
            hit, d.cmp = (_COUNTED, plural), "<=" if om.group(1) in _OR_LESS else ">="  # two or more children
        if hit is None and g == "n" and (year := self.glossed_year(d)) is not None:
            return self.finish(year, floor, ranged)
        if hit is None and g in ("w", "n") and d.value is not None and not _is_year(d.value, r) \
                and counts_number_of(self.low, d.start, floor):
            hit = _COUNTED, d.end  # the total number of allowances in circulation is less than 400 million
        if hit is None and g in ("w", "n") and not self.before(r.b_cur, d.start, floor) \
                and not self.bare_year(d, floor) and not self.decimal_written(d) \
                and (counted := self.counted_after_modifiers(d.end)) is not None \
                and not (counted[1] and d.value == 1):
            hit, d.cmp = counted  # seven renewable hydrogen projects (one or more units: an idiom, no limit)
        if hit is None and g in ("w", "n") and (bounded := self.bounded_count(d, floor)) is not None:
            hit = bounded  # a maximum of one loan, no more than two applications per household
        if hit is not None and hit[0].get("words") == ["m"] and self.before(r.b_cur, d.start, floor):
            hit = None  # $5 m from the state: an amount of money (its million unread), not metres
        if (hit is None or hit[0].get("unit") == "minute") and self.scored(d, floor):
            hit = (_POINTS, d.end + 1)  # 占35分, 總得分七十分以上: a score, not minutes
        if hit is None and g == "w":
            if self.before(r.b_multiple, d.start, floor):
                return self.finish(d, floor, ranged)  # multiplied by five: a multiple, as multiplied by 5 is
            # An English word number stands alone only as the low end of a range (two to four years).
            return self.connector_range(d, floor) if ranged and d.value else None
        if hit is None:
            return None if g == "e" else self.finish(d, floor, ranged)
        if hit[0].get("kind") == "count" and g in ("w", "n") and self.labelled(d):
            return None  # Scope 1 and 2 sites, SB 253 entities: a label, not a count
        if (ranked := hit[0].get("not_after_rx")) and regex_cache.compile(ranked).search(t, max(floor, d.start - 2), d.start):
            return None  # 前十大排碳產業: the top ten of a ranking, not a count of kinds
        num_end = d.end
        (u, d.end), value, d.bare_kanji, role = hit, d.value, False, hit[0].get("role")
        if role == "year":
            era = (self.before(r.b_era, d.start, floor) or self.era_initial(d.start, floor)) if g in ("n", "e") else None
            if era and value == int(value) and 0 < value < 200:  # 令和8年, 民國一百三十九年, H21年度
                d.kind, d.unit, d.value, d.start = "date", "date", float(r.d["eras"][era[1]] + value), era[0]
                return self.finish(self.month_day(d), floor, ranged)
            if g == "e":
                return None
            if g == "n" and not half and self._short_fiscal_year(d.start, num_end, d.end, value):
                d.kind, d.unit, d.value = "date", "date", float(r.d["short_fiscal_years"]["century"] + value)  # 26年度: FY2026
                return self.finish(d, floor, ranged)
            if g == "n" and not half and self.t[num_end:d.end] == "年" and self._place_short_year(d.start, num_end, value):
                d.kind, d.unit, d.value = "date", "date", float(r.d["short_fiscal_years"]["century"] + value)
                return self.finish(self.month_day(d), floor, ranged)  # 一六年一月, 至二○年: 2016, 2020 as the press writes it
            if self.era is not None and self._bare_era_year(d.start, value, d.end):
                d.kind, d.unit, d.value = "date", "date", float(self.era + value)  # 115年 in a Taiwan text
                return self.finish(self.month_day(d), floor, ranged)
            if g == "n" and not half and self.t[num_end:d.end] == "年" and r.month.match(self.t, d.end) \
                    and self._short_year(d.start, value):
                d.kind, d.unit, d.value = "date", "date", float(r.d["short_fiscal_years"]["century"] + value)
                return self.finish(self.month_day(d), floor, ranged)  # 25年4月から: April 2025, as the press writes it
            if g == "n" and not half and self.t[num_end:d.end] == "年" and self._press_year(d.start, value, d.end):
                d.kind, d.unit, d.value = "date", "date", float(r.d["short_fiscal_years"]["century"] + value)
                return self.finish(d, floor, ranged)  # 21年に開始 in a text that writes 05年比
            if self.dim != "duration" and not half and _is_year(value, r):  # 2030年; 15年 is a duration
                d.kind, d.unit = "date", "date"
                return self.finish(self.month_day(d), floor, ranged)
            u = _DURATION_YEAR
        elif g == "e":
            return None
        elif u.get("qualified") and u["unit"] == "year" and g == "n" and _is_year(value, r) and self._digits(d.start, 4):
            d.kind, d.unit = "date", "date"  # the 2014 calendar year: a year, not 2014 years
            return self.finish(d, floor, ranged)
        elif role == "fiscal":  # 2026 财年
            if not _is_year(value, r):
                return None
            d.kind, d.unit = "date", "date"
            return self.finish(d, floor, ranged)
        elif role == "month" and not t.endswith(r.month_range_ends, max(0, d.start - 3), d.start) and (r.month_count.match(t, d.end) or (
                (t[d.start - 1:d.start] == "の" or t.endswith("前から", 0, d.start))
                and r.month_count_before.match(t, d.end))):  # 六月以内, 日の三月前, 六月前から三月前まで: months counted
            u = _DURATION_MONTH
        elif role == "month":  # 3月 in running text is March (a date with no year); 十 月 via dim
            if value != int(value) or not 1 <= value <= 12:
                return None
            dm = r.day.match(t, d.end)
            d.kind, d.unit, d.value, d.end = "date", "date", None, dm.end() if dm else d.end
            return self.finish(d, floor, ranged)
        elif u["kind"] == "count" and t[num_end:d.end] in "个個" and value >= 2 and (ny := _NAMED_YEARS.match(t, d.end)) \
                and not t.endswith(("第", "每"), 0, d.start):
            # 5个纳税年度, 七個完整操作年度: years of a named kind counted (一个纳税年度 is any one such year)
            u, d.end = _DURATION_YEAR, ny.end()
        elif u["unit"] == "day" and t[d.end - 1] == "日" and _day_of_month(t, d.start, d.end, value, r):
            return None
        elif u["unit"] == "day" and t[d.end - 1] == "日" and value == int(value) and 1 <= value <= 31 \
                and t.endswith(r.monthly_day_before, max(0, d.start - 4), d.start):
            d.kind, d.unit, d.value = "date", "date", None  # 每月十五日前: the 15th of each month
            return self.finish(d, floor, ranged)
        if "after_cjk_numeral" in u and t[num_end - 1:num_end] in r.cjk_numeral_chars:
            u = u["after_cjk_numeral"]  # 五千米: five thousand metres, where 30000千米 is 30,000 km
            if u is None:
                return None  # 三者, 兩者: Chinese whoever, where 8者 counts parties
        d.kind, d.unit = u["kind"], u["unit"]
        if d.unit == "multiple" and (r.times_per.match(t, d.end) or _repeated(t, d, r)):
            d.kind, d.unit = "count", None  # 3 times a year, carried 100 times: how often, not a multiple
            return self.finish(d, floor, ranged)
        if _base(u, r) is None:
            d.value, d.scale = value * u.get("factor", 1), d.scale * u.get("factor", 1)
        else:
            self.chain(d, u, value + 0.5 * infix, half)
        if "subunits" in u and (nm := r.num.match(t, d.end)):  # 4割5分
            sub = u["subunits"].get(t[nm.end():nm.end() + 1])
            if sub and (cv := core_value(nm.group(), r)):
                d.value, d.end = d.value + cv[0] * sub, nm.end() + 1
        if d.unit in _RATE_NUMERATORS and (per := _per_after(t, d.end, r)) and _flow_of(d.unit, per.unit):
            d.unit, d.end = f"{d.unit}/{per.unit}", per.end  # 万吨/年, Mt per year, t per GWh, 1 万公里 / 年, 400MJ/m2
            _rename_rate(d, r)
        elif d.unit == "g" and (per := _per_after(t, d.end, r)) and per.unit in r.concentration_per:
            # 5g of added sugar per 100ml, 2 mg per litre: a concentration in the mass unit written
            name, size = _written_mass(t, d.end, r) or ("g", 1.0)
            d.value, d.scale, d.unit, d.end = _rescaled(d.value, size), d.scale / size, f"{name}/{per.unit}", per.end
        elif d.unit == "km" and r.speed_before.search(t, max(floor, d.start - _SPEED_REACH), d.start):
            d.unit = "km/h"  # 时速不得超25公里, 時速60公里以下: a speed, in kilometres an hour
        if t[d.end:d.end + 1] == "+" and not t[d.end + 1:d.end + 2].isalnum() and d.kind != "date":
            d.cmp, d.end = ">=", d.end + 1  # 5.5hr+ batteries, 4 hours+: that much or more
        return self.finish(d, floor, ranged)

    def denominator_before(self, s: int, floor: int, between: tuple[re.Pattern, frozenset],
                           per: tuple[tuple[re.Pattern, frozenset], dict[str, str]] | None = None) -> _Denominator | None:
        """A rate's denominator written before the figure at s (每吨50元), right before it or with a
        word of `between` in the middle (每瓩獎勵三千元: a grant verb; 每升不得超过0.5毫克: a bound), or None.
        `per` (a pattern and its units) reads another kind of denominator: 每, an act and the one unit it
        is counted in (每節省一度可獲得0.6元, 每减排一吨补贴100元)."""
        r = self.r
        pattern, units = per or (r.b_per_prefix, r.per_prefix)
        at, first, yearly = s, None, False
        for _ in range(_BETWEEN_WORDS + 1):  # 每度電價皆調漲0.1元: a few such words in a row
            if pt := self.before(pattern, at, floor):
                return _Denominator(pt[0], self.in_context(pt, units[key(pt[1])]), first, yearly)
            if (gl := _LATIN_GLOSS_BEFORE.search(self.t, max(floor, at - _LATIN_GLOSS_REACH), at)) \
                    and (pt := self.before(pattern, gl.start(), floor)):
                return _Denominator(pt[0], self.in_context(pt, units[key(pt[1])]), first, yearly)  # 每立方米(per cubic metre)
            if not (mid := self.before(between, at, floor)):
                return None
            at, first, yearly = mid[0], first or mid[1], yearly or key(mid[1]) in r.year_words
        return None

    def in_context(self, pt: tuple[int, str], unit: str) -> str:
        """The unit of the per-prefix pt (its start and word), read in the text around it (quantities.json
        per_prefix_context: 每度 beside water words is per m3)."""
        c = self.r.per_prefix_context.get(key(pt[1]))
        if c is None:
            return unit
        t, at = self.t, pt[0]  # within its own sentence, as unit_context reads one
        around = _STATEMENT_END.split(t[max(0, at - c["reach"]):at])[-1] + _STATEMENT_END.split(t[at:at + c["reach"]])[0]
        near = any(w in around for w in c["near"]) and not any(w in around for w in c["not_near"])
        return c["unit"] if near else unit

    def denominator_head(self, s: int, floor: int) -> _Denominator | None:
        """A rate's denominator named before the noun whose amount is at s (1リットルあたりのガソリン税は
        53.8円, 每公升油耗值拉高到27公里), or None."""
        r, t = self.r, self.t
        if (hd := r.per_head.search(t, max(floor, s - _PER_HEAD_REACH), s)) and (pt := self.before(r.b_per_prefix, hd.end("w"), floor)):
            return _Denominator(pt[0], self.in_context(pt, r.per_prefix[key(pt[1])]), None)
        at = t.rfind("每", max(floor, s - _PER_GAP_REACH), s)  # 每公升油耗值拉高到27公里: 每 and its unit, a noun, the amount
        for e in range(s - 1, at, -1) if at >= 0 else ():
            if t[e] in _PER_GAP_STOPS or t[e].isdigit():
                return None
            if (pt := self.before(r.b_per_prefix, e, floor)) and pt[0] <= at:
                unit = self.in_context(pt, r.per_prefix[key(pt[1])])
                return None if unit in _PER_ENTITY else _Denominator(pt[0], unit, None)
        return None

    def glossed_year(self, d: _Draft) -> _Draft | None:
        """A year in brackets before its 年: a western year glossing an era year (令和5(2023)年度), or
        the current year named in its own era (本(114)年3月20日 in a Taiwan notice); the date,
        spanning the brackets and the unit; None when d is not one."""
        t = self.t
        if not (d.start and t[d.start - 1] in ROUND_OPEN and t[d.end:d.end + 1] in ROUND_CLOSE):
            return None
        if _is_year(d.value, self.r):
            value = d.value
        elif self.era is not None and t[d.start - 2:d.start - 1] in self.r.d["this_year_marks"] and self._bare_era_year(d.start, d.value):
            value = float(self.era + d.value)
        else:
            return None
        hit = self.unit(d.end + 1)
        if hit is None or hit[0].get("role") not in ("year", "fiscal"):
            return None
        return self.month_day(_Draft("date", value, "date", d.start - 1, hit[1]))

    def _short_fiscal_year(self, start: int, num_end: int, end: int, value: float) -> bool:
        """Whether N年度 is a fiscal year written with two digits (26年度 = FY2026, as the press
        writes it; 3カ年度 counts years, and an era before it is read as that era's year)."""
        return self.t[num_end:end].lstrip() in self.r.d["short_fiscal_years"]["units"] and self._short_year(start, value)

    def _short_year(self, start: int, value: float, zero_padded: bool = False) -> bool:
        """Whether a number is a year written with two digits in the press's span (short_fiscal_years),
        or, if `zero_padded` is allowed, one written with a leading zero (05年), with no era before it
        (令和7年 is that era's year)."""
        lo, hi = self.r.d["short_fiscal_years"]["span"]
        return (lo <= value <= hi or (zero_padded and self.t[start] == "0")) and value == int(value) \
            and self._digits(start, 2) and self.before(self.r.b_era, start, 0) is None

    def _place_short_year(self, start: int, num_end: int, value: float) -> bool:
        """Whether N年 is a year of the century written as two kanji digits in place (一六年, 二○年), in the
        press's span of years (short_fiscal_years); 十六年 counts years."""
        lo, hi = self.r.d["short_fiscal_years"]["span"]
        return num_end - start == 2 and all(c in self.r.place_digits for c in self.t[start:num_end]) and lo <= value <= hi

    @cached_property
    def writes_press_years(self) -> bool:
        """Whether the text writes years with two digits as the Japanese press does (05年以降, 13年比)."""
        return self.r.press_years.evidence.search(self.t) is not None

    def _press_year(self, start: int, value: float, end: int) -> bool:
        """Whether a two-digit N年 at start is a year of the century in a text that writes years so
        (data: press_years): followed the way a date is, with no word of length before it."""
        py = self.r.press_years
        return self.writes_press_years and py.after.match(self.t, end) is not None \
            and py.not_before.search(self.t, max(0, start - 6), start) is None and self._short_year(start, value, zero_padded=True)

    def _bare_era_year(self, start: int, value: float, end: int | None = None) -> bool:
        """Whether a number at start is an era year written without its era: within the era's span of
        years (data: bare_era_years), in three digits or in kanji past a hundred (一百十四年度: no
        duration runs a hundred years), in kanji with a month after its 年 (end): 九十五年十月一日, or in
        two digits with a full month and day after it (96年6月30日), or as a fiscal year (九十七年度, 97年度)."""
        lo, hi = self.r.d["bare_era_years"]["span"]
        if not (lo <= value <= hi and value == int(value)):
            return False
        if end is not None and self.t[end:end + 1] in _WITHIN and value % 100 == 0:
            return False  # 一百年內: within a hundred years, a span (GWP100), no era year; 119年內 is no span
        month = self.r.month.match(self.t, end) if end is not None else None
        fiscal = end is not None and self.t.endswith("年度", 0, end)  # 九十七年度: a fiscal year named, never a span of years
        if end is not None and self.t[start] == "百" and month is None and not fiscal:
            return False  # 放置百年後: a century, the idiom; the era year 100 is written 一百年, 百年度 or with its month
        return self._digits(start, 3) or (not self.t[start].isdigit() and (value >= 100 or month is not None or fiscal)) \
            or ((fiscal or (month is not None and month.group().endswith("日"))) and self._digits(start, 2))  # 96年6月30日

    def _digits(self, start: int, n: int) -> bool:
        """Whether exactly n Arabic digits stand at start (none right before or after them)."""
        t = self.t
        return t[start:start + n].isdigit() and not t[start + n:start + n + 1].isdigit() and not (start and t[start - 1].isdigit())

    def chain(self, d: _Draft, u: dict, amount: float, half: bool) -> None:
        """Durations and masses chain smaller units and halves: 兩年零三個月, 3斤5两, 一年半, 五分半鐘.
        A plain reading, and a whole unit with a half (3年半: 3.5 years), keeps the text's unit; a chain,
        or a half alone (半年: 6 months), is given in the smaller unit."""
        r, t = self.r, self.t
        total, smallest, pos = amount * _base(u, r), u, d.end
        while (nm := r.num.match(t, r.join.match(t, pos).end())) and (hit := self.unit(nm.end())):
            b2 = _base(hit[0], r) if hit[0]["kind"] == u["kind"] and not hit[0].get("role") else None
            if b2 is None and self.legal_months(d, u, amount, nm, hit[1]):
                b2 = _base(hit[0], r, month_ok=True)  # 四年一月: four years and one month
            cv = core_value(nm.group(), r) if b2 is not None else None
            if b2 is None or cv is None or b2 >= _base(smallest, r) or cv[0] * b2 >= 0.99 * _base(smallest, r):
                break  # 一天24小時 restates the day in hours: a chain's smaller part is less than one larger unit
            total, smallest, pos = total + cv[0] * b2, hit[0], hit[1]
        if not half and (ht := r.half_tail.match(t, pos)):
            total, half, pos = total + 0.5 * _base(smallest, r), True, ht.end()
        d.end = pos
        if "chain" in u:
            d.value = total / _base(u, r)  # 3 feet 9 inches: 3.75 feet, in the unit written first
        elif u["kind"] != "duration":
            d.value, d.scale = total, d.scale * _base(u, r)
        elif smallest is u and not half:
            d.value, d.scale = amount * u.get("factor", 1), d.scale * u.get("factor", 1)
        elif smallest is u and amount >= 1:  # 3年半, 一個半小時: a whole unit and a half stays in that unit
            d.value, d.scale = total / r.seconds[d.unit], d.scale * _base(u, r) / r.seconds[d.unit]
        else:
            d.unit = r.half_grain[smallest["unit"]] if half else smallest["unit"]
            d.value, d.scale = total / r.seconds[d.unit], d.scale * _base(u, r) / r.seconds[d.unit]

    def legal_months(self, d: _Draft, u: dict, amount: float, nm: re.Match, end: int) -> bool:
        """Whether the 月 that follows a count of years in kanji (経過年数四年一月以下, 二年十一月) counts months as legal
        Japanese does: both counts in kanji, a few years (quantities.json legal_months_max_years), no day after the
        month. An era's year (令和四年一月) and a press year (25年4月) were read as dates before."""
        r, t = self.r, self.t
        return u["kind"] == "duration" and u["unit"] == "year" and amount <= r.d["legal_months_max_years"] \
            and all(c in r.cjk_numeral_chars for c in t[d.start:d.end - 1]) and all(c in r.cjk_numeral_chars for c in nm.group()) \
            and t[end - 1:end] == "月" and r.day.match(t, end) is None

    def symbolic_offset(self, start: int) -> bool:
        """Whether the figure at start is added to or taken from a lone capital letter (N-1, T+2)."""
        t = self.t
        return start >= 2 and (t[start - 1] in self.r.minus or t[start - 1] == "+") and t[start - 2].isascii() \
            and t[start - 2].isupper() and (start < 3 or not t[start - 3].isalpha())

    def scored(self, d: _Draft, floor: int) -> bool:
        """Whether 分 right after figure d counts points: a word of scoring stands just before it
        (quantities.json score_before), or earlier in its sentence (score_sentence)."""
        if self.t[d.end:d.end + 1] != "分":
            return False
        if self.r.score_before.search(self.t, max(floor, d.start - 8), d.start) is not None:
            return True
        if not (self.t.startswith(self.r.score_band_ends, d.end + 1) or self.t.endswith(self.r.score_band_starts, 0, d.start)):
            return False  # only a band's bounds (95分以上, 80分至94分) are read from a word further back
        start = max(self.t.rfind(c, max(0, d.start - _SCORE_SENTENCE_REACH), d.start) for c in "。；\n") + 1
        return self.r.score_sentence.search(self.t, max(0, start, d.start - _SCORE_SENTENCE_REACH), d.start) is not None

    def month_day(self, d: _Draft) -> _Draft:
        if (m := self.month_at(d.end)) is not None or (
                (gloss := self.r.year_gloss.match(self.t, d.end)) and (m := self.month_at(gloss.end())) is not None):
            d.value, d.end = round(d.value + m.month / 100, 2), m.end  # 2024年6月 -> 2024.06
        elif self.t.endswith(self.r.fiscal_suffix, 0, d.end) and self.t.startswith("末", d.end) \
                and "ぁ" <= self.t[d.end + 1:d.end + 2] <= "ゖ" and d.value == int(d.value):
            d.value, d.end = round(d.value + 1 + (self.r.fiscal_first_month - 1) / 100, 2), d.end + 1  # 2022年度末まで: 2023.03
        elif self.t[d.end - 1] == "年" and (mark := next((m for m in self.r.year_end if self.t.startswith(m, d.end)), None)):
            d.value, d.end = round(d.value + 0.12, 2), d.end + len(mark)  # 2022年底, 2014年年底: the end of 2022
        elif self.t[d.end - 1] == "年" and (mark := self.r.year_start.match(self.t, d.end)):
            d.value, d.end = round(d.value + 0.01, 2), mark.end()  # 2023年元旦: its first day
        return d

    def after_event(self, s: int) -> bool:
        """Whether 第 at s counts years from an event before it (验收后的第三年, 公告後之第五年)."""
        return "年" in self.t[s + 1:s + 7] and self.r.ordinal_after_event.search(self.t, max(0, s - 4), s) is not None

    def numeral_char(self, i: int) -> bool:
        """Whether text[i] is a digit or a character CJK numerals are written with (三, 十, 百)."""
        c = self.t[i]
        return c.isdigit() or c in self.r.cjk_numeral_chars

    def ordinal_before(self, s: int) -> bool:
        c = self.t[s - 1]
        if c == "第" or (c == " " and s > 1 and self.t[s - 2] == "第"):
            return True
        if c in _ORDINAL_LIST_MARKS:  # 第五、六、七、八项: each number of a list opened by 第 is an ordinal too
            i = s - 1
            while i > max(0, s - _ORDINAL_LIST_REACH) and (self.t[i - 1] in _ORDINAL_LIST_MARKS or self.numeral_char(i - 1)):
                i -= 1
            return i > 0 and self.t[i - 1] == "第" and self.numeral_char(i)
        return (c in " .§" or (c.isascii() and c.isalpha())) and self.before(self.r.b_ordinal, s, 0) is not None

    def finish(self, d: _Draft, floor: int, ranged: bool) -> _Draft | None:
        """Prefixes (currency, per tonne, comparator), suffix comparator and ranges."""
        r, t = self.r, self.t
        if d.bare_kanji and not self.loose and not (d.kind == "number" and self.before(r.b_multiple, d.start, floor)):
            # A lone 一/三/万 in running text is nearly always part of a word; keep it only as the low
            # end of a range such as 三〜五年 (and skip the look-behind work: CJK text is full of them),
            # or after a word that names it a coefficient (調整係數值為一).
            return self.connector_range(d, floor) if ranged else None
        if d.unit and _GLUED_NAME.fullmatch(t, d.start, d.end) and (r.section_before.search(t, max(floor, d.start - 12), d.start)
                                                               or r.section_after.match(t, d.end)
                                                               or _LETTER_HYPHEN.fullmatch(t, max(floor, d.start - 2), d.start)):
            return None  # Internal Revenue Code (IRC) 45W, section 48C, the 45V credit: a section's name; e-2W: a vehicle class
        if self.symbolic_offset(d.start):
            return None  # N-1年度, T+2日: an offset from a symbolic year or day, no figure of its own
        if t.startswith(r.per_after, d.end) or (d.unit is None and HAN_RX.match(t, d.end) and t.startswith(r.per_after, d.end + 1)):
            return None  # 1トン当たり, 売上高千円当たり, 1戸あたり: the denominator of a rate, not a quantity
        if d.start and t[d.start - 1] == "每" and any(t.startswith(w, d.start - 1) for w in r.per_scaled):
            return None  # 每千度補助五百萬元: a scaled unit after 每, the denominator of the rate after it
        if d.kind in ("money", "quantity") and r.step_after.match(t, d.end):
            return None  # その価額一万円までごとに七円: the step a charge is counted in
        if d.kind == "quantity" and d.value is not None and _is_year(d.value, r) and t[d.start:d.start + 4].isdigit() \
                and _YEAR_DATA.match(t, d.end):
            return None  # verified 2010 tkm data: the year the data cover, no amount
        s = d.start
        if d.kind == "money" and d.value is not None and t[d.end - 1:d.end] in r.denoms:
            self.smaller_denominations(d)  # 二元五角: two and a half
        if "multiple of" in t[max(floor, s - _ROUNDING_REACH):s] and r.rounding_before.search(t, max(floor, s - _ROUNDING_REACH), s):
            return None  # if any amount is not a multiple of 1 cent: the step again, before its rounding
        if d.kind in ("number", "money") and r.rounding_after.match(t, d.end):
            return None  # 1,000円未満の端数は切り捨て: the unit of rounding
        if d.kind in ("number", "money") and (cur := self.before(r.b_cur, s, floor)) \
                and (d.value or 0) >= r.cur_floor.get(cur[1], 0):
            d.kind, d.unit, s = "money", r.cur_map[cur[1]], cur[0]
        elif d.kind == "number" and d.value and (fine := r.fine_after.match(t, d.end)):
            d.kind, d.unit = "money", r.d["fine_nouns"]["currency"][fine.lastgroup]  # 50万以下の罰金: the yen left out
        elif d.kind == "number" and d.value and (sum_of := next((g for g, lead in r.bare_sums if d.scale >= g["min_scale"]
                and (d.end == len(t) or t[d.end] in g["ends"]) and self.before(lead, s, floor)), None)):
            d.kind, d.unit = "money", sum_of["currency"]  # 最高補助30萬。, 投資額1000萬以上: the yuan left out
        if d.kind == "money" and t.startswith("/-", d.end):
            d.end += 2  # Rs. 30,000/-: the Indian mark that no paise follow, before its denominator (/- per kW)
        if d.kind == "money" and (den := self.denominator_before(s, floor, r.b_per_verb)):
            # 每一公噸新臺幣一千五百元, 每千瓦时0.3元, 每瓩獎勵三千元; 每平方公里每年500元
            d.unit, s = f"{d.unit}/{den.unit}{'/yr' if den.yearly else ''}", den.start
        elif d.kind == "money" and (per := _per_after(t, d.end, r)):
            d.unit, d.end = f"{d.unit}/{per.unit}", per.end  # per tonne, /t, £18 / tCO2e
            if per.unit not in _PERIODS and (py := r.per_re.match(t, d.end)) and (period := r.per[key(py.group("p"))]) in _PERIODS:
                d.unit, d.end = f"{d.unit}/{period}", py.end()  # $3 per acre per year, 50 cents per square foot per month
        elif d.kind == "money" and "/" not in d.unit and (den := self.denominator_head(s, floor)):
            d.unit = f"{d.unit}/{den.unit}"  # 1リットルあたりのガソリン税は53.8円: the denominator named once, before its noun
        elif d.unit == "g" and (den := self.denominator_before(s, floor, r.b_cmp)) and den.unit in r.concentration_per \
                and (mass := _written_mass(t, d.end, r)) is not None:
            # 一リットルにつき二十ミリグラム以下, 每升不得超过0.5毫克, 一立方メートルにつき〇・一ナノグラム: a concentration in the
            # mass unit written, per litre, cubic metre or gram (or per 100 mL as fuel standards state it)
            name, size = mass
            d.value, d.vmax = _rescaled(d.value, size), None if d.vmax is None else _rescaled(d.vmax, size)
            d.unit, s = f"{name}/{den.unit}", den.start
            if den.between is not None:
                d.cmp = r.cmp_pre[key(den.between)]
        elif d.kind == "quantity" and d.unit in _FLOWING and (den := self.denominator_before(s, floor, r.b_cmp)) \
                and den.unit in _INTENSITY_OF:
            d.unit, s = f"{d.unit}/{den.unit}", den.start  # 1kWh当たり0.45キログラム, 每公里不超过0.2千克
            _rename_rate(d, r)  # 百公里5升: L/100km
            if den.between is not None:
                d.cmp = r.cmp_pre[key(den.between)]
        elif d.kind == "quantity" and d.unit in _FLOWING and (den := self.denominator_head(s, floor)) and den.unit in _INTENSITY_OF:
            d.unit = f"{d.unit}/{den.unit}"  # 汽車平均每公升油耗值拉高到27公里: km/L
        if d.kind == "number" and d.end - s == 2 and t[s:d.end].isdigit() and _FY_SHORT[0] <= d.value <= _FY_SHORT[1] \
                and (fy := self.before(r.b_fiscal, s, floor)) and fy[0] == s - 2:
            d.kind, d.unit, d.value, s = "date", "date", 2000.0 + d.value, fy[0]  # FY26: the fiscal year 2026
        if d.kind == "number" and _is_year(d.value, r) and t[s:d.end].isdigit():
            if fy := self.before(r.b_fiscal, s, floor):
                d.kind, d.unit, s = "date", "date", fy[0]
            elif not self.loose and (self.before(r.b_word, s, floor) or r.year_hyphen.search(t, max(floor, s - 6), s)
                                     or _YEAR_LIST_BEFORE.search(t, max(0, s - 10), s) or r.year_onward.match(t, d.end)
                                     or (_TIMELINE_OPEN.search(t, max(0, s - 8), s) and r.year_timeline.match(t, d.end))
                                     or r.year_of_figure.match(t, d.end)):
                # by 2030, from mid-2026, for 2030, 2035 and 2040, 2036 and thereafter, 2025: …, 2025 - ZAR 236
                d.kind, d.unit = "date", "date"
        if d.kind == "number" and (mp := self.before(r.b_multiple, s, floor)):
            d.kind, d.unit, s = "quantity", "multiple", mp[0]  # multiplied by 5
        elif d.kind == "number" and r.multiply_by.search(t, max(0, s - _MULTIPLY_REACH), s):
            d.kind, d.unit = "quantity", "multiple"  # multiply these credits by 1.5: the verb's object between, figures and all
        if d.unit == "t" and (py := self.before(r.b_per_year, s, floor)):
            d.unit, s = "t/yr", py[0]  # 年間100万トン
        spread = None  # over 2-3 years: the span a range covers, no bound
        if (cp := self.before(r.b_cmp, s, floor)) and not (cp[0] and t[cp[0] - 1] in r.d["comparator_not_after"].get(cp[1], "")):
            if ranged and key(cp[1]) in r.spread_before:
                spread = s
            d.cmp, s = r.cmp_pre[key(cp[1])], cp[0]
        elif d.kind == "count" and (sc := r.count_cmp_before.search(t, max(floor, s - _COUNT_CMP_REACH), s)):
            d.cmp = r.count_cmp[sc.group("c")]  # 每年應至少辦理一次檢查: the bound is the count's, its verb between
        elif d.kind == "count" and self.before(r.b_count_limit, s, floor):
            d.cmp = "<="  # 得申請展延一次: how many times a period may be extended, at most
        d.start = s
        if (d.kind == "duration" and r.anaphora.search(t, max(floor, s - _ANAPHORA_REACH), s)) \
                or (d.kind == "count" and self.counted_again(s, floor)):
            return None  # 当該一年間, that seven-year period, 这两项要求: a period or a number of things stated before, named again
        if d.kind == "duration" and (t.startswith(r.duration_label_after, d.end)
                                     or (r.narrative_before.search(t, max(floor, s - _ANAPHORA_REACH), s)
                                         and not t.startswith(r.lookback_after, d.end))):
            return None  # 三年行动计划, 三年来, 过去十年: a plan's name or a narrative (过去三年内 is a look-back)
        if d.kind == "duration" and d.unit in r.flow_period_units and d.value == 1 and r.flow_period_after.match(t, d.end):
            return None  # 一日に製造する…容積: the period of a rate given elsewhere
        if d.kind == "duration" and d.unit in r.ago_units and t.startswith(r.ago_after, d.end) and not (s and t[s - 1] in r.ago_not_after) \
                and not r.month_count_before.match(t, d.end):
            return None  # 4年前與…引入, 3年前に導入された: years ago, a past event's date
        if d.kind == "duration" and d.unit == "day" and r.news_day.match(t, d.end) and s \
                and (t[s - 1] in r.news_day_before or (t[s - 1] == " " and s > 1 and t[s - 2] in r.news_day_before)) \
                and d.value is not None and d.value == int(d.value) <= 31:
            return None  # 小委員会が13日、…を公表した, 歐盟17日釋出的法案: the day of the month a news item reports
        if d.kind == "duration" and d.unit == "day" and d.value is not None and d.value == int(d.value) <= 31 \
                and ((r.sibling_day_after.match(t, d.end) and r.sibling_day_before.search(t, max(0, s - _SIBLING_DAY_REACH), s))
                     or r.joined_day_before.search(t, max(0, s - _JOINED_DAY_REACH), s)):
            return None  # 9月12日に…を、13日に…を採択した, 12月28日和29日: another day of the month named before
        if d.value == 1 and d.vmax is None and r.not_even_one.match(t, d.end):
            return None  # 1円も減らない: not even one
        if d.kind == "count" and (not s or t[s - 1] == "\n") and _SECTION_NUMBER.match(t, s):
            return None  # 8 项目审定…: a section's number before its heading, not a count
        if spread is not None and (merged := self.connector_range(d.unbounded_from(spread), floor)) \
                and merged.vmax is not None:
            return merged
        if ranged and (d.value is not None and d.cmp in (None, "~") or d.kind == "date" and d.cmp is None) \
                and (merged := self.connector_range(d, floor)):
            if merged.kind == "money" and "/" not in merged.unit \
                    and (den := self.denominator_before(merged.start, floor, r.b_per_verb)):
                merged.unit, merged.start = f"{merged.unit}/{den.unit}", den.start  # 每度3.7635~5.7848元, 每度價格落在…到…元
            if merged.kind == "number" and self.scored(merged, floor):
                merged.kind, merged.unit, merged.end = "quantity", "points", merged.end + 1  # ESG占10至15分
            if merged.kind == "number" and merged.unit is None and not self.loose and self.labelled(merged):
                return None  # sections 30101 through 30169: provisions named, as a single one is
            return merged
        at = sa.end() if d.kind == "quantity" and (sa := r.substance_after.match(t, d.end)) else d.end
        if t.startswith(r.inclusive_marks, at):  # 5000吨（含）以上: the bound includes the figure
            at = next(at + len(mk) for mk in r.inclusive_marks if t.startswith(mk, at))
        suffixed = self.follows(at, r.cmp_first, " ") and (cs := r.cmp_suf_re.match(t, at))
        if suffixed:
            d.cmp, d.end = r.cmp_suf[key(cs.group("c"))], cs.end()
        if ranged and d.cmp in (">=", ">") and d.value is not None:
            if suffixed or t[d.end:d.end + 1] in _LIST_GAP or (not t[d.end:d.end + 1].isascii() and r.cmp_pre_fwd.match(t, d.end)):
                # 5万元以上50万元以下; 最短為一年、最長為三年; 超過一萬元未滿五百萬元; 6.5噸以上~14噸: a wave dash
                # after the bound closes the band with a bare figure
                self.band(d, open_end=suffixed and t[d.end:d.end + 1] in _WAVES)
            elif not suffixed and (to := _BAND_TO.match(t, d.end)):
                self.band(d, to.end(), open_end=True)  # 大於75kW至200kW: above the first, up to the second
            elif t[d.end:d.end + 1] in ", " and (j := _EN_BAND_JOIN.match(t, d.end)):
                self.band(d, j.end())  # at least five minutes and less than 15 minutes
        if d.kind == "money" and d.value is not None and d.value < 0 and t[d.start] in r.minus and d.vmax is None:
            d.value, d.start = -d.value, d.start + 1  # 補助額 -4.4万円: a sum shown as taken off a price, still a sum
        if not self.loose and d.kind == "number" and not d.cmp:
            if d.unit is None and self.labelled(d):
                return None  # Categories 1, 3 and 4: labels, which a count word nearby must not make counts
            nxt, prev = t[d.end:d.end + 1], t[s - 1:s] if s else "\n"
            year = self._digits(s, 4)  # a year never numbers a list: (2021 to 2025), 2028 | 4.0% |
            fraction = d.value is not None and d.value != int(d.value)  # 3分の2、: a fraction numbers no list
            if (nxt == "、" and not fraction) or (nxt in (")", "）") and not year) or (nxt and nxt in ". " and prev == "\n" and not year) \
                    or (nxt == "." and t[d.end + 1:d.end + 2] in (" ", "") and d.value < 100 and d.end - s <= 2
                        and prev not in _DASHES):  # 2023–24. ends a range
                return None  # list and paragraph markers: (1) 一、 2. and a line-leading "２　"
        return d

    def cjk_between(self, d: _Draft, at: int) -> _Draft | None:
        """d as the low end of a Chinese range whose ends an 和 joins and 之间 closes (在100万千瓦时和1000万千瓦时
        之间, 介于1万吨与5万吨之間), or None."""
        if (j := _CJK_AND.match(self.t, at)) is None or (am := self.r.anchor.match(self.t, j.end())) is None:
            return None
        hi = self.read(am, j.end(), False)
        if hi is None or hi.start != j.end() or hi.value is None or hi.cmp is not None \
                or _CJK_BETWEEN_END.match(self.t, hi.end) is None or (hv := _in_unit_of(d, hi, self.r)) is None or d.value > hv:
            return None
        d.vmax, d.cmp, d.end = hv, "range", hi.end
        return d

    def smaller_denominations(self, d: _Draft) -> None:
        """A sum in a yuan or dollar ending on its unit goes on through smaller denominations written
        after it (每度電二元五角: 2.5; 三元二角五分: 3.25), each a figure then its unit."""
        r, t = self.r, self.t
        rank = r.denoms[t[d.end - 1]]
        while (step := _denomination(t, d.end, r)) and step.figure is not None and step.rank < rank \
                and t[step.end:step.end + 1] not in r.denom_not_before:
            rank = step.rank
            d.value, d.end = round(d.value + step.figure * rank, 4), step.end

    def band(self, d: _Draft, at: int | None = None, open_end: bool = False) -> None:
        """Close the range a lower bound d opens with the upper bound right after it (or at `at`, past
        an English joiner or 至), if there is one; `open_end`: the upper figure may stand with no bound
        word of its own (大於75kW至200kW)."""
        r, t = self.r, self.t
        # 一千萬元以上，未滿五千萬元, 2.8kW超~28.0kW以下: a band
        p = at if at is not None else d.end + (t[d.end:d.end + 1] in _BAND_GAP or t[d.end:d.end + 1] in _DASHES)
        if at is None and p > d.end and t[p - 1] != " " and t[p:p + 1] == " ":
            p += 1  # 500 元以上、 6 萬元以下: a space after the list mark
        if at is None and (lead := _BAND_LEAD.match(t, p)):
            p = lead.end()  # 逾5峰瓩，且在10峰瓩以下: the second bound after a comma and 且
        if at is None and (cap := _CAP_LEAD.match(t, p)):
            p = cap.end()  # 二十瓩以上，且以三百瓩為上限: the upper bound stated as a cap
        q = cp.end() if (cp := r.cmp_pre_fwd.match(t, p)) else p  # 五千吨以上不满一万吨: the bound's own prefix
        lead = p
        if cp is not None and (cp2 := r.cmp_pre_fwd.match(t, q)):
            lead, q = q, cp2.end()  # 最短为7年，最长不超过10年: two bound words, the second the figure's own
        q = cf.end() if (cf := r.cur_fwd.match(t, q)) else q  # …以上，未滿新臺幣五千萬元: and its currency
        hi = self.read(am, lead, False) if (am := r.anchor.match(t, q)) else None
        closes = hi is not None and (hi.cmp in ("<=", "<") or (open_end and hi.cmp is None)) and hi.start == lead
        if closes and d.kind == "number" and d.unit is None and hi.kind not in ("number", "date") and hi.value is not None:
            d.kind, d.unit = hi.kind, hi.unit  # at least 10,000 and less than 50,000 tonnes: the unit written once, last
        hv = _in_unit_of(d, hi, r) if closes else None
        if closes and hv is None and d.unit == "percent" and hi.unit == "multiple" and hi.value is not None:
            # 税款百分之五十以上五倍以下: a fine from half to five times the base, one range of multiples
            d.kind, d.unit, d.value, hv = hi.kind, hi.unit, round(d.value / 100, 4), hi.value
        if hv is not None and d.value <= hv:
            d.vmax, d.cmp, d.end = hv, "range", hi.end

    def month_at(self, pos: int) -> _Month | None:
        """The month written at pos, with its day if one follows (6月, 3月31日), or None."""
        mm = self.r.month.match(self.t, pos)
        cv = core_value(mm.group("m"), self.r) if mm else None
        return _Month(int(cv[0]), mm.end()) if cv and cv[0] == int(cv[0]) and 1 <= cv[0] <= 12 else None

    def year_of(self, hi: _Draft, lo: _Draft) -> None:
        """A month-day end of a date range (3月31日) in the year of its start, not before it."""
        if (m := self.month_at(hi.start)) is not None and (value := round(int(lo.value) + m.month / 100, 2)) >= lo.value:
            hi.value = value

    def year_before(self, lo: _Draft, hi: _Draft) -> None:
        """A start month with no year (7月) before an end with one (2013年3月): the end's year when the
        month comes no later than the end's, else the year before."""
        year, end_month = int(hi.value), round(hi.value % 1 * 100)
        if end_month and (m := self.month_at(lo.start)) is not None:
            lo.value = round(year - (m.month > end_month) + m.month / 100, 2)

    def old_value(self, d: _Draft, at: int) -> None:
        """A bare old value before its new one (dropped from 85.77 to 76.60 gCO2e/MJ, rose from 20 to 25
        percent, extended from 15 to 20 years) is in the new one's unit."""
        r, t = self.r, self.t
        if d.kind != "number" or d.value is None or not (cm := r.connector.match(t, at)):
            return
        hi = self.read(am, cm.end(), False) if (am := r.anchor.match(t, cm.end())) else None
        if hi is not None and hi.start == cm.end() and hi.kind in ("percent", "quantity", "money", "duration") and hi.unit:
            d.kind, d.unit = hi.kind, hi.unit
            if d.scale == 1:  # from 23 million to 65.3 million tonnes: an old value with its own multiplier keeps it
                d.value, d.scale = d.value * hi.scale, hi.scale

    def next_year(self, d: _Draft, fy: re.Match, floor: int) -> bool:
        """Whether the /25 or /2025 after a year (fy) is the year after it: 2024/25 and 2024/2025 name one
        financial or scheme year; Regulation (EU) 2023/2024 is a number."""
        if fy.group(1):
            return int(fy.group(1)) == (d.value + 1) % 100
        return int(fy.group(2)) == d.value + 1 and not self.r.law_number_before.search(self.low, max(floor, d.start - 16), d.start)

    def connector_range(self, d: _Draft, floor: int) -> _Draft | None:
        """600-1200 万吨, 600から1,200万トン, from 10 to 20 years, between X and Y, NT$100,000 to NT$1 million;
        two dates with no year (四月一日から三月三十一日まで, 7月1日至12月31日) make one period with no year either."""
        r, t = self.r, self.t
        at = d.end
        if d.kind == "percent" and d.value is not None and (pm := _PLUS_MINUS.match(t, at)) \
                and 0 < (tol := float(pm.group(1))) < d.value:
            d.value, d.vmax, d.cmp, d.end = d.value - tol, d.value + tol, "range", pm.end()
            return d  # 24%±1%: a target with its tolerance, the span from 23% to 25%
        if t[at:at + 1] in _FY_MARKS and d.end - d.start == 4 and d.value is not None and d.value == int(d.value) and _is_year(d.value, r) \
                and (fy := _FY_NEXT.match(t, at)) and self.next_year(d, fy, floor):
            d.kind, d.unit, d.vmax, d.cmp, d.end = "date", "date", d.value + 1, "range", fy.end()
            if (nx := _FY_RANGE_NEXT.match(t, d.end)) and int(nx.group(2)) == (int(nx.group(1)) + 1) % 100 \
                    and int(nx.group(1)) > d.value:
                d.vmax, d.end = float(int(nx.group(1)) + 1), nx.end()  # the 2016-17 – 2022-23 periods: one span
            return d  # 2024/25: a financial or scheme year (2023/956, a regulation's number, is not)
        if t[at:at + 1] in _SPAN_MARKS and d.value is not None and d.value == int(d.value) and _is_year(d.value, r) \
                and t[d.end - 4:d.end].isdigit() and (fy := _FY_NEXT.match(t, at)) and fy.group(1) \
                and int(d.value) % 100 + 1 < int(fy.group(1)) \
                and not r.law_number_before.search(self.low, max(floor, d.start - 16), d.start):
            d.kind, d.unit, d.vmax, d.cmp, d.end = "date", "date", d.value - d.value % 100 + int(fy.group(1)), "range", fy.end()
            return d  # 2021-30, FY2020-30: from the first year to the second, in the first's century
        if d.end - d.start == 4 and d.value is not None and _is_year(d.value, r) and d.value == int(d.value) \
                and (run := _year_run(t, at, int(d.value))) is not None \
                and ((kinded := _KINDED_YEARS.match(self.low, run[1]))
                     or r.in_before.search(self.low, max(floor, d.start - _IN_REACH), d.start)):
            d.kind, d.unit, d.vmax, d.cmp, d.end = "date", "date", float(run[0]), "range", kinded.end() if kinded else run[1]
            return d  # $25 per tonne in 2024 and 2025, model year 2014, 2015, or 2016: years in a row, one period
        if d.kind == "date" and d.value is not None and d.value == int(d.value) and t[d.end - 1:d.end] in "年度" \
                and (ny := _CJK_YEAR_AND_NEXT.match(t, at)) and int(ny.group(1)) == d.value + 1:
            d.vmax, d.cmp, d.end = d.value + 1, "range", ny.end()
            return d  # 2025年度および2026年度, 2025年度・2026年度: two years in a row, one period
        back = d.kind == "duration" and t.startswith(_COUNTED_BACK, at)
        if back:
            at += 1  # 90日前〜30日前まで: a window counted back from a day, its ends each marked 前
        if d.kind == "date" and (gap := r.date_gap.match(t, at)):
            at = gap.end()  # 2025年5月1日（木）～, 自2026年1月1日起至
        elif d.kind in ("money", "quantity") and (gl := _GLOSS.match(t, at)) and self.before(r.b_opener, d.start, floor):
            at = gl.end()  # from AED 50,000 (about US$13,600) to AED 2,000,000: the start's gloss in brackets
        if d.kind in ("quantity", "money", "percent", "count") and (between := self.cjk_between(d, at)) is not None:
            return between
        if not (self.follows(at, r.connector_first, "") or self.follows(at, r.connector_first, " ")
                or (t[at:at + 1] == "," and self.follows(at + 1, r.connector_first, " "))):
            return None  # after 2022, and before 2034: a paired closer may follow a comma
        opener = self.before(r.b_opener, d.start, floor)
        reach = floor
        if opener is None and (fa := _FROM_ALTERNATIVE.search(self.low, max(0, d.start - 24), d.start)):
            opener, reach = (fa.start(), "from"), 0  # from 150 or 300 to 700: the second old value, then the new one
        if opener is not None and key(opener[1]) == "from" and changes_from(self.low, opener[0], reach) \
                and not (self._digits(d.start, 4) and d.value is not None and _is_year(d.value, r) and _TO_A_YEAR.match(self.low, at)
                         and not r.date_changed.search(self.low, max(floor, opener[0] - 80), opener[0])):
            self.old_value(d, at)
            return None  # increases the rate from $35 to $60: an old and a new value, not a range
        paired = key(opener[1]) if opener is not None and key(opener[1]) in _PAIRED_OPENERS else None
        # between … and …, after … and before …: only the opener's own closer; any other opener also takes
        # a plain connector (from 2026 – 2030) besides its own closers (from 52 kV up to and including 145 kV)
        if not (cm := (r.closers[paired] if paired else r.connector).match(t, at)
                or (opener is not None and not paired and r.closers[key(opener[1])].match(t, at))
                or (paired == "between" and _TIGHT_DASH.match(t, at))):
            return None  # between 15-40%: a dash between two figures closes 'between' as 'and' would
        p = cm.end()
        same = r.same_year.match(t, p) if d.kind == "date" else None  # 九十五年十月一日至同年十二月三十一日
        latest = r.date_latest.match(t, p) if d.kind == "date" else None  # ~遅くとも2025年12月31日
        fw = same or r.cur_fwd.match(t, p) or r.era_fwd.match(t, p) or latest  # NT$100,000 to NT$1 million, 令和八年度から令和十一年度
        at_hi = fw.end() if fw else p + 1 if d.kind == "date" and self.era_initial(p + 1, p) else p  # R7年度~R9年度
        if d.kind != "date" and fw is None and (uw := r.upper_word.match(t, p)):
            p = at_hi = uw.end()  # 5 to less than 50 tonnes: the band's top said as a bound
        hi = self.read(am, p, False) if (am := r.anchor.match(t, at_hi)) else None
        if latest is not None and hi is not None and hi.start == latest.end():
            hi.start = p  # the period's end, marked as the latest
        if d.value is None and hi is not None and hi.start == p and hi.kind == "date" and hi.value is not None:
            self.year_before(d, hi)  # 7月から2013年3月末まで: the start's year is read back from the end's
        if d.value is None:  # a window with no year (one that comes back, or whose year the text gives elsewhere)
            if hi is None or hi.start != p or hi.kind != "date" or hi.value is not None or hi.cmp not in (None, "<=", "<"):
                return None
            d.cmp, d.end = "range", hi.end
            return d
        if hi is not None and d.kind == "date" and hi.kind == "date" and fw is None and hi.value is not None \
                and d.value is not None and hi.value == int(hi.value) and hi.value < d.value \
                and (era := r.era_fwd.match(t, d.start)) and (n := _BARE_YEAR.match(t, hi.start)):
            # 令和7年度から11年度まで, 令和7年度~11年度: the end written without its era is in the start's
            hi.value = float(r.d["eras"][era.group()] + int(cached_core_value(n.group(1))[0]))
        if hi is not None and d.kind == "date" and hi.kind == "duration" and hi.unit == "year" and fw is None \
                and d.value is not None and hi.value is not None and hi.vmax is None and (era := r.era_fwd.match(t, d.start)) \
                and 0 < r.d["eras"][era.group()] + hi.value - d.value <= _ERA_SPAN:
            # 中華民國一百零八年至一百十年間: the end, its era left out, read as a span of years is the era's year
            hi.kind, hi.unit, hi.value = "date", "date", float(r.d["eras"][era.group()] + hi.value)
        elif hi is not None and d.kind == "date" and hi.kind == "duration" and hi.unit == "year" and hi.vmax is None \
                and d.value is not None and d.value == int(d.value) and hi.value is not None and _is_year(hi.value, r) \
                and d.value < hi.value <= d.value + _ERA_SPAN:
            hi.kind, hi.unit = "date", "date"  # 二〇二四年至二〇二六年間: the end, read as years (年間), is a year
        if hi is not None and d.kind == "date" and hi.kind == "date" and hi.value is None and d.value is not None:
            self.year_of(hi, d)  # 2025年3月1日至3月31日: the end takes the start's year
            if same:
                hi.start = p
        if hi is None or hi.start != p or hi.value is None or hi.cmp not in (None, "<=", "<"):
            return None  # 令和八年度から令和十一年度まで: a 'まで' closing the range is part of it
        if d.kind == "date" and hi.kind == "date" and t[cm.start():cm.end()].strip() in _WAVES \
                and t[hi.end:hi.end + 1] in _WAVES:
            return None  # 平成24年10月1日~ 平成26年4月1日~: the steps of a schedule, each in force from its date
        if t[cm.start():cm.end()].strip() == "から" and r.change_to.match(t, hi.end):
            return None  # 20点から25点に変更: an old and a new value
        if d.kind == "date" and hi.kind == "number" and _is_year(hi.value, r) and hi.scale == 1:
            hi.kind, hi.unit = "date", "date"  # from 2022 through 2030: the second year is a year too
        elif (d.kind == "date" or d.kind == "number" and d.end - d.start == 4 and t[d.start:d.end].isdigit()) \
                and d.value == int(d.value) and _is_year(d.value, r) and hi.kind == "number" \
                and hi.end - hi.start == 2 and hi.value == (d.value + 1) % 100:
            d.kind, d.unit = "date", "date"
            hi.kind, hi.unit, hi.value = "date", "date", d.value + 1  # 2023–24: a financial year, in a sentence or a cell
        elif d.kind in ("number", "date") and (hi.kind == "number" or (hi.kind == "duration" and hi.unit == "year")) \
                and self._digits(d.start, 4) and self._digits(hi.start, 4) and d.value < hi.value \
                and _is_year(d.value, r) and _is_year(hi.value, r):
            # (2021 to 2025), 2024-2025年间: a period of years, not a number nor 2,025 years
            d.kind, d.unit, hi.kind, hi.unit = "date", "date", "date", "date"
        elif d.kind in ("number", "date") and d.value == int(d.value) and _is_year(d.value, r) and t[d.start:d.end].isdigit() \
                and hi.kind == "duration" and hi.unit == "year" and t[hi.start:hi.start + 2].isdigit() and hi.end - hi.start == 3 \
                and (y := d.value // 100 * 100 + hi.value) > d.value:
            d.kind, d.unit = "date", "date"  # 2023-25年累計: the years 2023 to 2025, not 25 years
            hi.kind, hi.unit, hi.value = "date", "date", y
        if d.kind == "money" and hi.unit is None and hi.cmp is None and (hi.kind == "number" or (hi.kind == "count" and hi.scale > 1)):
            hi.kind, hi.unit = "money", d.unit  # $230–350 million, EUR 2.5-7.5 million: the currency is said once
            if d.unit and "/" not in d.unit and (per := _per_after(t, hi.end, r)):
                hi.unit, hi.end = f"{d.unit}/{per.unit}", per.end  # USD 2.5 to 3.13 per unit: the rate is stated once, after the range
        low, kind, unit = d.value, d.kind, d.unit
        if d.kind == "number" and hi.kind == "date" and self.era is not None and self._bare_era_year(d.start, low):
            d.kind, d.unit, low = "date", "date", float(self.era + low)  # 114至115年: both years of the era
            kind, unit = "date", "date"
        if d.kind == "number" and d.unit is None:
            if d.scale == 1:  # 600-1200万吨, 20-25 Mt, 1-2年半, 3-5千万円 but 二十〜三十万
                own_small = any(c in r.small or c in r.tens for c in t[d.start:d.end])
                low *= hi.scale * (1 if own_small else hi.small)
                d.scale = hi.scale  # 4~11万円 is in ten thousands at both ends: no price quoted per unit
            kind, unit = hi.kind, hi.unit
        elif d.unit is not None and hi.unit is not None and d.unit == f"{hi.unit}/yr":
            pass  # 年間600万トンから1,200万トン: the yearly marker before the range covers both ends
        elif d.kind == "quantity" and d.unit is not None and hi.unit is not None and d.unit.startswith(hi.unit + "/"):
            pass  # 每兆瓦时0.9吨至1.0吨, MWhあたり0.918トンから1.094トン: the denominator before the range covers both ends
        elif d.kind == "money" and d.unit == hi.unit and d.scale == 1 and hi.scale > 1 and low <= hi.value / hi.scale:
            low *= hi.scale  # from $230 to $350 million, between €2.5 and €7.5 million: the scale is said once
        elif unit and hi.unit and "/" not in unit and (once := _rate_stated_once(t, d, hi, r)) is not None:
            low, unit = once, hi.unit  # between €0.37 and €0.48 per kg, 5g - 8g of sugar per 100ml: the rate is stated once
        elif not _same_dimension(d, hi):
            return None
        high = hi.value
        if back and not t.startswith(_COUNTED_BACK, hi.end):
            return None  # 30日前から施行日まで: the second end is no span counted back
        if low > high and kind == "duration" and ((d.start and t[d.start - 1] == _COUNTED_BACK) or back):
            low, high = high, low  # 屆滿前六個月至三個月間, 90日前〜30日前: a window counted back, from 3 to 6 months before
        if low > high and kind == "percent" and t[d.end:p].strip() in _TILDES:
            low, high = high, low  # 支援:2/3~1/3: a band of grant rates written from the higher
        if low > high:
            return None  # ISO 14064-1 is not a range
        d.kind, d.unit, d.value, d.vmax, d.cmp, d.end, d.bare_kanji = kind, unit, low, high, "range", hi.end, False
        d.start = opener[0] if opener else d.start
        return d


_PAGE_AFTER = regex_cache.compile(r"[ 　]?(?:ページ|頁|page)")  # (3/4 ページ): page 3 of 4, no share
_BETWEEN_WORDS = 3  # how many words may stand between a rate's denominator and its amount (電價 皆 調漲)
_PLUS_MINUS = regex_cache.compile(r"[ ]?(?:±|＋－|\+/-)[ ]?([0-9]{1,3}(?:\.[0-9]{1,3})?)[ ]?(?:%|％)")  # 24%±1%
_TILDES = ("~", "～", "〜")  # the wave dashes a CJK range is written with


def _year_run(t: str, at: int, first: int) -> tuple[int, int] | None:
    """(last year, end) of a list of years in a row after a year `first` ending at `at` (2024 and 2025;
    2021, 2022 and 2023; 2014, 2015, or 2016), or None: a list that skips a year is no period."""
    year = first
    while (m := _YEAR_LISTED.match(t, at)) and int(m.group(1)) == year + 1:
        year, at = year + 1, m.end()
    if (m := _YEAR_AND_NEXT.match(t, at)) and int(m.group(1)) == year + 1:
        return year + 1, m.end()
    return None


class _Month(NamedTuple):
    """A month written in a date (Scan.month_at)."""

    month: int
    end: int  # past its day, if one is written


_ALTERNATIVE_KINDS = frozenset({"money", "quantity", "percent", "duration", "count"})  # kinds a unit is said once for


def _rates_times_quantity(t: str, drafts: list[_Draft], r: _Rules) -> None:
    """An amount multiplied by a quantity (3.5円×400kWh=1,400円, 15円×30㎥) is a rate per that
    quantity's unit: a worked example shows the rate and a use it applies to."""
    for a, b in zip(drafts, drafts[1:]):
        if a.kind == "money" and a.unit and "/" not in a.unit and b.kind == "quantity" and b.unit in r.per_unit_names \
                and b.scale == 1 and r.times.fullmatch(t, a.end, b.start):
            a.unit = f"{a.unit}/{b.unit}"


_ONE_PERIOD = {"day": "day", "week": "week", "month": "month", "year": "yr", "hour": "hour"}  # 一天200英镑: GBP/day


def _groupings_named_once(t: str, drafts: list[_Draft], r: _Rules) -> list[_Draft]:
    """A grouping named again (三大城市群 ... 三大城市群): only its first mention counts the kinds."""
    seen: set[str] = set()
    out = []
    for d in drafts:
        if d.kind == "count" and d.end and t[d.end - 1] in r.grouping_counters:
            named = t[d.start:d.end + _GROUPING_NOUN]
            if named in seen:
                continue
            seen.add(named)
        out.append(d)
    return out


def _one_unit_rates(t: str, drafts: list[_Draft], r: _Rules) -> list[_Draft]:
    """One unit of a quantity right before an amount (1リットル170円, 1ℓ 175円, 1 kWh 30円) is that
    amount's denominator, not a measure of its own."""
    out: list[_Draft] = []
    for d in drafts:
        a = out[-1] if out else None
        if a is not None and a.kind in ("quantity", "duration") and a.cmp is None and d.kind == "money" and d.unit and "/" not in d.unit \
                and r.one_unit_gap.fullmatch(t, a.end, d.start) and (per := _one_unit(a, r)) is not None:
            d.unit, d.start = f"{d.unit}/{per}", a.start
            out[-1] = d  # the unit is the price's denominator, no measure of its own
        else:
            out.append(d)
    return out


def _one_unit(d: _Draft, r: _Rules) -> str | None:
    """The denominator one unit of quantity d names (1 kWh, 1 tonne; 1 litre, kept as 0.001 m3; 一天, 1か月: a
    period), or None."""
    if d.kind == "duration":
        return _ONE_PERIOD.get(d.unit) if d.value == 1 else None
    if d.value == 1 and d.unit in r.per_unit_names:
        return d.unit
    if d.unit == "m3" and d.value is not None and abs(d.value - 0.001) < 1e-12:
        return "L"
    return None


class _Denominator(NamedTuple):
    """A rate's denominator written before its figure (Scan.denominator_before)."""

    start: int
    unit: str  # per_prefixes' unit: t, kWh, L, ...
    between: str | None  # the word between it and the figure (a grant verb, a bound), if any
    yearly: bool = False  # a year word stood between them (每平方公里每年500元): a yearly rate


# to: from $35 to $60 per ton, two values; a bound word after the coordinator: 上限を4,300円、下限を1,700円
_COORDINATED = regex_cache.compile(
    r"[ ]?(?:或者|或|及|和|与|與|、|,|，|or|and|to|(?:[a-z-]{1,20} )?[(（])[ ]?(?:(?:上限|下限|最高|最低)(?:を|は|が|为|為)?)?")


def _total_cap(t: str, a: _Draft, b: _Draft) -> bool:
    """Whether b, a bound after the rate a (1kWあたり12万円(上限36万円), $3,000 per ton (maximum $10,000)),
    caps the total rather than the rate: it is several times the rate (a cap of the rate itself is near
    it), with a word of bounding between (quantities.json total_cap)."""
    cap = _rules().d["total_cap"]
    if a.value is None or b.value is None or b.value < cap["ratio"] * a.value:
        return False
    between = t[a.end:b.end].lower()
    return any(w in between for w in cap["words"])


def _times_sign(t: str, at: int) -> bool:
    """Whether the x at `at` multiplies (購置成本x30％, (A)x0.5, 2 x30) rather than opening an identifier (X30, 0x30)."""
    before = t[at - 1:at]
    return before in _FACTOR_ENDS or (before == " " and t[at - 2:at - 1] in _FACTOR_ENDS + "0123456789") \
        or (before != "" and not before.isascii())


_FACTOR_ENDS = ")）]"
# an English gloss in brackets right after a CJK denominator (按每立方米(per cubic metre)分別上調0.20元)
_LATIN_GLOSS_BEFORE = regex_cache.compile(r"[(（][A-Za-z][A-Za-z0-9 .,/-]{0,30}[)）]$")
_LATIN_GLOSS_REACH = 34
_ORDINAL_LIST_MARKS = "、，,"  # what separates the numbers of a list opened by 第 (第二、三、四项)
_ORDINAL_LIST_REACH = 24  # how far back the 第 of such a list may stand


def _negative_period(d: _Draft) -> bool:
    """A period below zero is a dash read as a minus sign (-25年 after 2023), one beyond any term counted
    in its unit a date whose marks conversion lost (202511日 for 2025年1月1日): never a measure."""
    return d.kind == "duration" and d.value is not None and (
        d.value < 0 or d.value > _LONGEST_PERIOD.get(d.unit, math.inf) or (d.vmax or 0) > _LONGEST_PERIOD.get(d.unit, math.inf))


# the longest term counted in a unit finer than a year: none runs a hundred years in days
_LONGEST_PERIOD = {"month": 1200, "week": 5200, "day": 36500}


_CJK_AND = regex_cache.compile("[ ]?[和与與及][ ]?")  # 100万千瓦时和1000万千瓦时之间: the ends of a range
_CJK_BETWEEN_END = regex_cache.compile("[ ]?(?:之间|之間)")
_FY_SHORT = (10, 60)  # FY10 to FY60: two-digit fiscal years of this century
_TIGHT_DASH = regex_cache.compile("[-–—](?=[0-9])")  # a dash with no blank on either side, before a figure
_PAIRED_OPENERS = frozenset({"between", "after"})  # openers whose range closes with a word of their own
_YEAR_DATA = regex_cache.compile(r" (?:data|figures|values|numbers|reports?|returns?|baselines?)(?![a-z])")  # after a year and unit
_BARE_YEAR = regex_cache.compile("([0-9０-９]{1,2}|[〇一二三四五六七八九十]{1,3})年(?!間)")  # a year with no era before it
_SIBLING_DAY_REACH = 72  # how far back the month and day a bare N日 continues may stand
_JOINED_DAY_REACH = 12  # how far before a bare N日 the month and day it is joined to may end (12月28日和29日)
_PERIODS = frozenset({"yr", "month", "day", "hour"})  # the time units a rate may be stated per, after its denominator
_ORDINAL_LEAD_REACH = 24  # how far before an ordinal the word of a bound that leads it may begin (starting from the)
_MULTIPLY_REACH = 160  # how far before a factor the multiply of "multiply … by" may stand
_PER_GAP_REACH = 14  # how far before an amount 每 and its unit may stand with a noun between
_PER_ENTITY = frozenset({"vehicle", "unit", "dwelling"})  # 每輛…補助新臺幣十萬元: a sum each, kept in its currency
_PER_GAP_STOPS = frozenset("，。；、,;：:\n")
_PER_HEAD_REACH = 48  # how far before an amount a denominator named before its noun may stand
_CHANGE_REACH = 120  # how far before 'from' its verb of change is looked for


def changes_from(low: str, at: int, floor: int = 0) -> bool:
    """Whether the 'from' at low[at:] follows a verb of change and its object (increases the rates
    from, extends the deadline from): 'from A to B' is then an old and a new value, not a range."""
    return _rules().change_before.search(low, max(floor, at - _CHANGE_REACH), at) is not None


def _shared_denominators(t: str, drafts: list[_Draft], r: _Rules) -> list[_Draft]:
    """Two amounts of one currency (or quantities of one unit: 1,000kW時当たり0.918トン、1.013トン) joined
    by a coordinator alone, or the second opening a bracket after
    the first, a noun it qualifies between them (每公噸新臺幣五十元或一百元, $50 or $100 per tonne, $17 per metric
    ton ($85 if …), the $85 per metric ton credit ($180 for direct air capture)), are rates
    over one denominator: the one written without it takes the other's (and a
    bare 元 after a named currency, that currency); an amount or quantity that goes on a schedule after
    one written per a unit is per that unit too."""
    for a, b in zip(drafts, drafts[1:]):
        if a.kind == b.kind and a.kind in ("money", "quantity") and a.unit and b.unit and _COORDINATED.fullmatch(t, a.end, b.start):
            (ca, _, pa), (cb, _, pb) = a.unit.partition("/"), b.unit.partition("/")
            if cb == "CNY" != ca and not _names_renminbi(t[b.start:b.end]):
                cb = ca  # 新臺幣五十元或一百元: the second amount's 元 is the first's currency
            if ca == cb and bool(pa) != bool(pb) and not _total_cap(t, a, b) and not (pb and _prefixed(t, b, r)):
                a.unit = b.unit = f"{ca}/{pa or pb}"
    rate = None  # the last amount per a unit, whose schedule later amounts may continue
    for d in drafts:
        if d.kind not in ("money", "quantity") or not d.unit:
            continue
        if rate is not None and "/" not in d.unit and rate.kind == d.kind and rate.unit.partition("/")[0] == d.unit \
                and r.schedule_gap.fullmatch(t, rate.end, d.start):
            d.unit = rate.unit  # $900 per metric ton in 2024, rising to $1,200 in 2025; 每度電由5元降至4元; 0.918トン、1.013トン
        rate = d if "/" in d.unit else None
    return drafts


def _rate_stated_once(t: str, d: _Draft, hi: _Draft, r: _Rules) -> float | None:
    """The low end of a range in the rate its high end states (5 t - 8 t of CO2 per year, 5g - 8g of sugar
    per 100ml: the denominator is written once, after the range), or None when hi is no rate of d's unit;
    a low end in milligrams, read in grams, is given back in the unit written."""
    numerator, slash, _ = (hi.unit or "").partition("/")
    if not slash or d.value is None:
        return None
    if numerator == d.unit:
        return d.value
    mass = _written_mass(t, d.end, r) if d.unit == "g" else None
    return _rescaled(d.value, mass[1]) if mass and mass[0] == numerator else None


def _written_mass(t: str, end: int, r: _Rules) -> tuple[str, float] | None:
    """(unit, its size in grams) of the mass word a figure ending at `end` is written in (二十ミリグラム: mg, 0.001),
    or None when it is written in grams or larger."""
    return next(((name, factor) for w, name, factor in r.concentration_masses if t.startswith(w, end - len(w))), None)


def _rescaled(grams: float, size: float) -> float:
    """grams in a unit of `size` grams, rounded past binary noise (1e-10 g is 0.1 ng, not 0.10000000000000002)."""
    return float(f"{grams / size:.12g}")


def _prefixed(t: str, d: _Draft, r: _Rules) -> bool:
    """Whether d's denominator is written before its figure (上限100万円、1基あたり上限20万円): it is d's
    own, not one an amount coordinated before it shares."""
    low = t[d.start:d.start + _per_prefix_longest()].lower()
    return any(low.startswith(w) for w in r.per_prefix)


@cache
def _per_prefix_longest() -> int:
    return max(map(len, _rules().per_prefix))


def _priced_in_context(t: str, drafts: list[_Draft], pc: dict) -> list[_Draft]:
    """Bare amounts that go on quoting prices after one written with its denominator (per kWh, MWh or
    tonne: quantities.json price_context); a bound several times the price caps a total, not the price."""
    rate = None
    for d in drafts:
        if d.kind != "money" or not d.unit or d.value is None:
            continue
        currency, _, per = d.unit.partition("/")
        if per:
            rate = d if per in pc["per"] else None
        elif rate is not None and currency == rate.unit.partition("/")[0] and d.scale == 1 \
                and d.start - rate.end <= pc["reach"] and "\n\n" not in t[rate.end:d.start] \
                and pc["low"] * rate.value <= d.value <= pc["high"] * rate.value and not _total_cap(t, rate, d):
            d.unit = rate.unit  # 15円/kWh …, 事業用は10円で据え置き: the same price per kWh
    return drafts


def find_quantities(text: str, base: int = 0, dollar: str | None = "", era: int | None = None) -> list[Quantity]:
    """All quantities in running text: sorted, non-overlapping, offsets into text (+ base). A bare
    dollar is `dollar` ('': the default of dollar_of); None leaves it as the unit '$' for the caller
    to name. `era`: the base year of three-digit years written without their era (bare_era_of)."""
    if not isinstance(text, str) or not text or not isinstance(base, int):
        return []
    dollar = dollar or (None if dollar is None else _rules().d["dollars"]["default"])
    return [Quantity(d.kind, finite(d.value), finite(d.vmax), named_dollar(d.unit, dollar), d.cmp, text[d.start:d.end],
                     d.start + base, d.end + base) for d in _Scan(fold(text), False, None, era).run()]


def bare_era_of(country: str | None, text: str = "") -> int | None:
    """The base year of years written without their era in `text` of `country` (TW: 1911); with no
    country known, the era the text itself shows (中華民國113年, 112年8月15日), else None."""
    d = _rules().d["bare_era_years"]
    if (got := of_country(d["by_country"], country)) is not None or country is not None:
        return got
    return next((base for base, rx, year in _era_evidence() if _shows_era(text, rx, year)), None)


def _shows_era(text: str, rx: re.Pattern, year_before: re.Pattern | None) -> bool:
    """Whether text holds the pattern (starting with a literal, so the engine skips ahead to it),
    with, where asked, a year of the era's span right before it (112年8月15日)."""
    if year_before is None:
        return rx.search(text) is not None
    return any(year_before.search(text, max(0, m.start() - 5), m.start()) for m in rx.finditer(text))


@cache
def _era_evidence() -> list[tuple[int, re.Pattern, re.Pattern | None]]:
    return [(e["base"], regex_cache.compile(e["pattern"]), regex_cache.compile(e["year_before"]) if "year_before" in e else None)
            for e in _rules().d["bare_era_years"]["evidence"]]


DOLLAR = "$"  # the unit of a bare dollar until the text's dollar is known


def named_dollar(unit: str | None, dollar: str | None) -> str | None:
    """unit with a bare dollar ($, $/t) named as `dollar` (None: left as it is)."""
    if dollar is None or unit is None or not unit.startswith(DOLLAR):
        return unit
    return dollar + unit[len(DOLLAR):]


def of_country(table: dict, country: str | None):
    """table's entry for a record's country (an ISO 3166 code; a subdivision counts for its country)."""
    return table.get(country.partition("-")[0].upper()) if country else None


def dollar_of(country: str | None, units) -> str:
    """Which dollar a bare $ is: the dollar of the record's country (an ISO 3166 code, a subdivision
    counting for its country), else the one dollar currency the text itself names among `units`
    (C$ 10 and $ 5: both Canadian), else the US dollar."""
    d = _rules().d["dollars"]
    by_country = d["by_country"]
    if got := of_country(by_country, country):
        return got
    named = {u.partition("/")[0] for u in units if u} & set(by_country.values())
    return named.pop() if len(named) == 1 else d["default"]


def text_country(text: str) -> str | None:
    """The country a text shows when its record names none (data: text_country): the one whose
    names and institutions it uses (at least min_hits times) more often than any other's."""
    d = _rules().d["text_country"]
    hits: dict[str, int] = {}
    for code, cues in _country_cues():
        # Substring tests in C first: most texts hold none of a country's names.
        n = sum(len(rx.findall(text)) if rx is not None else text.count(w) for w, rx in cues if w in text)
        if n:
            hits[code] = n
    ranked = sorted(hits.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < d["min_hits"] or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


def names_money_by_country(text: str, low: str) -> bool:
    """Whether text (low: lower-cased) may name a dollar, a 元 or a rupee bare (in an amount or a header:
    $, dollars, ドル, 元, Rs.), which only the country says which."""
    d = _rules().d["country_money"]
    return any(mark in text for mark in d["marks"]) or any(w in low for w in d["words"])


def has_era_years(found: list[Quantity]) -> bool:
    """Whether found holds a count of years an era could hold (115年: a century-long period, or a
    year of an era the text does not name)."""
    lo = _rules().d["bare_era_years"]["span"][0]
    return any(q.kind == "duration" and q.unit == "year" and q.value is not None and q.value >= lo for q in found)


@cache
def _country_cues() -> list[tuple[str, list[tuple[str, re.Pattern | None]]]]:
    """Each country's cues, a Latin one with the pattern that counts it as a whole word (Canada, not
    Canadaian; IRS, not FIRST), a CJK one counted as it stands."""
    cues = _rules().d["text_country"]["cues"]
    return [(code, [(w, regex_cache.compile(f"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])") if w[:1].isascii() else None)
                    for w in words])
            for code, words in cues.items()]


def yuan_of(country: str | None, money: list[tuple[str | None, str]]) -> str:
    """Which currency a bare 元 is: that of the record's country where it has its own (TW: TWD),
    else the one such currency the text names among its amounts (unit, surface) when none of them
    names the renminbi, else CNY."""
    y = _rules().d["yuan"]
    by_country = y["by_country"]
    if got := of_country(by_country, country) or of_country(_rules().d["dollars"]["by_country"], country):
        return got  # 台灣 元: TWD; a US paper's 2萬元: USD
    own = {u.partition("/")[0] for u, _ in money if u} & set(by_country.values())
    return own.pop() if len(own) == 1 and not any(_names_renminbi(surface) for _, surface in money) else "CNY"


def named_yuan(unit: str | None, surface: str, yuan: str) -> str | None:
    """unit with a renminbi read from a bare 元 named as `yuan` (an amount naming the renminbi keeps it)."""
    return unit if _names_renminbi(surface) else _renamed(unit, "CNY", yuan)


def rupee_of(country: str | None) -> str:
    """Which currency Rs. and rupees are: the record's country's own rupee (PK: PKR), else INR."""
    return of_country(_rules().d["rupee"]["by_country"], country) or "INR"


def cent_of(country: str | None) -> str | None:
    """Which currency cents are a hundredth of when it is not the text's dollar (ZA: ZAR), else None."""
    return of_country(_rules().d["cents"]["by_country"], country)


def named_cent(unit: str | None, surface: str, dollar: str, cent: str | None) -> str | None:
    """unit of an amount written in cents (read as hundredths of the text's dollar) named in the
    currency they are a hundredth of (394 cents per litre in South Africa: ZAR/L)."""
    if cent is None or not any(w in surface.lower() for w in _cent_words()):
        return unit
    return _renamed(unit, dollar, cent)


@cache
def _cent_words() -> tuple[str, ...]:
    """The words and signs of a hundredth of a dollar (cents, ¢): the money units of $ with factor 0.01."""
    return tuple(w.lower() for g in _rules().d["units"] if g["kind"] == "money" and g["unit"] == DOLLAR
                 and g.get("factor") == 0.01 for w in g["words"])


def named_rupee(unit: str | None, surface: str, rupee: str) -> str | None:
    """unit with an Indian rupee read from Rs. or rupees named as `rupee` (₹ or INR keep it)."""
    low = surface.lower()
    return unit if any(w in low for w in _rules().d["rupee"]["indian"]) else _renamed(unit, "INR", rupee)


def _renamed(unit: str | None, base: str, local: str) -> str | None:
    """unit (base or base/denominator) in the local currency instead of base."""
    if local == base or unit is None or not unit.startswith(base):
        return unit
    return local + unit[len(base):]


def _names_renminbi(surface: str) -> bool:
    low = surface.lower()
    return any(w in low for w in _rules().d["yuan"]["renminbi"])


_DIMENSIONS = {"numeral": "number", "amountofmoney": "money"}


def parse_quantity(s: str, kind: str | None = None) -> Quantity | None:
    """The whole string as exactly one quantity; kind restricts the reading as a Duckling dimension
    does ("numeral"/"number", "duration", "money", "quantity", "ordinal", "percent", "date", "count")."""
    if not isinstance(s, str) or (kind is not None and not isinstance(kind, str)):
        return None
    dim, r, body = (_DIMENSIONS.get(kind.lower(), kind.lower()) if kind else None), _rules(), s.strip()
    if not body or len(body) > 1000:
        return None
    lead, t = s.index(body), fold(body)

    def whole(k: str, v: float | None, unit: str | None = None, vmax=None, cmp=None) -> Quantity | None:
        v = finite(v)
        return None if v is None and k != "date" else \
            Quantity(k, v, finite(vmax), named_dollar(unit, r.d["dollars"]["default"]), cmp, body, lead, lead + len(body))

    if dim == "number":
        return whole("number", loose_number(t, r))
    if dim == "ordinal":
        cv = core_value(m.group("n"), r) if (m := r.ordinal_full.fullmatch(t)) else None
        return whole("ordinal", cv[0]) if cv else None
    if dim == "money" and (mv := _money_words(t, r)):
        return whole("money", *mv)
    # Cantonese drops a leading 一 (個半鐘 = 一個半鐘); try the reading with it put back.
    for v in [t] + (["一" + t] if t[0] in r.d["implied_one_heads"] else []):
        ds = _Scan(v, True, dim).run()
        if len(ds) == 1 and ds[0].start == 0 and ds[0].end == len(v) and dim in (None, ds[0].kind):
            return whole(ds[0].kind, ds[0].value, ds[0].unit, ds[0].vmax, ds[0].cmp)
    return None


class _Denomination(NamedTuple):
    figure: float | None  # the figure before the denomination; None for a bare one (個 = one dollar)
    rank: float  # what one of it is worth in yuan or dollars (角: 0.1)
    end: int


def _denomination(t: str, pos: int, r: _Rules) -> _Denomination | None:
    """A figure, or none, then a money denomination at pos (五角, 一块, 個)."""
    cv = core_value(nm.group(), r) if (nm := r.num.match(t, pos)) else None
    dm = r.denom_re.match(t, nm.end() if cv else pos)
    return _Denomination(cv[0] if cv else None, r.denoms[dm.group()], dm.end()) if dm else None


def _money_words(t: str, r: _Rules) -> tuple[float, str] | None:
    """Colloquial sums of denominations (money only): 两毛五, 一块二, 港幣三個一毫四, 個半."""
    pos, cur = 0, None
    if cm := r.cur_fwd.match(t):
        pos, cur = cm.end(), r.cur_map[cm.group("c")]
    total, rank, n = 0.0, None, 0
    while pos < len(t):
        if step := _denomination(t, pos, r):
            if (step.figure is None and not (n == 0 and step.rank == 1)) or (rank is not None and step.rank >= rank):
                return None
            total += (1.0 if step.figure is None else step.figure) * step.rank  # a bare 個 is one dollar (個九 = 1.9)
            rank, pos, n = step.rank, step.end, n + 1
            if step.rank == 1 and t.startswith("半", pos):
                total, pos = total + 0.5, pos + 1
            continue
        if (nm := r.num.match(t, pos)) and (cv := core_value(nm.group(), r)):
            total, pos, n = total + cv[0] * (rank / 10 if rank is not None else 1.0), nm.end(), n + 1  # 一块二
        break
    if sm := r.money_suffix.match(t, pos):
        cur, pos = cur or r.unit_of(sm.group("c"))["unit"], sm.end()
    if n == 0 or pos != len(t) or (cur is None and rank is None):
        return None
    return total, cur or "CNY"


# ---------------------------------------------------------------- yearly rates


class _YearlyMarks(NamedTuple):
    """quantities.json yearly_rates compiled: what makes a figure a flow or a rate per year."""
    units: frozenset  # units a yearly marker turns into a flow (t -> t/yr)
    before: dict[str, re.Pattern]  # language -> marker before a flow (年間, annual)
    after: dict[str, re.Pattern]  # language -> marker after a figure (per year, /年)
    percent_before: dict[str, re.Pattern]  # language -> marker before a yearly percent (年均下降)
    step_before: dict[str, re.Pattern]  # language -> a change by a step before an intensity (increase by)


@cache
def _yearly() -> _YearlyMarks:
    y = _rules().d["yearly_rates"]
    comp = {side: {lang: regex_cache.compile("|".join(f"(?:{p.removeprefix('^')})" for p in ps), re.I if lang == "en" else 0)
                   for lang, ps in y[side].items() if ps}
            for side in ("before", "after", "percent_before", "step_before")}
    return _YearlyMarks(frozenset(y["units"]), comp["before"], comp["after"], comp["percent_before"], comp["step_before"])


@cache
def _yearly_money(side: str) -> dict[str, re.Pattern]:
    """quantities.json yearly_rates money_before or money_after, compiled per language."""
    marks = {lang: regex_cache.compile(p) for lang, p in _rules().d["yearly_rates"][side].items()}
    return marks | {"en": regex_cache.compile(_en_period_sum("yr"))} if side == "money_before" else marks


class _LeadMarks(NamedTuple):
    period: str  # the denominator a period word before the figure makes (day, hour, yr)
    drops: str  # the unit of the period word's own duration, left out once it made the rate (day, year)
    units: frozenset[str]  # what that period makes a flow of
    reach: int  # how far before the figure the period word may stand
    before: dict[str, re.Pattern]  # language -> the period word and the phrase up to the figure
    defined: dict[str, re.Pattern]  # language -> the period word inside a defining bracket right before the figure


@cache
def _lead_marks() -> tuple[_LeadMarks, ...]:
    # a bare dollar (DOLLAR: its country is named later) is one of those currencies too
    d, sums = _rules().d["lead_period_rates"], frozenset(_rules().d["sum_currencies"]) | {DOLLAR}
    return tuple(_LeadMarks(v.get("period", period), v.get("drops", v.get("period", period)),
                            frozenset(v["units"]) | (sums if v.get("sums") else frozenset()), v.get("reach", _LEAD_REACH),
                            {lang: regex_cache.compile(p) for lang, p in v["before"].items()}
                            | ({"en": regex_cache.compile(_en_period_sum(v["period"]))} if v.get("en_sums") else {}),
                            {lang: regex_cache.compile(p) for lang, p in v.get("defined", {}).items()})
                 for period, v in d.items() if not period.startswith("_"))


def _en_period_sum(period: str) -> str:
    """The English grammar of a sum named by its period before it (quantities.json en_period_sums), for `period`."""
    g = _rules().d["en_period_sums"]
    return g["pattern"].replace("<ADJ>", g["adjectives"][period])


_LEAD_REACH = 60  # how far before a figure its period word may stand (a monthly charge on their electric bills of $0.85)
# 排出水量（一日当たりの平均的な排出水の量をいう。以下同じ。）が千立方メートル以上: a term defined in the
# brackets right before the figure it is compared with
_DEFINED_BEFORE = regex_cache.compile("をいう。(?:以下[^（）()。]{0,16}同じ。)?[）)](?:が|は)$")
_DEFINITION_REACH = 400  # how far back the defining bracket may open


def _defining_bracket(text: str, at: int, floor: int) -> str | None:
    """The inside of the defining bracket that closes right before position `at` (…をいう。）が), or None."""
    if not (m := _DEFINED_BEFORE.search(text, max(floor, at - 24), at)):
        return None
    close = max(text.rfind(c, m.start(), at) for c in ROUND_CLOSE) + 1
    spans = bracketed_spans(text, max(floor, close - _DEFINITION_REACH), close)
    return text[spans[-1][0] + 1:close - 1] if spans and spans[-1][1] == close else None


def lead_period_rates(text: str, start: int, quantities: list[Quantity], langs) -> list[Quantity]:
    """The quantities of one clause (starting at `start`) with a flow bound to a day, an hour or a month
    before it made a rate of it (一日百立方メートル, 每日超過一千立方公尺: m3/day; 一時間当たりの処理能力が二百キログラム:
    kg/hour; 每月可以處理5000噸: t/month), and the period word that only did so left out."""
    for marks in _lead_marks():
        quantities = _lead_rates(text, start, quantities, langs, marks)
    return quantities


def _lead_rates(text: str, start: int, quantities: list[Quantity], langs, marks: _LeadMarks) -> list[Quantity]:
    if not any(q.unit in marks.units for q in quantities):
        return quantities
    out, dropped = [], set()
    for q in quantities:
        if q.unit in marks.units:
            floor = max([start] + [p.end for p in out if p.unit == q.unit])  # the figure's own phrase
            phrase = text[max(floor, q.start - marks.reach):q.start]
            hit = next((m for lang in langs if (rx := marks.before.get(lang)) and (m := rx.search(phrase))), None)
            if hit is not None:
                at = q.start - len(phrase) + hit.start()
                dropped.update(i for i, p in enumerate(out)
                               if p.kind == "duration" and p.unit == marks.drops and at <= p.start < q.start)
                q = replace(q, unit=f"{q.unit}/{marks.period}")
            elif marks.defined and (inside := _defining_bracket(text, q.start, start)) is not None \
                    and any((rx := marks.defined.get(lang)) and rx.search(inside) for lang in langs):
                q = replace(q, unit=f"{q.unit}/{marks.period}")
        out.append(q)
    return [q for i, q in enumerate(out) if i not in dropped] if dropped else out


def yearly_rates(text: str, low: str, start: int, quantities: list[Quantity], langs,
                 inherited: bool = False) -> tuple[list[Quantity], bool]:
    """The quantities of one clause (starting at `start`) with flows stated per year given a yearly
    unit: 年間600万トン, 年排放二氧化碳1万吨, 80,000 tonnes per year -> t/yr; 年十四・五パーセント ->
    percent/yr. low is text lower-cased (same length); langs are the language lists of the clause.
    A list head (Minimum annual capture: 5,000 tonnes; 30,000 tonnes) makes every figure after it
    yearly, in this clause and, when `inherited`, in the sub-clauses that continue it. Returns the
    quantities and whether this clause's list head was yearly."""
    marks = _yearly()
    units, before, after, percent_before, step_before = marks.units, marks.before, marks.after, marks.percent_before, marks.step_before
    money_after = _yearly_money("money_after")
    out, last = [], {}  # base unit -> end of the last figure of that unit
    yearly_end = -1  # where the last yearly flow ended
    yearly_base = None  # its unit before /yr: a figure listed right after it in that unit is yearly too
    head = _yearly_head(text, low, start, quantities, langs, before)
    for q in quantities:
        if q.unit in units or q.unit == "percent":
            floor = last.get(q.unit, start)
            a = max(floor, q.start - 80)  # the figure's own phrase
            marks = before if q.unit in units else percent_before
            if (q.unit in units and (inherited or (head is not None and q.start > head)
                                     or (yearly_end >= 0 and _EQUIVALENT.fullmatch(text, yearly_end, q.start)))) \
                    or (q.unit == yearly_base and _rules().listed_next.fullmatch(text, yearly_end, q.start)) \
                    or any(lang in marks and marks[lang].search(low[a:q.start] if lang == "en" else _phrase(text, floor, q.start))
                           for lang in langs) \
                    or any(lang in after and after[lang].match(low if lang == "en" else text, q.end) for lang in langs):
                last[q.unit] = yearly_end = q.end
                yearly_base = q.unit
                q = replace(q, unit=q.unit + "/yr")
            else:
                last[q.unit] = q.end
        elif q.kind == "quantity" and q.unit and "/" in q.unit and not q.unit.endswith("/yr") \
                and any(lang in step_before and step_before[lang].search(low, max(start, q.start - 40), q.start)
                        and lang in after and after[lang].match(low if lang == "en" else text, q.end) for lang in langs):
            yearly_end = q.end
            q = replace(q, unit=q.unit + "/yr")  # will increase by 1.5 gCO2e/MJ each year: a yearly step of an intensity
        elif q.kind == "money" and q.unit and not q.unit.endswith("/yr") and (
                _yearly_sum(text, start, q, langs)
                or any(lang in after and after[lang].match(low if lang == "en" else text, q.end) for lang in langs)
                or any(lang in money_after and money_after[lang].match(low if lang == "en" else text, q.end) for lang in langs)):
            yearly_end = q.end
            q = replace(q, unit=q.unit + "/yr")  # 每年撥付10億元; 1,800円/kW・年
        out.append(q)
    if yearly_end >= 0:
        out = _coordinated_yearly(low, out)
    if yearly_end >= 0 or any(q.unit in _RATE_UNITS for q in out):
        out = _without_rate_words(text, out)
    return out, head is not None or inherited


# a figure's 'of' phrase and a coordinator before a second figure of its unit (11,500 kWh of gas and 2,700 kWh
# of electricity a year): the yearly word after the second counts for both. Bounded, so linear.
_OF_AND = regex_cache.compile(r"(?: of(?: [a-z0-9₂-]+){1,4})?,? (?:and|or) ")


def _coordinated_yearly(low: str, qs: list[Quantity]) -> list[Quantity]:
    """qs with a figure coordinated before a yearly one of the same unit made yearly too."""
    out = list(qs)
    for i in range(len(out) - 2, -1, -1):
        a, b = out[i], out[i + 1]
        if b.unit and b.unit == f"{a.unit}/yr" and a.kind == b.kind and _OF_AND.fullmatch(low, a.end, b.start):
            out[i] = replace(a, unit=b.unit)
    return out


_ANAPHORA_REACH = 10  # how far before a duration the word pointing back to it may begin
_LIST_REACH = 32  # how far before 这 a list it sums up is looked for (电力和氢这六大)
_GROUPING_NOUN = 2  # characters of the noun after a grouping counter (三大城市群) that name the grouping
_GLUED_NAME = regex_cache.compile("[0-9]+[A-Z]")  # 45W, 48C: digits and a capital, no blank between
_NAME_HYPHEN = regex_cache.compile("(?<![A-Za-z])[A-Z][A-Za-z]{1,9}-$")  # a capitalised name and a hyphen before a number
_LETTER_HYPHEN = regex_cache.compile("[A-Za-z]-")  # what opens a class name such as e-2W (electric two-wheelers)
_SPEED_REACH = 12  # how far before a distance a word of speed may stand (时速不得超25公里)
_SCORE_SENTENCE_REACH = 80  # how far back in its sentence a word of scoring may stand (满分为100分,95分以上…)
_POINTS = {"kind": "quantity", "unit": "points"}  # the unit group a score's 分 takes (_Scan.scored)
_SECTION_NUMBER = regex_cache.compile(r"[0-9]{1,3} (?=[^\x00-\x7f])")  # a line's leading number, a space, then CJK
_COUNTED_BACK = "前"  # a window of durations after it is counted back from a day (屆滿前六個月至三個月)
_LIST_JOINS = (", ", " and ", " or ")  # what stands before a number coordinated after another
_OR_MORE_INFIX = regex_cache.compile(r" or (more|greater|above|over|less|fewer|below|under) |\+ ?(?![0-9])")  # 10 or more tonnes, 5+ years
_OR_LESS = frozenset({"less", "fewer", "below", "under"})
_IN_REACH = 32  # how far before two years in a row their preposition and kind of year may stand (for calendar years )
_YEAR_AND_NEXT = regex_cache.compile(r",? (?:and|or) ((?:19|20)[0-9]{2})(?![0-9])")  # in 2024 and 2025, purchased in 2025 or 2026
_YEAR_LISTED = regex_cache.compile(r", ((?:19|20)[0-9]{2})(?![0-9])")  # for 2021, 2022 and 2023: a year inside a list
_CJK_YEAR_AND_NEXT = regex_cache.compile(r"(?:および|及び|及|と|・|和)((?:19|20)[0-9]{2})年度?")  # 2025年度および2026年度
_KINDED_YEARS = regex_cache.compile(r" (?:model|compliance) years(?![a-z])")  # the 2017 and 2018 model years
_FY_MARKS = frozenset("/-–")
_SPAN_MARKS = frozenset("-–")  # 2021-30: a span of years (a slash joins only a year to the next: 2024/25)
_FY_RANGE_NEXT = regex_cache.compile(r" ?(?:–|—|-|to|through) ?((?:19|20)[0-9]{2})[/\-–]([0-9]{2})(?![0-9/\-–])")
# the /25 of 2024/25, the –24 of 2023–24, the /2025 of 2024/2025
_FY_NEXT = regex_cache.compile(r"[/\-–]([0-9]{2})(?![0-9/\-–])|/((?:19|20)[0-9]{2})(?![0-9/\-–])")
_PHRASE_END = regex_cache.compile("[。；，、,;\n]")
_UNIT_CONTEXT_REACH = 16  # how far before a unit word the word it needs may stand (用電量超過一千度)
_STATEMENT_END = regex_cache.compile("[。；;\n]")  # a sentence or a semicolon's part of one
_UNIT_SENTENCE_REACH = 60  # ... or, past a comma, in the same sentence (住宅電價有六個級距，700度以下)
_ROUNDING_REACH = 40  # how far before a figure the words of a rounding step may begin
_NUMBER_OF_REACH = 100  # how far before a figure the 'number of <noun>' it states may begin
_COUNT_CMP_REACH = 8  # how far before a count its bound may stand, a short verb between (至少辦理一次)
_COUNT_BOUND = regex_cache.compile(r" or (more|fewer|less|above|over)(?![a-z])")
_BEFORE_MINUS = frozenset(" \t\n(（[")  # what may stand before a minus sign glued to a figure
_COUNTED = {"kind": "count", "unit": None}  # the unit group of a noun counted under a bound

# what the substance of a flow and its bracketed gloss leave before its marker (of carbon dioxide equivalent (CO2eq) each year)
_OWN_MARKER_GAP = regex_cache.compile(r"[ ,]*(?:of(?: [A-Za-z0-9₂-]+){1,4}[ ,]*)?(?:\([^()]{1,30}\)[ ,]*)?")
_IN_ONE_YEAR_GAP = regex_cache.compile(r" in (?:any )?")  # between a yearly sum and its marker's one year (in 1 calendar year)
_RATE_GAP = regex_cache.compile(r"[^，。；、,;:：]{0,16}")
_RATE_UNITS = frozenset({"t", "kg", "g", "m3", "kWh"})  # what a shorter frequency word (每季, 每月) makes a flow of


def _without_rate_words(text: str, qs: list[Quantity]) -> list[Quantity]:
    """qs (in text order) without the frequency words (每年, 每季) that only make the flow right after
    them in the same phrase a rate (每年可減量30.7萬噸: 307,000 t/yr, no yearly interval of its own), or
    the yearly flow right before them (4.3% annually, $1,000,000 in 1 calendar year).
    One pass: only the last frequency word before a flow can be its own."""
    dropped, last = set(), None
    for i, q in enumerate(qs):
        if q.kind == "duration" and is_frequency(q.surface):
            last = i
            if i and (p := qs[i - 1]).unit is not None and p.unit.endswith("/yr") and q.unit == "year" \
                    and _OWN_MARKER_GAP.fullmatch(text, p.end, q.start):
                dropped.add(i)  # 4.3% annually, 1.5 million tonnes of CO2 annually: the flow's own marker, after it
        elif last is not None and q.unit is not None and q.start >= qs[last].end \
                and (q.unit.endswith("/yr") if qs[last].unit == "year" else q.unit in _RATE_UNITS) \
                and _RATE_GAP.fullmatch(text, qs[last].end, q.start):
            dropped.add(last)  # 每季…總排放量十公斤以下: ten kilograms a quarter, no interval of its own
        elif q.kind == "duration" and q.value == 1 and q.unit == "year" and i and (p := qs[i - 1]).unit is not None \
                and p.unit.endswith("/yr") and _IN_ONE_YEAR_GAP.fullmatch(text, p.end, q.start):
            dropped.add(i)  # more than $1,000,000 in 1 calendar year: the sum's own marker, no period
    return [q for i, q in enumerate(qs) if i not in dropped] if dropped else qs


# A flow in brackets right after a yearly one restates it in another measure (2.6万吨二氧化碳当量（综合
# 能源消费量约1万吨标准煤）): it is yearly too.
_EQUIVALENT = regex_cache.compile(r"[^，。；,;（）()]{0,12}[（(][^，。；,;（）()]{0,24}")
_ASIDE = regex_cache.compile("（[^（）]{0,300}）")  # a statute's parenthetical: （…をいう。以下同じ。）


_YEARLY_SUM_REACH = 48  # how far before a sum the words making it yearly may begin (annual household income of)


def _yearly_sum(text: str, start: int, q: Quantity, langs) -> bool:
    """Whether 每年 binds a sum of money from before (quantities.json yearly_rates money_before)."""
    money_before = _yearly_money("money_before")
    return any(lang in money_before and money_before[lang].search(text, max(start, q.start - _YEARLY_SUM_REACH), q.start)
               for lang in langs)


def _phrase(text: str, floor: int, end: int) -> str:
    """The CJK phrase before a figure, its parentheticals left out (年度の輸送量（…をいう。）が…): at most
    80 characters of it, read from at most 400 of text."""
    a = max(floor, end - 80)
    if "）" not in text[a:end]:
        return text[a:end]
    seg = text[max(floor, end - 400):end]
    for _ in range(3):  # nested asides, innermost first
        seg = _ASIDE.sub("", seg)
    return seg[-80:]


_HEAD_END = regex_cache.compile("[:：]")


def _yearly_head(text: str, low: str, start: int, quantities: list[Quantity], langs, before: dict) -> int | None:
    """The end of a yearly list head in the clause (Minimum annual capture:), or None."""
    first = quantities[0].start if quantities else None
    m = _HEAD_END.search(text, start, first) if first is not None else None
    if m is None:
        return None
    head = low[start:m.start()] if "en" in langs else text[start:m.start()]
    if any(lang in before and before[lang].search(head + " ") for lang in langs):
        return m.end()
    return None


# ---------------------------------------------------------------- units given by context


@dataclass(frozen=True, slots=True)
class ContextUnit:
    """What a heading, a table header cell or a label line says of the figures under it."""

    currency: str | None  # bare numbers under it are money in this currency
    per: str | None  # money without a denominator is per this unit (t, kWh)
    scale: float = 1  # ... counted in this many units of it: （万元） 10,000, （百万円） 1,000,000
    interval: bool = False  # it names a period: 三月 under it is three months, not March
    measure: str | None = None  # bare numbers under it are quantities in this unit (t, kW, t/yr), times scale


@cache
def _context_rules() -> tuple[re.Pattern, dict, re.Pattern, dict]:
    r = _rules()
    pers = {w.lower(): k for k, ws in r.d["per_units"].items() if k != "yr" for w in ws}
    curs = {w.lower(): v for w, v in r.d["context_currency"].items()}
    curs |= {w.lower(): v for w, v in r.d["context_currency_scaled"].items() if not w.startswith("_")}
    # Searched in the caseless copy of a label without re.I, so that the engine can skip ahead.
    per_alts = [re.escape(w) + (f"(?!{r.per_guard[w]})" if w in r.per_guard else "")
                for w in sorted(pers, key=len, reverse=True)]
    return (regex_cache.compile("|".join(per_alts)), pers,
            regex_cache.compile("|".join(re.escape(w) for w in sorted(curs, key=len, reverse=True))), curs)


# 1キロワット時(kWh)当たり: an abbreviation glossing the unit, between it and its 当たり
_GLOSS_BEFORE_PER = regex_cache.compile(r"[(（][a-z0-9₂/ ]{1,8}[)）](?=当たり|当り|あたり|につき)")


def context_unit(text: str, start: int = 0, end: int | None = None) -> ContextUnit | None:
    """The unit a label, text[start:end] (a heading, a header cell, a short line), gives the figures
    under it, or None. A long span is no label and is not even sliced."""
    end = len(text) if end is None else end
    if end - start > _rules().d["context_label_max"]:
        return None
    label = caseless(lowered(text[start:end]))
    if "(" in label or "（" in label:
        label = _GLOSS_BEFORE_PER.sub("", label)
    per_rx, pers, cur_rx, curs = _context_rules()
    per, cur = per_rx.search(label), cur_rx.search(label)
    if per is None and label.strip() in _rules().context_yearly:
        return ContextUnit(None, "yr")  # a row labelled Annually: the sums under it are yearly
    if per is None and cur is None:
        if _interval_label().fullmatch(label.strip()):
            return ContextUnit(None, None, interval=True)
        return _measure_label(text[start:end], label)
    currency, scale = (curs[cur.group()], 1) if cur and isinstance(curs[cur.group()], str) else \
        (curs[cur.group()][0], float(curs[cur.group()][1])) if cur else (None, 1)
    return ContextUnit(currency, pers[per.group()] if per else None, scale)


def bracketed_rates(text: str, start: int, end: int, quantities: list[Quantity]) -> list[Quantity]:
    """The quantities of text[start:end] with amounts that follow a bracketed rate label
    ([1kL当たり] (2,040円) +250円, （1t当たり） 700円) taken per its unit, up to the next label: a rate
    table flattened into running text by conversion."""
    if not any(q.kind == "money" for q in quantities) or _RATE_LABEL_MARK.search(text, start, end) is None:
        return quantities
    labels = [(m.end(), ctx.per) for m in _RATE_LABEL.finditer(text, start, end)
              if (ctx := context_unit(m.group())) is not None and ctx.per]
    if not labels:
        return quantities
    ends, out = [e for e, _ in labels], []
    for q in quantities:
        i = bisect_right(ends, q.start) - 1
        if i >= 0 and q.kind == "money" and q.unit and "/" not in q.unit:
            q = replace(q, unit=f"{q.unit}/{labels[i][1]}")
        out.append(q)
    return out


def glossed_rates(text: str, quantities: list[Quantity]) -> list[Quantity]:
    """The quantities with a sum closing a gloss in brackets right after a rate of money (1トンあたり75豪ドル
    (51.8米ドル), $75 per tonne (c. €70)) read per the rate's unit: the same price in another currency.
    A sum in the rate's own currency (1kWあたり12万円(上限36万円)) is a cap or a total, not a gloss."""
    out: list[Quantity] = []
    for q in quantities:
        prev = out[-1] if out else None
        if prev is not None and q.kind == "money" and prev.kind == "money" and q.unit and "/" not in q.unit \
                and prev.unit and "/" in prev.unit and prev.unit.partition("/")[0] != q.unit \
                and (gl := _GLOSS.match(text, prev.end)) and gl.end() == q.end + 1:
            q = replace(q, unit=f"{q.unit}/{prev.unit.partition('/')[2]}")
        out.append(q)
    return out


# between a lower bound and the upper bound that closes it (at least 4 months apart and no more than 7 months)
_BOUND_PAIR_GAP = regex_cache.compile(r"(?: apart)?,? (?:and|but) ")


def bounded_ranges(text: str, quantities: list[Quantity]) -> list[Quantity]:
    """The quantities with a lower bound joined by 'and' or 'but' to an upper bound of the same unit
    (at least 4 months apart and no more than 7 months apart) read as one range, as the gold labels it."""
    out: list[Quantity] = []
    for q in quantities:
        prev = out[-1] if out else None
        if prev is not None and prev.comparator in (">=", ">") and q.comparator in ("<=", "<") \
                and (prev.kind, prev.unit) == (q.kind, q.unit) and prev.value_max is None and q.value_max is None \
                and prev.value is not None and q.value is not None and prev.value < q.value \
                and _BOUND_PAIR_GAP.fullmatch(text, prev.end, q.start):
            out[-1] = replace(prev, value_max=q.value, comparator="range", surface=text[prev.start:q.end], end=q.end)
            continue
        out.append(q)
    return out


# what may open a bracket that repeats the figure before it (十八公斤以上 (含十八公斤), 50 kW or more (including 50 kW))
_RESTATING = regex_cache.compile(r"[ ]?[(（][ ]?(?:含|包含|including |inclusive of |incl\. )?[ ]?")
_BRACKET_CLOSE = regex_cache.compile(r"[ ]?[)）]")


def without_restated(text: str, quantities: list[Quantity]) -> list[Quantity]:
    """The quantities without a figure alone in brackets right after the same figure (十八公斤以上 (含十八公斤):
    the bound said again to include itself; 1352万千瓦 (13.52 GW)), which is no measure of its own. A
    percent glossing a fraction (1/2（50%）) is the rate in the other form analysts note, and stays."""
    out: list[Quantity] = []
    for q in quantities:
        prev = out[-1] if out else None
        if prev is not None and (q.kind, q.value, q.value_max, q.unit) == (prev.kind, prev.value, prev.value_max, prev.unit) \
                and (m := _RESTATING.fullmatch(text, prev.end, q.start)) and _BRACKET_CLOSE.match(text, q.end) \
                and (q.unit != "percent" or m.group().strip(" (（")):
            continue
        out.append(q)
    return out


_RATE_LABEL_MARK = regex_cache.compile("当たり|あたり|につき")
_RATE_LABEL = regex_cache.compile(r"[\[［【(（][^\[\]［］【】()（）\n]{1,12}?(?:当たり|あたり|につき)[\]］】)）]")


def unit_column(cell: str) -> ContextUnit | None:
    """The context a table's unit column header gives (Unit $ per, Unit, 単位): the prices in its row
    are money in the cell's currency, if it names one, per the unit the row writes in that column
    (Litre, Tonne); None for any other header cell."""
    d = _rules().d["unit_column"]
    label = " ".join(caseless(lowered(cell)).split())
    currency = next((code for mark, code in d["currencies"].items() if mark in label), None)
    for mark in d["currencies"]:
        label = label.replace(mark, " ")
    return ContextUnit(currency, None) if " ".join(label.split()) in d["labels"] else None


def row_unit(cell: str) -> str | None:
    """The denominator a unit column's cell names (Litre: L, Cubic metre: m3, トン: t), or None."""
    word = " ".join(caseless(lowered(cell)).split())
    if not word:
        return None
    pers = _context_rules()[1]
    return next((pers[k] for k in (f"per {word}", f"{word}当たり", f"每{word}") if k in pers), None)


def _scaled(v: float | None, scale: float) -> float | None:
    return v if v is None or scale == 1 else round(v * scale, 6)


_BRACKETED = regex_cache.compile(r"[(（]([^()（）]{1,20})[)）]")


def _measure_label(raw: str, label: str) -> ContextUnit | None:
    """A label whose brackets name a physical unit (Annual emissions (tCO2e), 年排放量（万吨）,
    Capacity (MW)): read by the unit grammar itself, as one of that unit; a yearly word in the label
    (annual, 年間, 年排放) makes it a yearly rate."""
    m = _BRACKETED.search(raw)
    if m is None or (one := _one_of(m.group(1).strip())) is None:
        return None
    unit, scale = one
    yearly = _yearly()
    units, before = yearly.units, yearly.before
    if unit in units and any(rx.search(label[:m.start()] if lang == "en" else raw[:m.start()])
                             for lang, rx in before.items()):
        unit += "/yr"
    return ContextUnit(None, None, scale, measure=unit)


@lru_cache(maxsize=1024)
def _one_of(unit_words: str) -> tuple[str, float] | None:
    """(unit, size) of one of the physical unit `unit_words` names (万吨: t, 10000), by the unit
    grammar; None when they name none (labels repeat: （１）, (注)); cached."""
    q = parse_quantity(f"1{'' if CJK_RX.match(unit_words) else ' '}{unit_words}", "quantity")
    return (q.unit, q.value) if q is not None and q.kind == "quantity" and q.value else None


@cache
def _interval_label() -> re.Pattern:
    """A header cell or label that is only the name of a period (期間, 周期, interval)."""
    return regex_cache.compile("|".join(map(re.escape, _rules().d["context_interval"])))


def bare_bound_count(text: str, q: Quantity) -> Quantity:
    """q, or the count it is: an English bound on a bare number of things that no context named (is
    greater than 245,991,207; exceeds the threshold of 833 million), the noun standing earlier; or a
    population written as a bare number after its noun (人口三十万以上)."""
    r = _rules()
    if q.kind != "number" or q.value is None or q.value < r.bare_bound_min or _is_year(q.value, r):
        return q
    if r.population_before.search(text, max(0, q.start - 16), q.start):
        return replace(q, kind="count")  # 人口三十万以上, おおむね人口の合計三十万当たり: people counted, in any numerals
    if not q.surface[:1].isascii() or not (q.comparator or r.bare_bound_before.search(text, max(0, q.start - 16), q.start)):
        return q
    return replace(q, kind="count")


def with_context(q: Quantity, ctx: ContextUnit | None) -> Quantity:
    """q read under a context unit: a bare number in a price column is money; money without a
    denominator takes the context's; a month with no year under a period's header is a count of
    months (| 期間 | … | 三月 |: three months)."""
    if ctx is None:
        return q
    if ctx.interval:
        r = _rules()
        if q.kind == "date" and q.value is None and q.surface.endswith("月") and (mm := r.month.fullmatch(q.surface)) \
                and (n := core_value(mm.group("m"), r)) is not None:
            return replace(q, kind="duration", value=float(n[0]), unit="month")
        return q
    if q.kind == "number" and ctx.measure and q.value is not None:
        return replace(q, kind="quantity", unit=ctx.measure, value=_scaled(q.value, ctx.scale),
                       value_max=_scaled(q.value_max, ctx.scale))
    if q.kind == "number" and ctx.currency and q.value is not None:
        unit = ctx.currency + (f"/{ctx.per}" if ctx.per else "")
        return replace(q, kind="money", unit=unit, value=_scaled(q.value, ctx.scale), value_max=_scaled(q.value_max, ctx.scale))
    if q.kind == "money" and q.unit and "/" not in q.unit and ctx.per:
        return replace(q, unit=f"{q.unit}/{ctx.per}")
    return q


# ---------------------------------------------------------------- amounts in words and later passes


_SHARE_GAP = 8  # how far a verb of bearing or funding may stand from a CJK share word
_PUNCT = regex_cache.compile("[。，、；,;（）()]")


_SHARE_END = r"(?![a-z-])(?! (?:hourly|hour|daily|monthly|yearly)(?![a-z]))"  # by half-hourly metering: no share


class _BoundedShares(NamedTuple):
    """quantities.json percent_words_bounded, read once: more than half, 過半数, 半数以上."""
    share: dict[str, tuple[float, str | None]]  # word (English lower-cased) -> (percent, comparator)
    en_words: tuple[str, ...]
    en: re.Pattern  # the English words, run on the lower-cased text
    cjk_words: tuple[str, ...]
    cjk: re.Pattern  # the CJK words, led by their own characters


@cache
def _bounded_shares() -> _BoundedShares:
    share = {w.lower(): (float(v), c) for w, (v, c) in _rules().d["percent_words_bounded"].items()}
    en = tuple(sorted((w for w in share if w.isascii()), key=len, reverse=True))
    cjk = tuple(sorted((w for w in share if not w.isascii()), key=len, reverse=True))
    return _BoundedShares(share, en, regex_cache.compile(f"(?<![a-z])(?:{'|'.join(map(re.escape, en))}){_SHARE_END}"),
                          cjk, regex_cache.compile("|".join(map(re.escape, cjk))))


def _bounded_share_amounts(text: str, matches: Iterator[re.Match], share: dict[str, tuple[float, str | None]]) -> list[Quantity]:
    """A percent quantity, with its comparator, for each bounded share word matched."""
    out = []
    for m in matches:
        percent, comparator = share[m.group()]
        out.append(Quantity("percent", percent, None, "percent", comparator, text[m.start():m.end()], m.start(), m.end()))
    return out


class _AmountWords(NamedTuple):
    """quantities.json percent_words and en_fractions, read once."""
    rx: re.Pattern  # any of the words
    table: dict[str, float]  # word (lower-cased) -> percent
    gates: tuple[str, ...]  # a text holding none of these holds none of the words
    verbs: tuple[str, ...]  # verbs a CJK share word must stand beside
    after: re.Pattern  # such a verb after the word


@cache
def _amount_words() -> _AmountWords:
    d = _rules().d
    fractions = d["en_fractions"]
    table = _en_fractions(fractions) | {w.lower(): float(v) for w, v in d["percent_words"].items() if not w.startswith("_")}
    # every fraction holds its denominator word or that word's irregular plural (thirds, halves)
    gates = [*fractions["denominators"], *fractions["plurals"].values()]
    gates += [w for w in table if not any(g in w for g in gates)]
    verbs = tuple(d["percent_words_cjk_with"])
    after = regex_cache.compile(f"[^。，、；,;（）()]{{0,{_SHARE_GAP}}}?(?:{'|'.join(map(re.escape, verbs))})")
    rx = regex_cache.compile("(?<![A-Za-z])(?:" + "|".join(re.escape(w) for w in sorted(table, key=len, reverse=True))
                             + ")(?![A-Za-z])", re.I)
    return _AmountWords(rx, table, tuple(gates), verbs, after)


def _en_fractions(spec: dict) -> dict[str, float]:
    """English fractions before 'of' as shares in percent (one-fourth of: 25, three quarters of: 75)."""
    out = {}
    for den, n in spec["denominators"].items():
        plural = spec["plurals"].get(den, den + "s")
        for num, k in spec["numerators"].items():
            if k < n:
                for sep in (" ", "-"):
                    out[f"{num}{sep}{den if k == 1 else plural} of"] = round(100 * k / n, 2)
        if den in spec["a_numerator"]:
            out[f"a {den} of"] = round(100 / n, 2)
    return out


_HALF_OF_YEAR = regex_cache.compile(r" ?(?:the )?(?:fiscal |financial |calendar )?(?:year )?(?:19|20)[0-9]{2}(?![0-9])")
# one third of a year, a quarter of each financial year: a part of a period, no share
_PART_OF_PERIOD = regex_cache.compile(r" (?:a|an|the|each|every|any)? ?(?:relevant |single )?"
                                      r"(?:fiscal |financial |calendar |compliance |scheme )?(?:year|month|day|hour)s?(?![a-z])")


def _a_share(text: str, m: re.Match, verbs: tuple[str, ...], after: re.Pattern) -> bool:
    """Whether an amount word found at m states a share: an English one always, a CJK one beside a
    verb of bearing or funding with no punctuation between (quantities.json percent_words_cjk_with)."""
    if m.group()[0].isascii():  # the second half of 2025 is a date (dates.py), a third of a year a period: no share
        return not _HALF_OF_YEAR.match(text, m.end()) and not _PART_OF_PERIOD.match(text, m.end())
    if after.match(text, m.end()):
        return True
    seg = text[max(0, m.start() - _SHARE_GAP - 2):m.start()]
    return any((k := seg.rfind(v)) >= 0 and not _PUNCT.search(seg, k + len(v))
               and not seg.startswith(tuple(_rules().d["percent_words_cjk_noun_after"]), k + len(v)) for v in verbs)


def word_amounts(text: str, low: str | None = None) -> list[Quantity]:
    """Shares written as words: 全額 (100 percent), 半額, half of, two thirds of; multiples (按次加倍處罰,
    the penalty is doubled: 2 multiple); counts of occasions (at most once, only one … per …). low is
    text lower-cased, when at hand."""
    aw = _amount_words()
    low = text.lower() if low is None else low
    # Substring tests in C first: each pattern runs only where a word it needs stands.
    out = [Quantity("percent", aw.table[m.group().lower()], None, "percent", None, m.group(), m.start(), m.end())
           for m in aw.rx.finditer(text) if _a_share(text, m, aw.verbs, aw.after)] if any(w in low for w in aw.gates) else []
    b = _bounded_shares()
    if any(w in low for w in b.en_words):
        out += _bounded_share_amounts(text, b.en.finditer(low), b.share)
    if any(w in text for w in b.cjk_words):
        out += _bounded_share_amounts(text, b.cjk.finditer(text), b.share)
    out += [Quantity("quantity", value, None, "multiple", None, text[m.start():m.end()], m.start(), m.end())
            for rx_m, value, needs in _multiple_words() if any(w in low for w in needs) for m in rx_m.finditer(low)]
    out += [Quantity("count", value if value is not None else 2.0 if m.group().endswith("twice") else 1.0, None, None,
                     cmp, text[m.start():m.end()], m.start(), m.end())
            for rx_c, value, cmp, needs in _count_words() if any(w in low for w in needs) for m in rx_c.finditer(low)]
    op = _ordinal_periods()
    for g in op.groups:
        if any(w in low for w in g.gates) and any(u in low for u in g.units):
            out += [Quantity("duration", op.ordinals[m.group("o")], None, g.units[m.group("u")], None,
                             text[m.start("o"):m.end()], m.start("o"), m.end())
                    for m in g.rx.finditer(low)]
    return non_overlapping(out)


def _repeated(t: str, d: _Draft, r: _Rules) -> bool:
    """Whether 'N times' closes a phrase after the act it repeats (quantities.json times_repeated)."""
    return t[d.end - 5:d.end].lower() == "times" and bool(r.times_repeated_after.match(t, d.end)) \
        and bool(r.times_repeated_before.search(t, max(0, d.start - 20), d.start))


_PER_SUFFIXES = ("当たり", "あたり", "当り", "につき")


def _glossed_pers(unit: str, words: list[str]) -> list[str]:
    """A Japanese denominator written out in katakana also with its unit's symbol glossed in brackets
    before 当たり (メガワット時(MWh)あたり, キロワット時（kWh）当たり), a Chinese one after its 每 word
    (每千度(MWh), 每度（kWh）)."""
    out = list(words)
    if unit.isascii() and unit[:1].isalpha():
        for w in words:
            if w.startswith("每") and not any(c.isascii() for c in w):
                out += [f"{w}{o}{unit}{c}" for o, c in (("(", ")"), ("（", "）"))]
            stem = next((w[:-len(x)] for x in _PER_SUFFIXES if w.endswith(x)), None)
            if stem and not any(c.isascii() for c in stem):
                out += [f"{stem}{o}{unit}{c}{w[len(stem):]}" for o, c in (("(", ")"), ("（", "）"))]
    return out


def _per_variants(words: list[str]) -> list[str]:
    """The denominators' words with each 'per X' also written with the other English words for 'each'
    and 'a X' / 'an X' ($1.00 for each gallon, $2 in respect of each whole kilogram, 10 cents a gallon)."""
    out = list(words)
    for w in words:
        if w.startswith("per ") and len(w) > 4:
            rest = w[4:]
            out += [f"{each} {rest}" for each in ("for each", "for every", "in respect of each", "in respect of every",
                                                 "per each")] + [f"a {rest}", f"an {rest}"]
    return list(dict.fromkeys(out))


class _OrdinalGroup(NamedTuple):
    """One group of quantities.json ordinal_periods: period words and the relation words after them."""
    rx: re.Pattern  # an ordinal word before a period word, a relation word after it
    units: dict[str, str]  # period word -> the unit it names
    gates: tuple[str, ...]  # ' after', ' of', …: a text holding none of these has no period of the group


class _OrdinalPeriods(NamedTuple):
    """quantities.json ordinal_words and ordinal_periods, read once (the sixth year after …)."""
    ordinals: dict[str, float]  # ordinal word -> its number
    groups: tuple[_OrdinalGroup, ...]


@cache
def _ordinal_periods() -> _OrdinalPeriods:
    d = _rules().d
    ordinals = alt(d["ordinal_words"])
    groups = tuple(_OrdinalGroup(regex_cache.compile(f"(?<![a-z-])(?P<o>{ordinals}) (?P<u>{alt(g['units'])})"
                                                     f"(?= (?:{alt(g['relations'])}))"),
                                 g["units"], tuple(f" {w}" for w in g["relations"]))
                   for g in d["ordinal_periods"])
    led = d["ordinal_led"]  # by the fifth year: the word of a bound before the ordinal
    groups += (_OrdinalGroup(regex_cache.compile(f"{led['lead']}(?P<o>{ordinals}) (?P<u>{alt(led['units'])})s?(?![a-z-])"),
                             led["units"], (" the ",)),)
    return _OrdinalPeriods({k: float(v) for k, v in d["ordinal_words"].items()}, groups)


class _Inequalities(NamedTuple):
    chain: re.Pattern  # 19 ≤kW <56: a range
    bound: re.Pattern  # kW <19: a bound
    signs: frozenset[str]


@cache
def _inequalities() -> _Inequalities:
    d = _rules().d["unit_inequalities"]
    num, var = r"[0-9][0-9,]*(?:\.[0-9]+)?", alt(d["variables"])
    lower = alt([w for w in d["signs"] if w[0] in "≤<≦"])
    signs = alt(d["signs"])
    var_between = f"[ ]?(?P<c1>{lower})[ ]?(?P<u>{var})(?![A-Za-z0-9])[ ]?(?P<c2>{lower})[ ]?"
    return _Inequalities(
        regex_cache.compile(f"(?<![0-9.,])(?P<lo>{num}){var_between}(?P<hi>{num})(?![0-9])"),
        regex_cache.compile(f"(?<![0-9A-Za-z.,≤<>≦≥≧=])(?P<u>{var})[ ]?(?P<c>{signs})[ ]?(?P<n>{num})(?![0-9])"),
        frozenset(w[0] for w in d["signs"]))


def unit_inequalities(text: str) -> list[Quantity]:
    """Figures bounded by a unit written as the variable (19 ≤kW <56: 19-56 kW; kW >560: more than 560 kW),
    as tables of engine or plant classes write them (quantities.json unit_inequalities)."""
    ineq = _inequalities()
    if not any(c in text for c in ineq.signs):
        return []
    r = _rules()

    def scaled(u: str, value: str) -> tuple[float, str]:
        g = r.unit_of(u)
        return parse_number(value) * g.get("factor", 1), g["unit"]

    out = []
    for m in ineq.chain.finditer(text):
        (lo, unit), (hi, _) = scaled(m["u"], m["lo"]), scaled(m["u"], m["hi"])
        if lo < hi:
            out.append(Quantity("quantity", lo, hi, unit, "range", m.group(), m.start(), m.end()))
    for m in ineq.bound.finditer(text):
        value, unit = scaled(m["u"], m["n"])
        out.append(Quantity("quantity", value, None, unit, r.cmp_pre[m["c"]], m.group(), m.start(), m.end()))
    return non_overlapping(out)


@cache
def _multiple_words() -> list[tuple[re.Pattern, float, tuple[str, ...]]]:
    return [(regex_cache.compile(p), float(v), tuple(needs)) for p, v, needs in _rules().d["multiple_words"]]


@cache
def _count_words() -> list[tuple[re.Pattern, float | None, str | None, tuple[str, ...]]]:
    """(pattern, value or None: once 1, twice 2, comparator, needed words) of quantities.json count_words."""
    return [(regex_cache.compile(p), None if v is None else float(v), cmp, tuple(needs)) for p, v, cmp, needs in _rules().d["count_words"]]


def non_overlapping(qs: list[Quantity]) -> list[Quantity]:
    """qs sorted, without those a longer one starting at or before them overlaps (July 1 in July 1,
    2029; twice in 'no more than twice a year')."""
    out: list[Quantity] = []
    for q in sorted(qs, key=lambda q: (q.start, q.start - q.end)):
        if not out or q.start >= out[-1].end:
            out.append(q)
    return out


def overlay(quantities: list[Quantity], extra: list[Quantity]) -> list[Quantity]:
    """quantities with the spans of a later pass put in (English dates, amount words); a quantity such
    a span overlaps (the 31 and 2025 of December 31, 2025) gives way to it."""
    if not extra:
        return quantities
    starts = [d.start for d in extra]

    def overlapped(q: Quantity) -> bool:
        i = bisect_right(starts, q.end - 1) - 1
        return i >= 0 and extra[i].end > q.start

    out = [q for q in quantities if not overlapped(q)] + extra
    out.sort(key=lambda q: q.start)
    return out


def counts_number_of(low: str, start: int, floor: int = 0) -> bool:
    """Whether an English 'number of <noun>' is what the figure at `start` of lower-cased text states
    or bounds (the number of participants shall not exceed 50; data: number_of_before)."""
    a = max(floor, start - _NUMBER_OF_REACH)
    return low.find("number of", a, start) >= 0 and _rules().number_of.search(low, a, start) is not None


def is_frequency(surface: str) -> bool:
    """Whether a duration was written as a frequency word (每年, 毎年度, quarterly)."""
    return key(fold(surface)) in _rules().freq
