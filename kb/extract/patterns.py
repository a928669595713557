"""Building blocks for the extraction grammars' regexes: word alternations, prefix trees, the
characters a pattern can start or end with (cheap tests before a regex call), case folding that
keeps offsets, and full-width folding. Every helper keeps lengths, so positions stay positions."""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache, wraps
from pathlib import Path
from typing import NamedTuple

from kb import regex_cache
from kb.resources import load_data

__all__ = ["BRACKETS", "CASE_EXTRA", "EN_SUFFIX", "alt", "bracketed_spans", "caseless", "ci_firsts", "edge_chars", "firsts", "fold", "key",
           "LANG_KEYS", "LANGS", "CueSet", "caseless_pattern", "cue_lang", "lang_lists", "load_data", "lowered",
           "re_i_variants", "trie"]

_ASCII_END = regex_cache.compile(r"[A-Za-z0-9.]$")


def alt(words, ci=False, not_before="", reverse=False) -> str:
    """Alternation of literal words, longest first (Python takes the first alternative that fits).
    ASCII words get letter boundaries so that 't' does not match inside 'to'.  reverse spells the
    words backwards, to match what stands *before* a position on the reversed text."""
    parts = []
    for w in sorted(set(words), key=lambda w: (-len(w), w)):  # a fixed order: one pattern per word set
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
_FOLD_RX = regex_cache.compile("[" + "".join(map(chr, sorted(_FOLD))) + "]")
_FOLDED = {chr(k): chr(v) for k, v in _FOLD.items()}


def fold(text: str) -> str:
    """text.translate(_FOLD), faster."""
    return _FOLD_RX.sub(lambda m: _FOLDED[m.group()], text)

LATIN_RX = regex_cache.compile("[a-z]")  # a Latin letter, on lowered() text
EN_SUFFIX = "(?:s|es|d|ed|ing)?"  # report/reports/reported/reporting: one cue word for all
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


ROUND_OPEN, ROUND_CLOSE = "(（", ")）"  # round brackets, ASCII and full-width
BRACKETS = {"（": "）", "(": ")", "「": "」", "『": "』", "【": "】", "〔": "〕", "[": "]", "《": "》", "〈": "〉"}  # opener -> closer
_CLOSERS = {v: k for k, v in BRACKETS.items()}
_BRACKET_RX = regex_cache.compile("[" + re.escape("".join(BRACKETS) + "".join(_CLOSERS)) + "]")


def bracketed_spans(t: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of t[start:end] inside matched brackets (outermost pairs, each with its brackets), found
    with one stack: a closer with no opener in the range is passed over."""
    out, stack = [], []
    for m in _BRACKET_RX.finditer(t, start, end):
        ch, i = m.group(), m.start()
        if ch in BRACKETS:
            stack.append((ch, i))
        elif ch in _CLOSERS and stack:
            while stack and stack[-1][0] != _CLOSERS[ch]:
                stack.pop()  # an opener never closed
            if stack:
                _, j = stack.pop()
                if not stack:
                    out.append((j, i + 1))
    return out


def lowered(text: str) -> str:
    """ASCII-lower-cased copy of the same length (English cues are matched on it)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)  # 'İ'.lower() is 2 chars


# Under re.I an ASCII letter also matches exactly four other characters (CASE_EXTRA). On a
# lower-cased copy with those four folded as well, a pattern written in lower-case ASCII matches the
# same without re.I -- and only without it can the engine skip ahead to the pattern's first letters
# (six times faster).
_CASE_EXTRA_RX = regex_cache.compile("[" + "".join(CASE_EXTRA) + "]")
_LOWER_ASCII = regex_cache.compile(r"[\x00-\x40\x5b-\x7f]*")  # no capitals, so no \S \W \B either


