"""Duckling's ja/zh corpora as an independent check of parse_quantity.

The TSV files live in ../shared/peer/duckling (read in place, never copied here).  Each row is parsed
whole with the row's dimension, as Duckling's own corpus tests do.  Adapter between Duckling's
conventions and ours:
- numeral -> our kind "number"; ordinal -> "ordinal"; values compared directly.
- duration: both sides converted to seconds (month = 30 days, year = 365 days), because Duckling
  and we may pick different units for the same span (1.5小時 = 90 minute = 1.5 hour).
- money: Duckling's generic "$" (元/块/蚊) is our CNY; "cent" is hundredths of that unit, so it is
  compared with 100 x our CNY value; CNY and HKD are compared as they are.
- quantity: Duckling's "gram" is our unit "g", or a thousandth of our "kg" (kilograms keep their
  unit, as USD/kg and kg/mmBTU need it).
Known misses are listed with a reason in tests/cases/duckling_expected_failures.tsv: a row that fails
and is not listed fails the test, and so does a listed row that starts passing (so the list stays
true).  Each file must also pass at least 95% of its rows.
"""

from __future__ import annotations

import csv
import math

import pytest

from kb.extract import parse_quantity
from tests.helpers import CASES, SHARED, shared

FILES = ["ja_numeral.tsv", "ja_duration.tsv", "ja_ordinal.tsv", "zh_numeral.tsv", "zh_duration.tsv",
         "zh_ordinal.tsv", "zh_money.tsv", "zh_quantity.tsv"]
SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "working_day": 86400, "week": 7 * 86400,
           "month": 30 * 86400, "year": 365 * 86400}
GRAMS = {"g": 1, "kg": 1000}  # our mass units in Duckling's gram
MIN_PASS_RATE = 0.95


def _rows(name: str) -> list[dict]:
    with shared("peer", "duckling", name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _expected_failures() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with (CASES / "duckling_expected_failures.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            assert row["reason"].strip(), row
            out.setdefault(row["file"], {})[row["text"]] = row["reason"]
    return out


def _agrees(row: dict) -> bool:
    """Does our reading of row["text"] in row's dimension give Duckling's value?"""
    q = parse_quantity(row["text"], row["kind"])
    if q is None or q.value is None:
        return False
    want = float(row["value"])
    close = lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)  # noqa: E731
    kind, unit = row["kind"], row["unit"]
    if kind == "numeral":
        return q.kind == "number" and close(q.value, want)
    if kind == "ordinal":
        return q.kind == "ordinal" and close(q.value, want)
    if kind == "duration":
        return q.kind == "duration" and q.unit in SECONDS and close(q.value * SECONDS[q.unit], want * SECONDS[unit])
    if kind == "money":
        if unit == "$":
            return q.unit == "CNY" and close(q.value, want)
        if unit == "cent":
            return q.unit == "CNY" and close(q.value * 100, want)
        return q.unit == unit and close(q.value, want)
    if kind == "quantity":
        return q.kind == "quantity" and q.unit in GRAMS and unit == "gram" and close(q.value * GRAMS[q.unit], want)
    raise AssertionError(f"unknown Duckling kind {kind!r}")


def test_expected_failures_name_real_rows():
    if not (SHARED / "peer" / "duckling").exists():
        pytest.skip("../shared/peer/duckling is absent")
    for name, texts in _expected_failures().items():
        assert name in FILES, name
        known = {r["text"] for r in _rows(name)}
        assert set(texts) <= known, set(texts) - known


@pytest.mark.parametrize("name", FILES)
def test_duckling_corpus(name):
    rows = _rows(name)
    assert rows, name
    listed = _expected_failures().get(name, {})
    failing = {r["text"] for r in rows if not _agrees(r)}
    rate = 1 - len(failing) / len(rows)
    print(f"\n{name}: {len(rows) - len(failing)}/{len(rows)} = {rate:.1%} (expected failures: {len(listed)})")
    unlisted = failing - set(listed)
    fixed = set(listed) - failing
    assert not unlisted, f"{name}: rows failing but not listed as expected failures: {sorted(unlisted)}"
    assert not fixed, f"{name}: listed expected failures now pass; remove them from the list: {sorted(fixed)}"
    assert rate >= MIN_PASS_RATE, f"{name}: pass rate {rate:.1%} is below {MIN_PASS_RATE:.0%}"
