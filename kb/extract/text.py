"""The text extraction reads, and how its positions map back to the body.

Two views of a body, both built before any rule runs:

- mask(body): the same length as the body, with HTML tags and Markdown emphasis markers blanked
  (an HTML table's row tags become line breaks and its cell tags tabs, so that it splits as a
  tab-separated table does). Clause splitting runs on it, so its positions are body positions.
- join(masked, spans): what quantity, date, role and rule matching see. Text converted from a PDF
  or a web page breaks lines inside sentences (`10⏎年間`, `なけれ⏎ばならない`, `EUR⏎2,500,000`) and
  writes ASCII `.` and `,` between CJK characters; inside each clause span the join removes a line
  break next to a CJK character (a space elsewhere; with the hyphen before it between two lower-case
  letters, re-⏎quired), reads a lone ASCII `.`/`,` between CJK characters
  as `。`/`，`, folds no-break and ideographic spaces to a plain space, and closes up a figure that a
  letter-spaced PDF wrote digit by digit between CJK words (`3 0 公里`), Chinese it set letter-spaced
  (`船 舶 年 度`) and a formula's subscript it set apart (`gCO 2e/MJ`), reads a doubled blank beside a Latin letter as one
  (`by 11  October 2027`), and blanks web addresses
  (their dates and figures are not the text's). Joined.body() maps every
  position of the joined text back to the body (normalize, then map back), so a measure's span
  still indexes the original body.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

from kb import regex_cache
from kb.extract.patterns import load_data
from kb.scripts import CJK, CJK_RX, HAN

__all__ = ["CJK", "Joined", "join", "mask", "readable"]


# A web address holds dates and figures of its own (/2024/03/15/, dataserno=2023…): the joined
# view blanks it, so none of it is read as a measure or a cue (clauses still split as the text does).
_URL = regex_cache.compile(r"(?:https?://|www\.)[^\s<>\"'()（）\[\]【】「」]+")
# HTML tags have ASCII names, so <基準価格> or <措置①> (labels) are left alone, as is a < b.
_TAG = r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"
_NOT_LINEBREAK = regex_cache.compile(r"[^\r\n]")
_WS = regex_cache.compile(r"\s+")
# A line break between two CJK characters is a wrap, not a word gap.
_CJK_WRAP = regex_cache.compile(f"(?<=[{CJK}])[ \\t\\r\u3000]*\\n\\s*(?=[{CJK}])")


@cache
def _mask_rx() -> re.Pattern:
    return regex_cache.compile("|".join([_TAG] + load_data("clauses.json")["emphasis_markers"]["patterns"]))


def mask(body: str) -> str:
    """`body` with HTML tags and emphasis markers turned into spaces (line breaks kept). An HTML
    table keeps its shape as a tab-separated table does: a row tag becomes a line break and a
    cell tag a tab, so that its rows are table rows and its header names its columns."""
    rx = _mask_rx()
    return rx.sub(_blank, body) if rx.search(body) else body


_ROW_TAG = regex_cache.compile(r"</?(?:tr|table)(?![A-Za-z0-9-])", re.I)  # a row opens or closes; so does the table
_CELL_TAG = regex_cache.compile(r"<t[dh](?![A-Za-z0-9-])", re.I)


def _blank(m: re.Match) -> str:
    s = m.group()
    if s[:1] == "<" and s[1:2] in "tT/":
        if _ROW_TAG.match(s):
            return "\n" + _NOT_LINEBREAK.sub(" ", s[1:])
        if _CELL_TAG.match(s):
            return "\t" + _NOT_LINEBREAK.sub(" ", s[1:])
    return _NOT_LINEBREAK.sub(" ", s) if "\n" in s or "\r" in s else " " * len(s)


# Tags that sit inside a word (CO<sub>2</sub>, <b>运营</b>费用) vanish; any other tag
# (li, br, td...) separates words and becomes a space.
_INLINE_TAG = regex_cache.compile(
    r"</?(?:a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|font|i|ins|kbd|mark|q|rp|rt|ruby|s|"
    r"samp|small|span|strong|sub|sup|time|u|var)(?:\s[^<>]*)?/?>",
    re.I,
)


def _drop(m: re.Match) -> str:
    s = m.group()
    return "" if s[0] != "<" or _INLINE_TAG.fullmatch(s) else " "


# Anything readable() would change: markup, entities, runs or odd kinds of whitespace.
_UNTIDY = regex_cache.compile(r"[<*_`~&]|[^\S ]| \s|^\s|\s$")
_MARKUP = regex_cache.compile(r"[<*_`~&]")


def _tidy(raw: str) -> bool:
    """Whether _UNTIDY finds nothing in raw, mostly without it: that pattern has no first-character
    filter, while these tests run in C (a printable string holds no whitespace but ' ')."""
    if raw.isprintable():
        return not (_MARKUP.search(raw) or "  " in raw or raw[:1] == " " or raw[-1:] == " ")
    return not _UNTIDY.search(raw)


def readable(raw: str) -> str:
    """Display text for a slice of the body."""
    if _tidy(raw):
        return raw  # most clauses are already plain
    t = _mask_rx().sub(_drop, raw)
    t = html.unescape(t) if "&" in t else t
    return _WS.sub(" ", _CJK_WRAP.sub("", t)).strip()


# ---------------------------------------------------------------- the joined view

# What the join changes inside a clause: a line break with the blanks around it, a lone ASCII
# period or comma between CJK characters, a no-break or ideographic space. Line breaks are found
# first and their blanks gathered by hand: a pattern like `[ ]*\n` tries every blank of a long run
# that holds no line break (quadratic).
_BLANKS = " \t\r\u3000\u00a0"
# Starts with a character class so that the engine skips ahead; the CJK character before a . or ,
# is checked by hand.
_PUNCT = {".": "。", ",": "，"}
_LOWER = regex_cache.compile("[a-z]")
_EXPONENT_BASE = regex_cache.compile("[0-9] ?[kc]?m$")  # a length unit after its figure, at a line's end
_SPACES = "\u3000\u00a0\u202f\u2009"  # no-break, ideographic and thin spaces: a plain space in the joined view
# A PDF set letter-spaced writes a figure between CJK words digit by digit, a blank after each digit
# (离岸3 0 公里, 大于3 0 米): the blanks between its digits go. Two to four digits with a CJK character
# before and a blank then a CJK character after; 1 0万元, with no blank before its unit, stays a cut
# figure, and a figure in English text keeps its blanks.
# Led by the digit, so that the engine skips ahead to digits; the CJK character before it is then
# looked behind.
_SPACED_DIGITS = regex_cache.compile(f"[0-9](?<=[{CJK}][0-9])(?: [0-9]){{1,3}}(?= [{CJK}])")


# A PDF converted to text breaks Japanese words with a blank as it does with a line break (提出が必要で す,
# 受け付け ます): one blank beside a hiragana, between Japanese characters, goes. Led by the blank; the
# characters around it are looked at only where the text holds a hiragana at all.
_HIRAGANA = regex_cache.compile("[ぁ-ゖ]")
_KANA_GAP = regex_cache.compile(" (?:(?<=[ぁ-ゖ] )(?=[ぁ-ゖァ-ヺ一-鿿])|(?<=[ァ-ヺ一-鿿] )(?=[ぁ-ゖ]))")
# A page converted to text doubles blanks (by 11  October 2027, 50  MW): a run of blanks after a Latin
# letter or digit and before a letter, or after a letter and before a digit, reads as one. Between two
# digits it stays, so that a table's figures never run together as one grouped figure.
# Led by a letter or digit, so that a run after anything else is not tried again at each of its blanks.
_BLANK_RUN = regex_cache.compile("(?<=[0-9A-Za-z])  +(?=[0-9A-Za-z])")
# A PDF set letter-spaced writes Chinese (船 舶 年 度 平 均): in a run of three or more Han characters
# one blank apart, the blanks go (two alone, 北京 上海, may be a table's cells).
_HAN_SPACED = regex_cache.compile(f" (?<=[{HAN}] )[{HAN}](?: [{HAN}])+")  # led by the blank: text holds few
# A formula's subscript that a PDF set apart (gCO 2e/MJ, CO 2 e, kgH 2): the blanks before its digit and
# before its e go. Led by the digit (blanks are everywhere in English); the formula before it is looked behind.
_FORMULA_GAP = regex_cache.compile("[2346](?<=(?:CO|CH|SF|NF|gH) [2346])(?![0-9.,])(?: e(?![A-Za-z]))?")


@cache
def _mark_rx() -> tuple[re.Pattern, dict[str, str]]:
    """What the join mends beside the line breaks, and the replacement of each: a circle typed for a
    zero is 〇 next to a kanji digit or before a decimal point and one (numerals.json); an amendment's
    opening mark (legislation.gov.uk's [F2) goes (clauses.json)."""
    d = load_data("numerals.json")
    digits = re.escape("".join(k for k in d["digits"] if not k.isascii()))
    zeros = re.escape(d["zero_marks"])
    amended = load_data("clauses.json")["amendment_markers"]["pattern"]
    # a run of circles after a kanji digit (三○○○元, 一○○○平方公尺) is a run of zeros: up to five
    after_digit = "|".join(f"(?<=[{digits}]{f'[{zeros}]{{{n}}}' if n else ''})" for n in range(5))
    before_digit = f"[{zeros}](?=[{digits}]|[．.點点][{digits}{zeros}])"  # ○．五, ○．○一, ○點五
    rx = regex_cache.compile(f"[.,](?=[{CJK}])|[{_SPACES}]|{before_digit}|(?:{after_digit})[{zeros}]|{amended}")
    return rx, {**_PUNCT, **{z: "〇" for z in d["zero_marks"]}}


@cache
def kanji_digits() -> str:
    """The kanji digits and the circles typed for a zero (numerals.json): a point between two of them
    is a decimal point (二百零八．七, 二.五萬噸), not a full stop."""
    d = load_data("numerals.json")
    return "".join(k for k in d["digits"] if not k.isascii()) + d["zero_marks"]


@cache
def _decimal_point() -> str:
    """The decimal point the join writes for an ASCII . between kanji digits (numerals.json's first)."""
    return load_data("numerals.json")["decimal_points"][0]


@dataclass(frozen=True, slots=True)
class Joined:
    """Joined text and its map back: from view position at[k] on, body = view + shift[k]."""

    text: str
    at: tuple[int, ...] = ()
    shift: tuple[int, ...] = ()

    def body(self, i: int) -> int:
        """The body position of view position i (i == len(text) maps past the last character)."""
        k = bisect_right(self.at, i) - 1
        return i + self.shift[k] if k >= 0 else i

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Body offsets (start, end exclusive) of the view's text[a:b]."""
        return (self.body(a), self.body(b - 1) + 1) if b > a else (self.body(a), self.body(a))

    def view(self, p: int) -> int:
        """The view position of body position p; a position inside removed text maps to the next
        character that was kept."""
        lo, hi = 0, len(self.text)
        while lo < hi:  # the first view position whose body position is >= p
            mid = (lo + hi) // 2
            if self.body(mid) < p:
                lo = mid + 1
            else:
                hi = mid
        return lo


def _breaks(text: str, spans: list[tuple[int, int]]):
    """(span, position) of each line break inside a span, in order (most clauses hold none)."""
    for span in spans:
        a, b = span
        while (i := text.find("\n", a, b)) >= 0:
            yield span, i
            a = i + 1


@cache
def _line_openers() -> frozenset[str]:
    """Marks that open a note or a list item written flush against its text (※, ・, ■ …)."""
    d = load_data("clauses.json")
    return frozenset(d["bullets"]["flush"]) | frozenset(p for p in d["plain_heading"]["note_prefixes"] if len(p) == 1)


def join(masked: str, spans) -> Joined:
    """The joined view of `masked`: soft breaks and CJK punctuation mended inside each (start, end)
    span (the clauses), everything else as it is."""
    spans = list(spans)
    starts = [a for a, _ in spans]

    def inside(s: int, e: int) -> tuple[int, int] | None:
        i = bisect_right(starts, s) - 1
        return spans[i] if i >= 0 and e <= spans[i][1] else None

    urls = [m.span() for m in _URL.finditer(masked) if inside(*m.span()) is not None] if "/" in masked or "www." in masked else []
    url_ends = {b for _, b in urls}
    edits = []  # (start, end, replacement), sorted and disjoint
    for span, s in _breaks(masked, spans):
        e = s + 1
        while s > span[0] and masked[s - 1] in _BLANKS:
            s -= 1
        while e < span[1] and masked[e] in _BLANKS:
            e += 1
        if edits and s < edits[-1][1]:
            continue  # a blank run between two breaks of one clause: the first break took it
        # Figures on separate lines (a flattened table) stay apart: only CJK text is glued (gluing
        # digits before a CJK unit too, 1⏎0万円, cost precision on the held-out passages).
        glued = CJK_RX.match(masked, s - 1) if s else None
        glued = glued or CJK_RX.match(masked, e)
        # 300m⏎2未満: a unit's exponent, set as a superscript, lost its raise and fell to the next line
        glued = glued or (masked[e:e + 1] in "23" and not masked[e + 1:e + 2].isdigit()
                          and _EXPONENT_BASE.search(masked, max(0, s - 4), s) is not None)
        if s and masked[s - 1].isdigit() and masked[e:e + 1].isdigit():
            continue  # a figure never runs on across a line: a list number over a figure (1⏎250kW) stays two
        if masked[e:e + 1] in _line_openers():
            continue  # a note or a list item opens a line of its own (…が対象⏎※ 増設も可能): no wrap
        apart = " "
        if s > 1 and masked[s - 1] == "-" and _LOWER.match(masked, s - 2) and _LOWER.match(masked, e) and s not in url_ends:
            s, apart = s - 1, ""  # re-⏎quired: a word a PDF hyphenated at the line's end is one word again
        edits.append((s, e, "" if glued else apart))
    edits += [(a, b, " " * (b - a)) for a, b in urls]
    edits.sort()
    breaks = [(s, e) for s, e, _ in edits]  # line breaks and web addresses: what the marks below must leave alone
    bstarts = [s for s, _ in breaks]

    def taken(i: int) -> bool:
        """Whether position i lies in a line break's blanks or a web address."""
        j = bisect_right(bstarts, i) - 1
        return j >= 0 and i < breaks[j][1]

    mark, mended = _mark_rx()
    for m in mark.finditer(masked):
        s, e = m.span()
        if masked[s] in _PUNCT and not (s and CJK_RX.match(masked, s - 1)):
            continue
        if taken(s) or inside(s, e) is None:
            continue  # taken by a line break's blanks or a web address, or outside every clause
        if m.group() == "." and masked[s - 1] in kanji_digits() and masked[e:e + 1] in kanji_digits():
            edits.append((s, e, _decimal_point()))  # 二.五萬噸 is 2.5万 t, not two sentences
            continue
        edits.append((s, e, mended.get(m.group(), " " if m.group() in _SPACES else "")))  # an amendment mark goes
    for m in _SPACED_DIGITS.finditer(masked):
        if inside(m.start(), m.end()) is None:
            continue
        for i in range(m.start() + 1, m.end(), 2):  # the blank after each digit but the last: 3 0 公里 is 30 公里
            if not taken(i):
                edits.append((i, i + 1, ""))
    for m in _BLANK_RUN.finditer(masked):
        if masked[m.start() - 1].isdigit() and masked[m.end()].isdigit():
            continue
        if inside(m.start(), m.end()) is not None and not taken(m.start()):
            edits.append((m.start(), m.end(), " "))
    for rx, back in ((_HAN_SPACED, 0), (_FORMULA_GAP, 1)):  # a formula's match opens after its blank
        for m in rx.finditer(masked):
            if inside(m.start(), m.end()) is None:
                continue
            for i in range(m.start() - back, m.end()):
                if masked[i] == " " and not taken(i):
                    edits.append((i, i + 1, ""))
    if _HIRAGANA.search(masked):
        for m in _KANA_GAP.finditer(masked):
            if inside(m.start(), m.end()) is not None and not taken(m.start()):
                edits.append((m.start(), m.end(), ""))
    if not edits:
        return Joined(masked)
    edits.sort()
    pieces: list[str] = []
    at: list[int] = []
    shift: list[int] = []
    prev = removed = 0
    for s, e, new in edits:
        if masked[s:e] == new:
            continue
        pieces.append(masked[prev:s])
        pieces.append(new)
        prev = e
        if e - s != len(new):
            at.append(s - removed + len(new))  # the first view position after the new text
            removed += (e - s) - len(new)
            shift.append(removed)
    if not pieces:
        return Joined(masked)
    pieces.append(masked[prev:])
    return Joined("".join(pieces), tuple(at), tuple(shift))
