"""Precision and recall of the measure extractor against hand-labelled text, and case files.

Gold folder layout (as ../shared/peer/policy-gold/): `docs/NN_name.txt` holds header lines
(`# source: …`, `# lang: …`, optionally `# country: CA`, the jurisdiction as a record's country
field gives it), a blank line and then the passage; `gold.jsonl` (or several `gold*.jsonl`)
holds one measure a line with `doc, clause, kind, value, value_max, unit, label`. The gold clause is
verbatim passage text, so its span is found by searching it.

Matching follows the gold README: one-to-one, both ways. A quantitative gold measure is matched by
a predicted measure of the same kind whose span overlaps the gold clause and whose value, value_max
and unit agree (values within a small relative tolerance; a count matches whatever its unit noun).
A gold rule is matched by a predicted rule overlapping its clause. Each predicted measure matches at
most one gold line, so a second rule in a clause is correct only when the clause holds a second gold
rule; a predicted measure left unmatched is a false positive. Quantitative measures and rules are
reported apart, per language and per kind.

Case files (`cases.jsonl`): one short sentence a line with the measures it must yield, how many
rule measures (or null), and measures it must not yield (optionally the `country` it is from); a
case passes when all three hold.
"""

from __future__ import annotations

import fnmatch
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from kb.extract import Measure, extract_text

__all__ = ["GoldError", "Score", "Report", "CaseResult", "evaluate", "load_gold", "load_held_out", "run_cases",
           "format_table", "format_cases"]

TOLERANCE = 1e-6
SPLITS = ("tune", "held")


class GoldError(Exception):
    """The folder is not a gold folder (no docs/ or gold.jsonl, or an unreadable line)."""


@dataclass(frozen=True, slots=True)
class GoldMeasure:
    doc: str
    clause: str
    kind: str
    value: float | None
    value_max: float | None
    unit: str | None
    label: str


@dataclass(frozen=True, slots=True)
class GoldDoc:
    name: str
    lang: str
    passage: str
    country: str | None = None


@dataclass
class Score:
    tp_pred: int = 0  # predicted measures matched to a gold measure
    predicted: int = 0
    tp_gold: int = 0  # gold measures found
    gold: int = 0

    def add(self, other: Score) -> None:
        self.tp_pred += other.tp_pred
        self.predicted += other.predicted
        self.tp_gold += other.tp_gold
        self.gold += other.gold

    @property
    def precision(self) -> float | None:
        return self.tp_pred / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.tp_gold / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)

    def as_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "tp_predicted": self.tp_pred,
                "predicted": self.predicted, "tp_gold": self.tp_gold, "gold": self.gold}


@dataclass
class Report:
    cells: dict[tuple[str, str], Score] = field(default_factory=dict)  # (lang, kind) -> score
    split_cells: dict[tuple[str, str], Score] = field(default_factory=dict)  # (split, kind) -> score
    misses: list[dict] = field(default_factory=list)  # gold measures not found
    spurious: list[dict] = field(default_factory=list)  # predicted measures that matched nothing
    warnings: list[str] = field(default_factory=list)
    held_out: frozenset = frozenset()  # doc names kept out of tuning

    def cell(self, lang: str, kind: str) -> Score:
        return self.cells.setdefault((lang, kind), Score())

    def total(self, lang: str | None = None, rules: bool = False) -> Score:
        out = Score()
        for (lg, kind), s in self.cells.items():
            if (lang is None or lg == lang) and (kind == "rule") == rules:
                out.add(s)
        return out

    def split_total(self, split: str, rules: bool = False) -> Score:
        out = Score()
        for (sp, kind), s in self.split_cells.items():
            if sp == split and (kind == "rule") == rules:
                out.add(s)
        return out

    def _count(self, doc: str, lang: str, kind: str, **delta: int) -> None:
        split = "held" if doc in self.held_out else "tune"
        for s in (self.cell(lang, kind), self.split_cells.setdefault((split, kind), Score())):
            for k, v in delta.items():
                setattr(s, k, getattr(s, k) + v)

    @property
    def langs(self) -> list[str]:
        return sorted({lg for lg, _ in self.cells})

    def as_dict(self) -> dict:
        rows = [{"lang": lg, "kind": k, **s.as_dict()} for (lg, k), s in sorted(self.cells.items())]
        out = {
            "rows": rows,
            "by_lang": {lg: {"quantitative": self.total(lg).as_dict(), "rules": self.total(lg, True).as_dict()} for lg in self.langs},
            "quantitative": self.total().as_dict(),
            "rules": self.total(rules=True).as_dict(),
            "misses": self.misses,
            "spurious": self.spurious,
            "warnings": self.warnings,
        }
        if self.held_out:
            out["splits"] = {sp: {"quantitative": self.split_total(sp).as_dict(), "rules": self.split_total(sp, True).as_dict()}
                             for sp in SPLITS}
        return out


