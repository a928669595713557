"""Step 7 of extraction: roles. Which policy figure a quantity states (support period, fine, subsidy
rate, storage target ...), read from the cue words around it, or a reason to drop it (base year, law
number, size class).

Choosing a role (RoleReader.choose): every cue word of a role that accepts the quantity's kind and
unit is scored by the text between cue and number -- its length (0 when it is only a linking
particle such as は/の/的/of), a penalty per clause-internal separator (、，;) crossed, a small
penalty when the cue comes after the number (the nearest cue before the number is preferred), a
large one per other quantity of the same kind in between (that cue probably belongs to the other
number), and the role's own penalty (generic roles lose to specific ones). Lowest score wins.
Patterns that touch the number (`2013年度比`, `B1 ×`, `2026 财年前`) score below any free cue. With
no cue inside the window, the nearest cues anywhere in the clause decide (the clause's own cue
words), for roles that allow that fallback. A duration, amount, percent or tonnage with no cue
stays, as role "unspecified"; a date or count needs a role.

The taxonomy and its ja/zh/en cue words are data: kb/data/roles.json.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from functools import cache

from kb import regex_cache
from kb.extract.clauses import CELL_BAR, Clause, fills_cell
from kb.extract.patterns import (
    LANG_KEYS,
    LANGS,
    CueReader,
    CueSet,
    caseless,
    caseless_pattern,
    edge_chars,
    lang_lists,
    load_data,
    lowered,
)
from kb.extract.quantities import Quantity, counts_number_of, is_bare_year, is_frequency
from kb.scripts import DIGIT_RX, HAN_RX

__all__ = ["UNSPECIFIED", "Candidate", "Role", "RoleReader", "Taxonomy", "taxonomy"]

UNSPECIFIED = "unspecified"
_QUOTES = frozenset("「“\"")


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
    yields_to: frozenset  # date relations that outweigh this (non-measure) role's cue, and "bound"
    # for a figure with an upper or lower bound (占…逾30%: a condition, not a statistic)


_SIDE_KEYS = frozenset(k for keys in LANG_KEYS.values() for k in keys)


def _check_sides(roles: list[dict]) -> None:
    """A role's before / after patterns are keyed by language (ja, zh, en, any): any other key
    (an 'after' nested in 'before' by mistake) would be read by no one, so it is an error."""
    for r in roles:
        for side in ("before", "after"):
            bad = [k for k in r.get(side, {}) if k not in _SIDE_KEYS and not k.startswith("_")]
            if bad:
                raise ValueError(f"roles.json: role {r['key']!r} {side} has keys {bad}; expected one of {sorted(_SIDE_KEYS)}")


def _touching(p: str, flags: int, last: bool) -> re.Pattern:
    """A pattern touching a quantity: one searched in the text before it (last), or one matched at
    the position right after it (see _anchored)."""
    return regex_cache.compile(f"(?:{p})", flags) if last else _anchored(p, flags)


def _anchored(p: str, flags: int = 0) -> re.Pattern:
    """An 'after' pattern for Pattern.match(text, pos): the data writes them with a leading ^ for
    readability, but ^ only matches at the real start of the string, never at pos."""
    return regex_cache.compile(f"(?:{p[1:] if p.startswith('^') else p})", flags)


class Taxonomy:
    """Everything compiled from data/roles.json, once."""

    def __init__(self, data: dict):
        sc = data["scoring"]
        self.sep_rx = regex_cache.compile("|".join(map(re.escape, sc["separators"])))
        self.sep_penalty, self.after_penalty = sc["separator_penalty"], sc["after_penalty"]
        self.between_penalty, self.adjacent_score = sc["between_penalty"], sc["adjacent_score"]
        self.window = {**sc["window"], "cjk": max(sc["window"]["ja"], sc["window"]["zh"])}
        self.link = {k: regex_cache.compile(v) for k, v in sc["link"].items()}
        self.link["cjk"] = regex_cache.compile(f"{sc['link']['ja']}|{sc['link']['zh']}")
        nm = data["never_measures"]
        self.bare_heads = frozenset(nm["bare_multiplier_heads"])
        self.replaced = [(regex_cache.compile(b), regex_cache.compile(a.removeprefix("^"))) for b, a in data["replaced_text"]["patterns"]]
        self.singular_kinds = frozenset(data["singular_dropped"]["kinds"])
        self.singular_units_kept = frozenset(data["singular_dropped"]["units_kept"])
        self.keep_kinds = frozenset(data["keep_without_role"]["kinds"])
        self.lead_ins = {k: regex_cache.compile(v) for k, v in data["lead_ins"].items() if not k.startswith("_")}  # en, cjk
        fr = data["fractions_as_percent"]
        self.fraction_markers, self.fraction_max = tuple(fr["markers"]), fr["max_value"]
        self.count_min, self.count_min_table = data["counts"]["min_value"], data["counts"]["min_value_in_tables"]
        self.one_as_quota = (regex_cache.compile(data["counts"]["one_as_quota_before"]),
                             regex_cache.compile(data["counts"]["one_as_quota_after"]))
        self.counter_roles = [(w, k) for k, ws in data["counts"]["counter_roles"].items() for w in ws]
        self.generic_counters = frozenset(data["counts"]["generic_counters"])
        self.thing_counters = frozenset(data["counts"]["thing_counters"])
        self.english_count_role = data["counts"]["english_noun_role"]
        heads = data["comparator_heads"]
        self.head_kinds = frozenset(heads["kinds"])
        # Case-insensitive for the English entries; the flag changes nothing for CJK ones.
        self.heads = {lang: [(regex_cache.compile(f"(?:{p})", re.I), c) for p, c in lang_lists(heads["patterns"], lang)]
                      for lang in LANGS}
        tails = data["comparator_tails"]
        self.tail_kinds = frozenset(tails["kinds"])
        self.tails = {lang: [(_anchored(p), c) for p, c in lang_lists(tails["patterns"], lang)] for lang in LANGS}

        self.roles: list[Role] = []
        for r in data["roles"]:
            win = dict(self.window)
            if "window" in r:  # English words are about twice as long as the CJK ones
                win = {k: r["window"] * (2 if k == "en" else 1) for k in self.window}
            self.roles.append(Role(
                r["key"], r.get("label", r["key"].replace("_", " ")), frozenset(r["kinds"]),
                frozenset(r["units"]) if "units" in r else None, r.get("measure", True), r.get("penalty", 0),
                win, r.get("max_separators"), r.get("fallback", True), r.get("extend", False), r.get("comparator"),
                tuple((regex_cache.compile(v["pattern"], re.I), v["label"]) for v in r.get("variable_labels", ())),
                frozenset(r.get("yields_to_relations", ())),
            ))
        self.by_key = {r.key: r for r in self.roles}
        self.defaults = [r for r in data["default_roles"]["rules"]]
        marks = data["default_roles"]["interval_marks"]
        self.interval_marks = (tuple(marks["before"]), tuple(marks["after"]))
        self.relation_roles = data["date_relation_roles"]
        self.has_negative = any(r.get("negative") for r in data["roles"])
        self._fitting: dict[tuple, frozenset] = {}
        self.modifiers = data["unit_modifiers"]
        self.mod_kinds = frozenset(k for m in self.modifiers for k in m["kinds"])
        # How far around a quantity its cues are looked for (the fallback reads the whole clause).
        self.reach = {lang: max([r.window[lang] for r in self.roles] + [m.get("window_before", 0) for m in self.modifiers]
                                + [m.get("window_after", 0) for m in self.modifiers]) + 2 for lang in LANGS}

        langs = ("ja", "zh", "en", "any")
        entries, mods = [], []
        for i, r in enumerate(data["roles"]):
            for k in langs:
                entries += [(w, "word", k, (i, False)) for w in r.get("cues", {}).get(k, [])]
                entries += [(p, "pattern", k, (i, False)) for p in r.get("patterns", {}).get(k, [])]
                entries += [(w, "word", k, (i, True)) for w in r.get("negative", {}).get(k, [])]
        for i, md in enumerate(self.modifiers):
            for k in langs:
                mods += [(p, "pattern", k, i) for p in md["patterns"].get(k, [])]
        self.cues, self.mods = CueSet(entries), CueSet(mods)

        # Patterns touching the quantity, per language list and side (last: the 'before' ones):
        # (role index, compiled, whether it reads the caseless text, its edge). English ones written
        # in lower-case ASCII run without re.I on the caseless text (patterns.caseless): the same
        # matches, found several times faster. The edge is what a 'before' match can end with or
        # an 'after' match start with (None: anything), read as the case-blind pattern reads the
        # text itself: a number is tried only against the patterns its neighbouring character
        # allows, most CJK numbers against none.
        _check_sides(data["roles"])
        self._edges: dict[tuple[str, bool], list[tuple[int, re.Pattern, bool, frozenset | None]]] = {}
        for lang in LANGS:
            for last, side in ((True, "before"), (False, "after")):
                out = self._edges[lang, last] = []
                for i, r in enumerate(data["roles"]):
                    for k in LANG_KEYS[lang]:
                        for p in r.get(side, {}).get(k, []):
                            blind = _touching(p, re.I if k == "en" else 0, last)
                            nc = k == "en" and caseless_pattern(p)
                            out.append((i, _touching(p, 0, last) if nc else blind, nc, edge_chars(blind, last)))
        self._by_edge: dict[tuple[str, bool, str, frozenset], list[tuple[int, re.Pattern, bool]]] = {}
        self.positive_memo: dict[tuple, tuple] = {}
        self._negative: dict[tuple, tuple] = {}

    def touching(self, lang: str, last: bool, ch: str, ok: frozenset) -> list[tuple[int, re.Pattern, bool]]:
        """The 'before' patterns (last) that can end with character ch, or the 'after' ones that can
        start with it, of the roles in `ok`, in data order, each with whether it reads the caseless
        text (memoised)."""
        key = (lang, last, ch, ok)
        got = self._by_edge.get(key)
        if got is None:
            got = self._by_edge[key] = [(ri, rx, nc) for ri, rx, nc, edge in self._edges[lang, last]
                                        if ri in ok and (edge is None or ch in edge)]
        return got

    def positive(self, payloads: tuple, ok: frozenset) -> tuple:
        """The roles a cue supports (not as a negative cue) among `ok` (memoised)."""
        key = (payloads, ok)
        got = self.positive_memo.get(key)
        if got is None:
            got = self.positive_memo[key] = tuple(ri for ri, neg in payloads if not neg and ri in ok)
        return got

    def negative(self, payloads: tuple, ok: frozenset) -> tuple:
        """The roles among `ok` a cue speaks against (memoised; most cues speak against none)."""
        key = (payloads, ok)
        got = self._negative.get(key)
        if got is None:
            got = self._negative[key] = tuple(ri for ri, neg in payloads if neg and ri in ok)
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
def taxonomy() -> Taxonomy:
    return Taxonomy(load_data("roles.json"))


class Candidate:
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
_BOUNDS = frozenset({">", ">=", "<", "<="})


def _enumerated(x: Candidate, cands: list[Candidate], t: str) -> bool:
    """Whether x is one of a list of figures in its unit (石炭については十五ヘクタール、石灰石については一ヘクタール、
    その他については三ヘクタール): a figure of the same unit next to it, with an enumeration mark between."""
    i = cands.index(x)
    return any(0 <= j < len(cands) and cands[j].kind == x.kind and cands[j].unit == x.unit and cands[j].q.value != 1
               and _LIST_MARK.search(t, min(x.end, cands[j].end), max(x.start, cands[j].start)) is not None
               for j in (i - 1, i + 1))


_LIST_MARK = regex_cache.compile("[、，,；;]")  # what separates the members of an enumeration


def _counter(x: Candidate) -> str:
    """The counter a count's surface ends on, past a bound after it (三個以上, 2つ以内, 100人左右: 個, つ, 人)."""
    return x.q.surface.rstrip("以上下内左右")[-1:]


