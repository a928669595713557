"""Step 8 of extraction: rules, read by a modality grammar per language.

A rule is a provision that binds a party or fixes how money, rights or duties flow: an obligation,
prohibition, permission, approval requirement, eligibility or exclusion, payment flow, extension,
liability, exemption, lapse or presumption (kb/data/rules.json lists, per language, the expressions
that state each kind). In order, for each clause:

1. clauses that cannot hold a rule are skipped: headings, formulas, penalty provisions (their fines
   and terms are measures; only the cost of enforcement they put on the offender stays a rule),
   conditions (a list item of violations), textual amendments, definitions;
2. every expression of a rule kind is found, except inside brackets (a parenthetical qualifier
   such as （…に限る。）; a proviso in brackets, （ただし…）, is a provision of its own), where a
   noun or condition touches it (義務者, 認めるとき, the approval), or
   where the modal only bounds a figure (不得超过40%: a measure with a comparator);
3. a binding modal next to a more specific expression is one rule of the specific kind
   (返還しなければならない is one payment rule, shall be approved one approval rule), unless a
   coordinated predicate follows that expression (应当对…负责，并…: liability and obligation);
4. one rule per kind per clause (kinds of one family, such as prepayment and refund, count as one),
   spanning its first expression;
5. a fallback expression (a derogation: 前項の規定にかかわらず) or a by-reference one (…亦同) states a rule
   only where nothing else in the clause does; the by-reference one takes the kind of the last rule read,
   so a reader is asked about a text's clauses in order.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache, cached_property

from kb import regex_cache
from kb.extract.clauses import Clause
from kb.extract.patterns import BRACKETS, LANG_KEYS, LATIN_RX, CueSet, bracketed_spans, caseless, caseless_pattern, load_data, lowered

__all__ = ["RuleHit", "RuleReader", "rule_kinds"]

_NO_RULES = frozenset({"heading", "formula"})
_QUOTE_OPENERS = frozenset("「『")  # quotation marks: around whole sentences they quote a text
_LOOK = 60  # how far before / after an expression its exclusions look
_LABEL = "【"  # the bracket a guidance page's labels open with
_LABEL_CLOSE = "】"
_CLOCK_BEFORE = regex_cache.compile(r"[（(][0-9０-９]{1,2}[:：時][0-9０-９]{0,2}分?$")  # (17:30必着
_DEFAULT_KIND = "obligation"  # what a by-reference clause states when no rule came before it
_SAME = "~same"  # the payload of a by-reference expression (亦同): the kind of the rule read before it
_FALLBACK = "?"  # marks the kind of a fallback expression (rules.json): <kind>? until the clause is read


def _label_only(t: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a 【label】 and nothing else (【補助対象事業者】 on its own line): a heading
    for the lines under it, which state the rules."""
    close = t.find(_LABEL_CLOSE, start, end)
    return close >= 0 and not t[close + 1:end].strip()


@dataclass(frozen=True, slots=True)
class RuleHit:
    kind: str  # a key of rules.json's kinds
    start: int  # offsets into the text the reader scans
    end: int