def caseless_pattern(src: str) -> bool:
    """Whether a pattern written for re.I matches the same without it on caseless() text: no ASCII
    capitals, no inline flag changes, and no cased character outside ASCII (€ is fine)."""
    if "(?-" in src:
        return False
    if src.isascii():
        return _LOWER_ASCII.fullmatch(src) is not None
    return (_LOWER_ASCII.fullmatch("".join(c for c in src if c.isascii())) is not None
            and all(c.lower() == c.upper() for c in src if not c.isascii()))


def word_first(src: str) -> str:
    """src with a leading group of lookbehinds moved behind the word that follows them:
    (?:(?<=law )|(?<=act ))(?:also )?(?:requires|mandates)REST becomes
    (?:requires(?:(?<=law requires)|(?<=law also requires)|…)|mandates(?:…))REST. The same matches (an
    optional word between the contexts and the word is checked, not spanned), but a pattern that opens on
    its words lets the engine skip ahead to them, where one that opens on lookbehinds is tried at every
    position of the text. Any other src is returned as it is."""
    if not src.startswith("(?:(?<="):
        return src
    end = _group_end(src, 0)
    looks = []
    for part in _alternatives(src[3:end]):
        if not (part.startswith("(?<=") and _group_end(part, 0) == len(part) - 1) or "^" in part:
            return src
        looks.append(part[4:-1])
    rest, between = src[end + 1:], [""]
    if rest.startswith("(?:") and rest[_group_end(rest, 0) + 1:].startswith("?"):
        e = _group_end(rest, 0)
        between += _alternatives(rest[3:e])  # an optional word before the cue word (also, further)
        rest = rest[e + 2:]
    if rest.startswith("(?:") and rest[_group_end(rest, 0) + 1:][:1] not in ("?", "*", "+", "{"):
        e = _group_end(rest, 0)
        words, rest = _alternatives(rest[3:e]), rest[e + 1:]
    elif (m := _WORD.match(rest)) is not None:
        w = m.group()
        if rest[len(w):len(w) + 1] in ("?", "*", "+", "{"):
            w = w[:-1]  # requires?: the s belongs to the rest
        words, rest = [w], rest[len(w):]
    else:
        return src
    if not all(w and _WORD.fullmatch(w) for w in words + [b for b in between if b]):
        return src
    branches = [w + "(?:" + "|".join(f"(?<={_grouped(x)}{b}{w})" for x in looks for b in between) + ")" for w in words]
    return (branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")") + rest


def _grouped(x: str) -> str:
    """Lookbehind body x made safe to extend: grouped where it holds an alternation (各地|各省)."""
    return f"(?:{x})" if len(_alternatives(x)) > 1 else x


_WORD = regex_cache.compile("[a-z\u3040-\u30ff\u4e00-\u9fff][a-z \u3040-\u30ff\u4e00-\u9fff]*")  # a plain literal


def _structure(src: str, i: int = 0):
    """(position, character, group depth after it) of src's grouping characters from i on: escapes and
    character classes skipped, depth counted from 0."""
    depth, j = 0, i
    while j < len(src):
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j += 1
            while src[j] != "]":
                j += 2 if src[j] == "\\" else 1
        elif c in "()|":
            depth += (c == "(") - (c == ")")
            yield j, c, depth
        j += 1


def _group_end(src: str, i: int) -> int:
    """Where the group opening at src[i] closes."""
    return next((j for j, c, depth in _structure(src, i) if c == ")" and depth == 0), -1)


def _alternatives(body: str) -> list[str]:
    """The top-level alternatives of a group's body."""
    cuts = [j for j, c, depth in _structure(body) if c == "|" and depth == 0]
    return [body[a + 1:b] for a, b in zip([-1, *cuts], [*cuts, len(body)])]


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


def _sre():
    """re's own parser (private, Python 3.11+), or None where it is missing or different: the
    readers below then know nothing, and a pattern simply runs everywhere."""
    try:
        import re._parser as sre
    except ImportError:
        return None
    return sre if all(hasattr(sre, a) for a in ("parse", "LITERAL", "IN", "SUBPATTERN")) else None


