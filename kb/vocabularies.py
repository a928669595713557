"""Controlled vocabularies: countries, categories, statuses, legal weights, review statuses.

Each vocabulary lives in one JSON file under ``kb/data/vocab/``::

    {"vocabulary": "category", "description": "...",
     "terms": [{"key": "regulatory",
                "labels":  {"zh": "法律监管", "en": "Regulatory", "ja": "法規制"},
                "aliases": {"en": ["Statutory"], "zh": ["监管"]},
                "codes":   [],            # optional, language-neutral alternative codes
                "patterns": []}]}         # optional, regular expressions (fallback only)

A term has one canonical label per language (zh, en and ja are all required) and any number
of aliases per language.  ``Vocabulary.lookup`` resolves a free-text value to a term:

1. the value is normalised (``normalize``: NFKC, whitespace collapsed and trimmed, casefolded)
   and looked up in a dict built from every label, alias, code and the key itself;
2. failing that, a looser form (``loose_key``: only letters and digits kept) is looked up, so
   ``"U.S."``, ``"Guideline / Policy"`` or ``"ボスニア・ヘルツェゴビナ"`` written without the dot
   still resolve;
3. failing that, the regular-expression ``patterns`` are tried in file order.

Steps 1 and 2 are plain dict look-ups.  A normalised form that would point at two different
keys is *not* indexed at all (a lookup on it returns ``None``) and is listed in
``Vocabulary.conflicts``; the shipped data is tested to have none.

The same string can be a label or alias in several languages of one term (``日本`` and ``中国``
are both Chinese and Japanese; ``現行`` is the Japanese label and a traditional-Chinese alias of
``active``).  ``Match.langs`` therefore carries every language whose label or alias matched,
and ``Match.lang`` is only a convenience that is ``None`` unless exactly one language matched.
A value spelled exactly like the canonical key (``"JP"``, ``"verified"``) is treated as
language-neutral: ``langs`` is empty and ``exact`` is true.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Literal

from kb import regex_cache

__all__ = [
    "JURISDICTION",
    "LANGS",
    "VOCABULARY_NAMES",
    "Jurisdiction",
    "Jurisdictions",
    "Match",
    "NearLabel",
    "Term",
    "Vocabulary",
    "VocabularyError",
    "jurisdiction",
    "loose_key",
    "normalize",
    "vocabulary",
]

#: Languages every term must carry a label for, in display order.
LANGS: tuple[str, ...] = ("zh", "en", "ja")

#: Public vocabulary name -> data file under kb/data/vocab/.
_FILES: Mapping[str, str] = MappingProxyType(
    {
        "country": "countries.json",
        "category": "categories.json",
        "status": "statuses.json",
        "legal_weight": "legal_weights.json",
        "review_status": "review_statuses.json",
        "subdivision": "subdivisions.json",
    }
)
VOCABULARY_NAMES: tuple[str, ...] = tuple(_FILES)
#: Composite vocabularies, made of file-backed ones (see ``Jurisdictions``).
JURISDICTION = "jurisdiction"

_SPACES = regex_cache.compile(r"\s+")

Via = Literal["label", "alias", "key", "code", "pattern"]


class VocabularyError(ValueError):
    """An unknown vocabulary name, or a vocabulary data file that is malformed."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


def normalize(value: str) -> str:
    """Comparison form of a value: NFKC, whitespace runs collapsed to one space, trimmed, casefolded.

    Casefolding only changes cased scripts (Latin, Greek, Cyrillic); CJK text is unaffected.
    """
    text = unicodedata.normalize("NFKC", value)
    text = _SPACES.sub(" ", text).strip()
    return text.casefold()


def loose_key(value: str) -> str:
    """A second, looser comparison form: ``normalize`` and then keep only letters, marks and digits.

    Drops spaces, punctuation and symbols (``. / - ・ · ( )`` …), so ``"U.S."`` and ``"us"``,
    ``"Guideline / Policy"`` and ``"guidelinepolicy"`` compare equal.
    """
    return "".join(ch for ch in normalize(value) if unicodedata.category(ch)[0] in "LMN")


