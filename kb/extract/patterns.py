"""Building blocks for the extraction grammars' regexes: word alternations, prefix trees, the
characters a pattern can start or end with (cheap tests before a regex call), case folding that
keeps offsets, and full-width folding. Every helper keeps lengths, so positions stay positions."""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["CASE_EXTRA", "EN_SUFFIX", "alt", "caseless", "ci_firsts", "edge_chars", "firsts", "fold", "key",
           "LOWER_ASCII_PATTERN", "load_data", "lowered", "re_i_variants", "trie"]

_ASCII_END = re.compile(r"[A-Za-z0-9.]$")


def load_data(name: str) -> dict:
    """A grammar's data file from kb/data/ (word lists and rules are data, the code is grammar)."""
    return json.loads((Path(__file__).parent.parent / "data" / name).read_text(encoding="utf-8"))


def alt(words, ci=False, not_before="", reverse=False) -> str:
    """Alternation of literal words, longest first (Python takes the first alternative that fits).
    ASCII words get letter boundaries so that 't' does not match inside 'to'.  reverse spells the
    words backwards, to match what stands *before* a position on the reversed text."""
    parts = []
    for w in sorted(set(words), key=len, reverse=True):
        p = re.escape(w[::-1] if reverse else w)
        p = f"(?i:{p})" if ci else p
        if w[:1].isascii() and w[:1].isalpha():
            p = p + "(?![A-Za-z])" if reverse else "(?<![A-Za-z])" + p
        if _ASCII_END.search(w) and not reverse:
            p += "(?![A-Za-z])"
        parts.append(p + (f"(?![{re.escape(not_before)}])" if not_before else ""))
    return "|".join(parts) or "(?!)"


def firsts(words, i=0) -> frozenset:
    """First (i=0) or last (i=-1) characters of words in both cases: a cheap test before a regex."""
    return frozenset(c for w in words for c in (w[i].lower(), w[i].upper()))


# Under re.I an ASCII letter also matches these four characters, and no others (checked over all
# of Unicode): İ and ı match i, ſ matches s, the Kelvin sign matches k.
CASE_EXTRA = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
_CASE_FOLD = str.maketrans(CASE_EXTRA)


def key(word: str) -> str:
    """The dictionary form of a word a re.I pattern matched: lower case, with the four letters
    re.I equates with ASCII ones folded to them (MILLİON and ſeconds are million and seconds)."""
    return word.lower() if word.isascii() else word.translate(_CASE_FOLD).lower()


def re_i_variants(ch: str) -> set[str] | None:
    """The characters ch matches under re.I: itself when uncased, both cases and CASE_EXTRA's for
    an ASCII letter, None for other cased characters (not worked out here)."""
    if ch.lower() == ch == ch.upper():
        return {ch}
    if ch.isascii():
        return {ch.lower(), ch.upper()} | {x for x, a in CASE_EXTRA.items() if a == ch.lower()}
    return None


def ci_firsts(words) -> frozenset | None:
    """Every character a case-insensitive match of one of words can start with (a cheap test
    before a regex), or None when a word starts with a cased non-ASCII letter."""
    variants = [re_i_variants(w[0]) for w in words]
    return None if None in variants else frozenset().union(*variants)


# Full-width ASCII, ideographic/no-break spaces, the minus sign, the wave dash and the full-width yen
# sign fold to one character each, so lengths and offsets never change.
_FOLD = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0xA0: 0x20, 0x202F: 0x20, 0x2212: 0x2D, 0x301C: 0x7E, 0xFFE5: 0xA5})
# str.translate looks every character of a CJK text up in the dict; a regex that visits only the
# characters to fold (a few percent of them) is about ten times faster.
_FOLD_RX = re.compile("[" + "".join(map(chr, sorted(_FOLD))) + "]")
_FOLDED = {chr(k): chr(v) for k, v in _FOLD.items()}


def fold(text: str) -> str:
    """text.translate(_FOLD), faster."""
    return _FOLD_RX.sub(lambda m: _FOLDED[m.group()], text)