# ------------------------------------------------------------------------------ loading


def load_gold(folder: str | Path) -> tuple[list[GoldDoc], list[GoldMeasure]]:
    """The passages of a gold folder and its measures (from gold.jsonl, or every gold*.jsonl)."""
    folder = Path(folder)
    docs_dir = folder / "docs"
    gold_files = sorted(folder.glob("gold*.jsonl")) if folder.is_dir() else []
    if not docs_dir.is_dir() or not gold_files:
        raise GoldError(f"{folder} is not a gold folder: it needs docs/ and gold.jsonl")
    docs = []
    for p in sorted(docs_dir.glob("*.txt")):
        try:
            text = p.read_text(encoding="utf-8").removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError) as exc:
            raise GoldError(f"{p}: cannot read: {exc}") from None
        header, passage = _header(text)
        docs.append(GoldDoc(p.stem, header.get("lang") or "und", passage, header.get("country") or None))
    gold = []
    for gold_file in gold_files:
        try:
            lines = gold_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise GoldError(f"{gold_file}: cannot read: {exc}") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                gold.append(GoldMeasure(str(d["doc"]), str(d["clause"]), str(d["kind"]), _num(d.get("value")),
                                        _num(d.get("value_max")), d.get("unit"), str(d.get("label", ""))))
            except (ValueError, KeyError, TypeError) as exc:
                raise GoldError(f"{gold_file}:{n}: not a gold measure: {exc}") from None
    return docs, gold


def _header(text: str) -> tuple[dict[str, str], str]:
    """The `# key: value` lines a doc starts with (keys lower-cased), and the passage after the
    blank line that ends them."""
    lines = text.split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith("# ") and ":" in lines[n]:
        n += 1
    if n < len(lines) and not lines[n].strip():
        n += 1
    header = {}
    for line in lines[:n]:
        key, _, value = line[2:].partition(":")
        if value:
            header[key.strip().lower()] = value.strip()
    parts = text.split("\n", n)
    return header, parts[n] if len(parts) > n else ""


def load_held_out(path: str | Path) -> frozenset:
    """Doc-name patterns (fnmatch) of a held-out list: one a line, '#' starts a comment."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot read: {exc}") from None
    return frozenset(p for line in lines if (p := line.split("#", 1)[0].strip()))


def _num(v) -> float | None:
    if v is None:
        return None
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{v!r} is not a finite number")
    return f


# ------------------------------------------------------------------------------ scoring


def _close(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _spans(passage: str, clause: str) -> list[tuple[int, int]]:
    out, at = [], 0
    while clause and (i := passage.find(clause, at)) >= 0:
        out.append((i, i + len(clause)))
        at = i + 1
    return out


def same_measure(kind: str, value, value_max, unit, m: Measure, tol: float = TOLERANCE) -> bool:
    """Whether m states this measure (a count matches whatever its unit noun; a rule any rule)."""
    if m.kind != kind:
        return False
    if kind == "rule":
        return True
    return ((kind == "count" or (m.unit or None) == (unit or None))
            and _close(m.value, value, tol) and _close(m.value_max, value_max, tol))


def _matches(g: GoldMeasure, spans: list[tuple[int, int]], m: Measure, tol: float) -> bool:
    return any(m.start < b and a < m.end for a, b in spans) and same_measure(g.kind, g.value, g.value_max, g.unit, m, tol)


def _assign(edges: list[list[int]], n_pred: int) -> list[int | None]:
    """Maximum one-to-one matching (Kuhn's augmenting paths): gold i -> predicted index."""
    owner: list[int | None] = [None] * n_pred

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if owner[j] is None or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(edges)):
        augment(i, set())
    result: list[int | None] = [None] * len(edges)
    for j, i in enumerate(owner):
        if i is not None:
            result[i] = j
    return result