@lru_cache(maxsize=4096)
def _parsed(pattern: str, flags: int):
    """re's parse of a pattern, once for the analyses below (each used to parse it again, a third
    of the start-up cost of the cue lists). They only read it."""
    return _sre().parse(pattern, flags)


# The readers below answer from the regex cache when they have read the same pattern before: their
# answers are keyed by this file's text, so an edited reader never gets an answer of an older one.
def _readers_version() -> str:
    try:
        return hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:16]
    except OSError:  # no source to read (a frozen build): answers this process alone can trust
        return f"unversioned-{os.getpid()}-{id(_readers_version)}"


_READERS = _readers_version()


def _remembered(reader):
    """A reader of a pattern's parse whose answers the regex cache keeps (its other arguments are
    part of the key)."""

    @wraps(reader)
    def read(rx: re.Pattern | Source, *args):
        name = reader.__name__ + "".join(f" {a!r}" for a in args)
        return regex_cache.remembered(name, _READERS, rx.pattern, rx.flags, lambda: reader(rx, *args))

    return read


@_remembered
def required_literal(rx: re.Pattern | Source) -> str | None:
    """The longest run of literal characters that every match of rx contains, read
    from the parsed pattern (groups followed, branches and repeats skipped); None when there is
    none or the pattern ignores case."""
    sre = _sre()
    if sre is None or rx.flags & re.I:
        return None

    def longest(items) -> str:
        best, run = "", ""
        for op, av in items:
            if op is sre.LITERAL:
                run += chr(av)
                continue
            best, run = max(best, run, key=len), ""
            if op is sre.SUBPATTERN and not av[1] and not av[2]:  # a group that changes no flags
                best = max(best, longest(av[3]), key=len)
        return max(best, run, key=len)

    try:
        got = longest(_parsed(rx.pattern, rx.flags & ~re.U))
    except Exception:  # a parser of another Python version: run the pattern everywhere
        return None
    return got or None


def _class_chars(sre, op, av) -> set[str] | None:
    """The characters one parsed item consumes: a literal or a class of literals and short ranges;
    None for anything else (NEGATE, CATEGORY such as \\w, wide ranges, groups)."""
    if op is sre.LITERAL:
        return {chr(av)}
    if op is not sre.IN:
        return None
    out: set[str] = set()
    for iop, iav in av:
        if iop is sre.LITERAL:
            out.add(chr(iav))
        elif iop is sre.RANGE and iav[1] - iav[0] < 256:
            out.update(map(chr, range(iav[0], iav[1] + 1)))
        else:
            return None
    return out


@_remembered
def edge_chars(rx: re.Pattern | Source, last: bool) -> frozenset | None:
    """Every character a match of rx can end with (last) or start with, or None when that is not
    known (a class such as \\w or [^、], non-ASCII letters under re.I, a match that may be empty,
    an unfamiliar construct). Read from the parsed pattern: the last (first) item that must consume,
    and any optional items after (before) it."""
    sre = _sre()
    if sre is None:
        return None

    def chars(op, av, nocase: bool) -> set[str] | None:
        out = _class_chars(sre, op, av)
        if out is not None and nocase:
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
        got = seq(_parsed(rx.pattern, rx.flags & ~re.U), bool(rx.flags & re.I))
    except Exception:  # a parser of another Python version: do without the shortcut
        return None
    return None if got is None or got[1] else frozenset(got[0])


_LEAD_MAX = 256  # first words a pattern may have before it is not worth dispatching on them
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")


