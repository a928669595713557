"""Language detection, and the word segmentation used for SQLite full-text search.

Japanese goes through MeCab (fugashi + unidic-lite), Chinese through rjieba, everything else
through a regex. Search needs words only: no offsets, lemmas or parts of speech (the extractor
works on the text itself, see kb.extract), so each analyzer runs in its word-only mode.
"""

from __future__ import annotations

import re
import threading
from functools import cache

from kb import regex_cache
from kb.scripts import HAN, HAN_RX, KANA_RX

__all__ = ["detect_lang", "segment", "segment_query"]


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
_UNSAFE = regex_cache.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]|[^\\S\t\n ]")


def _clean(text: str) -> str:
    return _UNSAFE.sub(" ", text) if _UNSAFE.search(text) else text


_BREAKS = ("\n", "。", " ", "、", "，", "．", ".")
_BREAK = regex_cache.compile("|".join(map(re.escape, _BREAKS)))
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


_JA_CHUNK = 10_000
_ZH_CHUNK = 50_000
_WORD = regex_cache.compile(r"\w+(?:[.,]\d+)*")
_mecab_lock = threading.Lock()  # a MeCab tagger must not be used by two threads at once


@cache
def _tagger(args: str):
    import fugashi
    import unidic_lite

    d = unidic_lite.DICDIR
    return fugashi.GenericTagger(f'-r "{d}/mecabrc" -d "{d}" {args}')


# ---------------------------------------------------------------- full-text search

_HAN_ONLY = regex_cache.compile(f"[{HAN}]{{2,}}")


# MeCab's own wakati output and jieba's plain cut: words only, several times faster than asking
# for offsets and features.
_WAKATI_ARGS = "-Owakati"


def _pieces(text: str, limit: int) -> list[str]:
    """_chunks of text, without the offsets (most texts, a clause or a title, are one piece)."""
    return [text] if len(text) <= limit else [piece for _, piece in _chunks(text, limit)]


# A token with no letter, number or private-use character, with the blank before it: SQLite's
# unicode61 tokenizer keeps only those and splits on everything else, so it would index as
# nothing. The analyzers' words are joined by single spaces (run on " " + words, the leading
# space lets the engine skip ahead to each blank instead of testing every character).
_UNSEARCHABLE = regex_cache.compile(r" (?:[^\w\s\ue000-\uf8ff]|_)+(?!\S)")


def segment(text: str, lang: str | None = None) -> str:
    """Words separated by single spaces, Latin lowercased, punctuation dropped: the form
    stored in an FTS5 column with the default unicode61 tokenizer. The analyzers' output is
    filtered and lowercased as one string (a few passes in C), not word by word: that was half
    the cost of segmenting a clause."""
    if not text or text.isspace():
        return ""
    lang = lang or detect_lang(text)
    if lang == "ja":
        wakati = _tagger(_WAKATI_ARGS)
        parts = []
        for piece in _pieces(_clean(text), _JA_CHUNK):
            with _mecab_lock:
                parts.append(wakati.parse(piece))
        spaced = " ".join(parts)
    elif lang == "zh":
        import rjieba

        spaced = " ".join([" ".join(rjieba.cut(piece)) for piece in _pieces(_clean(text), _ZH_CHUNK)])
    else:
        spaced = " ".join(_WORD.findall(text))
    return " ".join(_UNSEARCHABLE.sub("", " " + spaced).lower().split())


def _words(text: str, lang: str | None) -> list[str]:
    return segment(text, lang).split()


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
