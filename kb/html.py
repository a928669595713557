"""HTML built from text and character spans: escape first, then add tags at offsets.

Record text is untrusted (a body or a title may hold `<script>`), so markup is never put into
the text and escaped afterwards, and text is never escaped after markup was added. Instead the
output is assembled piece by piece: escaped text between spans, a trusted opening tag, the
escaped span text, a trusted closing tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import NamedTuple

from kb import regex_cache

__all__ = ["Span", "marked", "is_marked_text"]


class Span(NamedTuple):
    start: int  # offsets into the text given to marked(), end exclusive
    end: int
    open: str = "<mark>"  # trusted HTML, written as is
    close: str = "</mark>"


def marked(text: str, spans: Iterable[Span], start: int = 0, end: int | None = None) -> str:
    """text[start:end] as HTML with each span wrapped in its tags. Spans are offsets into
    `text`; spans outside the window are left out, spans overlapping one already placed
    are left out too (the first, then longest, wins), so tags always nest properly."""
    end = len(text) if end is None else end
    out: list[str] = []
    at = start
    for s in sorted(spans, key=lambda sp: (sp.start, -sp.end)):
        if s.start < at or s.end > end or s.start >= s.end:
            continue
        out.append(escape(text[at:s.start]))
        # str(): a Markup tag would otherwise escape the text joined to it a second time.
        out.append(str(s.open) + escape(text[s.start:s.end]) + str(s.close))
        at = s.end
    out.append(escape(text[at:end]))
    return "".join(out)


# What marked() with default tags can produce: escaped text and <mark> tags, nothing else.
_MARKED_TEXT = regex_cache.compile(r"(?:[^<>&\"']|&(?:amp|lt|gt|quot|#x27);|</?mark>)*")


def is_marked_text(value: object) -> bool:
    """Whether `value` is escaped text with only <mark> tags in it, so it can be shown as HTML
    whatever query produced it (a cell is trusted by its content, not by its column name)."""
    return isinstance(value, str) and _MARKED_TEXT.fullmatch(value) is not None