@_remembered
def lead_words(rx: re.Pattern | Source) -> frozenset | None:
    """Every word ([a-z]+) a match of rx can start with, the whole word up to the first non-letter,
    or None when that is not known (a pattern that can start with a non-letter, a repeated or
    wide letter class, a case-blind pattern, too many words)."""

    def step(state: set, got: set[str]) -> set | None:
        if got <= _LETTERS:
            return {(w + ch, True) for w, open_ in state if open_ for ch in got} | {x for x in state if not x[1]}
        if got.isdisjoint(_LETTERS):
            return {(w, False) for w, _ in state}
        return None

    return _prefixes(rx, step)


@_remembered
def lead_pairs(rx: re.Pattern | Source) -> frozenset | None:
    """The first two characters of every match of rx (one where the pattern is one character long),
    or None when they are not known (see lead_words)."""

    def step(state: set, got: set[str]) -> set | None:
        return {(w + ch, len(w) == 0) for w, open_ in state if open_ for ch in got} | {x for x in state if not x[1]}

    return _prefixes(rx, step)


def _prefixes(rx: re.Pattern | Source, step) -> frozenset | None:
    """The strings every match of rx starts with, read from the parsed pattern: step(state, chars)
    extends the open ones of the (prefix, still open) pairs by a consumed character class, or says
    it cannot (None). Zero-width items are passed over."""
    sre = _sre()
    if sre is None or rx.flags & re.I:
        return None

    def seq(items, state: set | None) -> set | None:
        for op, av in items:
            if state is None or len(state) > _LEAD_MAX:
                return None
            if not any(open_ for _, open_ in state):
                return state  # every prefix is complete: the rest does not matter
            state = item(op, av, state)
        return state

    def item(op, av, state: set) -> set | None:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            return state
        if op is sre.SUBPATTERN:
            return None if av[1] or av[2] else seq(av[3], state)  # no inline flags
        if op is sre.ATOMIC_GROUP:
            return seq(av, state)
        if op is sre.BRANCH:
            out: set = set()
            for alt in av[1]:
                got = seq(alt, state)
                if got is None:
                    return None
                out |= got
            return out
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            lo, hi, sub = av
            if hi != 1:
                return None
            once = seq(sub, state)
            return None if once is None else once | state if lo == 0 else once
        got = _class_chars(sre, op, av)
        return None if got is None else step(state, got)

    try:
        got = seq(_parsed(rx.pattern, rx.flags & ~re.U), {("", True)})
    except Exception:  # a parser of another Python version: do without the shortcut
        return None
    if got is None or len(got) > _LEAD_MAX or any(not w for w, _ in got):
        return None  # a match may start with something else, or be empty
    return frozenset(w for w, _ in got)


# ---------------------------------------------------------------- cue words of several languages

# Which data lists serve text of each language. English terms turn up in CJK text; 'cjk' serves
# lines whose script disagrees with the record (a kanji-only line of a Japanese text reads as 'zh').
LANG_KEYS = {"ja": ("ja", "en", "any"), "zh": ("zh", "en", "any"), "en": ("en", "any"),
              "cjk": ("ja", "zh", "en", "any")}
LANGS = tuple(LANG_KEYS)


def lang_lists(block: dict | None, lang: str) -> list:
    """Entries of a per-language block that apply to text in `lang`."""
    if not block:
        return []
    return [x for k in LANG_KEYS[lang] for x in block.get(k, [])]