class RoleReader:
    """Roles for the quantities of one text: cue scans over `text` (the joined view), per clause."""

    def __init__(self, text: str, clauses: list[Clause], low: str | None = None):
        self.m, self.clauses = text, clauses
        self.low = lowered(text) if low is None else low
        self.nocase = caseless(self.low)
        self.tx = taxonomy()
        self._glossary: dict[str, str] | None = None
        self._readers: dict[tuple[int, str], CueReader] = {}


    def windows(self, c: Clause, lang: str, cands: list[Candidate]) -> list[list[int]]:
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

    def reader(self, cueset: CueSet, lang: str) -> CueReader:
        """cueset's reader of this text for `lang` (made once per text, set and language)."""
        key = (id(cueset), lang)
        got = self._readers.get(key)
        if got is None:
            got = self._readers[key] = cueset.reader(self.m, self.low, self.nocase, lang)
        return got

    def scan_near(self, cueset: CueSet, spans: list, lang: str) -> _Cues:
        """Cues inside the windows, for the clause's language."""
        scan = self.reader(cueset, lang).scan
        if len(spans) == 1:
            return _Cues(scan(*spans[0]))
        out = []
        for a, b in spans:
            out += scan(a, b)
        return _Cues(out)

    def clause_cues(self, c: Clause, lang: str) -> _Cues:
        return _Cues(self.reader(self.tx.cues, lang).scan(c.start, c.end))

    def measures(self, c: Clause, lang: str, qs, relations: dict[int, str] | None = None) -> list[Candidate]:
        """The quantities of clause c that are measures, each with its role (None: unspecified);
        relations (dates.py) say which dates are related to the policy, and how. In a table row
        each cell is read on its own: a figure is named by its own cell and its column's header,
        never by the words of the cell beside it (a project's name next to its budget)."""
        if not qs:
            return []
        relations = relations or {}
        bars = [m.start() for m in CELL_BAR.finditer(self.m, c.start, c.end)] if c.kind == "table_row" else []
        if not bars:
            return self._measures(c, lang, qs, relations)
        edges = [c.start - 1] + bars + [c.end]
        by_cell: dict[int, list] = {}
        for q in qs:
            by_cell.setdefault(bisect_right(bars, q.start), []).append(q)
        out: list[Candidate] = []
        for i, cell_qs in by_cell.items():
            a, b = edges[i] + 1, max(edges[i + 1], max(q.end for q in cell_qs))
            out += self._measures(replace(c, start=a, end=b), lang, cell_qs, relations)
        return sorted(out, key=lambda x: x.start)

    def _measures(self, c: Clause, lang: str, qs, relations: dict[int, str]) -> list[Candidate]:
        tx = self.tx
        cands = [Candidate(q) for q in qs if _finite(q.value) and _finite(q.value_max)]
        if not cands:
            return []
        spans = self.windows(c, lang, cands)
        cues = self.scan_near(tx.cues, spans, lang)
        mods = self.scan_near(tx.mods, spans, lang) \
            if any(x.kind in tx.mod_kinds or x.kind == "number" and self.fraction(x) for x in cands) else _NO_CUES  # 万分之五: a percent
        # The clause's own cues, read only when a quantity needs them: the same as `cues` when the
        # windows cover the clause.
        whole: _Cues | None = cues if spans == [[c.start, c.end]] else None
        by_kind: dict[str, list[int]] = {}
        for x in cands:
            by_kind.setdefault(x.kind, []).append(x.start)  # sorted: quantities come in text order
        kept: list[Candidate] = []
        consumed: list[tuple[int, int]] = []  # rate cues (每逾一日) that a rate has used
        # Rates first, so that the 一日 of 每逾一日 is known to be a denominator before durations.
        for x in sorted(cands, key=lambda x: x.kind == "duration"):
            if x.kind == "duration" and any(x.start < b and a < x.end for a, b in consumed):
                continue
            relation = relations.get(x.start) if x.kind == "date" else None
            if x.kind == "date" and relation is None:
                continue  # an event, publication, base or slogan year
            if x.kind in ("money", "quantity") and self.bare(x):
                continue
            if self.replaced_text(x):
                continue
            if x.kind == "number" and self.fraction(x):
                x.kind, x.unit = "percent", "percent"  # 二分の一 -> 50 percent
                x.value = round(x.value * 100, 2)  # two thirds: 66.67
                x.value_max = None if x.value_max is None else round(x.value_max * 100, 2)
            reach = tx.reach[lang]
            role, local = self.choose(x, c, lang, cues.near(x.start - reach, x.end + reach), by_kind)
            if not local and x.kind in tx.keep_kinds:
                if whole is None:
                    whole = self.clause_cues(c, lang)
                fallback, _ = self.choose(x, c, lang, whole.nearest(x.start, x.end), by_kind)
                role = role or fallback
            if role is not None and not role.measure:
                if not ((relation and relation in role.yields_to)
                        or ("bound" in role.yields_to and (x.comparator or self.head_bound(x, c, lang)) in _BOUNDS)):
                    continue
                role = None  # 2030年度までに開始する: the deadline, not an event
            if relation and role is None:
                role = tx.by_key.get(tx.relation_roles[relation])
            if x.kind == "number":
                if role is None or is_bare_year(x.q):
                    continue  # 2021 DERA State Grants: a year before a title, not a count of grants
                x.kind = "count"  # a bare number the project word right after makes a count
            in_table = c.kind == "table_row"
            # A bounded count of one is a limit (以一次為限, 一回以上): a table cell's minimum then.
            least = tx.count_min_table if in_table or x.comparator in _BOUNDS or self.quota(x) else tx.count_min
            if x.kind == "count" and not (x.q.value is not None and x.q.value == int(x.q.value) >= least):
                continue
            if role is None and x.kind in tx.keep_kinds:
                role = self.default_role(x, c, lang)
            if x.kind == "count" and role is None:
                role = next((tx.by_key[k] for w, k in tx.counter_roles if x.q.surface.rstrip("以上下内").endswith(w)), None) \
                    or (next((tx.by_key[k] for w, k in tx.counter_roles if self.m.startswith(w, x.end)), None)
                        if x.q.surface[-1:] in tx.generic_counters else None) \
                    or self.default_role(x, c, lang) \
                    or (tx.by_key[tx.english_count_role] if (x.q.surface[-1:].isascii() and x.q.surface[-1:].isalpha())
                        or counts_number_of(self.low, x.start, c.start) or self.listed_things(x)
                        or self.generic_noun_after(x) else None)
                # 三百両以上: a bounded count decides who is covered; 兩個階段: the noun after a generic
                # counter names what is counted; 132 bids: an English noun counted (or
                # the number of participants is 50: the noun before)
            if x.kind == "count" and role is None and in_table and fills_cell(self.m, c, x.start, x.end):
                role = tx.by_key[tx.english_count_role]  # | エアコンディショナー | 五百台 |: a count a table row states
            if role is None and x.kind not in tx.keep_kinds:
                continue  # dates without a target/deadline cue are events or labels
            if x.kind in tx.singular_kinds and x.q.value == 1 and x.q.value_max is None and x.comparator not in _BOUNDS \
                    and x.unit not in tx.singular_units_kept and "/" not in (x.unit or "") \
                    and not fills_cell(self.m, c, x.start, x.end) and not self.quota(x) \
                    and not _enumerated(x, cands, self.m):
                continue  # a figure alone in a table cell, or one of a list of figures, is a value even when it is one
            x.role = role
            self.modify(x, c, lang, mods.near(x.start - tx.reach[lang], x.end + tx.reach[lang]), consumed)
            kept.append(x)
        kept.sort(key=lambda x: x.start)
        # Surface extensions must not run into the next measure.
        for a, b in zip(kept, kept[1:]):
            if a.end > b.start:
                a.end = max(b.start, a.q.end)
        return kept

    def generic_noun_after(self, x: Candidate) -> bool:
        """Whether a generic counter has a Chinese noun right after it (16个绿色物流区, 三個堆填區): it counts that noun."""
        return _counter(x) in self.tx.generic_counters and HAN_RX.match(self.m, x.end) is not None

    def listed_things(self, x: Candidate) -> bool:
        """Whether a count in つ counts the items of a list it closes or opens (AとBの2つ, 2つの義務規定) or bounds
        how many of them (少なくとも2つ以上)."""
        return _counter(x) in self.tx.thing_counters and (
            self.m[x.start - 1:x.start] == "の" or self.m.startswith("の", x.end) or x.comparator is not None)

    def choose(self, x: Candidate, c: Clause, lang: str, cues, by_kind) -> tuple[Role | None, bool]:
        """The best role for x and whether it came from a cue within reach (see the module doc)."""
        tx, t = self.tx, self.m
        ok = tx.fitting(x.kind, x.unit)  # role indices that accept this kind and unit
        if not ok:
            return None, False
        best: tuple | None = None  # (not local, score, role index, adjacent end, before match)
        vetoed: set[int] = set()
        if tx.has_negative:
            for s, e, payloads in cues:
                if negs := tx.negative(payloads, ok):
                    gap = self.gap(x, s, e)
                    vetoed.update(ri for ri in negs if gap <= tx.roles[ri].window[lang])
            if vetoed:
                ok = ok - vetoed  # a vetoed role is as good as one that does not fit
        # Masked markup (**, tags) leaves runs of spaces; adjacency looks past all but one.
        lo = max(c.start, x.start - 60)
        left = t[lo:x.start]
        spaces = left.endswith("  ")
        if spaces:
            left = left.rstrip(" ") + " "
        left_nc = None
        for ri, rx, nc in tx.touching(lang, True, left[-1:], ok):
            if nc and left_nc is None:
                left_nc = self.nocase[lo:x.start]
                left_nc = left_nc.rstrip(" ") + " " if spaces else left_nc
            m = rx.search(left_nc if nc else left)
            if m and m.end() == len(left):
                key = (False, tx.adjacent_score + tx.roles[ri].penalty, ri, None, m)
                best = key if best is None or key[:2] < best[:2] else best
        hi = min(c.end, x.end + 60)
        at = x.end
        while at < hi and t[at] == " " and t[at + 1:at + 2] == " ":
            at += 1  # keep one space for the patterns that expect it
        for ri, rx, nc in tx.touching(lang, False, t[at:at + 1] if at < hi else "", ok):
            m = rx.match(self.nocase if nc else t, at, hi)
            if m:
                key = (False, tx.adjacent_score + tx.roles[ri].penalty, ri, m.end(), None)
                best = key if best is None or key[:2] < best[:2] else best
        same = by_kind.get(x.kind, ())
        link, sep_rx = tx.link[lang], tx.sep_rx
        known = tx.positive_memo  # tx.positive, without a call per cue on the hot path
        for s, e, payloads in cues:
            mine = known.get((payloads, ok))
            if mine is None:
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
            seps = len(sep_rx.findall(gap)) if gap else 0
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
            x.label = self.variable_label(role, left[best[4].start("var"):best[4].end("var")])  # as written, not folded
        return role, not best[0]

    def fraction(self, x: Candidate) -> bool:
        v = x.q.value
        return v is not None and 0 < v <= self.tx.fraction_max and any(mk in x.q.surface for mk in self.tx.fraction_markers)

    def role_in(self, x: Candidate, lang: str, start: int, end: int) -> Role | None:
        """The first role a cue word in text[start:end] (a column header) names that fits x."""
        ok = self.tx.fitting(x.kind, x.unit)
        for _, _, payloads in sorted(self.reader(self.tx.cues, lang).scan(start, end)):
            for ri in self.tx.positive(payloads, ok):
                if self.tx.roles[ri].measure:
                    return self.tx.roles[ri]
        return None

    def default_role(self, x: Candidate, c: Clause, lang: str) -> Role | None:
        """The role a figure's form gives when no cue names one (roles.json default_roles); a bound
        a tail or a head word states away from the figure (…を乗じて得た数値以上, 不得超过…总量的15%)
        counts as its comparator."""
        bound = None
        for d in self.tx.defaults:
            if x.kind not in d["kinds"]:
                continue
            if "comparators" in d:
                if bound is None:
                    bound = x.comparator or self.tail_bound(x, c, lang) or self.head_bound(x, c, lang) or ""
                if bound not in d["comparators"]:
                    continue
            if "unit_suffixes" in d and not (x.unit or "").endswith(tuple(d["unit_suffixes"])):
                continue
            if d.get("frequency") and not (is_frequency(x.q.surface) or self.every(x)):
                continue
            return self.tx.by_key[d["role"]]
        return None

    def quota(self, x: Candidate) -> bool:
        """Whether a count of one is a quota (それぞれ1名選任し, 代表者は、一名とする)."""
        before, after = self.tx.one_as_quota
        return x.q.value == 1 and (before.search(self.m, max(0, x.start - 4), x.start) is not None
                                   or after.match(self.m, x.end) is not None)

    def every(self, x: Candidate) -> bool:
        """Whether a period is the interval of something repeated (每两年, every 3 years, 5年ごと)."""
        t, (before, after) = self.m, self.tx.interval_marks
        return t[max(0, x.start - 6):x.start].lower().endswith(before) or t.startswith(after, x.end)

    def replaced_text(self, x: Candidate) -> bool:
        """The old figure a textual amendment quotes (「二年」とあるのは…)."""
        t = self.m
        if not _QUOTES.intersection(t[max(0, x.start - 6):x.start]):
            return False  # no quotation mark just before: nothing quoted (most figures)
        return any(b.search(t, max(0, x.start - 6), x.start) and a.match(t, x.end) for b, a in self.tx.replaced)

    def bare(self, x: Candidate) -> bool:
        """万元产值 ('per 10,000 yuan of output'): a big multiplier standing alone, read as one of
        it. 百万円 is a real figure (a million yen) and is kept."""
        s = x.q.surface
        return s[:1] in self.tx.bare_heads and s[1:2] not in self.tx.bare_heads and not s[1:2].isdigit()

    def gap(self, x: Candidate, s: int, e: int) -> int:
        if e <= x.start:
            return len(self.m[e:x.start].strip())
        if s >= x.end:
            return len(self.m[x.end:s].strip())
        return 0

    def modify(self, x: Candidate, c: Clause, lang: str, mods, consumed: list) -> None:
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
            elif s >= x.end:  # a figure between them is the one the modifier follows (£500 … by £40 per day)
                ok = len(t[x.end:s].strip()) <= md["window_after"] and not any(ch in t[x.end:s] for ch in "。；;，,、") \
                    and not DIGIT_RX.search(t, x.end, s)
            else:
                ok = False
            if ok:
                x.unit = x.unit + md["suffix"]
                if md.get("consumes_durations"):
                    consumed.append((s, e))
                break
        if x.comparator is None and (tail := self._tail(x, c, lang)):
            x.comparator, x.end = tail[0], tail[1].end()
        if x.comparator is None:
            x.comparator = self.head_bound(x, c, lang)  # stated away from the number: surface unchanged

    def tail_bound(self, x: Candidate, c: Clause, lang: str) -> str | None:
        """The bound a tail after the figure states (…を乗じて得た数値以上), or None; see modify."""
        tail = self._tail(x, c, lang)
        return tail[0] if tail else None

    def _tail(self, x: Candidate, c: Clause, lang: str) -> tuple[str, re.Match] | None:
        """The first comparator tail right after the figure: its comparator and its match, or None."""
        if x.kind not in self.tx.tail_kinds:
            return None
        return next(((cmp, m) for rx, cmp in self.tx.tails[lang] if (m := rx.match(self.m, x.end, c.end))), None)

    def head_bound(self, x: Candidate, c: Clause, lang: str) -> str | None:
        """The bound a head noun or verb a few words before the figure states (the maximum penalty
        is, 上限は, 至少應占…之), or None."""
        if x.kind not in self.tx.head_kinds:
            return None
        left = self.m[max(c.start, x.start - 50):x.start].rstrip(" ")  # head patterns end at a word
        return next((cmp for rx, cmp in self.tx.heads[lang] if rx.search(left)), None)

    def variable_label(self, role: Role, var: str) -> str:
        """The label for a formula term: look the variable up where the document defines it (a
        table row or line starting with it) and name the cost item when a pattern recognises it;
        "" when it does not."""
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
        return ""  # the role's own name says all there is


# A variable's definition: "B1 | 建設費の総額" (table row), "B1: construction cost", "B1 = ...".
_DEFINITION = regex_cache.compile(r"([A-Za-z][0-9]{0,2})\s*(?:\||:|：|=)\s*(.+)")


def _finite(v: float | None) -> bool:
    return v is None or math.isfinite(v)
