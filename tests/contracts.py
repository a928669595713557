"""The offset contract of extraction, checked in one place for every test: a span indexes the
original text (`text[start:end] == surface`), spans of one kind come in order without
overlapping, a clause's span is stripped, and a measure lies inside its clause.

Items are objects (Clause, Quantity, Measure) or rows as dicts (the database, `extract --json`).
Every check is linear in the text, so it runs on ten-megabyte bodies too."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping


def _field(item, name: str):
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def check_ordered_spans(text: str, items: Iterable, base: int = 0) -> None:
    """Each span lies inside `text` (whose first character is at offset `base`), after the end of
    the one before it."""
    end = base
    for item in items:
        start, stop = _field(item, "start"), _field(item, "end")
        assert base <= start < stop <= base + len(text), item
        assert start >= end, f"spans overlap or are out of order: {item}"
        end = stop


def check_surfaces(text: str, items: Iterable, base: int = 0) -> None:
    """`text[start:end] == surface` for every item (offsets counted from `base`)."""
    for item in items:
        start, stop = _field(item, "start") - base, _field(item, "end") - base
        assert 0 <= start < stop <= len(text), item
        assert text[start:stop] == _field(item, "surface"), item


def check_clauses(body: str, clauses: list, first_line: int | None = None) -> None:
    """Clauses in order, not overlapping, each span stripped, ids unique; with `first_line` (the
    file line the body starts on), each clause's line is the line of its start."""
    check_ordered_spans(body, clauses)
    line, at = first_line, 0
    for c in clauses:
        span = body[_field(c, "start"):_field(c, "end")]
        assert span == span.strip(), f"clause span {span[:80]!r} is not stripped"
        if first_line is not None:
            line += body.count("\n", at, _field(c, "start"))
            at = _field(c, "start")
            assert _field(c, "line") == line, c
    ids = [_field(c, "id") for c in clauses]
    assert len(set(ids)) == len(ids), "clause ids repeat"


def check_quantities(text: str, quantities: list, base: int = 0) -> None:
    """Quantities found in `text` (offset `base`): in order, not overlapping, surfaces exact,
    values finite or None."""
    check_ordered_spans(text, quantities, base)
    check_surfaces(text, quantities, base)
    for q in quantities:
        assert finite_or_none(_field(q, "value")) and finite_or_none(_field(q, "value_max")), q


def check_measures(body: str, clauses: list, measures: list) -> None:
    """Measures of a body: surfaces exact, each inside the clause it names, ids unique, values
    finite or None. Measures need not be ordered (one clause can give several kinds)."""
    check_surfaces(body, measures)
    spans = {_field(c, "id"): (_field(c, "start"), _field(c, "end")) for c in clauses}
    for m in measures:
        clause = _field(m, "clause_id")
        assert clause in spans, f"measure {m} names an unknown clause"
        lo, hi = spans[clause]
        assert lo <= _field(m, "start") and _field(m, "end") <= hi, f"measure {_field(m, 'surface')!r} lies outside its clause"
        assert finite_or_none(_field(m, "value")) and finite_or_none(_field(m, "value_max")), m
    ids = [_field(m, "id") for m in measures]
    assert len(set(ids)) == len(ids), "measure ids repeat"


def check_extraction(body: str, extraction, first_line: int | None = None) -> None:
    """The whole contract of one extraction: its clauses, then its measures against them."""
    check_clauses(body, extraction.clauses, first_line)
    check_measures(body, extraction.clauses, extraction.measures)


def finite_or_none(v) -> bool:
    return v is None or (isinstance(v, float | int) and not isinstance(v, bool) and math.isfinite(v))