class CueSet:
    """Cue words and patterns of every language, each entry tagged with a payload and the
    language list it came from (callers keep the entries that apply to a clause).

    CJK words form one prefix-tree regex and are looked up by the matched text. English words
    form another, run over a lower-cased copy of the text, whole words only, with an optional
    inflection (the group holds the base form, the lookup key). Patterns are regexes of their own;
    the data starts them with a literal so the engine can skip ahead."""

    def __init__(self, entries: list[tuple[str, str, str, object]]):
        # entries: (text, 'word'|'pattern', language key of the entry, payload)
        cjk: dict[str, list] = {}
        eng: dict[str, list] = {}
        pats: dict[bool, list] = {False: [], True: []}  # is English -> [(source, payloads)]
        for text, typ, lang, payload in entries:
            if typ == "word":
                target = eng if lang == "en" else cjk
                target.setdefault(text.lower() if lang == "en" else text, []).append((payload, lang))
            else:
                pats[lang == "en"].append((text, ((payload, lang),)))
        self.cjk = {k: tuple(dict.fromkeys(v)) for k, v in cjk.items()}
        self.eng = {k: tuple(dict.fromkeys(v)) for k, v in eng.items()}
        # Patterns run one by one: each starts with a literal, so the engine skips ahead to it in C,
        # while one alternation of them all tries every pattern at every position (measured: five
        # times slower on a policy corpus). Where two match at one position the earlier pattern
        # wins, as in an alternation. English patterns are whole words, any case, on the
        # lower-cased text.
        # Compiled when a view first needs them (_pattern): a text in one language compiles only
        # that language's patterns (a one-file build or a check of one record pays for no other).
        self.sources: dict[bool, list[tuple[str, tuple]]] = pats
        # English patterns in lower-case ASCII run without re.I on caseless() text (see there).
        self.en_caseless = all(caseless_pattern(src) for src, _ in pats[True])
        self._compiled: dict[tuple[bool, int], tuple[Source, str | None]] = {}
        self._views: dict[tuple[str | None, bool], _View] = {}

    def _kept(self, english: bool, mine) -> list[tuple[Source, tuple, str | None]]:
        """(pattern, payloads, needed literal) of the group's patterns with a payload `mine` keeps."""
        out = []
        for i, (_, payloads) in enumerate(self.sources[english]):
            if got := mine(payloads):
                src, need = self._pattern(english, i)
                out.append((src, got, need))
        return out

    def _pattern(self, english: bool, i: int) -> tuple[Source, str | None]:
        """Pattern i of a language group as it will run, with a literal every match of it contains
        (where the text lacks it, a substring test in C, the pattern need not run at all). Read from
        the parse; compiled only when a text gets to run it (_Patterns.rx): most never do."""
        got = self._compiled.get((english, i))
        if got is None:
            src = word_first(self.sources[english][i][0])
            flags = re.I if english and not self.en_caseless else 0
            rx = Source(f"(?:{src})(?![a-z])" if english else src, flags)
            got = self._compiled[english, i] = (rx, required_literal(rx) if not flags else None)
        return got

    def view(self, lang: str | None, tagged: bool = False) -> _View:
        """The cue lookups of text in `lang` (LANG_KEYS), built once per language: only the words
        and patterns with a payload for it, payloads cut down to those; `tagged` keeps each as
        (payload, language key). None: every word and pattern, tagged."""
        got = self._views.get((lang, tagged))
        if got is not None:
            return got
        keys = LANG_KEYS[lang] if lang is not None else None

        def mine(payloads: tuple) -> tuple:
            if keys is None:
                return payloads
            return tuple(pk for pk in payloads if pk[1] in keys) if tagged else tuple(p for p, k in payloads if k in keys)

        cjk = {w: got for w, v in self.cjk.items() if (got := mine(v))}
        eng = {w: got for w, v in self.eng.items() if (got := mine(v))}
        # A word with no payload for the language is left out of the tree, not matched and dropped:
        # most windows then hold no match at all, and the engine skips them in C.
        pats = [(english, self._kept(english, mine)) for english in self.sources]
        got = self._views[lang, tagged] = _View(
            cjk, eng,
            regex_cache.compile(trie(cjk)) if cjk else None,
            _first_chars({w[:2] for w in cjk}) if cjk else None,
            regex_cache.compile(f"(?P<e>{trie(eng)}){EN_SUFFIX}(?![a-z])") if eng else None,
            [_Patterns(english, ps, *_dispatch(ps, english), [None] * len(ps)) for english, ps in pats if ps],
            all(LATIN_RX.search(w) for w in eng))
        return got

    def reader(self, text: str, low: str, nocase: str, lang: str | None = None, tagged: bool = False,
               windows: bool = True) -> CueReader:
        """A scanner of this set's cues in `text` for `lang` (see view); low is lowered(text) and
        nocase caseless(low); `windows`: it will scan many parts of the text, not the whole once."""
        return CueReader(self, self.view(lang, tagged), text, low, nocase, windows)


