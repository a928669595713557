"""Writing systems: the one definition of kana, Han and CJK text, as character-class bodies (to build
patterns from) and compiled tests. Language detection, search segmentation, the extractor's joined
view and the bench corpus all read them from here."""

from __future__ import annotations

from kb import regex_cache

__all__ = ["CJK", "CJK_RX", "DIGIT_RX", "DIGITS", "HAN", "HAN_RX", "KANA", "KANA_RX"]

# Hiragana, katakana, katakana phonetic extensions and half-width katakana. The katakana middle dot
# and long-vowel mark (U+30FB, U+30FC) are left out: Chinese text borrows them, so they say nothing
# about the language.
KANA = "\u3041-\u309f\u30a0-\u30fa\u30fd-\u30ff\u31f0-\u31ff\uff66-\uff9d"
# CJK unified ideographs (extension A, the main block, compatibility ideographs, extensions B-H).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# CJK text as a whole: the scripts above plus radicals, CJK symbols and punctuation (、。「」〜 and
# the ideographic space), the whole kana blocks, and full-width forms.
CJK = "\u2e80-\u2fff\u3000-\u30ff\u31f0-\u31ff" + HAN + "\uff00-\uffef"
# Digits as figures are written: ASCII and full-width.
DIGITS = "0-9\uff10-\uff19"
WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")  # full-width digits to ASCII, one for one

KANA_RX = regex_cache.compile(f"[{KANA}]")
HAN_RX = regex_cache.compile(f"[{HAN}]")
CJK_RX = regex_cache.compile(f"[{CJK}]")
DIGIT_RX = regex_cache.compile(f"[{DIGITS}]")
