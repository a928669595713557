"""What the pattern readers of kb.extract.patterns know about a regex before running it: the literal
every match holds, the characters a match starts or ends with, the words an English match starts
with. The cue scans skip patterns and positions on these, so a wrong answer loses cues."""

import json
import re

import pytest

from kb.extract.patterns import edge_chars, lead_pairs, lead_words, required_literal, word_first
from kb.resources import resource_path

EN = "(?:{})(?![a-z])"  # how CueSet compiles an English pattern

LEAD_WORDS = [
    # pattern, first words (None: not known, the pattern runs on its own)
    ("(?:is|are|be) required to", {"is", "are", "be"}),
    ("may(?! not)(?! [0-9])", {"may"}),
    ("claw(?:ed)? back", {"claw", "clawed"}),
    ("(?:recover|deduct)s? (?:the )?balance", {"recover", "recovers", "deduct", "deducts"}),
    ("licen[cs]e (?:is|shall be) required", {"licence", "license"}),
    ("late[- ]payment", {"late"}),
    ("daily", {"daily"}),
    ("[a-z]+ permit", None),  # a repeated letter class: any word
    ("(?:a )?permit", {"a", "permit"}),
    (" to apply", None),  # starts with a non-letter
    ("(?:x)?", None),  # may be empty
    ("(?i:shall)", None),  # an inline flag
]


@pytest.mark.parametrize("src,words", LEAD_WORDS)
def test_lead_words(src, words):
    got = lead_words(re.compile(EN.format(src)))
    assert got == (None if words is None else frozenset(words))


@pytest.mark.parametrize("src,words", [(s, w) for s, w in LEAD_WORDS if w is not None])
def test_every_match_starts_with_a_lead_word(src, words):
    rx = re.compile(EN.format(src))
    for text in ("is required to", "may apply", "clawed back", "deducts balance", "recover the balance",
                 "license is required", "late-payment", "daily", "a permit", "permit"):
        m = rx.match(text)
        if m:
            assert re.match("[a-z]+", text).group() in words


@pytest.mark.parametrize("src,pairs", [
    ("应当", {"应当"}),
    ("(?:许可|認可)を受け", {"许可", "認可"}),
    ("每逾?一?[日天]", {"每逾", "每一", "每日", "每天"}),
    ("得(?<![获取]得)(?![到知])", {"得"}),  # one character long
    ("由[^，。]{2,6}负责", None),  # its second character is any but two
    ("(?:本省|国家)(?:实行|建立)", {"本省", "国家"}),
])
def test_lead_pairs(src, pairs):
    assert lead_pairs(re.compile(src)) == (None if pairs is None else frozenset(pairs))


@pytest.mark.parametrize("src,first,last", [
    ("应当", {"应"}, {"当"}),
    ("(?:许可|認可)を受け", {"许", "認"}, {"け"}),
    ("每逾?一?[日天]", {"每"}, {"日", "天"}),
    ("由[^，。]{2,6}负责", {"由"}, {"责"}),
    ("[^，]{1,3}负责", None, {"责"}),
    ("(?:x)?", None, None),
])
def test_edge_chars(src, first, last):
    rx = re.compile(src)
    assert edge_chars(rx, False) == (None if first is None else frozenset(first))
    assert edge_chars(rx, True) == (None if last is None else frozenset(last))


@pytest.mark.parametrize("src,literal", [
    ("(?:必须|应当)提交", "提交"),
    ("不予(?:登记|受理)", "不予"),
    ("(?:a|b)", None),
    ("(?i)shall", None),
])
def test_required_literal(src, literal):
    assert required_literal(re.compile(src)) == literal


def test_rule_exclusions_compile_only_their_lists():
    """Notes ("_…" keys) in an exclusion block are documentation: compiled into a pattern, a capital
    letter in one would also switch the English block off the caseless fast path."""
    from kb.extract.rules import _grammar

    g = _grammar()
    assert all(not name.startswith("_") for block in g.ex.values() for name in block)
    assert g.ex_caseless["en"]