class CueReader:
    """The cues of one CueSet in one text: what the whole text cannot hold is ruled out once (a
    pattern whose needed literal it lacks, English words in text with no Latin letter), so that
    each of many small windows runs only what may match there."""

    __slots__ = ("t", "low", "cjk", "eng", "cjk_rx", "cjk_first", "eng_rx", "pats")

    def __init__(self, cues: CueSet, v: _View, text: str, low: str, nocase: str, windows: bool = True):
        self.t, self.low, self.cjk, self.eng, self.cjk_rx, self.cjk_first = text, low, v.cjk, v.eng, v.cjk_rx, v.cjk_first
        self.eng_rx = v.eng_rx if v.eng_rx is not None and (not v.eng_latin or LATIN_RX.search(low)) else None
        self.pats = []
        for group in v.pats:
            src = (nocase if cues.en_caseless else low) if group.english else text
            live = [True] * len(group.ps)
            if windows:  # one test per distinct literal here spares one per pattern and window
                present = {need: need in src for _, _, need in group.ps if need is not None}
                live = [need is None or present[need] for _, _, need in group.ps]
            if any(live):
                self.pats.append((group, src, live))

    def scan(self, pos: int, end: int) -> list[tuple[int, int, tuple]]:
        """(start, end, payloads) of every cue in text[pos:end]."""
        out = self._cjk(pos, end) if self.cjk_rx is not None else []
        if self.eng_rx is not None:
            eng, low = self.eng, self.low
            for m in self.eng_rx.finditer(low, pos, end):
                s = m.start()
                if s and "a" <= low[s - 1] <= "z":
                    continue  # inside a longer word: 'fine' in 'define'
                out.append((s, m.end(), eng[m.group("e")]))
        for group, src, live in self.pats:
            # An English word start is judged on the lowered text (_one_by_one), the dispatch
            # pattern's on src: the same unless folding changed a letter (CASE_EXTRA, rare).
            one_pass = group.first_rx is not None and (not group.english or src is self.low)
            at = _dispatched(group, src, live, pos, end) if one_pass else _one_by_one(group, src, live, pos, end, self.low)
            out += [(s, e, payload) for s, (e, payload) in at.items()]
        return out

    def _cjk(self, pos: int, end: int) -> list[tuple[int, int, tuple]]:
        """What cjk_rx.finditer(t, pos, end) finds, trying the tree only where a word can start (its
        first character, before a character that is the second of some word): the tree alone tries
        each of its hundreds of first characters in turn at every character it can start with."""
        t, cjk, match = self.t, self.cjk, self.cjk_rx.match
        out, after = [], pos  # finditer's matches do not overlap: the next starts at or after the last end
        for c in self.cjk_first.finditer(t, pos, end):
            p = c.start()
            if p >= after and (m := match(t, p, end)) is not None:
                out.append((p, m.end(), cjk[m.group()]))
                after = m.end()
        return out


def _one_by_one(group: _Patterns, src: str, live: list[bool], pos: int, end: int, low: str) -> dict[int, tuple[int, tuple]]:
    """start -> (end, payloads) of the first pattern (in data order) matching there, each pattern
    run over src[pos:end] on its own (non-overlapping matches of each, as finditer gives them)."""
    at: dict[int, tuple[int, tuple]] = {}
    english = group.english
    for k, ((_, payload, need), ok) in enumerate(zip(group.ps, live)):
        if not ok or (need is not None and src.find(need, pos, end) < 0):
            continue
        for m in (group.rxs[k] or group.rx(k)).finditer(src, pos, end):
            s = m.start()
            if s in at or (english and s and "a" <= low[s - 1] <= "z"):
                continue
            at[s] = (m.end(), payload)
    return at


