"""Word tokens with exact offsets, and the segmentation used for SQLite full-text search.

Japanese goes through MeCab (fugashi + unidic-lite), Chinese through rjieba, everything
else through a regex. Every token satisfies ``text[t.start - base:t.end - base] == t.surface``
for any input string, including lone surrogates and control characters.
"""

from __future__ import annotations

import gc
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, compress, repeat
from operator import add, itemgetter, not_, sub

from kb.scripts import HAN, HAN_RX, KANA_RX

__all__ = ["Token", "detect_lang", "tokenize", "segment", "segment_query"]


@dataclass(frozen=True, slots=True)
class Token:
    surface: str
    lemma: str
    pos: str  # ja: UniDic pos1; zh: ""; other: "word" or "num"
    start: int
    end: int


def detect_lang(text: str, context: str | None = None) -> str:
    """'ja' if any kana, else 'zh' if any Han character, else 'en'. With `context`, the language
    of the document the text comes from, Han without kana in a Japanese document is Japanese
    (a heading such as 附則 or a kanji-only clause)."""
    if KANA_RX.search(text):
        return "ja"
    if HAN_RX.search(text):
        return "ja" if context and context.lower().startswith("ja") else "zh"
    return "en"


# Characters the analyzers must not see: NUL ends a C string in MeCab, lone surrogates
# cannot be encoded to UTF-8, U+0001..U+0003 are our own MeCab output separators, and
# other exotic whitespace (U+3000, NBSP, CR, U+2028...) is normalised to a plain space so
# MeCab and jieba treat it as a gap rather than a token. Each is replaced by exactly one
# space, so offsets computed on the cleaned copy are offsets in the original.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]|[^\\S\t\n ]")


def _clean(text: str) -> str:
    return _UNSAFE.sub(" ", text) if _UNSAFE.search(text) else text


_BREAKS = ("\n", "。", " ", "、", "，", "．", ".")
_BREAK = re.compile("|".join(map(re.escape, _BREAKS)))
_HARD_CUT = 256


def _chunks(text: str, limit: int):
    """Yield (offset, piece): pieces of at most `limit` chars, cut after the last newline,
    full stop, space or comma in the second half of the window. MeCab crashes on inputs
    near a megabyte, and bounded pieces keep memory flat. MeCab's time also grows with
    the square of an unbroken run of katakana or Latin letters, so a window with no
    break at all is cut short instead (a word may then be split in two)."""
    n = len(text)
    i = 0
    clear_until = 0  # text[..clear_until] is known to hold no break in the search zone
    while i < n:
        j = i + limit
        if j >= n:
            yield i, text[i:]
            return
        floor = i + limit // 2
        if _BREAK.search(text, max(floor, clear_until), j):
            j = next(k + 1 for br in _BREAKS if (k := text.rfind(br, floor, j)) >= 0)
        else:
            clear_until = j
            j = i + _HARD_CUT
        yield i, text[i:j]
        i = j


@contextmanager
def _gc_paused():
    """Pause the cyclic GC while token lists are built. Analyzer results and Tokens are
    hundreds of thousands of fresh container objects that never form cycles; left on,
    the collector runs repeated full passes over them and finds nothing."""
    was_on = gc.isenabled()
    if was_on:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _build(surfaces, lemmas, poses, starts, ends) -> list[Token]:
    """Create Tokens in bulk by filling their slots directly: going through the dataclass
    __init__ costs as much as MeCab's analysis on large inputs, while map() over the slot
    descriptors stays in C. Equal to Token(...) field by field (tested)."""
    out = list(map(object.__new__, repeat(Token, len(surfaces))))
    for slot, values in (
        (Token.surface, surfaces),
        (Token.lemma, lemmas),
        (Token.pos, poses),
        (Token.start, starts),
        (Token.end, ends),
    ):
        any(map(slot.__set__, out, values))  # __set__ returns None: any() just drains
    return out


# ---------------------------------------------------------------- Japanese

_JA_CHUNK = 10_000
_KS, _FS, _RS = "\x01", "\x02", "\x03"  # key / field / record separators (never in clean text)

# Asking MeCab for features (%f) makes it split each entry's 29-field CSV, which costs
# about half as much again as the analysis itself. So the main pass only asks for the
# layout (preceding whitespace, surface) and a key: surface plus left/right context ids.
# Entries sharing surface and both context ids compete only on word cost, so the key
# always resolves to the same entry, and its pos1/lemma can be cached. Chunks with an
# unseen key are parsed a second time with features to fill the cache. Unknown words
# get a '?' in the key and their surface as lemma.
_LAYOUT_ARGS = (
    r'-O "" -B "" -E "" '
    r'-F "%pS<F>%m<F>%m<K>%phl<K>%phr<R>" '
    r'-U "%pS<F>%m<F>%m<K>%phl<K>%phr<K>?<R>"'
)
_FEATURE_ARGS = (
    r'-O "" -B "" -E "" '
    r'-F "%m<K>%phl<K>%phr<F>%f[0]<F>%f[7]<R>" '
    r'-U "%m<K>%phl<K>%phr<K>?<F>%f[0]<F>%m<R>"'
)
# UniDic lemmas of loanwords carry an English gloss (エネルギー-energy); drop it so the
# lemma matches the way the word is written. The pattern starts with a literal so the
# regex engine can skip ahead quickly.
_GLOSS = re.compile(f"-(?<=[^\\x00-\\x7f]-)[A-Za-z][\\x20-\\x7e]*(?={_RS})")
_POS: dict[str, str] = {}
_LEMMA: dict[str, str] = {}
_CACHE_MAX = 400_000  # distinct keys; a whole UniDic vocabulary would be ~900k
_mecab_lock = threading.Lock()  # a MeCab tagger must not be used by two threads at once