def _is_cjk(text: str) -> bool:
    for ch in text:
        name = unicodedata.name(ch, "")
        if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Term:
    """One entry of a vocabulary.

    ``labels`` maps a language to its canonical label; ``aliases`` maps a language to other
    accepted spellings.  ``codes`` are language-neutral alternative codes (ISO alpha-3 for
    countries) and ``patterns`` regular expressions tried only when no label/alias matched.
    """

    key: str
    labels: Mapping[str, str]
    aliases: Mapping[str, tuple[str, ...]]
    codes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    def __hash__(self) -> int:  # mappings are not hashable; the key identifies a term
        return hash((self.key, tuple(sorted(self.labels.items()))))

    def label(self, lang: str) -> str | None:
        return self.labels.get(lang)

    def names(self) -> Iterator[tuple[str, str, bool]]:
        """Every (lang, text, is_label) of this term: labels first, then aliases."""
        for lang, text in self.labels.items():
            yield lang, text, True
        for lang, texts in self.aliases.items():
            for text in texts:
                yield lang, text, False


@dataclass(frozen=True, slots=True)
class Match:
    """The result of ``Vocabulary.lookup``.

    - ``langs``: every language whose label or alias matched the (normalised) value; empty for a
      language-neutral match (the key itself, a code, a pattern).
    - ``exact``: the value is, character for character, a canonical label (of at least one
      language in ``label_langs``) or the canonical key; false for aliases and for labels that
      only matched after normalisation (case, width, spacing, punctuation).
    - ``label_langs``: the languages in which the value is exactly the canonical label.
    - ``via``: what matched: ``"label"``, ``"alias"``, ``"key"``, ``"code"`` or ``"pattern"``.
    """

    term: Term
    langs: frozenset[str]
    exact: bool
    label_langs: frozenset[str] = frozenset()
    via: Via = "label"

    @property
    def lang(self) -> str | None:
        """The matching language when exactly one matched, else ``None``."""
        if len(self.langs) == 1:
            return next(iter(self.langs))
        return None

    @property
    def key(self) -> str:
        return self.term.key


