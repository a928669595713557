"""Step 2 of extraction: numerals. The value of a numeral run in any of the scripts policy text uses:
Arabic digits with separators, kanji and hanzi numerals with their multipliers (三万五千, 1億2000万,
一點五万, 廿), colloquial forms (千一), English number words and multipliers (1.2 million), SI suffixes
and fractions (二分之一, 3分の1). Word lists live in data/numerals.json; quantities.py finds numerals
in running text and reads what stands around them."""

from __future__ import annotations

import math
import re
from functools import cache, lru_cache

from kb import regex_cache
from kb.extract.patterns import alt, fold, key, load_data

__all__ = ["MAX_RUN", "NumeralRules", "cached_core_value", "core_value", "english_cardinal", "finite", "loose_number",
           "numeral_rules", "parse_number", "plain_number"]

_TOKEN = regex_cache.compile(r"[0-9]+(?:\.[0-9]+)?|.", re.S)
# A comma before one or two digits, or after a lone 0, cannot group thousands: it is a decimal comma
# (2,2 %, EUR 25,50, 0,0619 in EU legal English). Three digits after it group thousands (12,500).
# Each branch starts with its literal, so that the engine drops it at once at any other character.
_DECIMAL_COMMA = r",(?<=[0-9],)(?=[0-9]{1,2}(?![0-9]|,[0-9]))|,(?<=(?<![0-9])0,)(?=[0-9])"
# Indian grouping puts a comma before each two digits above the thousands (3,75,000; 1,00,00,000): a
# comma before two digits and another group is such a separator, never a decimal comma.
_LAKH_GROUP = r",(?<=[0-9],)(?=[0-9]{2},[0-9])"
# A space groups thousands (25 000, 2 500 000; SI and EU style) after a first group of one to three digits
# that no other digit, point or comma precedes: 2025 100 stays a year and a number, and 24 180th day a
# section number and an ordinal.
_SPACE_GROUP = (" (?=[0-9]{3}(?![0-9]|st|nd|rd|th))"
                "(?:(?<=(?<![0-9.,])[0-9] )|(?<=(?<![0-9.,])[0-9]{2} )|(?<=(?<![0-9.,])[0-9]{3} )|(?<=[0-9] [0-9]{3} ))")
_BARE_DECIMAL = r"(?<![0-9A-Za-z.,])\.(?=[0-9])"
_THOUSANDS = regex_cache.compile(r"[, ](?=[0-9]{3}(?![0-9]))|" + _LAKH_GROUP)
# Statutes that write numbers in positional kanji group thousands with 、 (一、〇〇〇, 二七、〇〇〇): a 、
# between positional digits, before exactly three of them one of which is 〇, is a separator, not a list mark.
_KANJI_DIGITS = "〇一二三四五六七八九"
_KANJI_GROUP = (f"、(?<=[{_KANJI_DIGITS}]、)(?=[{_KANJI_DIGITS}]{{3}}(?![{_KANJI_DIGITS}十百千]))"
                f"(?=[{_KANJI_DIGITS[1:]}]{{0,2}}〇)")
MAX_RUN = 40  # the longest numeral run we interpret; longer runs are identifiers, not quantities


class NumeralRules:
    """The numeral grammar compiled from data/numerals.json (quantities.py builds on it)."""

    def __init__(self, d: dict):
        e = re.escape
        self.d, self.digits = d, {**d["digits"], **d["two"]}
        # floats, so that an absurd pile of multipliers overflows to inf (rejected) and never raises
        self.tens, self.small, self.big = ({k: float(v) for k, v in d[x].items()}
                                           for x in ("tens", "small_multipliers", "big_multipliers"))
        self.big_chars = "".join(self.big)
        # every character a CJK numeral is written with (digits, tens, multipliers): 三, 十, 万
        self.cjk_numeral_chars = frozenset(ch for w in (*self.digits, *self.tens, *self.small, *self.big)
                                           for ch in w if not ch.isascii())
        dig, two, dp = e("".join(d["digits"])), e("".join(d["two"])), e(d["decimal_points"])
        heads = d["si_prefix_heads"]
        mult = e("".join(d["tens"]) + "".join(k for k in {**self.small, **self.big} if k not in heads))
        # 千瓦/千克/兆瓦: an SI prefix, not a multiplier
        prefixed = "|".join(f"{e(k)}(?![{e(v)}])" for k, v in heads.items())
        # .05 ($.05 a bag, .5 percent): a decimal point with no whole part, not after a figure or a word
        first = f"[0-9{dig}{mult}{two}]|{prefixed}|{_BARE_DECIMAL}"
        cont = (f"[0-9{dig}{mult}]|{prefixed}|[{two}](?<![0-9{dig}][{two}])"  # 两 right after a digit is the tael
                f"|,(?<=[0-9],)(?=[0-9]{{3}}(?![0-9]))|{_LAKH_GROUP}|{_KANJI_GROUP}|{_SPACE_GROUP}|{_DECIMAL_COMMA}"
                f"|\\.(?:(?<=[0-9]\\.)(?=[0-9])|(?<=[{dig}]\\.)(?=[{dig}]))"  # digits of one script: 2.一百 is a list number
                f"|[{dp}](?=[0-9{dig}])")
        num = f"(?:{first})(?:{cont}){{0,{MAX_RUN}}}"
        self.num_src = num
        self.num_first = f"0-9{dig}{mult}{two}{e(''.join(heads))}"  # a character class body: what a numeral starts with
        self.num = regex_cache.compile(num)
        self.num_full, self.run_tail = regex_cache.compile(f"(?:{first})(?:{cont})*"), regex_cache.compile(f"(?:{cont})*")
        # 1.2 million, the ₹10,900-crore scheme, a $5-billion fund (the hyphen of a compound adjective)
        self.en_mult = regex_cache.compile(f"[ -]?(?P<m>{alt(d['en_multipliers'], ci=True)})(?![a-z])")
        self.en_cardinal = _en_cardinal(d["en_numbers"])
        self.si = regex_cache.compile(f"([0-9.,]+)([{e(''.join(d['si_suffixes']))}])")