def _dispatched(group: _Patterns, src: str, live: list[bool], pos: int, end: int) -> dict[int, tuple[int, tuple]]:
    """What _one_by_one finds, from one pass over the characters (words) any pattern can start
    with: at each, only the patterns that can start there are tried (one pass over a text instead
    of one per pattern; the rule patterns of a text cost a tenth of what they did)."""
    at: dict[int, tuple[int, tuple]] = {}
    reach: dict[int, int] = {}  # pattern -> end of its last match: finditer's matches do not overlap
    ps, rxs, by_first, english = group.ps, group.rxs, group.by_first, group.english
    # An English match inside a longer word ends where that word does (the dispatch pattern ends
    # at a non-letter), so skipping it passes over no word start.
    for m in group.first_rx.finditer(src, pos, end):
        p = m.start()
        if english and p and "a" <= src[p - 1] <= "z":
            continue
        # the word or character matched; a CJK character known only with what follows it: the pair
        starting = by_first.get(m.group()) or by_first.get(src[p:p + 2])
        if starting is None:
            continue  # a first character some pattern has, before a second character none has after it
        if (starting.any_rx or starting.compile(group)).match(src, p, end) is None:
            continue  # none of them matches here (most places): one call in C, not one per pattern
        for k in starting.ks:
            if not live[k] or reach.get(k, -1) > p:
                continue
            mm = (rxs[k] or group.rx(k)).match(src, p, end)
            if mm is not None:
                reach[k] = mm.end()
                if p not in at:
                    at[p] = (mm.end(), ps[k][1])
    return at


class _Patterns(NamedTuple):
    """One language group of a view's patterns, with what the one-pass scan needs."""

    english: bool
    ps: list[tuple[Source, tuple, str | None]]  # (pattern, payloads, needed literal), in data order
    first_rx: re.Pattern | None  # any character a pattern can start with; None: run them one by one
    by_first: dict[str, _Starting]  # such a character (word) -> the patterns that can start with it
    rxs: list[re.Pattern | None]  # pattern k compiled, once it first runs (rx)

    def rx(self, k: int) -> re.Pattern:
        got = self.rxs[k] = regex_cache.compile(*self.ps[k][0])
        return got


class Source(NamedTuple):
    """A pattern as the analyses read it (they parse it; compiling waits until it runs)."""

    pattern: str
    flags: int


class _Starting:
    """The patterns of a group that can start with one dispatch key."""

    __slots__ = ("ks", "any_rx")

    def __init__(self, ks: tuple[int, ...]):
        self.ks = ks  # their indices, in data order
        self.any_rx: re.Pattern | None = None  # their alternation, compiled when first needed

    def compile(self, group: _Patterns) -> re.Pattern:
        # An alternation matches at a position exactly where one of its alternatives does (the
        # patterns of a group share their flags and have no groups to renumber).
        ps, k0 = group.ps, self.ks[0]
        self.any_rx = group.rxs[k0] or group.rx(k0) if len(self.ks) == 1 else regex_cache.compile(
            "|".join(f"(?:{ps[k][0].pattern})" for k in self.ks), ps[k0][0].flags)
        return self.any_rx


def _starting(by_key: dict[str, tuple[int, ...]]) -> dict[str, _Starting]:
    """by_key with each distinct tuple of patterns made one _Starting (compiled once)."""
    shared = {ks: _Starting(ks) for ks in set(by_key.values())}
    return {k: shared[ks] for k, ks in by_key.items()}