@dataclass(frozen=True, slots=True)
class _Entry:
    """Index entry for one normalised form (always a single key)."""

    key: str
    langs: frozenset[str]
    via: Via


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A suggestion candidate: normalised text and where it came from."""

    text: str
    key: str
    lang: str
    cjk: bool
    is_label: bool


class Vocabulary:
    """A loaded vocabulary with O(1) label/alias lookup.  Build through ``vocabulary(name)``."""

    __slots__ = ("name", "description", "terms", "_by_key", "_exact", "_index", "_loose", "_patterns",
                 "_candidates", "_conflicts")

    name: str
    description: str
    terms: tuple[Term, ...]

    def __init__(self, name: str, terms: tuple[Term, ...], description: str = "") -> None:
        self.name = name
        self.description = description
        self.terms = terms
        self._by_key: dict[str, Term] = {}
        for term in terms:
            if term.key in self._by_key:
                raise VocabularyError(f"duplicate key {term.key!r} in vocabulary {name!r}")
            self._by_key[term.key] = term

        # raw text -> (key, languages in which it is the canonical label)
        exact: dict[str, tuple[str, set[str]]] = {}
        for term in terms:
            for lang, label in term.labels.items():
                owner = exact.setdefault(label, (term.key, set()))
                if owner[0] == term.key:
                    owner[1].add(lang)
        self._exact = {text: (key, frozenset(langs)) for text, (key, langs) in exact.items()}
        self._conflicts: dict[str, tuple[str, ...]] = {}
        self._index = self._freeze(self._forms(normalize))
        # The loose index and the suggestion candidates are built on first use: most lookups hit
        # the normalised index, and building them costs most of a load (a process that checks one
        # file pays for the whole country list).
        self._loose: dict[str, _Entry] | None = None
        self._candidates: tuple[_Candidate, ...] | None = None

        patterns: list[tuple[re.Pattern[str], str]] = []
        for term in terms:
            for source in term.patterns:
                try:
                    patterns.append((regex_cache.compile(source, re.IGNORECASE), term.key))
                except re.error as exc:
                    raise VocabularyError(
                        f"bad pattern {source!r} for {term.key!r} in vocabulary {name!r}: {exc}"
                    ) from None
        self._patterns = tuple(patterns)

    def _forms(self, form_of) -> dict[str, dict[str, tuple[set[str], set[str]]]]:
        """form -> {key: (languages, ways)} for every name, key and code under `form_of`."""
        table: dict[str, dict[str, tuple[set[str], set[str]]]] = {}

        def add(form: str, key: str, lang: str | None, via: str) -> None:
            if not form:
                return
            langs, vias = table.setdefault(form, {}).setdefault(key, (set(), set()))
            if lang is not None:
                langs.add(lang)
            vias.add(via)

        for term in self.terms:
            for lang, text, is_label in term.names():
                add(form_of(text), term.key, lang, "label" if is_label else "alias")
            for text, via in [(term.key, "key"), *((code, "code") for code in term.codes)]:
                add(form_of(text), term.key, None, via)
        return table

    def _freeze(self, table: dict) -> dict[str, _Entry]:
        out: dict[str, _Entry] = {}
        for form, owners in table.items():
            if len(owners) > 1:
                self._conflicts.setdefault(form, tuple(sorted(owners)))
                continue
            (key, (langs, vias)), = owners.items()
            via = next(v for v in ("label", "alias", "key", "code") if v in vias)
            out[form] = _Entry(key, frozenset(langs), via)  # type: ignore[arg-type]
        return out

    def _loose_index(self) -> dict[str, _Entry]:
        if self._loose is None:
            self._loose = self._freeze(self._forms(loose_key))
        return self._loose

    def _candidate_list(self) -> tuple[_Candidate, ...]:
        if self._candidates is None:
            candidates: list[_Candidate] = []
            seen: set[tuple[str, str]] = set()
            for term in self.terms:
                for lang, text, is_label in term.names():
                    norm = normalize(text)
                    if (norm, term.key) not in seen:
                        seen.add((norm, term.key))
                        candidates.append(_Candidate(norm, term.key, lang, _is_cjk(norm), is_label))
            self._candidates = tuple(candidates)
        return self._candidates

    @property
    def conflicts(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Forms (normalised or loose) that name more than one term; they match nothing."""
        self._loose_index()
        return tuple(sorted(self._conflicts.items()))

    # -- container protocol -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __repr__(self) -> str:
        return f"<Vocabulary {self.name!r}: {len(self.terms)} terms>"

    def get(self, key: str) -> Term | None:
        """The term with this canonical key, or ``None``."""
        return self._by_key.get(key)

    def keys(self) -> list[str]:
        return [term.key for term in self.terms]

    # -- lookup --------------------------------------------------------------------------------

    def lookup(self, value: str) -> Match | None:
        """Resolve a free-text value to a term, or ``None`` when nothing matches."""
        if not isinstance(value, str):
            return None
        if value in self._by_key:  # the canonical key itself, spelled exactly
            return Match(self._by_key[value], frozenset(), True, frozenset(), "key")
        norm = normalize(value)
        if not norm:
            return None
        entry = self._index.get(norm) or self._loose_index().get(loose_key(norm))
        if entry is not None:
            term = self._by_key[entry.key]
            label_langs: frozenset[str] = frozenset()
            hit = self._exact.get(value)
            if hit is not None and hit[0] == entry.key:
                label_langs = hit[1]
            return Match(term, entry.langs, bool(label_langs), label_langs, entry.via)
        for pattern, key in self._patterns:
            if pattern.search(norm):
                return Match(self._by_key[key], frozenset(), False, frozenset(), "pattern")
        return None

    def suggest(self, value: str, n: int = 3, *, lang: str | None = None) -> list[str]:
        """Did-you-mean: up to ``n`` canonical labels close to ``value``, best first.

        Similarity is difflib's ratio on normalised text (cutoff 0.6).  For CJK text the share of
        common characters (Dice coefficient on character sets) also counts, so swapped characters
        are found; for short CJK values (up to four characters, where one wrong character already
        halves the ratio) the cutoff is 0.5.  Ties prefer labels over aliases and candidates of
        similar length.  A near alias yields its term's label in the alias's language, or in
        ``lang`` when given.  Labels scoring far below the best one are left out.
        """
        return _best([*self.ranked(value, lang=lang)], n)

    def ranked(self, value: str, *, lang: str | None = None) -> list[NearLabel]:
        """Every label close to ``value`` with its score, best first (see ``suggest``)."""
        if not isinstance(value, str):
            return []
        norm = normalize(value)
        if not norm:
            return []
        value_cjk = _is_cjk(norm)
        cutoff = 0.5 if value_cjk and len(norm) <= 4 else 0.6
        value_chars = set(norm)
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(norm)
        scored: list[tuple[float, bool, int, int, _Candidate]] = []
        for position, cand in enumerate(self._candidate_list()):
            score = 0.0
            matcher.set_seq1(cand.text)
            if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
                score = matcher.ratio()
            if value_cjk and cand.cjk:
                chars = set(cand.text)
                dice = 2 * len(value_chars & chars) / (len(value_chars) + len(chars))
                score = max(score, dice)
            if score >= cutoff:
                scored.append((-score, not cand.is_label, abs(len(cand.text) - len(norm)),
                               position, cand))
        scored.sort(key=lambda item: item[:4])
        out: list[NearLabel] = []
        for score, alias, _length, _position, cand in scored:
            term = self._by_key[cand.key]
            label = term.labels.get(lang or cand.lang) or term.labels.get("en")
            if label:
                out.append(NearLabel(label, -score, alias))
        return out

    def label(self, key: str, lang: str) -> str | None:
        """The canonical label of ``key`` in ``lang``, or ``None`` for an unknown key/language."""
        term = self._by_key.get(key)
        return term.labels.get(lang) if term is not None else None

    def labels(self, lang: str | None = None) -> list[str]:
        """Canonical labels in term order; all languages (zh, en, ja order) when ``lang`` is None."""
        langs = LANGS if lang is None else (lang,)
        out: list[str] = []
        seen: set[str] = set()
        for each in langs:
            for term in self.terms:
                text = term.labels.get(each)
                if text is not None and text not in seen:
                    seen.add(text)
                    out.append(text)
        return out


