"""Measure extraction: the seed records, short ja/zh/en passages (case files), what is never a
measure, structural invariants, robustness on hostile input, and speed against raw MeCab."""

from __future__ import annotations

import json
import math
import random
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.extract import KINDS, Extraction, Measure, extract, extract_text, roles
from kb.records import load_record
from tests.contracts import check_extraction, check_measures
from tests.helpers import CASES, REPO, SEEDS

MEASURE_CASES = CASES / "measures"
SEED_CASES = json.loads((MEASURE_CASES / "seeds.json").read_text("utf-8"))
SNIPPETS = json.loads((MEASURE_CASES / "snippets.json").read_text("utf-8"))["cases"]


def check_invariants(body: str, ex: Extraction) -> None:
    """The offset contract, then what a measure must be: a known kind and role, an id under its
    clause, the line of its start."""
    check_extraction(body, ex)
    clauses = {c.id: c for c in ex.clauses}
    known = set(roles())
    for m in ex.measures:
        c = clauses[m.clause_id]
        assert m.id.startswith(f"{m.clause_id}/m")
        assert m.kind in KINDS and m.role in known, m
        assert m.line == c.line + body.count("\n", c.start, m.start)
        if m.kind == "rule":
            assert m.value is None and m.unit is None and m.role != "unspecified"
        if m.kind in ("date", "count"):
            assert m.role != "unspecified", m  # a date or count needs a reason to be a measure


def matches(m: Measure, want: dict) -> bool:
    for key, expected in want.items():
        if key == "clause":
            continue
        got = getattr(m, key)
        if isinstance(expected, (int, float)) and not isinstance(expected, bool) and got is not None:
            if not math.isclose(got, expected, rel_tol=1e-9):
                return False
        elif got != expected:
            return False
    return True


# ---------------------------------------------------------------- seeds


@pytest.fixture(scope="module")
def seed_extractions() -> dict[str, tuple[str, Extraction]]:
    out = {}
    for name in SEED_CASES:
        if name.startswith("_"):
            continue
        record = load_record(SEEDS / name)
        out[name] = (record.body, extract(record))
    return out


SEED_ITEMS = [(name, want) for name, items in SEED_CASES.items() if not name.startswith("_") for want in items]


@pytest.mark.parametrize("name, want", SEED_ITEMS, ids=[f"{n[:12]}:{w['role']}:{w['clause'][:12]}" for n, w in SEED_ITEMS])
def test_seed_measure(seed_extractions, name, want):
    body, ex = seed_extractions[name]
    clauses = [c for c in ex.clauses if want["clause"] in body[c.start:c.end]]
    assert len(clauses) == 1, f"{want['clause']!r} should be in exactly one clause"
    clause = clauses[0]
    found = [m for m in ex.measures if m.clause_id == clause.id and matches(m, want)]
    assert found, f"no measure {want} in {clause.text!r}: {[m for m in ex.measures if m.clause_id == clause.id]}"
    check_measures(body, [clause], found)


def test_seed_invariants(seed_extractions):
    for body, ex in seed_extractions.values():
        check_invariants(body, ex)


def test_seed_002_has_no_event_dates_or_formula_variables(seed_extractions):
    body, ex = seed_extractions["jp-ccs-pipeline-support-interim-draft-2026.md"]
    quantitative = [m for m in ex.measures if m.kind != "rule"]
    assert not [m for m in quantitative if m.kind == "date"], "令和8年3月 is an event date"
    assert not [m for m in quantitative if re.search(r"(?<![A-Za-z])[A-Ca-c][0-9]?(?![0-9])", m.surface)]
    assert not [m for m in quantitative if m.kind == "count"], "1つのプロジェクト / 一つでも are not counts"
    # 支援の重複 is a rule in both clauses that talk about it; 先払い appears once as a rule
    assert sum(1 for m in ex.measures if m.role == "no_double_support") == 2
    assert [m.surface for m in ex.measures if m.role == "prepayment"] == ["先払い"]


def test_seed_000_drops_event_and_label_years(seed_extractions):
    body, ex = seed_extractions["jp-jogmec-advanced-ccs-2024.md"]
    dates = sorted((m.value, m.role) for m in ex.measures if m.kind == "date")
    assert dates == [(2026.0, "deadline"), (2030.0, "target_year"), (2030.0, "target_year")]


def test_extract_uses_record_identity():
    record = load_record(SEEDS / "jp-ccs-pipeline-support-interim-draft-2026.md")
    ex = extract(record)
    assert ex.record_id == record.id and ex.lang == "ja"
    assert all(m.record_id == record.id and m.id.startswith(record.id + "/") for m in ex.measures)
    first = next(m for m in ex.measures if m.role == "support_period")
    text = (SEEDS / "jp-ccs-pipeline-support-interim-draft-2026.md").read_text("utf-8")
    assert text.splitlines()[first.line - 1].find("15年") >= 0  # line numbers count in the file


# ---------------------------------------------------------------- snippets


@pytest.mark.parametrize("case", SNIPPETS, ids=[c["id"] for c in SNIPPETS])
def test_snippet(case):
    text = case["text"]
    ex = extract_text(text, "t")
    check_invariants(text, ex)
    for want in case["expect"]:
        assert any(matches(m, want) for m in ex.measures), f"missing {want}; got {ex.measures}"
    for span in case.get("absent", []):
        at = text.index(span)
        hits = [m for m in ex.measures if m.kind != "rule" and m.start < at + len(span) and at < m.end]
        assert not hits, f"{span!r} is not a measure: {hits}"
    quantitative = [m for m in ex.measures if m.kind != "rule"]
    wanted = [w for w in case["expect"] if w["kind"] != "rule"]
    assert len(quantitative) <= len(wanted) + 1, f"unexpected measures: {quantitative}"