class _Grammar:
    """rules.json compiled once."""

    def __init__(self, d: dict):
        self.kinds = [k["key"] for k in d["kinds"]]
        self.labels = {k["key"]: k.get("label", k["key"]) for k in d["kinds"]}
        self.family = {k["key"]: k.get("family", k["key"]) for k in d["kinds"]}
        self.modals = frozenset(d["modals"])
        self.merge_gap = {"en": d["merge_gap_en"]}
        self.default_gap = d["merge_gap"]
        self.separators = frozenset(d["separators"])
        self.provisos = tuple(d["provisos"])
        self.new_party = {lang: regex_cache.compile(rx) for lang, rx in d["new_party"].items()}
        self.name_word = regex_cache.compile(d["name_word"])
        self.title_enumerator = regex_cache.compile(d["title_item"]["enumerator"])
        self.title_words = regex_cache.compile(d["title_item"]["title"])
        self.acts_listed = {lang: regex_cache.compile(rx) for lang, rx in d["acts_listed"].items()}
        self.coordinated = {lang: tuple(v) for lang, v in d["coordinated"].items()}
        self.adjuncts = {lang: tuple(v) for lang, v in d["adjuncts"].items()}
        self.parenthetical = {lang: regex_cache.compile(rx) for lang, rx in d["parenthetical"].items()}
        self.parenthetical_passive = {lang: regex_cache.compile(rx) for lang, rx in d["parenthetical_passive"].items()}
        self.binding = frozenset(d["binding"])
        self.conditional_kinds = frozenset(d["conditional_kinds"])
        self.penalty_kinds = frozenset(d["penalty_kinds"])
        self.condition_kinds = frozenset(d["condition_kinds"])
        self.modal_side = dict(d["modal_side"])
        entries, weaker, ref = [], [], d["sentence_end_reference"]
        self.fallback: dict[str, str] = {}  # fallback kind -> the kind it states alone in a clause
        # (kind, lang) whose fallback states a rule even in a clause that also gives a figure
        self.beside_figures = {(k["key"], lang) for k in d["kinds"] for lang in k.get("fallback_beside_figures", ())}
        for k in d["kinds"]:
            weak = f"{k['key']}{_FALLBACK}"
            if any(k.get(lang, {}).get("fallback") or k.get(lang, {}).get("fallback_patterns") for lang in ("ja", "zh", "en")):
                self.fallback[weak], self.family[weak] = k["key"], self.family[k["key"]]
            for lang in ("ja", "zh", "en"):
                block = k.get(lang, {})
                entries += [(w, "word", lang, k["key"]) for w in block.get("words", [])]
                entries += [(_reference_ends(p, ref), "pattern", lang, k["key"]) for p in block.get("patterns", [])]
                weaker += [(w, "word", lang, weak) for w in block.get("fallback", [])]
                weaker += [(_reference_ends(p, ref), "pattern", lang, weak) for p in block.get("fallback_patterns", [])]
        # fallback patterns last: where one starts where a specific one does, the specific one wins
        entries += weaker + [(w, "word", lang, _SAME) for lang, words in d["by_reference"].items() for w in words] \
            + [(p, "pattern", lang, _SAME) for lang, pats in d["by_reference_patterns"].items() for p in pats]
        self.family[_SAME] = _SAME
        self.cues = CueSet(entries)
        ex = d["exclusions"]
        self.ex: dict[str, dict[str, re.Pattern | None]] = {}
        # One flat alternation per list (no group around each pattern), so that the engine can skip
        # ahead to the patterns' first characters; English lists in lower-case ASCII run without
        # re.I on the caseless text for the same reason (see patterns.caseless).
        self.ex_caseless: dict[str, bool] = {}
        for lang in ("ja", "zh", "en"):
            lists = {name: pats for name, pats in ex[lang].items() if not name.startswith("_")}  # "_…": notes
            pats_all = [p for pats in lists.values() for p in pats]
            caseless_ok = lang == "en" and all(map(caseless_pattern, pats_all))
            flags = re.I if lang == "en" and not caseless_ok else 0
            self.ex_caseless[lang] = caseless_ok
            self.ex[lang] = {name: regex_cache.compile("|".join(pats), flags) if pats else None for name, pats in lists.items()}

    def exclusions(self, lang: str) -> list[tuple[dict, bool, bool]]:
        """The exclusion blocks that serve a clause read with `lang`'s lists (cjk: ja and zh), each
        with whether it reads the caseless text rather than the text, and whether it is English."""
        return self._exclusions[lang]

    @cached_property
    def _exclusions(self) -> dict[str, list[tuple[dict, bool, bool]]]:
        return {lang: [(self.ex[k], self.ex_caseless[k], k == "en") for k in keys if k in self.ex]
                for lang, keys in LANG_KEYS.items()}

    @cached_property
    def coordinated_of(self) -> dict[str, tuple[str, ...]]:
        """lang -> the coordinating words after which a modal also binds a further predicate."""
        return {lang: tuple(c for k in keys for c in self.coordinated.get(k, ())) for lang, keys in LANG_KEYS.items()}

    @cached_property
    def adjuncts_of(self) -> dict[str, tuple[str, ...]]:
        """lang -> the words opening an expression that is an adjunct of the verb, never its verb."""
        return {lang: tuple(a for k in keys for a in self.adjuncts.get(k, ())) for lang, keys in LANG_KEYS.items()}