EN_SUFFIX = "(?:s|es|d|ed|ing)?"  # report/reports/reported/reporting: one cue word for all
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def lowered(text: str) -> str:
    """ASCII-lower-cased copy of the same length (English cues are matched on it)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)  # 'İ'.lower() is 2 chars


# Under re.I an ASCII letter also matches exactly four other characters (CASE_EXTRA). On a
# lower-cased copy with those four folded as well, a pattern written in lower-case ASCII matches the
# same without re.I -- and only without it can the engine skip ahead to the pattern's first letters
# (six times faster).
_CASE_EXTRA_RX = re.compile("[" + "".join(CASE_EXTRA) + "]")
LOWER_ASCII_PATTERN = re.compile(r"[\x00-\x40\x5b-\x7f]*")  # no capitals, so no \S \W \B either


def caseless(low: str) -> str:
    """`low` (a lowered() text) with the four characters above folded: same length."""
    return _CASE_EXTRA_RX.sub(lambda m: CASE_EXTRA[m.group()], low) if _CASE_EXTRA_RX.search(low) else low


def trie(words) -> str:
    """A regex matching any of `words`, factored as a prefix tree.

    Python's engine tries every alternative of a flat alternation at every position; a tree
    shares prefixes, and its leading character set lets the engine skip ahead in C. On CJK text
    this is about ten times faster than a flat alternation of the same words."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


def edge_chars(rx: re.Pattern, last: bool) -> frozenset | None:
    """Every character a match of rx can end with (last) or start with, or None when that is not
    known (a class such as \\w or [^、], non-ASCII letters under re.I, a match that may be empty,
    an unfamiliar construct). Read from the parsed pattern: the last (first) item that must consume,
    and any optional items after (before) it."""
    import re._parser as sre  # Python 3.11+; the parse tree of a compiled pattern

    def chars(op, av, nocase: bool) -> set[str] | None:
        if op is sre.LITERAL:
            out = {chr(av)}
        elif op is sre.IN:
            out = set()
            for iop, iav in av:
                if iop is sre.LITERAL:
                    out.add(chr(iav))
                elif iop is sre.RANGE and iav[1] - iav[0] < 256:
                    out.update(map(chr, range(iav[0], iav[1] + 1)))
                else:
                    return None  # NEGATE, CATEGORY, wide ranges
        else:
            return None
        if nocase:
            variants = [re_i_variants(ch) for ch in out]
            return None if None in variants else set().union(*variants)
        return out

    def seq(items, nocase: bool) -> tuple[set[str], bool] | None:
        """(last characters, whether the sequence may consume nothing)."""
        out: set[str] = set()
        for op, av in (reversed(list(items)) if last else items):
            got = item(op, av, nocase)
            if got is None:
                return None
            out |= got[0]
            if not got[1]:
                return out, False
        return out, True

    def item(op, av, nocase: bool) -> tuple[set[str], bool] | None:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            return set(), True  # zero width
        if op is sre.SUBPATTERN:
            add, remove = av[1], av[2]
            return seq(av[3], (nocase or bool(add & re.I)) and not remove & re.I)
        if op is sre.ATOMIC_GROUP:
            return seq(av, nocase)
        if op is sre.BRANCH:
            out, empty = set(), False
            for alt in av[1]:
                got = seq(alt, nocase)
                if got is None:
                    return None
                out |= got[0]
                empty = empty or got[1]
            return out, empty
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            lo, hi, sub = av
            got = seq(sub, nocase) if hi else (set(), True)
            return None if got is None else (got[0], got[1] or lo == 0)
        got = chars(op, av, nocase)
        return None if got is None else (got, False)

    try:
        got = seq(sre.parse(rx.pattern, rx.flags & ~re.U), bool(rx.flags & re.I))
    except Exception:  # a parser of another Python version: do without the shortcut
        return None
    return None if got is None or got[1] else frozenset(got[0])