def _en_cardinal(words: dict) -> re.Pattern:
    """English number words composed up to 999 on lower-cased text: twenty-four, twenty four,
    three hundred (and) fifty-five. 'and' joins only after hundred: between two and four stays two
    numbers. Every part is a fixed word list, so the match is linear."""
    units = [w for w, v in words.items() if 1 <= v <= 9]
    teens = [w for w, v in words.items() if 10 <= v <= 19]
    tens = [w for w, v in words.items() if v in (20, 30, 40, 50, 60, 70, 80, 90)]
    u, t, n = (f"(?:{'|'.join(sorted(x, key=len, reverse=True))})" for x in (units, teens, tens))
    below100 = f"(?:{n}(?:[- ]{u}(?![a-z]))?|{t}|{u})(?![a-z])"
    return regex_cache.compile(f"(?:{u}[ -]hundred(?:[ ](?:and[ ])?{below100})?(?![a-z])|{below100})")


def english_cardinal(low: str, pos: int, r: NumeralRules) -> tuple[float, int] | None:
    """(value, end) of the English cardinal in lower-cased text at pos (twenty-four: 24), or None."""
    m = r.en_cardinal.match(low, pos)
    if m is None:
        return None
    words, value = r.d["en_numbers"], 0.0
    for w in re.split(r"[ -]", m.group()):
        if w == "hundred":
            value = (value or 1) * 100
        elif w != "and":
            value += words[w]
    return value, m.end()


@cache
def numeral_rules() -> NumeralRules:
    return NumeralRules(load_data("numerals.json"))



def kanji_int(s: str, r: NumeralRules) -> tuple[float, float, float] | None:
    """(value, trailing 万/億 multiplier, the 十/百/千 just before it) of a numeral without a decimal
    point; Arabic digits may mix in (3.5万, 1億2000万)."""
    toks: list[tuple[str, float]] = []  # a: Arabic number, d: kanji digit, s: 十百千, b: 万億兆
    for x in _TOKEN.findall(s):
        if x[0].isdigit():
            toks.append(("a", float(x)))
        elif x in r.digits:
            toks.append(("d", float(r.digits[x])))
        elif x in r.tens:  # 廿 is 二十
            toks += [("d", r.tens[x] / 10), ("s", 10.0)]
        elif x in r.small or x in r.big:
            toks.append(("s", float(r.small[x])) if x in r.small else ("b", float(r.big[x])))
        else:
            return None
    if not toks:
        return None
    if all(k in "ad" for k, _ in toks):  # no multiplier: one number, or positional digits (二〇三〇)
        if len(toks) == 1 or all(k == "d" for k, _ in toks):
            return float("".join(str(int(v)) for _, v in toks)) if len(toks) > 1 else toks[0][1], 1.0, 1.0
        return None
    total = section = prev_mult = 0.0
    cur: float | None = None
    cur_kanji = gap = False
    last_small = last_big = math.inf
    for k, v in toks:
        if k in "ad":
            if k == "d" and v == 0:  # 零 holds an empty place: 一万零四十
                gap = True
            elif cur is not None:
                return None
            else:
                cur, cur_kanji = v, k == "d"
            continue
        if k == "s":
            if v >= last_small:
                return None
            section, last_small = section + (1.0 if cur is None else cur) * v, v
        else:
            if v >= last_big:
                return None
            total += (section + (cur or 0.0) or 1.0) * v
            section, last_small, last_big = 0.0, math.inf, v
        cur, prev_mult, gap = None, v, False
    if cur is not None:
        # Colloquial zh 千一 = 1100, 萬九 = 19000: a lone digit after 千/万 is the next place down.
        # Not after 百: Japanese 百一 is 101.
        if cur_kanji and not gap and prev_mult >= 1000 and toks[-1][0] == "d":
            cur *= prev_mult / 10
        section += cur
    tail, i = 1.0, len(toks) - 1
    while i > 0 and toks[i][0] == "b":
        tail, i = tail * toks[i][1], i - 1
    return total + section, tail, toks[i][1] if tail > 1 and i > 0 and toks[i][0] == "s" else 1.0


