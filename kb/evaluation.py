"""Precision and recall of the measure extractor against a hand-labelled gold folder.

Folder layout (as ../shared/peer/policy-gold/): `docs/NN_name.txt` holds three header lines
(`# source: …`, `# lang: …`, blank) and then the passage; `gold.jsonl` holds one measure a line with
`doc, clause, kind, value, value_max, unit, label`. The gold clause is verbatim passage text, so its
span is found by searching it.

Matching is one-to-one (a predicted measure can satisfy one gold measure only, so two gold
measures of 1 year in one clause need two predictions):
- a quantitative gold measure is found by a predicted measure of the same kind and unit whose
  value and value_max agree within a small relative tolerance and whose span overlaps the gold
  clause;
- a gold rule is found by a predicted rule measure overlapping the clause.
Recall counts gold measures found under that one-to-one assignment; precision counts predicted
measures that satisfy the criteria for at least one gold measure (a clause stating both an
obligation and an approval requirement holds two correct rules even if the analyst labelled one).
Quantitative measures and rules are reported separately, per language and per kind.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from kb.measures import Measure, extract_text

__all__ = ["GoldError", "Score", "Report", "evaluate", "load_gold", "format_table"]

HEADER_LINES = 3
TOLERANCE = 1e-6


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


@dataclass
class Score:
    tp_pred: int = 0  # predicted measures that found a gold measure
    predicted: int = 0
    tp_gold: int = 0  # gold measures found
    gold: int = 0

    def add(self, other: "Score") -> None:
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
    misses: list[dict] = field(default_factory=list)  # gold measures not found
    spurious: list[dict] = field(default_factory=list)  # predicted measures that found nothing (non-rule)
    warnings: list[str] = field(default_factory=list)

    def cell(self, lang: str, kind: str) -> Score:
        return self.cells.setdefault((lang, kind), Score())

    def total(self, lang: str | None = None, rules: bool = False) -> Score:
        out = Score()
        for (lg, kind), s in self.cells.items():
            if (lang is None or lg == lang) and (kind == "rule") == rules:
                out.add(s)
        return out

    @property
    def langs(self) -> list[str]:
        return sorted({lg for lg, _ in self.cells})

    def as_dict(self) -> dict:
        rows = [{"lang": lg, "kind": k, **s.as_dict()} for (lg, k), s in sorted(self.cells.items())]
        return {
            "rows": rows,
            "by_lang": {lg: {"quantitative": self.total(lg).as_dict(), "rules": self.total(lg, True).as_dict()} for lg in self.langs},
            "quantitative": self.total().as_dict(),
            "rules": self.total(rules=True).as_dict(),
            "misses": self.misses,
            "spurious": self.spurious,
            "warnings": self.warnings,
        }


# ------------------------------------------------------------------------------ loading


def load_gold(folder: str | Path) -> tuple[list[GoldDoc], list[GoldMeasure]]:
    folder = Path(folder)
    docs_dir, gold_file = folder / "docs", folder / "gold.jsonl"
    if not docs_dir.is_dir() or not gold_file.is_file():
        raise GoldError(f"{folder} is not a gold folder: it needs docs/ and gold.jsonl")
    docs = []
    for p in sorted(docs_dir.glob("*.txt")):
        try:
            text = p.read_text(encoding="utf-8").removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError) as exc:
            raise GoldError(f"{p}: cannot read: {exc}") from None
        parts = text.split("\n", HEADER_LINES)
        header, passage = parts[:HEADER_LINES], parts[HEADER_LINES] if len(parts) > HEADER_LINES else ""
        lang = next((h.split(":", 1)[1].strip() for h in header if h.lower().startswith("# lang:")), "") or "und"
        docs.append(GoldDoc(p.stem, lang, passage))
    gold = []
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


def _matches(g: GoldMeasure, spans: list[tuple[int, int]], m: Measure, tol: float) -> bool:
    if not any(m.start < b and a < m.end for a, b in spans):
        return False
    if g.kind == "rule":
        return m.kind == "rule"
    return (m.kind == g.kind and (m.unit or None) == (g.unit or None)
            and _close(m.value, g.value, tol) and _close(m.value_max, g.value_max, tol))


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


def evaluate(folder: str | Path, tolerance: float = TOLERANCE) -> Report:
    docs, gold = load_gold(folder)
    report = Report()
    by_doc: dict[str, list[GoldMeasure]] = {}
    for g in gold:
        by_doc.setdefault(g.doc, []).append(g)
    known = {d.name for d in docs}
    for name in sorted(set(by_doc) - known):
        report.warnings.append(f"gold names doc {name!r}, which docs/ does not hold")
    for d in docs:
        golds = by_doc.get(d.name, [])
        predicted = extract_text(d.passage, d.name).measures
        spans = []
        for g in golds:
            s = _spans(d.passage, g.clause)
            if not s:
                report.warnings.append(f"{d.name}: gold clause not found in the passage: {g.clause[:40]}…")
            spans.append(s)
        edges = [[j for j, m in enumerate(predicted) if _matches(g, s, m, tolerance)] for g, s in zip(golds, spans)]
        assigned = _assign(edges, len(predicted))
        for g, j in zip(golds, assigned):
            cell = report.cell(d.lang, g.kind)
            cell.gold += 1
            if j is not None:
                cell.tp_gold += 1
            else:
                report.misses.append({"doc": d.name, "kind": g.kind, "value": g.value, "value_max": g.value_max,
                                      "unit": g.unit, "label": g.label, "clause": g.clause})
        hits = {j for row in edges for j in row}
        for j, m in enumerate(predicted):
            cell = report.cell(d.lang, m.kind)
            cell.predicted += 1
            if j in hits:
                cell.tp_pred += 1
            elif m.kind != "rule":
                report.spurious.append({"doc": d.name, "kind": m.kind, "role": m.role, "value": m.value,
                                        "value_max": m.value_max, "unit": m.unit, "surface": m.surface, "line": m.line})
    return report


# ------------------------------------------------------------------------------ output


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def format_table(report: Report, details: bool = False) -> str:
    head = f"{'lang':<8}{'kind':<14}{'P':>7}{'R':>7}{'F1':>7}{'tp/pred':>10}{'tp/gold':>10}"
    lines = [head, "-" * len(head)]

    def row(lang: str, kind: str, s: Score) -> str:
        return (f"{lang:<8}{kind:<14}{_f(s.precision):>7}{_f(s.recall):>7}{_f(s.f1):>7}"
                f"{f'{s.tp_pred}/{s.predicted}':>10}{f'{s.tp_gold}/{s.gold}':>10}")

    for lang in report.langs:
        for (lg, kind), s in sorted(report.cells.items()):
            if lg == lang and kind != "rule":
                lines.append(row(lang, kind, s))
        lines.append(row(lang, "= quantities", report.total(lang)))
        lines.append(row(lang, "= rules", report.total(lang, rules=True)))
        lines.append("")
    lines.append(row("all", "quantities", report.total()))
    lines.append(row("all", "rules", report.total(rules=True)))
    if details:
        for m in report.misses:
            lines.append(f"missed   {m['doc']}: {m['kind']} {m['value']} {m['value_max']} {m['unit']} ({m['label']})")
        for m in report.spurious:
            lines.append(f"spurious {m['doc']}:{m['line']}: {m['kind']} {m['value']} {m['value_max']} {m['unit']} {m['surface']!r} [{m['role']}]")
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines)