def test_extract_text_identity_and_lines():
    text = "前文。\n\n支援期間は15年とする。"
    ex = extract_text(text, "doc", first_line=10)
    (m,) = [m for m in ex.measures if m.kind != "rule"]
    assert (m.record_id, m.line, m.surface) == ("doc", 12, "15年")
    assert ex.record_id == "doc"


def test_role_taxonomy_lists_the_required_roles():
    required = {"support_period", "obligation_period", "permit_validity", "limitation_period", "reporting_period",
                "advance_support_cap", "contingency_cap", "cost_cap", "capacity_factor_cap", "subsidy_rate", "budget",
                "penalty_fine", "penalty_imprisonment", "penalty_multiple", "target_capacity", "target_year", "deadline",
                "reference_price", "emission_threshold", "project_count", "review_cycle", "reduction_target",
                "unspecified", "prepayment", "refund", "extension", "no_double_support", "obligation", "prohibition",
                "approval"}
    assert required <= set(roles())
    data = json.loads((REPO / "kb" / "data" / "roles.json").read_text("utf-8"))
    for r in data["roles"]:
        assert r.get("label"), r["key"]
        if r.get("measure", True):
            assert set(r["kinds"]) <= set(KINDS) | {"number"}, r["key"]
    rules = json.loads((REPO / "kb" / "data" / "rules.json").read_text("utf-8"))
    for k in rules["kinds"]:
        assert k.get("label") and k.get("_why"), k["key"]
        assert k["key"] not in {r["key"] for r in data["roles"]}, k["key"]  # one namespace of roles


# ---------------------------------------------------------------- robustness


HOSTILE = {
    "empty": "",
    "blank": " \n\t\n",
    "only a table": "| 項目 | 値 |\n|---|---|\n| 支援期間 | 15年 |\n| 予備費 | 最大10% |\n",
    "only a formula": "$$A1 \\times a1 + B1 \\times 110\\%以下 \\div C$$",
    "broken html": "<div><span>支援期間は<b>15年</span>とし<p <a href='x'>罰金100万円以下</div",
    "unclosed tags": "<table><tr><td>罚款5万元以上50万元以下<td>" * 50,
    "mixed scripts": "Fine 罰金100万円以下; 罚款5万元以上50万元以下; up to EUR 100,000; فارسی ١٢٣; 한국어 10년",
    "control and surrogates": "abc\ud800\udfff 5年 \x00\x1f 10% \u2028 第3条",
    "nested brackets": "（" * 3000 + "15年" + "）" * 3000,
    "many dollars": "$$" * 5000 + "15年",
    "pipes": "|" * 20000 + "\n" + "|-|" * 500,
    "long digit run": "1234567890" * 20000,
    "one long line": "支援期間は15年とし、罰金は百万円以下とする。" * 20000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input(name):
    body = HOSTILE[name]
    started = time.process_time()
    ex = extract_text(body, "h")
    assert time.process_time() - started < 20
    check_invariants(body, ex)


def test_ten_megabyte_single_line_finishes():
    body = "あいうえお漢字かな交じり文、" * (10_000_000 // 14)
    started = time.process_time()
    ex = extract_text(body, "big")
    assert time.process_time() - started < 30
    assert ex.measures == []


def test_random_text_does_not_raise():
    rng = random.Random(7)
    alphabet = "あいう漢字年月日%円万億第条项0123456789 ,.、。（）<>|$*_\n-~以上下内"
    body = "".join(rng.choice(alphabet) for _ in range(200_000))
    check_invariants(body, extract_text(body, "r"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(
        alphabet=st.sampled_from(
            list(
                "支援期間は15年とし、罰金百万円以下5%割倍吨元新臺幣第条項令和年月日前までに"
                "\n |*<>$\\timesAB12 .-~以上内应当不得shall not by 2030"
            )
        )
        | st.characters(),
        max_size=300,
    )
)
def test_property_measures_are_consistent(body):
    ex = extract_text(body, "p")
    check_invariants(body, ex)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_property_arbitrary_unicode(body):
    check_invariants(body, extract_text(body, "u"))




@pytest.mark.parametrize("country,unit", [("Canada", "CAD/t"), ("加拿大", "CAD/t"), ("Alberta", "CAD/t"),
                                          ("United States", "USD/t"), ("Atlantis", "USD/t"), (None, "USD/t")])
def test_a_bare_dollar_is_the_dollar_of_the_records_country(country, unit):
    """The record's country field (any label, alias or subdivision it accepts) names a bare $;
    an unknown or absent country leaves it the US dollar."""
    from kb.records import parse_record

    meta = {"id": "x"} | ({"country": country} if country else {})
    record = parse_record("---\n" + json.dumps(meta, ensure_ascii=False) + "\n---\nThe charge is $50 per tonne.\n")
    money = [m for m in extract(record).measures if m.kind == "money"]
    assert [(m.value, m.unit, m.surface) for m in money] == [(50.0, unit, "$50 per tonne")]