def core_value(core: str, r: NumeralRules) -> tuple[float, float, float] | None:
    """(value, trailing multipliers as _kanji_int) of a numeral run found by the core regex."""
    if "," in core or " " in core:
        core = _THOUSANDS.sub("", core).replace(",", ".")
    core = core.replace("、", "")  # 一、〇〇〇: only a thousands separator gets into a run (_KANJI_GROUP)
    if core.isascii() and core.replace(".", "", 1).isdigit():
        return float(core), 1.0, 1.0
    for p in (*r.d["decimal_points"], "."):  # 一點一, 零點77, 一點五万; 二百零八．七 (folded to '.')
        if p in core:
            ip, fp = core.split(p, 1)
            j = next((i for i, c in enumerate(fp) if not (c.isdigit() or c in r.digits)), len(fp))
            whole = kanji_int(ip, r)
            if not j or any(c not in r.big for c in fp[j:]) or whole is None or whole[1] != 1:
                return None
            frac = "".join(c if c.isdigit() else str(r.digits[c]) for c in fp[:j])
            mult = math.prod(r.big[c] for c in fp[j:])
            return (whole[0] + float("0." + frac)) * mult, float(mult), 1.0
    return kanji_int(core, r)


@lru_cache(maxsize=1 << 14)
def cached_core_value(core: str) -> tuple[float, float, float] | None:
    """_core_value with the data's rules; a corpus repeats the same numerals (2030, 10, 一) all the time."""
    return core_value(core, numeral_rules())


def finite(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    if -1e12 < v < 1e12 and v == int(v):
        return float(v)  # a whole number prints exactly in 12 digits: skip the round trip
    return float(f"{v:.12g}")  # drop binary noise such as 0.035000000000000003


def parse_number(s: str) -> float | None:
    """The whole string as one number, or None (百分之七十五 is a percent, not a number)."""
    if not isinstance(s, str):
        return None
    r, x, sign = numeral_rules(), fold(s).strip(), 1.0
    if not x or len(x) > 200:
        return None
    for w in r.d["negative_words"]:
        if x.startswith(w) and len(x) > len(w):
            x, sign = x[len(w):].lstrip(" "), -1.0
            break
    v = plain_number(x, r, True)
    return finite(None if v is None else sign * v)


def plain_number(x: str, r: NumeralRules, fractions: bool) -> float | None:
    if x in r.d["word_numbers"] or key(x) in r.d["en_numbers"]:
        return float(r.d["word_numbers"].get(x, r.d["en_numbers"].get(key(x))))
    x = "0" + x if x.startswith(".") else x
    if m := r.si.fullmatch(x):  # 100K, .0012G
        head = plain_number(m.group(1), r, False)
        return None if head is None else head * r.d["si_suffixes"][m.group(2)]
    m = r.num_full.match(x)
    if m and (em := r.en_mult.fullmatch(x, m.end())):  # 1.2 million
        cv = core_value(m.group(), r)
        return cv[0] * r.d["en_multipliers"][key(em.group("m"))] if cv else None
    if m and m.end() == len(x):
        cv = core_value(x, r)
        return None if cv is None else cv[0]
    if not fractions:
        return None
    for j in r.d["mixed_fraction_joiners"]:  # 一又十分一 = 1 + 1/10
        if j in x:
            a, b = x.split(j, 1)
            va, vb = plain_number(a, r, False), plain_number(b, r, True)
            return None if va is None or vb is None else va + vb
    for mk in r.d["fraction_markers"]:  # 二分之一, 二份一, 3分の1
        if mk in x:
            den, numr = x.split(mk, 1)
            vd, vn = plain_number(den, r, False), plain_number(numr, r, False)
            if vd is None or vn is None or vd == 0 or (vd == 100 and mk in ("分之", "分の")):
                return None
            return vn / vd
    return None


def loose_number(t: str, r: NumeralRules) -> float | None:
    """A numeral as Duckling's numeral dimension reads it: with a classifier (二個) or a pair (五對)."""
    if (v := parse_number(t)) is not None or len(t) < 2:
        return v
    if t[-1] in r.d["numeral_counters"]:
        return parse_number(t[:-1])
    f = r.d["numeral_suffix_factors"].get(t[-1])
    return None if f is None or (v := parse_number(t[:-1])) is None else v * f
