"""Evaluation against gold folders: the shared policy-gold set (read in place, never copied) and
small folders written here to pin down the matching rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.evaluation import GoldError, evaluate, format_table, load_gold
from tests.helpers import shared


@pytest.fixture(scope="module")
def gold_dir():
    return shared("peer", "policy-gold")


@pytest.fixture(scope="module")
def gold_report(gold_dir):
    return evaluate(gold_dir)


# Ratchets: the figures main reads (issue "Extraction that holds on text it was never tuned on");
# raise a floor whenever extraction improves, never lower it.
FLOORS = {
    "quantities": {"precision": 0.97, "recall": 0.99},
    "rules": {"precision": 0.85, "recall": 0.90},
}
LANG_QUANT_RECALL = {"ja": 0.97, "zh": 0.99, "en": 0.99}
# The passages of tests/data/policy-extra, labelled before the extractor ran on them; the held-out
# third (tests/data/held-out.txt) is looked at only to check that a change generalizes. These floors
# are re-based (to the figures read when they join) when new passages join a split, and otherwise
# only raised, except where a change buys recall with less precision (its commit gives both figures).
EXTRA_FLOORS = {
    ("tune", False): (0.943, 0.931), ("tune", True): (0.874, 0.885),
    ("held", False): (0.890, 0.853), ("held", True): (0.857, 0.850),
}
KNOWN_CASE_FAILURES: set[int] = set()  # cases.jsonl line numbers that fail today, each with its reason

def test_gold_quantitative_precision_and_recall(gold_report):
    q = gold_report.total()
    assert q.gold > 0
    assert q.precision >= FLOORS["quantities"]["precision"], format_table(gold_report, details=True)
    assert q.recall >= FLOORS["quantities"]["recall"], format_table(gold_report, details=True)


def test_gold_rule_precision_and_recall(gold_report):
    r = gold_report.total(rules=True)
    assert r.gold > 0
    assert r.precision >= FLOORS["rules"]["precision"], format_table(gold_report, details=True)
    assert r.recall >= FLOORS["rules"]["recall"], format_table(gold_report, details=True)


def test_gold_every_language_is_scored(gold_report):
    assert set(gold_report.langs) >= {"ja", "zh", "en"}
    for lang, floor in LANG_QUANT_RECALL.items():
        assert gold_report.total(lang).recall >= floor, lang
    assert not gold_report.warnings  # every gold clause was found in its passage


def test_cli_eval_table_and_json(gold_dir):
    runner = CliRunner()
    table = runner.invoke(cli, ["eval", str(gold_dir)])
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0].split() == ["lang", "kind", "P", "R", "F1", "tp/pred", "tp/gold"]
    assert any(line.startswith("all") and "quantities" in line for line in table.output.splitlines())
    js = runner.invoke(cli, ["eval", str(gold_dir), "--format", "json"])
    assert js.exit_code == 0, js.output
    doc = json.loads(js.output)
    assert doc["quantitative"]["recall"] >= FLOORS["quantities"]["recall"]
    assert doc["rules"]["recall"] >= FLOORS["rules"]["recall"]
    assert {row["lang"] for row in doc["rows"]} >= {"ja", "zh", "en"}
    details = runner.invoke(cli, ["eval", str(gold_dir), "--details"])
    assert details.exit_code == 0


# ---------------------------------------------------------------- matching rules


def write_gold(root, docs: dict[str, tuple[str, str]], gold: list[dict]):
    (root / "docs").mkdir(parents=True)
    for name, (lang, passage) in docs.items():
        (root / "docs" / f"{name}.txt").write_text(f"# source: test\n# lang: {lang}\n\n{passage}", "utf-8")
    (root / "gold.jsonl").write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in gold), "utf-8")
    return root


def g(doc, clause, kind, value=None, value_max=None, unit=None, label=""):
    return {"doc": doc, "clause": clause, "kind": kind, "value": value, "value_max": value_max, "unit": unit, "label": label}


def test_one_to_one_matching_and_tolerance(tmp_path):
    clause = "改善期限は最長一年とし、必要なときは再延長一年とすることができる。"
    root = write_gold(tmp_path / "g", {"01_a": ("ja", clause + "\n")}, [
        g("01_a", clause, "duration", 1.0000000001, None, "year"),
        g("01_a", clause, "duration", 1, None, "year"),
        g("01_a", clause, "duration", 1, None, "year"),  # a third year the text does not state twice
        g("01_a", clause, "rule"),
    ])
    report = evaluate(root)
    d = report.cell("ja", "duration")
    assert (d.tp_gold, d.gold) == (2, 3) and (d.tp_pred, d.predicted) == (2, 2)
    assert report.cell("ja", "rule").tp_gold == 1
    assert len(report.misses) == 1


def test_wrong_unit_or_outside_clause_is_not_a_match(tmp_path):
    first, second = "罚款5万元以上50万元以下。", "另处罚款2万元。"
    root = write_gold(tmp_path / "g", {"02_b": ("zh", first + second)}, [
        g("02_b", first, "money", 50000, 500000, "JPY"),  # right numbers, wrong unit
        g("02_b", first, "money", 20000, None, "CNY"),  # the 2万元 is in the other clause
    ])
    report = evaluate(root)
    m = report.cell("zh", "money")
    assert m.tp_gold == 0 and m.gold == 2 and m.predicted == 2 and m.precision == 0.0
    assert len(report.spurious) == 2


def test_unknown_clause_and_doc_are_warnings(tmp_path):
    root = write_gold(tmp_path / "g", {"03_c": ("en", "The permit is valid for 10 years.")}, [
        g("03_c", "This sentence is not in the passage.", "duration", 10, None, "year"),
        g("99_missing", "x", "rule"),
    ])
    report = evaluate(root)
    assert len(report.warnings) == 2
    assert report.total().recall == 0.0 and report.total().precision == 0.0


def test_not_a_gold_folder(tmp_path):
    with pytest.raises(GoldError):
        load_gold(tmp_path)
    result = CliRunner().invoke(cli, ["eval", str(tmp_path)])
    assert result.exit_code == 2 and "not a gold folder" in result.output
    assert CliRunner().invoke(cli, ["eval", str(tmp_path / "absent")]).exit_code == 2


def test_broken_gold_line_is_reported(tmp_path):
    root = write_gold(tmp_path / "g", {"04_d": ("ja", "本文。")}, [])
    (root / "gold.jsonl").write_text('{"doc": "04_d"\n', "utf-8")
    with pytest.raises(GoldError, match=r"gold.jsonl:1"):
        load_gold(root)
    assert CliRunner().invoke(cli, ["eval", str(root)]).exit_code == 2


def test_a_second_rule_in_a_clause_needs_a_second_gold_rule(tmp_path):
    clause = "事業者は、報告しなければならず、届出をしてはならない。"
    root = write_gold(tmp_path / "g", {"05_e": ("ja", clause)}, [g("05_e", clause, "rule")])
    report = evaluate(root)
    rules = report.total(rules=True)
    assert (rules.tp_gold, rules.gold) == (1, 1)
    assert rules.predicted == 2 and rules.tp_pred == 1  # one rule line: the second rule measure is a false positive


def test_a_count_matches_whatever_its_unit_noun(tmp_path):
    clause = "共确定12个示范项目。"
    root = write_gold(tmp_path / "g", {"06_f": ("zh", clause)}, [g("06_f", clause, "count", 12, None, "demonstration project")])
    assert evaluate(root).total().recall == 1.0


def test_errors_list_each_miss_and_false_positive_with_its_clause(tmp_path):
    first, second = "罚款5万元以上50万元以下。", "另处罚款2万元。"
    root = write_gold(tmp_path / "g", {"07_g": ("zh", first + second)}, [g("07_g", first, "money", 1, None, "CNY")])
    out = CliRunner().invoke(cli, ["eval", str(root), "--errors"]).output
    assert "missed   07_g: money 1.0 None CNY" in out and f"in: {first}" in out
    assert "spurious 07_g:1: money 20000.0 None CNY '2万元'" in out and f"in: {second}" in out


def test_held_out_docs_are_reported_apart(tmp_path):
    a, b = "罚款2万元。", "罚款3万元。"
    root = write_gold(tmp_path / "g", {"08_h": ("zh", a), "09_i": ("zh", b)},
                      [g("08_h", a, "money", 20000, None, "CNY"), g("09_i", b, "money", 1, None, "CNY")])
    (tmp_path / "held.txt").write_text("# kept out\n09_*\n", "utf-8")
    result = CliRunner().invoke(cli, ["eval", str(root), "--held-out", str(tmp_path / "held.txt")])
    rows = {" ".join(line.split()[:2]): line.split()[2:5] for line in result.output.splitlines() if line.split()}
    assert rows["tune quantities"] == ["1.000", "1.000", "1.000"]
    assert rows["held quantities"] == ["0.000", "0.000", "0.000"]
    assert "held out: 09_i" in result.output


def test_case_files_report_each_failing_case(tmp_path):
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"topic": "fine", "lang": "zh", "text": "处二万元罚款。", "measures": [["money", 20000, None, "CNY"]], "rules": 0, "not": []},
        {"topic": "wrong on purpose", "lang": "zh", "text": "处二万元罚款。", "measures": [["money", 30000, None, "CNY"]],
         "rules": 1, "not": [["money", 20000, None, "CNY"]]},
    ]
    cases.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    result = CliRunner().invoke(cli, ["eval", str(cases)])
    assert result.exit_code == 0, result.output
    assert "cases   1/2 pass (50.0%)" in result.output
    assert "missing money 30000.0 None CNY" in result.output
    assert "0 rules, expected 1" in result.output and "unwanted money 20000" in result.output
    assert ":1 " not in result.output  # a passing case is not listed
    doc = json.loads(CliRunner().invoke(cli, ["eval", str(cases), "--format", "json"]).output)
    assert doc["cases"][str(cases)]["passed"] == 1 and doc["cases"][str(cases)]["failures"][0]["line"] == 2


def test_a_case_can_name_the_kind_of_its_rule(tmp_path):
    cases = tmp_path / "cases.jsonl"
    text = "事業者は、経済産業大臣の認可を受けなければならない。"
    lines = [
        {"topic": "right kind", "lang": "ja", "text": text, "measures": [["rule", "approval", None, None]], "rules": 1},
        {"topic": "wrong kind", "lang": "ja", "text": text, "measures": [["rule", "refund", None, None]]},
        {"topic": "kind barred", "lang": "ja", "text": text, "measures": [], "not": [["rule", "approval", None, None]]},
        {"topic": "other kind barred", "lang": "ja", "text": text, "measures": [["rule", None, None, None]],
         "not": [["rule", "prohibition", None, None]]},
    ]
    cases.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    result = CliRunner().invoke(cli, ["eval", str(cases)])
    assert "cases   2/4 pass (50.0%)" in result.output, result.output
    assert "missing rule[refund]" in result.output and "unwanted rule[approval] '認可を受け'" in result.output


def test_broken_case_line_is_a_usage_error(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"text": "x", "measures": [["money", 1]]}\n', "utf-8")
    result = CliRunner().invoke(cli, ["eval", str(cases)])
    assert result.exit_code == 2 and "cases.jsonl:1: not a case" in result.output


def test_gold_f1_meets_the_issue_targets(gold_report):
    assert gold_report.total().f1 >= 0.95
    assert gold_report.total(rules=True).f1 >= 0.85


def test_every_case_of_the_shared_case_file_passes():
    from kb.evaluation import format_cases, run_cases

    path = shared("peer", "policy-gold", "cases.jsonl")
    results = run_cases(path)
    assert len(results) >= 75
    failing = {r.line for r in results if not r.passed}
    assert failing <= KNOWN_CASE_FAILURES, format_cases([r for r in results if r.line in failing - KNOWN_CASE_FAILURES])


def test_passages_labelled_before_the_extractor_saw_them():
    from kb.evaluation import load_held_out

    repo = Path(__file__).resolve().parents[1]
    held = load_held_out(repo / "tests" / "data" / "held-out.txt")
    report = evaluate(repo / "tests" / "data" / "policy-extra", held_out=held)
    assert not report.warnings, report.warnings
    assert len(report.held_out) >= 6
    for (split, rules), (precision, recall) in EXTRA_FLOORS.items():
        score = report.split_total(split, rules)
        assert score.precision >= precision and score.recall >= recall, (split, rules, score)


def test_passages_read_alike_without_their_country(tmp_path):
    """Real passages often come without a country (the shared gold has none): read in the country the
    text shows, the dev passages score the same with their `# country:` lines removed."""
    import shutil

    repo = Path(__file__).resolve().parents[1]
    plain = tmp_path / "policy-extra"
    shutil.copytree(repo / "tests" / "data" / "policy-extra", plain)
    stripped = 0
    for doc in (plain / "docs").glob("*.txt"):
        lines = doc.read_text("utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith("# country:")]
        stripped += len(lines) - len(kept)
        doc.write_text("".join(kept), "utf-8")
    assert stripped >= 100
    with_country = evaluate(repo / "tests" / "data" / "policy-extra")
    without = evaluate(plain)
    for rules in (False, True):
        a, b = with_country.total(rules=rules), without.total(rules=rules)
        assert abs(a.precision - b.precision) <= 0.005 and abs(a.recall - b.recall) <= 0.005, (rules, a, b)


def test_the_grammar_case_file_passes():
    """tests/cases/extract/cases.jsonl: one phenomenon a line (conversion debris, tables, date forms
    and relations, rates, rule exclusions), written for this project."""
    from kb.evaluation import format_cases, run_cases

    path = Path(__file__).resolve().parent / "cases" / "extract" / "cases.jsonl"
    results = run_cases(path)
    assert len(results) >= 39
    failing = [r for r in results if not r.passed]
    assert not failing, format_cases(failing)


# Roles: the share of quantitative measures no role names. The issue asks under 10% on the dev set;
# the shared passages meet it; all dev passages together are held to the figure read when the last passages joined (a ratchet).
UNSPECIFIED_CEILING = {"shared": 0.05, "all": 0.0995}


def _unspecified_share(folders) -> float:
    from kb.extract import extract_text

    found = [m for folder in folders for d in load_gold(folder)[0]
             for m in extract_text(d.passage, d.name, country=d.country).measures if m.kind != "rule"]
    assert found
    return sum(m.role == "unspecified" for m in found) / len(found)


def test_roles_name_nearly_every_quantitative_measure(gold_dir):
    extra = Path(__file__).resolve().parent / "data" / "policy-extra"
    assert _unspecified_share([gold_dir]) < UNSPECIFIED_CEILING["shared"]
    assert _unspecified_share([gold_dir, extra]) < UNSPECIFIED_CEILING["all"]