@cache
def _tagger(args: str):
    import fugashi
    import unidic_lite

    d = unidic_lite.DICDIR
    args = args.replace("<K>", _KS).replace("<F>", _FS).replace("<R>", _RS)
    return fugashi.GenericTagger(f'-r "{d}/mecabrc" -d "{d}" {args}')


def _records(raw: str) -> list[str]:
    # fugashi strips trailing whitespace from the output; the separators are not
    # whitespace, but be lenient about a missing final terminator anyway.
    return raw.rstrip(_RS).replace(_RS, _FS).split(_FS) if raw else []


def _learn(piece: str) -> None:
    with _mecab_lock:
        raw = _tagger(_FEATURE_ARGS).parse(piece)
    if len(_POS) > _CACHE_MAX:
        _POS.clear()
        _LEMMA.clear()
    fields = _records(_GLOSS.sub("", raw))
    for key, pos, lemma in zip(fields[0::3], fields[1::3], fields[2::3]):
        _POS[key] = pos
        _LEMMA[key] = lemma if lemma and lemma != "*" else key.partition(_KS)[0]


def _features(piece: str, keys: list[str]) -> tuple[list[str], list[str]]:
    try:
        return list(map(_POS.__getitem__, keys)), list(map(_LEMMA.__getitem__, keys))
    except KeyError:
        _learn(piece)
    # Normally everything is known now; .get() covers a cache cleared by another thread.
    return (
        [_POS.get(k, "") for k in keys],
        [_LEMMA.get(k) or k.partition(_KS)[0] for k in keys],
    )


def _tokenize_ja(text: str, base: int) -> list[Token]:
    surfaces: list[str] = []
    lemmas: list[str] = []
    poses: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    layout = _tagger(_LAYOUT_ARGS)
    for off, piece in _chunks(_clean(text), _JA_CHUNK):
        with _mecab_lock:
            fields = _records(layout.parse(piece))
        if not fields:
            continue
        ws, surf, keys = fields[0::3], fields[1::3], fields[2::3]
        pos, lem = _features(piece, keys)
        slen = list(map(len, surf))
        # Whitespace + surface pieces tile the chunk, so end offsets are a running sum.
        e = list(accumulate(map(add, map(len, ws), slen), initial=off + base))
        del e[0]
        if "".join(map(add, ws, surf)) != piece[: e[-1] - off - base]:
            _align_slowly(piece, surf, pos, lem, off + base, surfaces, lemmas, poses, starts, ends)
            continue
        surfaces += surf
        lemmas += lem
        poses += pos
        starts += map(sub, e, slen)
        ends += e
    return _build(surfaces, lemmas, poses, starts, ends)


def _align_slowly(piece, surf, pos, lem, shift, surfaces, lemmas, poses, starts, ends):
    """Fallback when MeCab's output does not reproduce the chunk: find each surface at or
    shortly after the current position and skip tokens that cannot be placed."""
    at = 0
    for s, p, lm in zip(surf, pos, lem):
        if not s:
            continue
        k = piece.find(s, at, at + len(s) + 256)
        if k < 0:
            continue
        at = k + len(s)
        surfaces.append(s)
        lemmas.append(lm if lm and lm != "*" else s)
        poses.append(p)
        starts.append(k + shift)
        ends.append(at + shift)


# ---------------------------------------------------------------- Chinese

_ZH_CHUNK = 50_000


def _tokenize_zh(text: str, base: int) -> list[Token]:
    import rjieba

    surfaces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for off, piece in _chunks(_clean(text), _ZH_CHUNK):
        found = rjieba.tokenize(piece)  # offsets are in characters, not bytes
        if not found:
            continue
        words = list(map(_FIRST, found))
        s = list(map(_SECOND, found))
        e = list(map(_THIRD, found))
        keep = list(map(not_, map(str.isspace, words)))
        words = list(compress(words, keep))
        if _SPACE.search("".join(words)):
            # jieba kept whitespace inside some tokens: trim their ends, and take the
            # surfaces from the original, where that whitespace may have been a control
            # character (rare, slow path).
            _, s, e = _trim(words, compress(s, keep), compress(e, keep))
            words = [text[off + a : off + b] for a, b in zip(s, e)]
            keep = repeat(True)
        surfaces += words
        starts += map(add, compress(s, keep), repeat(off + base))
        ends += map(add, compress(e, keep), repeat(off + base))
    # Otherwise the cleaned copy differs from the original only in characters that became
    # spaces, and no kept token contains one, so the surfaces are original slices already.
    return _build(surfaces, surfaces, repeat("", len(surfaces)), starts, ends)


