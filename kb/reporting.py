"""Rendering findings. Each reporter is a function (findings, files_checked, only_summary=False) ->
str; the CLI picks one by name, so adding a format means adding one function to REPORTERS. Every
format ends with the counts per rule and the totals; `only_summary` leaves the findings out."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from kb import regex_cache
from kb.validation import ERROR, WARNING, Finding


def summary(findings: Sequence[Finding], files: int) -> dict:
    counts = Counter(f.severity for f in findings)
    bad_files = len({f.path for f in findings if f.severity == ERROR})
    return {"files": files, "errors": counts[ERROR], "warnings": counts[WARNING], "files_with_errors": bad_files,
            "rules": {c.rule: {"severity": c.severity, "findings": c.findings, "files": c.files} for c in rule_counts(findings)}}


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule: str
    severity: str  # "error" when any of its findings is an error (--strict makes them all errors)
    findings: int
    files: int


def rule_counts(findings: Sequence[Finding]) -> list[RuleCount]:
    """Findings and files per rule: errors first, then the most frequent."""
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    counts = [RuleCount(rule, ERROR if any(f.severity == ERROR for f in fs) else WARNING, len(fs), len({f.path for f in fs}))
              for rule, fs in by_rule.items()]
    return sorted(counts, key=lambda c: (c.severity != ERROR, -c.findings, c.rule))


def rule_table(findings: Sequence[Finding]) -> list[str]:
    """The per-rule counts as aligned lines (none when there is no finding)."""
    counts = rule_counts(findings)
    if not counts:
        return []
    rows = [("rule", "severity", "findings", "files"), *((c.rule, c.severity, f"{c.findings:,}", f"{c.files:,}") for c in counts)]
    return aligned(rows, right={2, 3})


def width(s: str) -> int:
    """Display width: East Asian wide and full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def aligned(rows: Sequence[Sequence[str]], right: frozenset[int] | set[int] = frozenset()) -> list[str]:
    """Rows of cells as lines of columns two spaces apart, padded by display width (columns in
    `right` flush right), trailing blanks dropped."""
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []

    def pad(cell: str, i: int) -> str:
        fill = " " * (widths[i] - width(cell))
        return fill + cell if i in right else cell + fill

    return ["  ".join(pad(cell, i) for i, cell in enumerate(row)).rstrip() for row in rows]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# What a terminal or a log viewer would act on instead of showing: control characters (a newline
# in a file name forges a line; ESC starts a colour or cursor sequence), DEL, C1 controls, the
# zero-width and bidi controls that hide or reorder text (U+202E), line separators, a BOM and lone
# surrogates. Each is shown as its escape.
_UNSAFE = regex_cache.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def visible(s: str) -> str:
    """s as one printable line: every unsafe character written as its escape (\\n, \\x1b, \\u202e)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s)


def text(findings: Sequence[Finding], files: int, only_summary: bool = False) -> str:
    lines = [] if only_summary else [f"{visible(f.path)}:{f.line}:{f.col}: {f.severity} {f.rule}: {visible(_one_line(f.message))}"
                                     for f in findings]
    table = rule_table(findings)
    lines += [""] * bool(lines and table) + table
    s = summary(findings, files)
    verdict = "ok" if not s["errors"] else f"{_plural(s['files_with_errors'], 'file')} with errors"
    lines.append(f"{_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')} in {_plural(files, 'file')} checked: {verdict}")
    return "\n".join(lines)


def as_json(findings: Sequence[Finding], files: int, only_summary: bool = False) -> str:
    doc = {} if only_summary else {"findings": [asdict(f) for f in findings]}
    return json.dumps({**doc, "summary": summary(findings, files)}, ensure_ascii=False, indent=2)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(findings: Sequence[Finding], files: int, only_summary: bool = False) -> str:
    """GitHub Actions workflow commands, so findings appear as annotations on the pull request;
    the per-rule counts and the totals are plain lines of the job's log."""
    out = []
    for f in () if only_summary else findings:
        level = "error" if f.severity == ERROR else "warning"
        props = f"file={_escape_property(visible(f.path))},line={f.line},col={f.col},title={_escape_property(f.rule)}"
        out.append(f"::{level} {props}::{_escape_data(visible(f.message))}")
    out += rule_table(findings)
    s = summary(findings, files)
    out.append(f"{_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')} in {_plural(files, 'file')} checked")
    return "\n".join(out)


def _one_line(s: str) -> str:
    return " ".join(s.split())


REPORTERS: dict[str, Callable[..., str]] = {"text": text, "json": as_json, "github": github}