def _dispatch(ps: list, english: bool) -> tuple[re.Pattern | None, dict[str, _Starting]]:
    """The one-pass scan of a pattern group when every pattern's first characters are known: its
    first words in English (letters start a match everywhere, whole words rarely), its first two
    characters in CJK where known, else its first. None: the patterns run one by one."""
    if not ps:
        return None, {}
    if english:
        firsts = [lead_words(rx) for rx, _, _ in ps]
        if any(f is None for f in firsts):
            return None, {}
        keys = sorted(set().union(*firsts))
        by_word: dict[str, list[int]] = {k: [] for k in keys}
        for i, f in enumerate(firsts):
            for k in f:
                by_word[k].append(i)
        by_first = _starting({k: tuple(ks) for k, ks in by_word.items()})
        # Whole words; the word start is tested by the caller: a look-behind first would hide the
        # pattern's leading letters from the engine, which then tries every position (5x slower).
        return regex_cache.compile(f"(?:{trie(keys)})(?![a-z])"), by_first
    firsts = [lead_pairs(rx) or edge_chars(rx, False) for rx, _, _ in ps]
    if any(f is None for f in firsts):
        return None, {}
    # A first character some pattern is known by alone stands for every pattern starting with it;
    # the others are only looked at before one of their second characters.
    single = {k for f in firsts for k in f if len(k) == 1}
    keys = {k if k[0] not in single else k[0] for f in firsts for k in f}
    by_key: dict[str, list[int]] = {k: [] for k in sorted(keys)}
    for i, f in enumerate(firsts):  # pattern i under each key one of its first pairs starts with
        for k in {x[:n] for x in f for n in (1, 2)} & keys:
            by_key[k].append(i)
    return _first_chars(keys), _starting({k: tuple(ks) for k, ks in by_key.items()})


def _first_chars(keys: set[str]) -> re.Pattern:
    """A character that is a key, or the first of a two-character key before a character that is
    the second of some key (the caller drops pairs that are no key). One class first, so that the
    engine skips ahead in C; an alternation of each first character with its own second ones
    costs a test per alternative at every candidate (three times slower on a policy corpus)."""
    singles, seconds = {k for k in keys if len(k) == 1}, {k[1] for k in keys if len(k) == 2}
    tails = ([f"(?<={_class(singles)})"] if singles else []) + ([f"(?={_class(seconds)})"] if seconds else [])
    return regex_cache.compile(f"{_class({k[0] for k in keys})}(?:{'|'.join(tails)})")


def _class(chars: set[str]) -> str:
    return "[" + "".join(map(re.escape, sorted(chars))) + "]"


class _View(NamedTuple):
    """A CueSet's lookups for text of one language (CueSet.view)."""

    cjk: dict[str, tuple]  # CJK word -> payloads
    eng: dict[str, tuple]  # English base form -> payloads
    cjk_rx: re.Pattern | None
    cjk_first: re.Pattern | None  # where a CJK word can start (_first_chars of their first two characters)
    eng_rx: re.Pattern | None
    pats: list[_Patterns]  # per language group (English or not)
    eng_latin: bool  # every English word holds a Latin letter: text with none holds none of them


def cue_lang(clause_lang: str, record_lang: str) -> str:
    """Which cue lists a clause uses: its own language's, or both CJK lists when the clause's
    script disagrees with the record's language (kanji-only lines of a Japanese text read as
    'zh'; a Chinese quotation in a Japanese text)."""
    if clause_lang == "en":
        return "en"
    rec = "ja" if record_lang.lower().startswith("ja") else "zh" if record_lang.lower().startswith("zh") else clause_lang
    if clause_lang not in ("ja", "zh"):
        return "cjk"
    return clause_lang if rec == clause_lang else "cjk"


def widest(langs) -> str:
    """The cue language whose lists (LANG_KEYS) cover those of every language in `langs`."""
    langs = set(langs)
    if "cjk" in langs or {"ja", "zh"} <= langs:
        return "cjk"
    return "ja" if "ja" in langs else "zh" if "zh" in langs else "en"