@dataclass(frozen=True, slots=True)
class NearLabel:
    """A label close to a misspelt value (not to be confused with kb.suggest's field suggestions)."""

    label: str
    score: float  # similarity, 0..1
    alias: bool  # found through an alias rather than a label


# A suggestion this far below the best one is noise beside it: 'Californa' is California, and
# saying "or 'New Caledonia'" would only confuse.
_SUGGESTION_MARGIN = 0.15


def _best(ranked: list[NearLabel], n: int) -> list[str]:
    """Up to n distinct labels from suggestions sorted best first, none far below the best."""
    out: list[str] = []
    for s in ranked:
        if len(out) >= n or s.score < ranked[0].score - _SUGGESTION_MARGIN:
            break
        if s.label not in out:
            out.append(s.label)
    return out


# -- jurisdictions: a country, or a subdivision of one -----------------------------------------


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """A resolved ``country`` value: the country's key and, below it, the subdivision's."""

    country: str  # ISO 3166-1 alpha-2, EU or INT
    subdivision: str | None  # ISO 3166-2 (US-CA), None for the country as a whole


def jurisdiction(key: str) -> Jurisdiction:
    """Split a jurisdiction key: 'US-CA' is California in US, 'US' the United States."""
    country, dash, _ = key.partition("-")
    return Jurisdiction(country, key if dash else None)