@pytest.mark.parametrize("lang", [None, "en", "ja", "zh"])
def test_every_cue_pattern_is_tried_somewhere(lang):
    """The one-pass scan tries a pattern only at the lead words or characters it can start with. A
    pattern whose lead words cannot be read (one opening with an apostrophe, say) sends its whole group
    to the slow one-by-one scan, and one that no key names would never run at all."""
    from kb.extract.roles import taxonomy
    from kb.extract.rules import _grammar

    for cues in (_grammar().cues, taxonomy().cues, taxonomy().mods):
        for group in cues.view(lang).pats:
            assert group.first_rx is not None, [rx.pattern for rx, _, _ in group.ps if lead_words(rx) is None]
            tried = {i for starting in group.by_first.values() for i in starting.ks}
            never = [rx.pattern for i, (rx, _, _) in enumerate(group.ps) if i not in tried]
            assert not never, never


def test_no_english_pattern_ends_on_a_blank_before_a_word():
    """An English cue pattern is run as `(?:pattern)(?![a-z])`: one whose match ends on a blank that a
    look-ahead then requires a word after (`to (?=pay)`) can never match. The blank goes inside the
    look-ahead (`to(?= pay)`)."""
    from kb.resources import load_data

    blank_then_word = re.compile(r" \(\?=\(?(?:\?:)?[a-z]")
    rules, roles = load_data("rules.json"), load_data("roles.json")
    sources = [p for k in rules["kinds"] for key in ("patterns", "fallback_patterns") for p in k.get("en", {}).get(key, [])]
    sources += [p for r in roles["roles"] for key in ("patterns", "before", "after") for p in r.get(key, {}).get("en", [])]
    assert sources
    assert not [p for p in sources if blank_then_word.search(p)]


# A pattern that opens on lookbehinds is compiled word-first: the same matches on every text.
WORD_FIRST = [
    ("(?:(?<=law )|(?<=act ))requires? x", "require(?:(?<=law require)|(?<=act require))s? x",
     ["the law requires x", "the act require x", "a bill requires x", "law requires y"]),
    ("(?:(?<=law )|(?<=act ))(?:also )?(?:bans|forbids)(?![a-z])", None,
     ["the act bans it", "the law also forbids it", "the rule bans it", "act bansx"]),
    ("(?:(?<=各地|各省)|(?<=就))要(?!求)", None, ["各地要做", "各省要求", "就要", "他要"]),
    ("(?:(?<=^)|(?<=\n))submit", "(?:(?<=^)|(?<=\n))submit", ["submit", "x submit", "a\nsubmit"]),
]


@pytest.mark.parametrize("src,expected,texts", WORD_FIRST)
def test_word_first_keeps_the_matches(src, expected, texts):
    got = word_first(src)
    if expected is not None:
        assert got == expected
    assert got == src or not got.startswith("(?:(?<=")  # rewritten: it opens on the word
    for t in texts:
        old = [m.end() for m in re.finditer(src, t)]
        new = [m.end() for m in re.finditer(got, t)]
        assert old == new, t


def test_role_patterns_are_keyed_by_a_language():
    """A role's before / after patterns under a key no language reads (an 'after' nested inside
    'before') would never run; loading the taxonomy says so instead of ignoring them."""
    from kb.extract.roles import Taxonomy
    from kb.resources import load_data

    data = load_data("roles.json")
    Taxonomy(data)  # the shipped data loads
    bad = {**data, "roles": [{**data["roles"][0], "before": {"zh": ["x$"], "after": {"zh": ["^y"]}}}] + data["roles"][1:]}
    with pytest.raises(ValueError, match="before has keys"):
        Taxonomy(bad)


def test_data_files_name_each_key_once():
    """A key written twice in a data file loads as its last value only, so the first is dead text
    that still reads as if it counted (two notes on one list, one comparator listed twice)."""

    def no_repeats(pairs):
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        assert not repeated, (path.name, repeated)
        return dict(pairs)

    paths = sorted(resource_path("data").rglob("*.json"))
    assert len(paths) > 10
    for path in paths:
        json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_repeats)