def evaluate(folders, tolerance: float = TOLERANCE, held_out=frozenset()) -> Report:
    """Score the extractor on one gold folder or several; held_out names (fnmatch patterns) the
    docs reported apart as the held-out split."""
    if isinstance(folders, (str, Path)):
        folders = [folders]
    docs, gold = [], []
    for folder in folders:
        d, g = load_gold(folder)
        docs += d
        gold += g
    report = Report(held_out=frozenset(d.name for d in docs if any(fnmatch.fnmatch(d.name, p) for p in held_out)))
    by_doc: dict[str, list[GoldMeasure]] = {}
    for g in gold:
        by_doc.setdefault(g.doc, []).append(g)
    known = {d.name for d in docs}
    for name in sorted(set(by_doc) - known):
        report.warnings.append(f"gold names doc {name!r}, which docs/ does not hold")
    for d in docs:
        _score_doc(d, by_doc.get(d.name, []), report, tolerance)
    return report


def _score_doc(d: GoldDoc, golds: list[GoldMeasure], report: Report, tolerance: float) -> None:
    extraction = extract_text(d.passage, d.name, country=d.country)
    predicted = extraction.measures
    clause_text = {c.id: c.text for c in extraction.clauses}
    spans = []
    for g in golds:
        s = _spans(d.passage, g.clause)
        if not s:
            report.warnings.append(f"{d.name}: gold clause not found in the passage: {g.clause[:40]}…")
        spans.append(s)
    edges = [[j for j, m in enumerate(predicted) if _matches(g, s, m, tolerance)] for g, s in zip(golds, spans)]
    assigned = _assign(edges, len(predicted))
    for g, j in zip(golds, assigned):
        report._count(d.name, d.lang, g.kind, gold=1, tp_gold=int(j is not None))
        if j is None:
            report.misses.append({"doc": d.name, "kind": g.kind, "value": g.value, "value_max": g.value_max,
                                  "unit": g.unit, "label": g.label, "clause": g.clause})
    matched = {j for j in assigned if j is not None}
    for j, m in enumerate(predicted):
        report._count(d.name, d.lang, m.kind, predicted=1, tp_pred=int(j in matched))
        if j not in matched:
            report.spurious.append({"doc": d.name, "kind": m.kind, "role": m.role, "value": m.value,
                                    "value_max": m.value_max, "unit": m.unit, "surface": m.surface, "line": m.line,
                                    "clause": clause_text.get(m.clause_id, "")})


# ------------------------------------------------------------------------------ case files


@dataclass(frozen=True, slots=True)
class CaseResult:
    line: int
    topic: str
    lang: str
    text: str
    problems: tuple[str, ...]  # empty when the case passes

    @property
    def passed(self) -> bool:
        return not self.problems


def is_case_file(path: str | Path) -> bool:
    return Path(path).is_file() and Path(path).suffix == ".jsonl"