class Jurisdictions:
    """The vocabulary of the ``country`` field: the countries, then their subdivisions. A spelling
    that names a country is that country whatever subdivision it also names ('Georgia' is GE, not
    US-GA), so no record that resolved before resolves differently now. Lookups, labels and
    suggestions span both; keys of subdivisions are ISO 3166-2 codes (see ``jurisdiction``)."""

    __slots__ = ("name", "parts")

    def __init__(self, countries: Vocabulary, subdivisions: Vocabulary) -> None:
        self.name = JURISDICTION
        self.parts = (countries, subdivisions)

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(t for part in self.parts for t in part.terms)

    def lookup(self, value: str) -> Match | None:
        for part in self.parts:
            match = part.lookup(value)
            if match is not None:
                return match
        return None

    def suggest(self, value: str, n: int = 3, *, lang: str | None = None) -> list[str]:
        if n <= 0:
            return []
        ranked = [s for part in self.parts for s in part.ranked(value, lang=lang)]
        return _best(sorted(ranked, key=lambda s: (-s.score, s.alias)), n)

    def label(self, key: str, lang: str) -> str | None:
        return self.parts[bool(jurisdiction(key).subdivision)].label(key, lang)

    def labels(self, lang: str | None = None) -> list[str]:
        """The countries' labels: listing every province and state would drown them."""
        return self.parts[0].labels(lang)


# -- loading ----------------------------------------------------------------------------------


def _string_list(value: object, where: str, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise VocabularyError(f"{where} must be a list of non-empty strings", path=path)
    return tuple(value)


def _parse_term(raw: object, position: int, path: str) -> Term:
    where = f"terms[{position}]"
    if not isinstance(raw, dict):
        raise VocabularyError(f"{where} must be an object", path=path)
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise VocabularyError(f"{where}.key must be a non-empty string", path=path)
    where = f"term {key!r}"
    labels = raw.get("labels")
    if not isinstance(labels, dict):
        raise VocabularyError(f"{where}: labels must be an object", path=path)
    for lang in LANGS:
        text = labels.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise VocabularyError(f"{where}: missing {lang} label", path=path)
    for lang, text in labels.items():
        if not isinstance(text, str) or not text.strip():
            raise VocabularyError(f"{where}: {lang} label must be a non-empty string", path=path)
    aliases_raw = raw.get("aliases", {})
    if not isinstance(aliases_raw, dict):
        raise VocabularyError(f"{where}: aliases must be an object", path=path)
    aliases = {
        lang: _string_list(texts, f"{where}: aliases.{lang}", path)
        for lang, texts in aliases_raw.items()
    }
    codes = _string_list(raw.get("codes", []), f"{where}: codes", path)
    patterns = _string_list(raw.get("patterns", []), f"{where}: patterns", path)
    return Term(
        key=key,
        labels=MappingProxyType(dict(labels)),
        aliases=MappingProxyType(aliases),
        codes=codes,
        patterns=patterns,
    )


def _load(name: str, text: str, path: str) -> Vocabulary:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VocabularyError(f"invalid JSON at line {exc.lineno} col {exc.colno}: {exc.msg}",
                              path=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
        raise VocabularyError("expected an object with a 'terms' list", path=path)
    if data.get("vocabulary") != name:
        raise VocabularyError(f"file declares vocabulary {data.get('vocabulary')!r}, "
                              f"expected {name!r}", path=path)
    terms = tuple(_parse_term(raw, i, path) for i, raw in enumerate(data["terms"]))
    return Vocabulary(name, terms, description=str(data.get("description", "")))


@functools.cache
def vocabulary(name: str) -> Vocabulary:
    """The named vocabulary (loaded once): one of ``VOCABULARY_NAMES``, or ``JURISDICTION``."""
    if name == JURISDICTION:
        return Jurisdictions(vocabulary("country"), vocabulary("subdivision"))  # type: ignore[return-value]
    filename = _FILES.get(name)
    if filename is None:
        raise VocabularyError(
            f"unknown vocabulary {name!r}; expected one of {', '.join(VOCABULARY_NAMES)}"
        )
    resource = resources.files("kb") / "data" / "vocab" / filename
    path = f"kb/data/vocab/{filename}"
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VocabularyError("vocabulary data file is missing", path=path) from None
    return _load(name, text, path)