@cache
def _grammar() -> _Grammar:
    return _Grammar(load_data("rules.json"))


def rule_kinds() -> dict[str, str]:
    """Rule kind -> English label."""
    return dict(_grammar().labels)


class RuleReader:
    """Rules of the clauses of one text, asked about in text order; `text` is the joined view the clause
    spans index."""

    def __init__(self, text: str, low: str | None = None, lang: str | None = None):
        """`lang`: a cue language (patterns.LANG_KEYS) covering every clause the reader will be
        asked about (patterns.widest); None: any."""
        self.t = text
        self.low = lowered(text) if low is None else low
        self.nocase = caseless(self.low)
        self.g = _grammar()
        # One scan of the whole text; each clause takes the hits inside it (most clauses hold none).
        self.hits = sorted(self.g.cues.reader(text, self.low, self.nocase, lang, tagged=True, windows=False).scan(0, len(text)))
        self.starts = [h[0] for h in self.hits]
        self.last_kind = _DEFAULT_KIND  # the kind of the last rule read, for a clause that refers back to it

    def any_cue(self, start: int, end: int) -> bool:
        """Whether any rule expression starts in text[start:end]."""
        i = bisect_left(self.starts, start)
        return i < len(self.starts) and self.starts[i] < end

    def penalty(self, start: int, end: int, lang: str) -> bool:
        """Whether text[start:end] imposes a penalty (处…罚款, 罰金に処する): its terms are measures and it
        states no rule, nor do the offences listed under it."""
        return _penalised(self._segments(start, end, self.g.exclusions(lang)))

    def lists_acts(self, start: int, end: int, lang: str) -> bool:
        """Whether text[start:end] is a lead-in whose items are the acts it regulates (次の各号に掲げる行為は、…)."""
        return any(k in self.g.acts_listed and self.g.acts_listed[k].search(self.t, start, end) for k in LANG_KEYS[lang])

    def title_item(self, start: int, end: int) -> bool:
        """Whether text[start:end] is a subsection's caption after its enumerator ((iii) Extensions)."""
        g, t = self.g, self.t
        m = g.title_words.match(t, start, end)
        return m is not None and not t[m.end():end].strip() \
            and g.title_enumerator.search(t, max(0, start - 12), start) is not None

    def _segments(self, start: int, end: int, exs: list[tuple[dict, bool, bool]]) -> list[tuple[dict, str]]:
        """Each exclusion block with the clause text it reads (caseless or as written)."""
        return [(ex, (self.nocase if nocase else self.t)[start:end].rstrip()) for ex, nocase, _ in exs]

    def rules(self, c: Clause, start: int, end: int, lang: str, taken: list[tuple[int, int]],
              has_figures: bool) -> list[RuleHit]:
        """The rules of clause c, which spans text[start:end]; `taken` are the spans of its quantities
        (an expression inside a number, 上限 of 上限額, is not a rule), `has_figures` whether one of
        them is more than a frequency (每年: how often the act is done, not the clause's content)."""
        if c.kind in _NO_RULES or start >= end or (c.kind == "item" and self.title_item(start, end)):
            return []
        keys = LANG_KEYS[lang]
        found = [(s, e, kind) for s, e, payloads in self.hits[bisect_left(self.starts, start):bisect_left(self.starts, end)]
                 if e <= end and (kind := next((p for p, k in payloads if k in keys), None)) is not None]
        if not found:
            return []
        g, t = self.g, self.t
        exs = g.exclusions(lang)
        if any(english for _, _, english in exs) and not LATIN_RX.search(self.low, start, end):
            exs = [x for x in exs if not x[2]]  # every English exclusion needs a letter; this clause has none
        segs = self._segments(start, end, exs)
        if any(_search(ex["clause_void"], seg) for ex, seg in segs):
            return []
        if _penalised(segs):
            found = [(s, e, kind) for s, e, kind in found if kind in g.penalty_kinds]
            if not found:
                return []
        conds = [(m, english) for (ex, seg), (_, _, english) in zip(segs, exs)
                 if ex["clause_condition"] is not None and (m := ex["clause_condition"].search(seg))]
        if conds:
            # A condition heading a list binds nobody, but its main clause can say who qualifies or grant a
            # power (can get a grant if all of the following are true:, may revoke the licence if the holder:);
            # an English main clause before its if / where / when keeps the duty of a named party (You need to
            # register if you are:; a permit holder must be notified if: names none). A CJK condition ends
            # where its pattern does (…的：), so all of it is condition.
            # A cue that names what was done without a permit (未经许可…的；) describes the breach, not a requirement.
            at = min(start + m.start() if english else start for m, english in conds)
            found = [(s, e, kind) for s, e, kind in found
                     if (kind in self.g.conditional_kinds and not any(_match(ex.get("violation_cue"), t[s:e]) for ex, _, _ in exs))
                     or (e <= at and not self.low.startswith(" be ", e))]
        # a bracket around the whole clause holds a sentence of its own, not a qualifier of one
        brackets = [(a, b) for a, b in bracketed_spans(t, start, end) if not _whole(t, a, b, start, end)]
        # a proviso, and a quotation of whole sentences with a modal (氣候法第二十五條：「…得…。…應…。」), is a
        # provision of its own; a quoted definition (「…經…核准…的專案。」) still only qualifies
        modal_starts = [s for s, _, kind in found if kind in g.modals]  # in text order, as found is
        proviso_spans = [(a, b) for a, b in brackets if t.startswith(g.provisos, a + 1)
                         or (_quotes_sentences(t, a, b) and _any_between(modal_starts, a, b))]
        provisos = _Spans(proviso_spans)
        # a proviso is a provision of its own, but the brackets inside it qualify as any others do
        quoted = set(proviso_spans)
        qualifiers = _Spans(sorted([(a, b) for a, b in brackets if (a, b) not in quoted]
                                   + [inner for a, b in proviso_spans for inner in bracketed_spans(t, a + 1, b - 1)]))
        numbers = _Spans(taken)
        hits = []
        for h in _outermost([RuleHit(kind, s, e) for s, e, kind in found], g.modals, g.fallback):  # 'shall' in 'shall not' is not its own
            # An expression that is the 【label】 opening the clause (【対象経費】) names what the clause is
            # about, and one that fills its brackets alone after other words ((必着) after a deadline) notes
            # the rule; any other inside brackets, an article's caption （補助金の返還） included, qualifies.
            if (qualifiers.covers(h.start, h.end) and not (h.start == start and t[start] == _LABEL and not _label_only(t, start, end))
                    and not _fills_note(t, h, start)) \
                    or (numbers.reaches_out_of(h.start, h.end) if lang == "en" else numbers.overlaps(h.start, h.end)):
                # 上限 of 上限額 is part of a figure; a figure inside an English rule (only one homeowner per
                # home can apply) is the rule's own; a CJK one states a cap (以一次為限), the clause's measure
                continue
            if self._excluded(h.start, h.end, start, end, h.kind, exs) or g.name_word.match(t, h.start, end):
                continue
            hits.append(h)
        hits = _weak_resolved(_merge_modals(hits, t, g, lang), g, lang, has_figures, self.last_kind)
        parties = [m.end() for m in g.new_party[lang].finditer(t, start, end)] if lang in g.new_party else []
        hits = _one_per_family(hits, lambda h: (g.family[h.kind], provisos.index(h.start), bisect_right(parties, h.start)))
        if hits:
            self.last_kind = hits[0].kind
        return hits

    def _excluded(self, s: int, e: int, start: int, end: int, kind: str, exs: list[tuple[dict, bool, bool]]) -> bool:
        for ex, nocase, _ in exs:
            t = self.nocase if nocase else self.t
            after = t[e:min(end, e + _LOOK)]
            before = t[max(start, s - _LOOK):s]
            cue = t[s:e]
            if (_match(ex["not_after"], after) and not _search(ex.get("takes_object"), cue) and not _search(ex.get("in_force"), cue)) \
                    or _search(ex["not_before"], before):
                return True
            if _match(ex.get("party_after"), after) and not _match(ex.get("party_cue_not"), cue):
                return True  # 取得…許可者，: the cue names the party
            if kind not in self.g.modals and _search(ex.get("noun_before"), before) and not _match(ex.get("verb_start"), t[s:e]):
                return True
            if _search(ex.get("noun_cue_before"), before) and not _match(ex.get("verb_start"), t[s:e]):
                return True
            if _search(ex.get("relative_before"), before) and not _match(ex.get("law_verb_start"), cue):
                return True
            if kind not in self.g.modals and (_match(ex.get("figure_after"), after) or _match(ex.get("noun_after"), after)):
                return True
            if kind == "permission" and _search(ex.get("ability_before"), before):
                return True  # 未然に防ぐことができます: an ability, not a permission
            if kind == "obligation" and _search(ex.get("advice_before"), before):
                return True
            if _match(ex.get("participle_cues"), t[s:e]) and not _search(ex.get("participle_auxiliary"), before):
                return True  # equipment with exempted engines: a description, not a relief
            if kind in self.g.condition_kinds and _search(ex.get("condition_before"), before):
                return True
            if kind in ("obligation", "prohibition") and _search(ex.get("granted_before"), before):
                return True
            if kind in self.g.modals and _match(ex.get("modal_modifier"), after):
                return True
            if kind in self.g.modals and (_match(ex["bound"], after) or (
                    _search(ex["bound_before"], before) and (ex.get("bound_verb") is None or _match(ex["bound_verb"], after)))):
                return True
        return False