def run_cases(path: str | Path, tolerance: float = TOLERANCE) -> list[CaseResult]:
    """Run every case of a cases.jsonl file: each expected measure found (one-to-one), the number of
    rule measures as stated (unless null), and no measure of the `not` list."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot read: {exc}") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            text = str(case["text"])
            expected = [_case_measure(x) for x in case.get("measures", [])]
            forbidden = [_case_measure(x) for x in case.get("not", [])]
            rules = case.get("rules")
            if rules is not None and not isinstance(rules, int):
                raise TypeError("rules must be a whole number or null")
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise GoldError(f"{path}:{n}: not a case: {exc}") from None
        country = case.get("country")
        found = extract_text(text, country=country if isinstance(country, str) else None).measures
        out.append(CaseResult(n, str(case.get("topic", "")), str(case.get("lang", "")), text,
                              tuple(_case_problems(found, expected, forbidden, rules, tolerance))))
    return out


def _case_measure(x) -> tuple:
    kind, value, value_max, unit = x
    if kind == "rule":  # ["rule", KIND or null, null, null]: a rule of that kind (null: any)
        return "rule", None if value is None else str(value), None, None
    return str(kind), _num(value), _num(value_max), unit


def _case_match(kind: str, value, value_max, unit, m: Measure, tol: float) -> bool:
    if kind == "rule":
        return m.kind == "rule" and (value is None or m.role == value)
    return same_measure(kind, value, value_max, unit, m, tol)


def _show(m: Measure) -> str:
    if m.kind == "rule":
        return f"rule[{m.role}] {m.surface!r}"
    rng = f"{m.value:g}" if m.value is not None else "None"
    rng += f"-{m.value_max:g}" if m.value_max is not None else ""
    return f"{m.kind} {rng} {m.unit} {m.surface!r}"


def _case_problems(found: list[Measure], expected, forbidden, rules, tol) -> list[str]:
    edges = [[j for j, m in enumerate(found) if _case_match(*e, m, tol)] for e in expected]
    problems = [f"missing {k} {v} {vm} {u}" if k != "rule" else f"missing rule[{v}]"
                for (k, v, vm, u), j in zip(expected, _assign(edges, len(found))) if j is None]
    n_rules = sum(m.kind == "rule" for m in found)
    if rules is not None and n_rules != rules:
        got = ", ".join(_show(m) for m in found if m.kind == "rule") or "none"
        problems.append(f"{n_rules} rules, expected {rules} ({got})")
    for k, v, vm, u in forbidden:
        bad = [m for m in found if m.kind == k and (v is None or _case_match(k, v, vm, u, m, tol))]
        problems += [f"unwanted {_show(m)}" for m in bad]
    return problems


# ------------------------------------------------------------------------------ output


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _row(lang: str, kind: str, s: Score) -> str:
    return (f"{lang:<8}{kind:<14}{_f(s.precision):>7}{_f(s.recall):>7}{_f(s.f1):>7}"
            f"{f'{s.tp_pred}/{s.predicted}':>10}{f'{s.tp_gold}/{s.gold}':>10}")


def format_table(report: Report, details: bool = False) -> str:
    """P/R/F1 per language and kind, the totals (`all …` lines), the held-out split when there is one,
    and with details each miss and false positive with its clause."""
    head = f"{'lang':<8}{'kind':<14}{'P':>7}{'R':>7}{'F1':>7}{'tp/pred':>10}{'tp/gold':>10}"
    lines = [head, "-" * len(head)]
    for lang in report.langs:
        for (lg, kind), s in sorted(report.cells.items()):
            if lg == lang and kind != "rule":
                lines.append(_row(lang, kind, s))
        lines.append(_row(lang, "= quantities", report.total(lang)))
        lines.append(_row(lang, "= rules", report.total(lang, rules=True)))
        lines.append("")
    lines.append(_row("all", "quantities", report.total()))
    lines.append(_row("all", "rules", report.total(rules=True)))
    if report.held_out:
        lines.append("")
        for sp in SPLITS:
            lines.append(_row(sp, "quantities", report.split_total(sp)))
            lines.append(_row(sp, "rules", report.split_total(sp, rules=True)))
        lines.append(f"held out: {', '.join(sorted(report.held_out))}")
    if details:
        for m in report.misses:
            lines.append(f"missed   {m['doc']}: {m['kind']} {m['value']} {m['value_max']} {m['unit']} ({m['label']})")
            lines.append(f"           in: {m['clause']}")
        for m in report.spurious:
            lines.append(f"spurious {m['doc']}:{m['line']}: {m['kind']} {m['value']} {m['value_max']} {m['unit']} "
                         f"{m['surface']!r} [{m['role']}]")
            lines.append(f"           in: {m['clause']}")
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines)


def format_cases(results: list[CaseResult], path: str = "", details: bool = False) -> str:
    """One line per failing case (every case with details), then `cases  passed/total`."""
    lines = []
    for r in results:
        if r.passed and not details:
            continue
        mark = "ok  " if r.passed else "FAIL"
        lines.append(f"{mark} {path}:{r.line} [{r.lang}] {r.topic}: {r.text}")
        lines += [f"       {p}" for p in r.problems]
    passed = sum(r.passed for r in results)
    share = passed / len(results) if results else 0.0
    lines.append(f"cases   {passed}/{len(results)} pass ({share:.1%}){f' in {path}' if path else ''}")
    return "\n".join(lines)
