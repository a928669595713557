"""Policy measures: the quantities of a text that state a policy figure, each with a role, plus
rules (obligations, prohibitions, refunds ...) that carry no number.

Pipeline, all on exact offsets into the original body:

    split_clauses(body)           -> clauses (sections, sentences, table rows, formulas)
    find_quantities(mask(body))   -> numbers with units, comparators and ranges
    roles.json cue regexes        -> a role for each quantity, or a reason to drop it
    roles.json rule regexes       -> one rule measure per rule kind and clause

mask() keeps the body's length, so every offset found on the masked text is an offset of the
body and `body[m.start:m.end] == m.surface` holds by construction.

Choosing a role (`_Extractor.choose`): every cue word of a role that accepts the quantity's kind
and unit is scored by the text between cue and number -- its length (0 when it is only a linking
particle such as は/の/的/of), a penalty per clause-internal separator (、，;) crossed, a small
penalty when the cue comes after the number (the nearest cue before the number is preferred), a
large one per other quantity of the same kind in between (that cue probably belongs to the other
number), and the role's own penalty (generic roles such as `deadline` lose to specific ones).
Lowest score wins. Patterns that touch the number (`2013年度比`, `B1 ×`, `2026 财年前`) score below
any free cue. With no cue inside the window, the nearest cues anywhere in the clause decide (the
clause's own cue words), for roles that allow that fallback. Some roles are reasons to drop the
number (base year, law number, event date, size class); a date or count with no role is dropped
too, while a duration, amount, percent or tonnage with no cue stays, as role "unspecified".

Rules: the rule cue words of roles.json, one measure per rule kind and clause, spanning the cue.

No tokenizer is used: cue matching is regex work over the masked text (CJK words as one
prefix-tree regex, English words on a lower-cased copy), scanned only near the quantities, plus
one scan of the whole text for rule words. That keeps extraction faster than MeCab alone on the
same text.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache

from kb.extract.clauses import Clause, split_clauses
from kb.frozen import maker
from kb.extract.patterns import EN_SUFFIX, LOWER_ASCII_PATTERN, caseless, edge_chars, load_data, lowered, trie
from kb.extract.quantities import Quantity, find_quantities
from kb.extract.text import mask
from kb.records import Record
from kb.tokens import detect_lang

__all__ = ["Extraction", "Measure", "extract", "extract_text", "roles"]

KINDS = ("duration", "percent", "money", "quantity", "date", "count", "rule")
UNSPECIFIED = "unspecified"
# Which data lists serve text of each language. English terms turn up in CJK text; 'cjk' serves
# lines whose script disagrees with the record (a kanji-only line of a Japanese text reads as 'zh').
_LANG_KEYS = {"ja": ("ja", "en", "any"), "zh": ("zh", "en", "any"), "en": ("en", "any"),
              "cjk": ("ja", "zh", "en", "any")}
_LANGS = tuple(_LANG_KEYS)


@dataclass(frozen=True, slots=True)
class Measure:
    id: str  # f"{clause_id}/m{n}", n = 1-based position of the measure in its clause
    record_id: str
    clause_id: str
    kind: str  # duration | percent | money | quantity | date | count | rule
    role: str  # a key of data/roles.json, or "unspecified"
    value: float | None
    value_max: float | None
    unit: str | None
    comparator: str | None
    surface: str  # == body[start:end]
    start: int
    end: int
    line: int  # file line of start
    label: str = ""


_new_measure = maker(Measure)  # Measure(...), built twice as fast (see kb.frozen)


@dataclass(frozen=True, slots=True)
class Extraction:
    record_id: str
    lang: str
    clauses: list[Clause]
    measures: list[Measure]


# ------------------------------------------------------------------------------ taxonomy


@dataclass(frozen=True, slots=True)
class Role:
    key: str
    label: str
    kinds: frozenset
    units: frozenset | None
    measure: bool  # False: a reason to drop the quantity (base year, law number ...)
    penalty: int
    window: dict  # lang -> longest gap for a free cue
    max_separators: int | None  # dates: a cue across a comma belongs to another statement
    fallback: bool
    extend: bool  # an adjacent 'after' match joins the surface (2026 财年前)
    comparator: str | None
    variable_labels: tuple


def _lang_lists(block: dict | None, lang: str) -> list:
    """Entries of a per-language block that apply to text in `lang`."""
    if not block:
        return []
    return [x for k in _LANG_KEYS[lang] for x in block.get(k, [])]


class _CueSet:
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
        self.cjk_rx = re.compile(trie(self.cjk)) if self.cjk else None
        self.eng_rx = re.compile(f"(?P<e>{trie(self.eng)}){EN_SUFFIX}(?![a-z])") if self.eng else None
        # Patterns: one alternation *without groups* finds the hits (with no group around the
        # alternatives the engine builds a first-character filter, ~50x faster on CJK text); the
        # pattern that matched is then found by trying each at the hit, in order, as the
        # alternation does. English patterns are whole words, any case, on the lower-cased text.
        self.pats: dict[bool, list[tuple[re.Pattern, tuple]]] = {}
        self.pat_rx: dict[bool, re.Pattern | None] = {}
        # English patterns in lower-case ASCII run without re.I on caseless() text (see there).
        self.en_caseless = all(LOWER_ASCII_PATTERN.fullmatch(src) and "(?-" not in src for src, _ in pats[True])
        for english, v in pats.items():
            srcs = [f"(?:{src})(?![a-z])" if english else f"(?:{src})" for src, _ in v]
            flags = re.I if english and not self.en_caseless else 0
            self.pats[english] = [(re.compile(src, flags), payload) for src, (_, payload) in zip(srcs, v)]
            self.pat_rx[english] = re.compile("|".join(srcs), flags) if srcs else None

        self._views: dict[str | None, tuple] = {None: (self.cjk, self.eng, self.pats)}

    def view(self, lang: str | None) -> tuple[dict, dict, dict]:
        """The word and pattern lookups with payloads cut down to what serves text in `lang`
        (_LANG_KEYS), built once per language; None keeps every (payload, language key)."""
        got = self._views.get(lang)
        if got is None:
            keys = _LANG_KEYS[lang]

            def mine(payloads: tuple) -> tuple:
                return tuple(p for p, k in payloads if k in keys)

            got = self._views[lang] = ({w: mine(v) for w, v in self.cjk.items()}, {w: mine(v) for w, v in self.eng.items()},
                                       {e: [(rx, mine(v)) for rx, v in ps] for e, ps in self.pats.items()})
        return got

    def scan(self, text: str, low: str, nocase: str, pos: int, end: int, lang: str | None = None) -> list[tuple[int, int, tuple]]:
        """(start, end, payloads) of every cue in text[pos:end] that has a payload for `lang` (see
        view); low is lowered(text) and nocase caseless(low)."""
        cjk, eng, pats = self.view(lang)
        out = []
        if self.cjk_rx is not None:
            out += [(m.start(), m.end(), got) for m in self.cjk_rx.finditer(text, pos, end) if (got := cjk[m.group()])]
        if self.eng_rx is not None:
            for m in self.eng_rx.finditer(low, pos, end):
                s = m.start()
                if s and "a" <= low[s - 1] <= "z":
                    continue  # inside a longer word: 'fine' in 'define'
                if got := eng[m.group("e")]:
                    out.append((s, m.end(), got))
        for english, rx in self.pat_rx.items():
            if rx is None:
                continue
            src = (nocase if self.en_caseless else low) if english else text
            for m in rx.finditer(src, pos, end):
                s = m.start()
                if english and s and "a" <= low[s - 1] <= "z":
                    continue
                payload = next((p for one, p in pats[english] if one.match(src, s, end)), None)
                if payload:
                    out.append((s, m.end(), payload))
        return out


def _anchored(p: str, flags: int = 0) -> re.Pattern:
    """An 'after' pattern for Pattern.match(text, pos): the data writes them with a leading ^ for
    readability, but ^ only matches at the real start of the string, never at pos."""
    return re.compile(f"(?:{p[1:] if p.startswith('^') else p})", flags)


class _Taxonomy:
    """Everything compiled from data/roles.json, once."""

    def __init__(self, data: dict):
        sc = data["scoring"]
        self.sep_chars = sc["separators"]
        self.sep_penalty, self.after_penalty = sc["separator_penalty"], sc["after_penalty"]
        self.between_penalty, self.adjacent_score = sc["between_penalty"], sc["adjacent_score"]
        self.window = {**sc["window"], "cjk": max(sc["window"]["ja"], sc["window"]["zh"])}
        self.link = {k: re.compile(v) for k, v in sc["link"].items()}
        self.link["cjk"] = re.compile(f"{sc['link']['ja']}|{sc['link']['zh']}")
        nm = data["never_measures"]
        self.drop_date_ranges, self.bare_heads = nm["date_ranges"], frozenset(nm["bare_multiplier_heads"])
        self.singular_kinds = frozenset(data["singular_dropped"]["kinds"])
        self.singular_units_kept = frozenset(data["singular_dropped"]["units_kept"])
        self.keep_kinds = frozenset(data["keep_without_role"]["kinds"])
        fr = data["fractions_as_percent"]
        self.fraction_markers, self.fraction_max = tuple(fr["markers"]), fr["max_value"]
        self.count_min = data["counts"]["min_value"]
        heads = data["comparator_heads"]
        self.head_kinds = frozenset(heads["kinds"])
        # Case-insensitive for the English entries; the flag changes nothing for CJK ones.
        self.heads = {lang: [(re.compile(f"(?:{p})", re.I), c) for p, c in _lang_lists(heads["patterns"], lang)]
                      for lang in _LANGS}
        tails = data["comparator_tails"]
        self.tail_kinds = frozenset(tails["kinds"])
        self.tails = {lang: [(_anchored(p), c) for p, c in _lang_lists(tails["patterns"], lang)] for lang in _LANGS}

        self.roles: list[Role] = []
        for r in data["roles"]:
            win = dict(self.window)
            if "window" in r:  # English words are about twice as long as the CJK ones
                win = {k: r["window"] * (2 if k == "en" else 1) for k in self.window}
            self.roles.append(Role(
                r["key"], r.get("label", r["key"].replace("_", " ")), frozenset(r["kinds"]),
                frozenset(r["units"]) if "units" in r else None, r.get("measure", True), r.get("penalty", 0),
                win, r.get("max_separators"), r.get("fallback", True), r.get("extend", False), r.get("comparator"),
                tuple((re.compile(v["pattern"], re.I), v["label"]) for v in r.get("variable_labels", ())),
            ))
        self.rule_roles = [(r["key"], r.get("label", r["key"])) for r in data["rules"]]
        self.has_negative = any(r.get("negative") for r in data["roles"])
        self._fitting: dict[tuple, frozenset] = {}
        self.modifiers = data["unit_modifiers"]
        self.mod_kinds = frozenset(k for m in self.modifiers for k in m["kinds"])
        # How far around a quantity its cues are looked for (the fallback reads the whole clause).
        self.reach = {lang: max([r.window[lang] for r in self.roles] + [m.get("window_before", 0) for m in self.modifiers]
                                + [m.get("window_after", 0) for m in self.modifiers]) + 2 for lang in _LANGS}

        langs = ("ja", "zh", "en", "any")
        entries, rules, mods = [], [], []
        for i, r in enumerate(data["roles"]):
            for k in langs:
                entries += [(w, "word", k, (i, False)) for w in r.get("cues", {}).get(k, [])]
                entries += [(p, "pattern", k, (i, False)) for p in r.get("patterns", {}).get(k, [])]
                entries += [(w, "word", k, (i, True)) for w in r.get("negative", {}).get(k, [])]
        for i, r in enumerate(data["rules"]):
            for k in langs:
                rules += [(w, "word", k, i) for w in r.get("cues", {}).get(k, [])]
                rules += [(p, "pattern", k, i) for p in r.get("patterns", {}).get(k, [])]
        for i, md in enumerate(self.modifiers):
            for k in langs:
                mods += [(p, "pattern", k, i) for p in md["patterns"].get(k, [])]
        self.cues, self.rules, self.mods = _CueSet(entries), _CueSet(rules), _CueSet(mods)

        # Patterns touching the quantity, per language list: (role index, compiled), plus one
        # alternation of them all as a first test (most numbers touch none of them).
        self.before: dict[str, list[tuple[int, re.Pattern]]] = {}
        self.after: dict[str, list[tuple[int, re.Pattern]]] = {}
        self.any_before: dict[str, re.Pattern] = {}
        self.any_after: dict[str, re.Pattern] = {}
        for lang in _LANGS:
            self.before[lang], self.after[lang] = [], []
            srcs_b, srcs_a = [], []
            for i, r in enumerate(data["roles"]):
                for k in _LANG_KEYS[lang]:
                    flags = re.I if k == "en" else 0
                    for p in r.get("before", {}).get(k, []):
                        self.before[lang].append((i, re.compile(f"(?:{p})", flags)))
                        srcs_b.append(f"(?i:{p})" if flags else f"(?:{p})")
                    for p in r.get("after", {}).get(k, []):
                        self.after[lang].append((i, _anchored(p, flags)))
                        p = p[1:] if p.startswith("^") else p
                        srcs_a.append(f"(?i:{p})" if flags else f"(?:{p})")
            self.any_before[lang] = re.compile("|".join(srcs_b) or "(?!)")
            self.any_after[lang] = re.compile("|".join(srcs_a) or "(?!)")
        # What a 'before' match that ends where the number starts can end with (None: anything).
        # The alternation above searches the whole 60-character window; when the character before
        # the number is none of these, no search is needed (most CJK numbers).
        self.before_last: dict[str, frozenset | None] = {}
        self.after_first: dict[str, frozenset | None] = {}  # the same for the start of 'after' matches
        for lang in _LANGS:
            lasts = [edge_chars(rx, True) for _, rx in self.before[lang]]
            self.before_last[lang] = None if None in lasts else frozenset().union(*lasts)
            firsts = [edge_chars(rx, False) for _, rx in self.after[lang]]
            self.after_first[lang] = None if None in firsts else frozenset().union(*firsts)
        self._positive: dict[tuple, tuple] = {}

    def positive(self, payloads: tuple, ok: frozenset) -> tuple:
        """The roles a cue supports (not as a negative cue) among `ok` (memoised)."""
        key = (payloads, ok)
        got = self._positive.get(key)
        if got is None:
            got = self._positive[key] = tuple(ri for ri, neg in payloads if not neg and ri in ok)
        return got

    def fitting(self, kind: str, unit: str | None) -> frozenset:
        """Indices of the roles that accept a quantity of this kind and unit (memoised)."""
        key = (kind, unit)
        got = self._fitting.get(key)
        if got is None:
            got = self._fitting[key] = frozenset(
                i for i, r in enumerate(self.roles) if kind in r.kinds and (r.units is None or unit in r.units))
        return got


@cache
def _taxonomy() -> _Taxonomy:
    return _Taxonomy(load_data("roles.json"))


def roles() -> dict[str, str]:
    """Every role key -> English label: quantity roles, rule roles and 'unspecified'."""
    tx = _taxonomy()
    out = {r.key: r.label for r in tx.roles if r.measure}
    out.update({k: label for k, label in tx.rule_roles})
    out[UNSPECIFIED] = "unspecified"
    return out


# ------------------------------------------------------------------------------ extraction


def extract(record: Record) -> Extraction:
    """Clauses and measures of a record (what the publish step stores)."""
    rid = record.id or record.stem_id
    return _run(record.body, rid, record.body_line, record.lang or "")


def extract_text(body: str, record_id: str = "", first_line: int = 1) -> Extraction:
    """Clauses and measures of any text; offsets index `body`, lines count from first_line."""
    if not isinstance(body, str):
        body = ""
    return _run(body, record_id if isinstance(record_id, str) else "", first_line if isinstance(first_line, int) else 1, "")


def _run(body: str, record_id: str, first_line: int, lang: str) -> Extraction:
    lang = lang or detect_lang(body[:4000])
    if not body or body.isspace():
        return Extraction(record_id, lang, [], [])
    masked = mask(body)
    clauses = split_clauses(body, record_id, first_line, masked=masked)
    if not clauses:
        return Extraction(record_id, lang, clauses, [])
    measures = _Extractor(body, masked, record_id, clauses, lang).run()
    return Extraction(record_id, lang, clauses, measures)


def _cue_lang(clause_lang: str, record_lang: str) -> str:
    """Which cue lists a clause uses: its own language's, or both CJK lists when the clause's
    script disagrees with the record's language (kanji-only lines of a Japanese text read as
    'zh'; a Chinese quotation in a Japanese text)."""
    if clause_lang == "en":
        return "en"
    rec = "ja" if record_lang.lower().startswith("ja") else "zh" if record_lang.lower().startswith("zh") else clause_lang
    if clause_lang not in ("ja", "zh"):
        return "cjk"
    return clause_lang if rec == clause_lang else "cjk"


class _Cand:
    """A quantity on its way to becoming a measure."""

    __slots__ = ("q", "kind", "value", "value_max", "unit", "comparator", "start", "end", "role", "label")

    def __init__(self, q: Quantity):
        self.q, self.kind, self.unit, self.comparator = q, q.kind, q.unit, q.comparator
        self.value, self.value_max = q.value, q.value_max
        self.start, self.end = q.start, q.end
        self.role: Role | None = None
        self.label = ""


class _Cues:
    """Cue hits of one clause, sorted by start, for window and nearest-first look-ups (a clause
    may be a 10 MB line holding thousands of numbers and cues; nothing here is quadratic)."""

    __slots__ = ("hits", "starts")
    LONGEST = 40  # no cue is longer; a cue starting this far before a window can still reach it
    NEAREST = 24  # cues looked at on each side of a quantity when falling back to the clause

    def __init__(self, hits: list):
        self.hits = sorted(hits, key=lambda h: h[0])
        self.starts = [h[0] for h in self.hits]

    def near(self, lo: int, hi: int) -> list:
        return self.hits[bisect_left(self.starts, lo - self.LONGEST):bisect_right(self.starts, hi)]

    def nearest(self, start: int, end: int) -> list:
        i, j = bisect_left(self.starts, start), bisect_right(self.starts, end)
        return self.hits[max(0, i - self.NEAREST):j + self.NEAREST]


_NO_CUES = _Cues([])


class _Extractor:
    def __init__(self, body: str, masked: str, record_id: str, clauses: list[Clause], lang: str):
        self.body, self.m, self.record_id, self.clauses, self.lang = body, masked, record_id, clauses, lang
        self.low = lowered(masked)
        self.nocase = caseless(self.low)
        self.tx = _taxonomy()
        self.starts = [c.start for c in clauses]
        self._glossary: dict[str, str] | None = None

    def run(self) -> list[Measure]:
        clauses, starts = self.clauses, self.starts
        by_clause: dict[int, list[Quantity]] = {}
        for q in find_quantities(self.m):
            i = bisect_right(starts, q.start) - 1
            # A quantity outside every clause sits in a list marker or between blocks; one that
            # runs past its clause's end joins two statements. Neither is a measure.
            if i >= 0 and q.end <= clauses[i].end and q.kind != "ordinal":
                by_clause.setdefault(i, []).append(q)
        # Rule cues: one scan of the whole text, then shared out to the clauses.
        rule_hits: dict[int, list] = {}
        for s, e, payloads in sorted(self.tx.rules.scan(self.m, self.low, self.nocase, 0, len(self.m))):
            i = bisect_right(starts, s) - 1
            if i >= 0 and e <= clauses[i].end:
                rule_hits.setdefault(i, []).append((s, e, payloads))
        out: list[Measure] = []
        for i in sorted(by_clause.keys() | rule_hits.keys()):
            c = clauses[i]
            lang = _cue_lang(c.lang, self.lang)
            keys = _LANG_KEYS[lang]
            cands = self.quantities(c, lang, by_clause.get(i, ()))
            taken_starts = [x.start for x in cands]  # sorted, non-overlapping
            rules, seen = [], set()
            for s, e, payloads in rule_hits.get(i, ()):
                ri = next((p for p, k in payloads if k in keys), None)
                j = bisect_left(taken_starts, e) - 1  # the last measure starting before the cue ends
                if ri is None or ri in seen or (j >= 0 and cands[j].end > s):
                    continue  # one rule of each kind per clause; 上限/以内 inside a number are not rules
                seen.add(ri)
                rules.append((s, e, ri))
            items: list[tuple[int, int, object]] = [(x.start, x.end, x) for x in cands] + rules
            items.sort(key=lambda t: (t[0], t[1]))
            line, at = c.line, c.start  # counted on from the previous measure: linear in the clause
            for n, (s, e, what) in enumerate(items, 1):
                line, at = line + self.body.count("\n", at, s), s
                mid = f"{c.id}/m{n}"
                if isinstance(what, _Cand):
                    r = what.role
                    out.append(_new_measure(mid, self.record_id, c.id, what.kind, r.key if r else UNSPECIFIED,
                                       what.value, what.value_max, what.unit, what.comparator, self.body[s:e], s, e, line,
                                       what.label or (r.label if r else "")))
                else:
                    key, label = self.tx.rule_roles[what]
                    out.append(_new_measure(mid, self.record_id, c.id, "rule", key, None, None, None, None,
                                       self.body[s:e], s, e, line, label))
        return out

    # -- quantities of one clause

    def windows(self, c: Clause, lang: str, cands: list[_Cand]) -> list[list[int]]:
        """The stretches of the clause within reach of any candidate (overlapping ones merged)."""
        reach = self.tx.reach[lang]
        spans: list[list[int]] = []
        for x in sorted(cands, key=lambda x: x.start):
            a, b = max(c.start, x.start - reach), min(c.end, x.end + reach)
            if spans and a <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], b)
            else:
                spans.append([a, b])
        return spans

    def scan_near(self, cueset: _CueSet, spans: list, lang: str) -> "_Cues":
        """Cues inside the windows, for the clause's language."""
        out = []
        for a, b in spans:
            out += cueset.scan(self.m, self.low, self.nocase, a, b, lang)
        return _Cues(out)

    def clause_cues(self, c: Clause, lang: str) -> "_Cues":
        return _Cues(self.tx.cues.scan(self.m, self.low, self.nocase, c.start, c.end, lang))

    def quantities(self, c: Clause, lang: str, qs) -> list[_Cand]:
        if not qs:
            return []
        tx = self.tx
        cands = [_Cand(q) for q in qs if _finite(q.value) and _finite(q.value_max)]
        if not cands:
            return []
        spans = self.windows(c, lang, cands)
        cues = self.scan_near(tx.cues, spans, lang)
        mods = self.scan_near(tx.mods, spans, lang) if any(x.kind in tx.mod_kinds for x in cands) else _NO_CUES
        # The clause's own cues, read only when a quantity needs them: the same as `cues` when the
        # windows cover the clause.
        whole: _Cues | None = cues if spans == [[c.start, c.end]] else None
        by_kind: dict[str, list[int]] = {}
        for x in cands:
            by_kind.setdefault(x.kind, []).append(x.start)  # sorted: quantities come in text order
        kept: list[_Cand] = []
        consumed: list[tuple[int, int]] = []  # rate cues (每逾一日) that a rate has used
        # Rates first, so that the 一日 of 每逾一日 is known to be a denominator before durations.
        for x in sorted(cands, key=lambda x: x.kind == "duration"):
            if x.kind == "duration" and any(x.start < b and a < x.end for a, b in consumed):
                continue
            if x.kind == "date" and x.q.value_max is not None and tx.drop_date_ranges:
                continue
            if x.kind in ("money", "quantity") and self.bare(x):
                continue
            if x.kind == "number" and self.fraction(x):
                x.kind, x.unit = "percent", "percent"  # 二分の一 -> 50 percent
                x.value = float(f"{x.value * 100:.12g}")
                x.value_max = None if x.value_max is None else float(f"{x.value_max * 100:.12g}")
            reach = tx.reach[lang]
            role, local = self.choose(x, c, lang, cues.near(x.start - reach, x.end + reach), by_kind)
            if not local and x.kind in tx.keep_kinds:
                if whole is None:
                    whole = self.clause_cues(c, lang)
                fallback, _ = self.choose(x, c, lang, whole.nearest(x.start, x.end), by_kind)
                role = role or fallback
            if role is not None and not role.measure:
                continue
            if x.kind == "number":
                if role is None:
                    continue
                x.kind = "count"  # a bare number the project word right after makes a count
            if x.kind == "count" and not (x.q.value is not None and x.q.value == int(x.q.value) >= tx.count_min):
                continue
            if role is None and x.kind not in tx.keep_kinds:
                continue  # dates without a target/deadline cue are events or labels
            if x.kind in tx.singular_kinds and x.q.value == 1 and x.q.value_max is None \
                    and x.unit not in tx.singular_units_kept:
                continue
            x.role = role
            self.modify(x, c, lang, mods.near(x.start - tx.reach[lang], x.end + tx.reach[lang]), consumed)
            kept.append(x)
        kept.sort(key=lambda x: x.start)
        # Surface extensions must not run into the next measure.
        for a, b in zip(kept, kept[1:]):
            if a.end > b.start:
                a.end = max(b.start, a.q.end)
        return kept

    def choose(self, x: _Cand, c: Clause, lang: str, cues, by_kind) -> tuple[Role | None, bool]:
        """The best role for x and whether it came from a cue within reach (see the module doc)."""
        tx, t = self.tx, self.m
        ok = tx.fitting(x.kind, x.unit)  # role indices that accept this kind and unit
        if not ok:
            return None, False
        best: tuple | None = None  # (not local, score, role index, adjacent end, before match)
        vetoed: set[int] = set()
        if tx.has_negative:
            for s, e, payloads in cues:
                for ri, neg in payloads:
                    if neg and ri in ok and self.gap(x, s, e) <= tx.roles[ri].window[lang]:
                        vetoed.add(ri)
            if vetoed:
                ok = ok - vetoed  # a vetoed role is as good as one that does not fit
        # Masked markup (**, tags) leaves runs of spaces; adjacency looks past all but one.
        left = t[max(c.start, x.start - 60):x.start]
        if left.endswith("  "):
            left = left.rstrip(" ") + " "
        lasts = tx.before_last[lang]
        maybe = (lasts is None or left[-1:] in lasts) and tx.any_before[lang].search(left)
        for ri, rx in tx.before[lang] if maybe else ():
            if ri in ok:
                m = rx.search(left)
                if m and m.end() == len(left):
                    key = (False, tx.adjacent_score + tx.roles[ri].penalty, ri, None, m)
                    best = key if best is None or key[:2] < best[:2] else best
        hi = min(c.end, x.end + 60)
        at = x.end
        while at < hi and t[at] == " " and t[at + 1:at + 2] == " ":
            at += 1  # keep one space for the patterns that expect it
        firsts = tx.after_first[lang]
        maybe = (firsts is None or (at < hi and t[at] in firsts)) and tx.any_after[lang].match(t, at, hi)
        for ri, rx in tx.after[lang] if maybe else ():
            if ri in ok:
                m = rx.match(t, at, hi)
                if m:
                    key = (False, tx.adjacent_score + tx.roles[ri].penalty, ri, m.end(), None)
                    best = key if best is None or key[:2] < best[:2] else best
        same = by_kind.get(x.kind, ())
        link, seps_chars = tx.link[lang], tx.sep_chars
        for s, e, payloads in cues:
            mine = tx.positive(payloads, ok)
            if not mine:
                continue
            # The text between cue and number, measured once for all roles of the cue.
            if e <= x.start:
                a, b, after = e, x.start, 0
            elif s >= x.end:
                a, b, after = x.end, s, tx.after_penalty
            else:
                a = b = x.start
                after = 0
            gap = t[a:b].strip()
            dist = 0 if not gap or link.fullmatch(gap) else len(gap)
            seps = sum(map(gap.count, seps_chars)) if gap else 0
            between = bisect_left(same, b) - bisect_right(same, a) if b > a + 1 else 0
            base = dist + tx.sep_penalty * seps + after + tx.between_penalty * between
            for ri in mine:
                r = tx.roles[ri]
                local = len(gap) <= r.window[lang]
                if (not local and not r.fallback) or (r.max_separators is not None and seps > r.max_separators):
                    continue
                key = (not local, base + r.penalty, ri, None, None)
                if best is None or key[:2] < best[:2]:
                    best = key
        if best is None:
            return None, False
        role = tx.roles[best[2]]
        if best[3] is not None and role.extend:
            x.end = best[3]  # 2026 财年前: the marker is part of what the text states
            if x.comparator is None and role.comparator:
                x.comparator = role.comparator
        elif best[4] is not None and role.extend and x.comparator is None and role.comparator:
            x.comparator = role.comparator  # by 2030
        if best[4] is not None and role.variable_labels and "var" in best[4].re.groupindex:
            x.label = self.variable_label(role, best[4].group("var"))
        return role, not best[0]

    def fraction(self, x: _Cand) -> bool:
        v = x.q.value
        return v is not None and 0 < v <= self.tx.fraction_max and any(mk in x.q.surface for mk in self.tx.fraction_markers)

    def bare(self, x: _Cand) -> bool:
        """万元产值 ('per 10,000 yuan of output'): a big multiplier standing alone, read as one of
        it. 百万円 is a real figure (a million yen) and is kept."""
        s = x.q.surface
        return s[:1] in self.tx.bare_heads and s[1:2] not in self.tx.bare_heads and not s[1:2].isdigit()

    def gap(self, x: _Cand, s: int, e: int) -> int:
        if e <= x.start:
            return len(self.m[e:x.start].strip())
        if s >= x.end:
            return len(self.m[x.end:s].strip())
        return 0

    def modify(self, x: _Cand, c: Clause, lang: str, mods, consumed: list) -> None:
        """Unit modifiers (per day, per year) and comparator tails."""
        tx, t = self.tx, self.m
        for s, e, payloads in mods:
            md = tx.modifiers[payloads[0]]
            if x.kind not in md["kinds"] or x.unit is None or "/" in x.unit:
                continue
            if "units" in md and x.unit not in md["units"]:
                continue
            if e <= x.start:
                ok = len(t[e:x.start].strip()) <= md["window_before"] and "。" not in t[e:x.start]
            elif s >= x.end:
                ok = len(t[x.end:s].strip()) <= md["window_after"] and not any(ch in t[x.end:s] for ch in "。；;，,")
            else:
                ok = False
            if ok:
                x.unit = x.unit + md["suffix"]
                if md.get("consumes_durations"):
                    consumed.append((s, e))
                break
        if x.comparator is None and x.kind in tx.tail_kinds:
            for rx, cmp in tx.tails[lang]:
                m = rx.match(t, x.end, c.end)
                if m:
                    x.comparator, x.end = cmp, m.end()
                    break
        if x.comparator is None and x.kind in tx.head_kinds:
            left = t[max(c.start, x.start - 50):x.start].rstrip(" ")  # head patterns end at a word
            for rx, cmp in tx.heads[lang]:
                if rx.search(left):
                    x.comparator = cmp  # the bound is stated, but away from the number: surface unchanged
                    break

    def variable_label(self, role: Role, var: str) -> str:
        """The label for a formula term: look the variable up where the document defines it (a
        table row or line starting with it) and name the cost item when a pattern recognises it."""
        if self._glossary is None:
            self._glossary = {}
            for c in self.clauses:
                if c.kind in ("table_row", "paragraph", "item"):
                    m = _DEFINITION.match(c.text)
                    if m:
                        self._glossary.setdefault(m.group(1), m.group(2))
        definition = self._glossary.get(var, "")
        for rx, label in role.variable_labels:
            if definition and rx.search(definition):
                return label
        return role.label


# A variable's definition: "B1 | 建設費の総額" (table row), "B1: construction cost", "B1 = ...".
_DEFINITION = re.compile(r"([A-Za-z][0-9]{0,2})\s*(?:\||:|：|=)\s*(.+)")


def _finite(v: float | None) -> bool:
    return v is None or math.isfinite(v)