class _Spans:
    """Sorted, disjoint spans, asked about in logarithmic time (a clause may be a 10 MB line)."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.starts = [a for a, _ in spans]
        self.ends = [b for _, b in spans]

    def _last_before(self, pos: int) -> int:
        return bisect_right(self.starts, pos) - 1

    def covers(self, s: int, e: int) -> bool:
        i = self._last_before(s)
        return i >= 0 and e <= self.ends[i]

    def index(self, pos: int) -> int:
        """Which span holds pos (-1: none)."""
        i = self._last_before(pos)
        return i if i >= 0 and pos < self.ends[i] else -1

    def overlaps(self, s: int, e: int) -> bool:
        i = self._last_before(e - 1)
        return i >= 0 and self.ends[i] > s

    def reaches_out_of(self, s: int, e: int) -> bool:
        """Whether a span overlapping text[s:e] reaches outside it (one wholly inside does not)."""
        i = self._last_before(e - 1)
        while i >= 0 and self.ends[i] > s:
            if self.starts[i] < s or self.ends[i] > e:
                return True
            i -= 1
        return False


def _search(rx: re.Pattern | None, s: str) -> bool:
    return rx is not None and rx.search(s) is not None


def _match(rx: re.Pattern | None, s: str) -> bool:
    return rx is not None and rx.match(s) is not None


def _reference_ends(pattern: str, ref: str) -> str:
    """pattern with each sentence-end lookahead ((?=[。．\\n]|$)) also ending before a short bracketed
    reference ref then that end: 提出すればよい(図4)。 ends its sentence as 提出すればよい。 does."""
    return _END_LOOKAHEAD.sub(lambda m: f"(?={m[1]}|$|{ref}(?:{m[1]}|$))", pattern)


# a lookahead for a sentence's end: a class of enders holding the full stop, or the text's end
_END_LOOKAHEAD = regex_cache.compile(r"\(\?=(\[[^\]（(]*。[^\]（(]*\])\|\$\)")


def _penalised(segs: list[tuple[dict, str]]) -> bool:
    """Whether a clause's text, as each exclusion block reads it, imposes a penalty; a penalty named as
    what follows a breach (必須買，否則會受處罰; …, otherwise a fine applies) leaves the duty a rule."""
    return any(_imposes(ex, _before_consequence(ex, seg)) for ex, seg in segs)


def _imposes(ex: dict, seg: str) -> bool:
    """Whether seg imposes a penalty as one exclusion block reads it: a penalty word that the block's
    penalty_modifier follows (被吊销许可证的单位, 作出责令停业决定的) names a party or a condition instead."""
    rx, modifier = ex["clause_penalty"], ex.get("penalty_modifier")
    if rx is None or modifier is None:
        return _search(rx, seg)
    return any(modifier.match(seg, m.end()) is None for m in rx.finditer(seg))


def _before_consequence(ex: dict, seg: str) -> str:
    m = ex["penalty_consequence"].search(seg) if ex.get("penalty_consequence") is not None else None
    return seg if m is None else seg[:m.start()]


_NOTE_KINDS = frozenset({"obligation", "approval", "prohibition"})  # what a bracketed note may add


def _fills_note(t: str, h: RuleHit, start: int) -> bool:
    """Whether expression h fills its brackets after other words, alone or after a clock time ((必着),
    (17:30必着) after a deadline): a note of the rule, not a qualifier."""
    if h.kind not in _NOTE_KINDS:
        return False  # 提交(返還): a word in brackets after another glosses it
    a = h.start - 1
    if (m := _CLOCK_BEFORE.search(t, max(start, a - 8), h.start)) is not None:
        a = m.start()
    return a > start and t[a] in BRACKETS and t[h.end:h.end + 1] == BRACKETS[t[a]]


def _whole(t: str, a: int, b: int, start: int, end: int) -> bool:
    """Whether the bracket t[a:b] spans the clause t[start:end] but for blanks and closing marks, and
    ends a sentence inside ((Where …, they must … .)): a caption （補助金の返還） is no sentence, and a
    quotation 「…。」 is the text it quotes."""
    return b - a > 2 and t[a] in "(（" and t[b - 2] in ".。．" and not t[start:a].strip() \
        and not t[b:end].strip(" \t\n.。．;；")


def _quotes_sentences(t: str, a: int, b: int) -> bool:
    """Whether the bracket t[a:b] is a quotation mark around whole sentences (「…。…。」): the text it
    quotes, not a qualifier."""
    return t[a] in _QUOTE_OPENERS and (t.find("。", a + 1, b - 1) >= 0 or t.find("．", a + 1, b - 1) >= 0)


def _any_between(starts: list[int], a: int, b: int) -> bool:
    """Whether the sorted positions hold one strictly between a and b (logarithmic in their number)."""
    i = bisect_right(starts, a)
    return i < len(starts) and starts[i] < b


def _outermost(hits: list[RuleHit], modals: frozenset, fallback: dict) -> list[RuleHit]:
    """Hits not inside a longer one ('must' in 'must not' is the prohibition's), except an expression
    of a specific kind inside a modal's span: 由輸配電業擬訂，報請…核定 assigns a task and requires
    an approval (the merge of modals then decides between them), and any expression inside a
    fallback one (will be rejected is an exclusion, not the future passive's duty)."""
    out: list[RuleHit] = []
    outer: RuleHit | None = None  # the hit reaching furthest so far
    for h in sorted(hits, key=lambda h: (h.start, -h.end, h.kind in fallback)):
        if outer is not None and h.end <= outer.end and (h.kind in modals or outer.kind not in modals) \
                and outer.kind not in fallback:
            continue
        out.append(h)
        if outer is None or h.end > outer.end:
            outer = h
    return out


def _merge_modals(hits: list[RuleHit], t: str, g: _Grammar, lang: str) -> list[RuleHit]:
    """A modal that stands next to a specific kind's expression, with nothing but a few characters
    and no separator between, is part of that rule, unless a coordinated predicate follows that
    expression (the modal then binds more than it)."""
    # sorted by start, as hits are; a fallback expression is never the verb a modal governs
    specific = [h for h in hits if h.kind not in g.modals and h.kind not in g.fallback]
    if not specific or len(specific) == len(hits):
        return hits  # nothing to merge: no modal, or no expression a modal could join
    gap = g.merge_gap.get(lang, g.default_gap)
    coordinated = g.coordinated_of[lang]
    adjuncts = g.adjuncts_of[lang]
    aside, passive = g.parenthetical.get(lang), g.parenthetical_passive.get(lang)
    side = g.modal_side.get(lang)  # None (a clause read with both CJK lists): either side
    starts = [h.start for h in specific]
    out = []
    for h in hits:
        if h.kind in g.modals:
            i = bisect_right(starts, h.start)  # the nearest specific expressions on either side
            joined = [x for x in specific[max(0, i - 2):i + 2]
                      if _on_side(h, x, side) and not (adjuncts and t.startswith(adjuncts, x.start))
                      and _near(h, x, t, gap, g.separators, aside if h.kind in g.binding else passive)]
            if joined and not (coordinated and any(x.start >= h.end and t.startswith(coordinated, x.end) for x in joined)):
                continue
        out.append(h)
    return out


def _on_side(modal: RuleHit, x: RuleHit, side: str | None) -> bool:
    """Whether expression x stands where the verb a modal governs can: after it ('before': the modal
    comes first), before it ('after'), or overlapping it."""
    if side == "before":
        return x.end > modal.start
    if side == "after":
        return x.start < modal.end
    return True


def _near(a: RuleHit, b: RuleHit, t: str, gap: int, separators: frozenset, aside: re.Pattern | None = None) -> bool:
    lo, hi = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    if hi < lo:
        return True  # they overlap
    between = t[lo:hi]
    if len(between) <= gap and not any(ch in separators for ch in between):
        return True
    return aside is not None and a.end <= b.start and aside.match(between) is not None  # must, as …, provide


def _weak_resolved(hits: list[RuleHit], g: _Grammar, lang: str, has_figures: bool, last_kind: str) -> list[RuleHit]:
    """Fallback and by-reference expressions, which state a rule only where nothing else in the clause
    does: a fallback its own kind, unless a figure is the clause's content (Despite subsection (1), …
    the deadline is April 15, 2021: a date measure) and the kind is not one read beside figures
    (毎年割り当てる); a by-reference one (亦同) the last kind read."""
    if any(h.kind in g.fallback for h in hits):
        strong = [h for h in hits if h.kind not in g.fallback]
        hits = strong or [RuleHit(g.fallback[h.kind], h.start, h.end) for h in hits
                          if not has_figures or (g.fallback[h.kind], lang) in g.beside_figures]
    if any(h.kind == _SAME for h in hits):
        own = [h for h in hits if h.kind != _SAME]
        hits = own or [RuleHit(last_kind, h.start, h.end) for h in hits[:1]]
    return hits


def _one_per_family(hits: list[RuleHit], family) -> list[RuleHit]:
    """The first hit of each family (family(hit) is the key counted: the kind's family and the
    proviso it stands in)."""
    seen, out = set(), []
    for h in hits:
        key = family(h)
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out
