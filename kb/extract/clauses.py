"""Step 1 of extraction: split a record body into clauses (headings, list items, sentences,
sub-clauses, table rows, formulas) with exact offsets.

All detection runs on mask(body) (kb.extract.text): same length as the body, with HTML tags and
Markdown emphasis markers blanked, so a position found there is a position in the body. Language
rules live in kb/data/clauses.json.

Clause ids are f"{record_id}/{sha1(section)[:8]}/{ordinal}": the section path and the
1-based position inside that section (sections with the same path share one counter).
Editing text in one section therefore renumbers only that section's clauses. A heading
clause belongs to the section it opens, so it is ordinal 1 there.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from types import SimpleNamespace

from kb import regex_cache
from kb.extract.patterns import load_data
from kb.extract.text import CJK, kanji_digits, mask, readable
from kb.tokens import detect_lang

__all__ = ["Clause", "split_clauses"]


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which doubles the
# cost of the hundreds of thousands of these a build makes. Nothing changes them once made.
@dataclass(slots=True)
class Clause:
    id: str
    record_id: str
    ordinal: int  # 1-based position within its section
    start: int  # offsets into the original body, end exclusive
    end: int
    line: int  # 1-based line in the file
    section: str  # heading path, " > "-joined
    kind: str  # heading | paragraph | item | sentence | subclause | table_row | formula
    lang: str
    text: str  # readable: tags and markers removed, whitespace collapsed


_ATX = regex_cache.compile(r"(#{1,6})(?:[ \t]+|$)")
_ATX_ANY = regex_cache.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t\r]|$)", re.M)
_PIPE_SEP = regex_cache.compile(r"\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?")
_NOT_LINEBREAK = regex_cache.compile(r"[^\r\n]")
_LETTER = regex_cache.compile(r"[^\W\d_]")
_LONG_WORD = regex_cache.compile(r"[A-Za-z][A-Za-z'’-]{3,}")
_WORDCHAR = regex_cache.compile(r"\w")
_ENTITY_BEFORE = regex_cache.compile(r"&#?[A-Za-z0-9]{1,10}\Z")
_WORD_BEFORE = regex_cache.compile(r"(?<![A-Za-z.])[A-Za-z][A-Za-z.]{0,14}\Z")
_LOWER_NEXT = regex_cache.compile(r"\s*[a-z]")


def _title_case(t: str, small: frozenset) -> bool:
    """Whether every Latin word of four letters or more in t but the small ones a title leaves in lower
    case starts with a capital ('Twenty-four Month Exemption — Existing Unit with System'), and there
    are at least three."""
    words = [w for w in _LONG_WORD.findall(t) if w not in small]
    return len(words) >= 3 and all(w[0].isupper() for w in words)


@cache
def _rules() -> SimpleNamespace:
    data = load_data("clauses.json")
    # 二百零八．七: a full-width point between numerals, kanji ones too, is a decimal point
    digits = re.escape(kanji_digits())
    alt = "|".join
    b = data["bullets"]
    bullet = alt(
        [re.escape(c) + r"(?=[ \t]|$)" for c in b["ascii_need_space"]]
        + ["[" + re.escape("".join(b["flush"])) + "]"]
    )
    s = data["sentences"]
    closers = "[" + re.escape(s["closers"]) + "]*"
    fw = re.escape(s["fullwidth_period"])
    # An ASCII period between CJK characters is a full stop that PDF or HTML conversion left, but
    # not between two kanji digits (二.五萬噸: a decimal point).
    ender = (
        f"(?:[{re.escape(s['cjk_enders'])}]+|(?<![0-9０-９{digits}]){fw}|{fw}(?![0-9０-９{digits}])){closers}"
        f"|(?<=[{CJK}])(?:(?<![{digits}])[.](?=[{CJK}])|[.](?=[{CJK}])(?![{digits}]))"
        f"|(?P<ascii>[{re.escape(s['ascii_enders'])}]+){closers}(?=\\s|\\Z)"
    )
    pairs = data["brackets"]["pairs"]
    ph = data["plain_heading"]
    ends = data["line_end_statement"]
    polite = "|".join(re.escape(f) for f in ends["forms"] if f not in ends["title_forms"])
    return SimpleNamespace(
        marker=regex_cache.compile(
            f"(?:{bullet}|{alt(data['enumerators']['patterns'] + [data['statute_item']])})[ \\t\u3000]*"
        ),
        article=regex_cache.compile(alt(data["articles"]["patterns"])),
        statute_item=regex_cache.compile(data["statute_item"]),
        hr=regex_cache.compile(data["horizontal_rule"]),
        chapters=[(c["level"], regex_cache.compile(c["pattern"])) for c in data["chapter_headings"]["levels"]],
        chapter_max=data["chapter_headings"]["max_chars"],
        label=regex_cache.compile(data["label"]["pattern"]),
        plain_level=ph["level"],
        plain_max=ph["max_chars"],
        title_max=ph["title_case_max_chars"],
        title_small=frozenset(ph["title_case_small_words"]),
        plain_forbidden=regex_cache.compile("[" + re.escape(ph["forbidden_chars"]) + "]"),
        plain_binding=tuple(ph["binding_words"]),
        plain_modal=regex_cache.compile(ph["binding_modals"]),
        plain_polite_end=regex_cache.compile(f"(?:{polite}){ph['polite_end_note']}$"),
        question_titles=tuple(ph["question_titles"]),
        plain_bad_last=set(ph["forbidden_last_chars"]),
        notes=tuple(ph["note_prefixes"]),
        deadline_ends=tuple(ph["deadline_endings"]),
        break_after=set(data["line_break_after"]["chars"]),
        statement_end=regex_cache.compile(f"(?:{'|'.join(map(re.escape, ends['forms']))})$"),
        next_continues=regex_cache.compile(ends["next_continues"]),
        longest_final_form=max(map(len, ends["forms"])),  # how far back a line's last form may start
        alone=regex_cache.compile("|".join(data["line_alone"]["patterns"])),
        sentence_line=regex_cache.compile(data["line_starts_sentence"]["line"]),
        continues_after=frozenset(data["line_starts_sentence"]["continues_after"]),
        line_openers=regex_cache.compile("(?:" + "|".join(data["line_starts_sentence"]["openers"]) + r")(?![A-Za-z])"),
        caption_level=data["line_starts_sentence"]["caption_level"],
        caption_max=data["line_starts_sentence"]["caption_max_with_dash"],
        caption_dash=data["line_starts_sentence"]["caption_dash"],
        sentence_end=frozenset(s["ascii_enders"] + s["cjk_enders"]),
        ender=regex_cache.compile(ender),
        ender_first=regex_cache.compile("[" + re.escape(s["cjk_enders"] + s["fullwidth_period"] + s["ascii_enders"]) + "]"),
        ender_run=regex_cache.compile("[" + re.escape(s["cjk_enders"] + s["fullwidth_period"] + s["ascii_enders"]) + "]++"),
        abbreviations=frozenset(s["abbreviations"]),
        # ... and an ASCII comma between CJK characters stands where it left a ， or a lost 。, except
        # before a conjunction that goes on with the same statement (逾5峰瓩,且在10峰瓩以下: a ，) or after a year
        # that leads the statement it frames (2025年,力争…: clauses.json comma_after_lead).
        semicolon=regex_cache.compile("[" + re.escape(data["subclauses"]["chars"])
                                      + f"]|(?<=[{CJK}])(?<!{data['subclauses']['comma_after_lead']}),(?=[{CJK}])"
                                      + f"(?!{data['subclauses']['comma_joins']})"),
        bracket=regex_cache.compile("[" + re.escape("".join(pairs)) + "]"),
        openers={p[0]: i for i, p in enumerate(pairs)},
        closers={p[1]: i for i, p in enumerate(pairs)},
        npairs=len(pairs),
        bracket_max=data["brackets"]["max_span"],
        dollars=data["formula"]["delimiter"],
        formula_max=data["formula"]["max_chars"],
    )


# ---------------------------------------------------------------- sentences


def _protected(seg: str, r) -> tuple[list[int], list[int]]:
    """Disjoint (starts, ends) of matched bracket pairs and inline $$...$$ spans in `seg`,
    where sentence and sub-clause boundaries do not count."""
    spans = []
    stack: list[tuple[int, int]] = []
    open_count = [0] * r.npairs
    for m in r.bracket.finditer(seg):
        ch, p = m.group(), m.start()
        if ch in r.openers and (ch not in r.closers or open_count[r.openers[ch]] == 0):
            k = r.openers[ch]
            stack.append((k, p))
            open_count[k] += 1
            continue
        k = r.closers.get(ch)
        if k is None or open_count[k] == 0:
            continue  # a closer with nothing to close
        while stack:  # unwind to the matching opener; skipped openers were unmatched
            j, q = stack.pop()
            open_count[j] -= 1
            if j == k:
                break
        if p - q <= r.bracket_max:
            spans.append((q, p + 1))
    d, at = r.dollars, 0
    while (i := seg.find(d, at)) >= 0:
        # Each failed search covers at most formula_max characters past a '$$' that is
        # then skipped, so the scan stays linear.
        j = seg.find(d, i + len(d), i + r.formula_max)
        if j < 0:
            at = i + len(d)
            continue
        spans.append((i, j + len(d)))
        at = j + len(d)
    spans.sort()
    starts: list[int] = []
    ends: list[int] = []
    for s, e in spans:
        if ends and s < ends[-1]:
            ends[-1] = max(ends[-1], e)
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


def _bracketed_sentence_end(seg: str, m: re.Match, prot: tuple[list[int], list[int]], last_cut: int) -> int | None:
    """Where a sentence wholly in round brackets ends, when the ender m closes it: the bracket opens
    where a sentence may start (nothing but blanks since the last cut) and closes right after m."""
    i = bisect_right(prot[0], m.start()) - 1
    a, b = prot[0][i], prot[1][i]
    if seg[a] not in "(（" or seg[b - 1] not in ")）" or seg[m.end():b].strip(")）"):
        return None
    if seg[last_cut:a].strip() or b >= len(seg) or not seg[b].isspace():
        return None
    return b


def _inside(pos: int, prot: tuple[list[int], list[int]]) -> bool:
    i = bisect_right(prot[0], pos) - 1
    return i >= 0 and pos < prot[1][i]


def _keeps_going(seg: str, m: re.Match, r) -> bool:
    """True when an ASCII '.' does not end the sentence: abbreviation, initial, dotted
    acronym, or a lowercase word follows."""
    if m.group("ascii")[-1] != ".":
        return False
    w = _WORD_BEFORE.search(seg, max(0, m.start() - 16), m.start())
    if w:
        word = w.group()
        if len(word) == 1 or "." in word or word.lower() in r.abbreviations:
            return True
    return bool(_LOWER_NEXT.match(seg, m.end()))


def ends_sentence(text: str, end: int) -> bool:
    """Whether the character before `end` is a sentence ender (。, ！, ?, .): what ends there is running
    text."""
    return end > 0 and text[end - 1] in _rules().sentence_end


def sentence_end(text: str, pos: int, end: int) -> int | None:
    """Where the first sentence of text[pos:end] ends (after its ender and closers), read as the
    splitter reads it: a decimal point, an abbreviation's point (No. 2, e.g.) or an initial ends
    none. None when no sentence ends there."""
    r = _rules()
    while c := r.ender_first.search(text, pos, end):
        m = r.ender.match(text, c.start(), end)
        if m is None:
            pos = r.ender_run.match(text, c.start(), end).end()  # a run of ender characters, skipped at once
        elif m.group("ascii") and _keeps_going(text, m, r):
            pos = m.end()
        else:
            return m.end()
    return None


def _pieces(seg: str, cuts: list[int]) -> list[tuple[int, int]]:
    """Whitespace-trimmed spans between consecutive cuts. A piece without any word
    character (a stray '。' or '）') is glued to the piece before it."""
    out: list[tuple[int, int]] = []
    for a, b in zip(cuts, cuts[1:]):
        piece = seg[a:b]
        s = piece.lstrip()
        if not s:
            continue
        a += len(piece) - len(s)
        b = a + len(s.rstrip())
        if out and not _WORDCHAR.search(seg, a, b):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _without_closing_hashes(rest: str) -> str:
    """An ATX heading's text without its closing sequence (`## Title ##`): the trailing #s when
    blanks or nothing stand before them. Done by hand: a `[ \t]+#+$` search tries every blank of
    a long run (# a      …      b#) and is quadratic."""
    j = len(rest)
    while j and rest[j - 1] == "#":
        j -= 1
    if j == len(rest) or (j and rest[j - 1] not in " \t"):
        return rest
    return rest[:j]


def _enders(seg: str, r) -> list[re.Match]:
    """r.ender.finditer(seg), faster: the ender pattern has no first-character filter of its own,
    so it is tried only where one of its first characters stands (a few per sentence)."""
    out = []
    pos = 0
    while c := r.ender_first.search(seg, pos):
        if m := r.ender.match(seg, c.start()):
            out.append(m)
            pos = m.end()
        else:
            # No ender starts later in the same run of ender characters either (.....x): skip the
            # run, or a long one is tried from each of its characters (quadratic).
            pos = r.ender_run.match(seg, c.start()).end()
    return out


def _sentences(seg: str, r) -> list[list[tuple[int, int]]]:
    """Sentences of a block as lists of sub-clause spans, offsets relative to `seg`."""
    n = len(seg)
    # An ender that closes the block cuts nothing; most blocks are one sentence with nothing else
    # to cut, and then the brackets need not be matched at all.
    enders = [m for m in _enders(seg, r) if m.end() < n]
    semicolons = list(r.semicolon.finditer(seg))
    if not enders and not semicolons:
        return [[s] for s in _pieces(seg, [0, n])]
    prot = _protected(seg, r)
    guarded = bool(prot[0])
    cuts = [0]
    for m in enders:
        if guarded and _inside(m.start(), prot):
            if (end := _bracketed_sentence_end(seg, m, prot, cuts[-1])) is not None:
                cuts.append(end)  # (Where …, they must … .) (Scope 3 …): each bracketed sentence is one
            continue
        if m.group("ascii") and _keeps_going(seg, m, r):
            continue
        cuts.append(m.end())
    cuts.append(n)
    sentences = _pieces(seg, cuts)
    semis = [
        m.end()
        for m in semicolons
        if not (guarded and _inside(m.start(), prot))
        and not (m.group() == ";" and _ENTITY_BEFORE.search(seg, max(0, m.start() - 12), m.start()))
    ]
    if not semis:
        return [[s] for s in sentences]
    out = []
    for a, b in sentences:
        lo, hi = bisect_right(semis, a), bisect_left(semis, b)
        out.append(_pieces(seg, [a, *semis[lo:hi], b]) if lo < hi else [(a, b)])
    return out


# ---------------------------------------------------------------- lines and blocks


class _Splitter:
    def __init__(self, body: str, record_id: str, first_line: int, masked: str | None = None):
        self.body = body
        self.m = mask(body) if masked is None else masked
        self.r = _rules()
        self.record_id = record_id
        self.first_line = first_line
        parts = self.m.split("\n")
        self.line_starts = _line_starts(parts)
        # Line numbers count the body's lines (the mask breaks an HTML table's rows onto lines of their own).
        self.body_lines = self.line_starts if self.m is body or len(parts) == body.count("\n") + 1 else \
            _line_starts(body.split("\n"))
        self.bounds: list[tuple[int, int] | None] = []
        for off, p in zip(self.line_starts, parts):
            s = p.lstrip()
            if s:
                a = off + len(p) - len(s)
                self.bounds.append((a, a + len(s.rstrip())))
            else:
                self.bounds.append(None)
        self.has_markdown_headings = bool(_ATX_ANY.search(self.m))
        self.levels: dict[int, str] = {}
        self.counters: dict[str, int] = {}
        self.enter("")
        self.out: list[Clause] = []
        self.in_pipe_table = False

    # -- output

    def emit(self, kind: str, start: int, end: int, text: str | None = None) -> None:
        # Every span is trimmed here, once, so no rule above can leave a stray CR or U+3000
        # (whitespace to str.strip, not to the line splitter) at either end of a clause.
        raw = self.body[start:end].lstrip()
        if not raw:
            return
        start = end - len(raw)
        raw = raw.rstrip()
        end = start + len(raw)
        if text is None:
            text = readable(raw)
        if not text:
            return
        sec = self.section
        n = self.counters[sec] = self.counters.get(sec, 0) + 1
        self.out.append(
            Clause(
                self.prefix + str(n),  # id
                self.record_id,
                n,  # ordinal
                start,
                end,
                self.first_line + bisect_right(self.body_lines, start) - 1,  # line
                sec,
                kind,
                detect_lang(text),
                text,
            )
        )

    def enter(self, section: str) -> None:
        self.section = section
        digest = hashlib.sha1(section.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        self.prefix = f"{self.record_id}/{digest}/"

    def heading(self, level: int, start: int, end: int) -> None:
        text = readable(self.body[start:end])
        if not text:
            return
        for k in [k for k in self.levels if k >= level]:
            del self.levels[k]
        self.levels[level] = text
        self.enter(" > ".join(self.levels[k] for k in sorted(self.levels)))
        self.emit("heading", start, end, text)

    def block(self, kind: str, a: int, b: int) -> None:
        """A paragraph or list item: one clause, or its sentences / sub-clauses."""
        seg = self.m[a:b]
        sentences = _sentences(seg, self.r)
        if len(sentences) == 1 and len(sentences[0]) == 1:
            s, e = sentences[0][0]
            self.emit(kind, a + s, a + e)
            return
        for parts in sentences:
            sub = "sentence" if len(parts) == 1 else "subclause"
            for s, e in parts:
                self.emit(sub, a + s, a + e)

    # -- line classification

    def text(self, i: int) -> str:
        a, b = self.bounds[i]
        return self.m[a:b]

    def blank(self, i: int) -> bool:
        return i < 0 or i >= len(self.bounds) or self.bounds[i] is None

    def is_pipe_row(self, i: int) -> bool:
        t = self.text(i)
        if "|" not in t:
            self.in_pipe_table = False
            return False
        if t[0] == "|" and t.count("|") >= 2:
            return True
        if self.in_pipe_table:
            return True
        return self.heads_pipe_table(i)

    def heads_pipe_table(self, i: int) -> bool:
        """Whether line i is the header of a pipe table written with no leading bar (Date | Action |
        over ---|---|), or the first line of a header that conversion split in two (Type | Unit $ per |
        over the period names over ---|---|), or a row of a table served with no separator line at
        all (Electricity (£ per kWh) | 0.00801 | beside another such row): it ends the paragraph above
        it, as a row with a leading bar does."""
        return "|" in self.text(i) and (self._bare_row(i) and (self._bare_row(i - 1) or self._bare_row(i + 1))
                                       or self._spaced_row(i)
                                       or not self.blank(i + 1) and (
            self._is_pipe_sep(self.text(i + 1))
            or (self.text(i).endswith("|") and "|" in self.text(i + 1) and not self.blank(i + 2)
                and self._is_pipe_sep(self.text(i + 2)))))

    def _bare_row(self, i: int) -> bool:
        """Whether line i ends with a bar after at least one other (Coal | £/GJ | 1.54790 |)."""
        if self.blank(i):
            return False
        t = self.text(i)
        return t.endswith("|") and t.count("|") >= 2

    def _spaced_row(self, i: int) -> bool:
        """Whether line i and a line beside it are rows of spaced cells with as many bars, or both of
        three cells or more (a number cell before a row's cells, or a cell spanned over rows that
        conversion wrote once, makes the counts differ; the rows after the first follow it)."""
        n = self._spaced_cells(i)
        if n == 0:
            return False
        after = self._spaced_cells(i + 1)
        return any(m == n or min(m, n) >= 2 for m in (self._spaced_cells(i - 1), after)) \
            or (n >= 2 and after > 0 and self._spaced_cells(i + 2) >= 2)  # a header over a group's label row (1 | Individual)

    def _spaced_cells(self, i: int) -> int:
        """How many bars with a blank either side line i holds when it is nothing but such cells
        (800 元 | 約 103 元 | 約 1,232 元: a row of a table written with neither outer bars nor a
        separator line), else 0."""
        if i < 0 or i >= len(self.bounds) or self.blank(i):
            return 0
        t = self.text(i)
        n = t.count(" | ")
        return n if n and n == t.count("|") else 0

    @staticmethod
    def _is_pipe_sep(t: str) -> bool:
        return "|" in t and "-" in t and _PIPE_SEP.fullmatch(t) is not None

    def chapter_level(self, t: str) -> int | None:
        if len(t) > self.r.chapter_max or self.r.ender.search(t):
            return None
        for level, rx in self.r.chapters:
            if rx.match(t):
                return level
        return None

    def starts_sentence(self, b: int, j: int) -> bool:
        """Whether line j is a statement of its own although the line above, ending at b, is not
        closed: it opens with a capital, ends as a sentence ends, and the line above is a short
        caption or ends in a word no sentence stops on."""
        if not (self.m[b - 1].isascii() and self.m[b - 1].isalnum()) or not self.r.sentence_line.match(self.text(j)):
            return False  # the cheap test first: most lines above end in CJK or a mark
        opener = self.opens_statement(j)
        return self.is_caption(j - 1, opener) or not self.continues(b) or opener

    def ends_statement(self, b: int, j: int) -> bool:
        """Whether the Japanese line ending at b closes its statement without a mark: it ends on a
        sentence-final form and line j does not go on with a particle or a mark (clauses.json
        line_end_statement)."""
        ls = self.bounds[j][0]
        return self.r.statement_end.search(self.m, max(0, b - self.r.longest_final_form), b) is not None \
            and self.r.next_continues.match(self.m, ls) is None

    def opens_statement(self, j: int) -> bool:
        """Whether line j opens with a word that starts a sentence (You, If, This): capitalised, it
        cannot continue the line above, whatever word that line ends on."""
        return self.r.line_openers.match(self.m, self.bounds[j][0]) is not None

    def continues(self, b: int) -> bool:
        """Whether the word ending at b is one a sentence goes on after (the, of, and)."""
        k = b - 1
        while k > 0 and b - k < 24 and self.m[k - 1].isascii() and self.m[k - 1].isalpha():
            k -= 1
        return self.m[k:b].lower() in self.r.continues_after

    def is_caption(self, i: int, before_opener: bool = False) -> bool:
        """A short capitalised line with no closing mark (Properties you cannot get a grant for); one
        ending in a word a sentence goes on after (for) only above a line that opens a statement."""
        t = self.text(i)
        longest = self.r.caption_max if self.r.caption_dash in t else self.r.plain_max  # a marginal note: Exemption — Existing Unit
        return len(t) <= longest and t[:1].isupper() and t[-1:].isascii() and t[-1:].isalnum() \
            and (before_opener or not self.continues(self.bounds[i][1]))

    def starts_block(self, t: str) -> bool:
        """Whether a line cannot continue the paragraph or item above it."""
        r = self.r
        return bool(
            _ATX.match(t)
            or r.hr.match(t)
            or t.startswith(r.dollars)
            or t[0] == "|"
            or "\t" in t
            or r.marker.match(t)
            or r.article.match(t)
            or r.label.match(t)
            or self.chapter_level(t)
        )

    def is_plain_heading(self, i: int, t: str) -> bool:
        r = self.r
        return (
            not self.has_markdown_headings
            and self.blank(i - 1)
            and self.blank(i + 1)
            and (len(t) <= r.plain_max or (len(t) <= r.title_max and _title_case(t, r.title_small)))
            and t[-1] not in r.plain_bad_last
            and not r.plain_forbidden.search(t)
            and (not (any(w in t for w in r.plain_binding) or r.plain_modal.search(t)) or t.startswith(r.question_titles))
            and not t.startswith(r.notes)
            and not t.endswith(r.deadline_ends)
            and not r.plain_polite_end.search(t)
            and not r.label.match(t)
            and _LETTER.search(t) is not None
        )

    # -- main loop

    def run(self) -> list[Clause]:
        r, n, i = self.r, len(self.bounds), 0
        while i < n:
            if self.bounds[i] is None:
                self.in_pipe_table = False
                i += 1
                continue
            ls, le = self.bounds[i]
            t = self.m[ls:le]
            if h := _ATX.match(t):
                self.atx(ls, t, h)
                i += 1
            elif r.hr.match(t):
                i += 1
            elif t.startswith(r.dollars) and (j := self.formula(i)) is not None:
                i = j
            elif self.is_pipe_row(i):
                self.pipe_row(ls, le, t)
                i += 1
            elif (mk := r.marker.match(t)) and mk.end() > 0:
                i = self.paragraph(i, "item", ls + mk.end())
            elif r.article.match(t):
                i = self.paragraph(i, "item", ls)
            elif "\t" in t:
                self.emit("table_row", ls, le, self.cells(self.tab_cells(ls, le)))
                i += 1
            elif level := self.chapter_level(t):
                self.heading(level, ls, le)
                i += 1
            elif self.is_plain_heading(i, t):
                self.heading(r.plain_level, ls, le)
                i += 1
            else:
                i = self.paragraph(i, "paragraph", ls)
        return self.out

    def atx(self, ls: int, t: str, h: re.Match) -> None:
        rest = t[h.end():]
        rest = _without_closing_hashes(rest)
        rest = rest.rstrip()
        if rest:
            a = ls + h.end()
            self.heading(len(h.group(1)), a, a + len(rest))

    def formula(self, i: int) -> int | None:
        """Emit the $$ block starting on line i; return the next line index, or None when
        the block never closes (then the line is ordinary text)."""
        d = self.r.dollars
        ls, le = self.bounds[i]
        close = self.m.find(d, ls + len(d), ls + self.r.formula_max)
        if close < 0:
            return None
        j = bisect_right(self.line_starts, close) - 1  # line holding the closing $$
        end = max(self.bounds[j][1], close + len(d))
        inner = self.body[ls + len(d) : close]
        self.emit("formula", ls, end, readable(inner) or readable(self.body[ls:end]))
        return j + 1

    def pipe_row(self, ls: int, le: int, t: str) -> None:
        if self._is_pipe_sep(t):
            self.in_pipe_table = True
            return
        self.in_pipe_table = True
        raw = self.body[ls:le]
        cells = re.split(r"(?<!\\)\|", raw)
        self.emit("table_row", ls, le, self.cells(cells))

    def tab_cells(self, ls: int, le: int) -> list[str]:
        """The body text of each cell of line ls:le, cut where the masked line holds a tab (a
        tab-separated row, or an HTML row whose cell tags the mask made tabs)."""
        raw = self.body[ls:le]
        if "<" not in raw:
            return raw.split("\t")  # no tag: the mask left the body's own tabs, and only those
        bounds = [ls] + [m.start() for m in _TAB.finditer(self.m, ls, le)] + [le]
        return [self.body[a:b] for a, b in zip(bounds, bounds[1:])]  # from the tab or the whole cell tag on

    @staticmethod
    def cells(cells: list[str]) -> str:
        return " | ".join(c for c in map(readable, cells) if c)

    def paragraph(self, i: int, kind: str, a: int) -> int:
        """Collect the lines of a paragraph or item starting at line i; return the index
        of the first line after it."""
        n = len(self.bounds)
        b = self.bounds[i][1]
        j = i + 1
        alone = self.r.alone
        lone = alone.match(self.text(i)) is not None  # a date line stands alone
        statement_next = None  # whether the line after the paragraph is a statement of its own
        while not lone and j < n and self.bounds[j] is not None and self.m[b - 1] not in self.r.break_after:
            if self.starts_block(self.text(j)) or alone.match(self.text(j)) or self.heads_pipe_table(j):
                break
            if self.starts_sentence(b, j):
                statement_next = True
                break
            if self.ends_statement(b, j):
                break
            b = self.bounds[j][1]
            j += 1
        if statement_next is None:  # the paragraph ended otherwise: before a list item, say (Rounding / (4) The …)
            statement_next = j < n and self.bounds[j] is not None and self.starts_sentence(b, j)
        k = j  # captions closing the paragraph (a title, then a caption) head the statements under them
        if statement_next:
            while k > i and self.is_caption(k - 1, k == j and j < n and self.bounds[j] is not None and self.opens_statement(j)):
                k -= 1
        if k < j and (k > i and self.m[self.bounds[k - 1][1] - 1] in self.r.sentence_end or k == i and kind == "paragraph"):
            if k > i:
                self.block(kind, a, self.bounds[k - 1][1])
            for c in range(k, j):
                self.heading(self.r.caption_level, max(a, self.bounds[c][0]), self.bounds[c][1])
        elif a < b:
            self.block(kind, a, b)
        return j


def split_clauses(body: str, record_id: str = "", first_line: int = 1, *, masked: str | None = None) -> list[Clause]:
    """Clauses of `body` in order; spans never overlap and are stripped of whitespace. masked is
    mask(body), for a caller that needs it too."""
    if not body or body.isspace():
        return []
    return _Splitter(body, record_id, first_line, masked).run()


def _line_starts(lines: list[str]) -> list[int]:
    """The offset of each line's first character in the text the lines were split from."""
    return [0, *accumulate(len(p) + 1 for p in lines[:-1])]


_TAB = regex_cache.compile("\t")
CELL_BAR = regex_cache.compile(r"(?<!\\)\||\t")  # what separates the cells of a table row (an escaped \| does not)


def opens_article(text: str, pos: int) -> bool:
    """Whether a statute article header (第三条, 第十条之一: clauses.json articles) opens text at pos,
    blanks skipped."""
    while pos < len(text) and text[pos] in " \u3000":
        pos += 1
    return _rules().article.match(text, pos) is not None


def opens_statute_item(text: str, pos: int) -> bool:
    """Whether a statute's numbered item (号: 一　…, clauses.json statute_item) opens text at pos."""
    return _rules().statute_item.match(text, pos) is not None


def fills_cell(text: str, clause: Clause, start: int, end: int) -> bool:
    """Whether text[start:end] fills its cell of table row `clause`: only blanks between it and the
    cell's bars (a figure standing alone in a cell, not inside a sentence written in one)."""
    if clause.kind != "table_row":
        return False
    i, j = start, end
    while i > clause.start and text[i - 1] == " ":
        i -= 1
    while j < clause.end and text[j] == " ":
        j += 1
    return (i == clause.start or text[i - 1] in "|\t") and (j == clause.end or text[j] in "|\t")