_SPACE = re.compile(r"\s")
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)


def _trim(words, starts, ends):
    out_w, out_s, out_e = [], [], []
    for w, s, e in zip(words, starts, ends):
        stripped = w.lstrip()
        s += len(w) - len(stripped)
        w = stripped.rstrip()
        out_w.append(w)
        out_s.append(s)
        out_e.append(s + len(w))
    return out_w, out_s, out_e


# ---------------------------------------------------------------- other scripts

_WORD = re.compile(r"\w+(?:[.,]\d+)*")
_NUM = re.compile(r"\d+(?:[.,]\d+)*")


def _tokenize_other(text: str, base: int) -> list[Token]:
    surfaces, lemmas, poses, starts, ends = [], [], [], [], []
    for m in _WORD.finditer(text):
        w = m.group()
        surfaces.append(w)
        lemmas.append(w.lower())
        poses.append("num" if _NUM.fullmatch(w) else "word")
        starts.append(m.start() + base)
        ends.append(m.end() + base)
    return _build(surfaces, lemmas, poses, starts, ends)


_BY_LANG = {"ja": _tokenize_ja, "zh": _tokenize_zh}


def tokenize(text: str, lang: str | None = None, base: int = 0) -> list[Token]:
    """Tokens of `text`; offsets are shifted by `base` (e.g. the clause start in a body)."""
    if not text or text.isspace():
        return []
    with _gc_paused():
        return _BY_LANG.get(lang or detect_lang(text), _tokenize_other)(text, base)


# ---------------------------------------------------------------- full-text search

# SQLite's unicode61 tokenizer keeps letters, numbers and private-use characters and
# splits on everything else. A token with none of those would index as nothing.
_SEARCHABLE = SEARCHABLE = re.compile(r"[^\W_]|[\ue000-\uf8ff]")  # public for kb.search
_HAN_ONLY = re.compile(f"[{HAN}]{{2,}}")


# Search needs only the words, not offsets, lemmas or parts of speech: MeCab's own wakati
# output and jieba's plain cut give them several times faster than tokenize() (whose Token
# objects the extractor needs). The words are the same surfaces tokenize() finds, for a text
# analysed on its own.
_WAKATI_ARGS = "-Owakati"


def _words(text: str, lang: str | None) -> list[str]:
    if not text or text.isspace():
        return []
    lang = lang or detect_lang(text)
    if lang == "ja":
        wakati = _tagger(_WAKATI_ARGS)
        found = []
        for _, piece in _chunks(_clean(text), _JA_CHUNK):
            with _mecab_lock:
                found += wakati.parse(piece).split()
    elif lang == "zh":
        import rjieba

        found = [w for _, piece in _chunks(_clean(text), _ZH_CHUNK) for w in rjieba.cut(piece)]
    else:
        found = _WORD.findall(text)
    return [w.lower() for w in found if _SEARCHABLE.search(w)]


def segment(text: str, lang: str | None = None) -> str:
    """Words separated by single spaces, Latin lowercased, punctuation dropped: the form
    stored in an FTS5 column with the default unicode61 tokenizer."""
    return " ".join(_words(text, lang))


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _term(word: str) -> str:
    # jieba does not know Japanese kanji compounds and indexes them character by
    # character (事業継続義務 -> 事 業 継 続 義 務), while MeCab and jieba on Chinese keep
    # whole words. A Han-only query word therefore also matches as a phrase of its
    # characters.
    if _HAN_ONLY.fullmatch(word):
        return f'({_quote(word)} OR {_quote(" ".join(word))})'
    return _quote(word)


def _all(words: list[str]) -> str:
    terms = list(map(_term, words))
    # FTS5 accepts implicit AND only between plain phrases, not next to a parenthesis.
    return (" AND " if any(t[0] == "(" for t in terms) else " ").join(terms)


def segment_query(q: str, lang: str | None = None) -> str:
    """An FTS5 MATCH expression for a user query: every word double-quoted (so FTS5
    operators and punctuation are plain text) and the words ANDed. Returns '' when
    nothing in the query is searchable."""
    lang = lang or detect_lang(q)
    words = _words(q, lang)
    if lang == "zh":
        # Kanji-only text is ambiguous between Japanese and Chinese; accept either
        # segmentation.
        alt = _words(q, "ja")
        if alt != words:
            a, b = _all(words), _all(alt)
            return f"({a}) OR ({b})" if a and b else a or b
    return _all(words)
