"""Rendering findings. Each reporter is a function (findings, files_checked) -> str; the CLI picks
one by name, so adding a format means adding one function to REPORTERS."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict
from typing import Callable, Sequence

from kb.validation import ERROR, WARNING, Finding


def summary(findings: Sequence[Finding], files: int) -> dict:
    counts = Counter(f.severity for f in findings)
    bad_files = len({f.path for f in findings if f.severity == ERROR})
    return {"files": files, "errors": counts[ERROR], "warnings": counts[WARNING], "files_with_errors": bad_files}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# What a terminal or a log viewer would act on instead of showing: control characters (a newline
# in a file name forges a line; ESC starts a colour or cursor sequence), DEL, C1 controls, the
# zero-width and bidi controls that hide or reorder text (U+202E), line separators, a BOM and lone
# surrogates. Each is shown as its escape.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def visible(s: str) -> str:
    """s as one printable line: every unsafe character written as its escape (\\n, \\x1b, \\u202e)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s)


def text(findings: Sequence[Finding], files: int) -> str:
    lines = [f"{visible(f.path)}:{f.line}:{f.col}: {f.severity} {f.rule}: {visible(_one_line(f.message))}" for f in findings]
    s = summary(findings, files)
    verdict = "ok" if not s["errors"] else f"{_plural(s['files_with_errors'], 'file')} with errors"
    lines.append(f"{_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')} in {_plural(files, 'file')} checked: {verdict}")
    return "\n".join(lines)


def as_json(findings: Sequence[Finding], files: int) -> str:
    return json.dumps({"findings": [asdict(f) for f in findings], "summary": summary(findings, files)}, ensure_ascii=False, indent=2)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(findings: Sequence[Finding], files: int) -> str:
    """GitHub Actions workflow commands, so findings appear as annotations on the pull request."""
    out = []
    for f in findings:
        level = "error" if f.severity == ERROR else "warning"
        props = f"file={_escape_property(visible(f.path))},line={f.line},col={f.col},title={_escape_property(f.rule)}"
        out.append(f"::{level} {props}::{_escape_data(visible(f.message))}")
    s = summary(findings, files)
    out.append(f"{_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')} in {_plural(files, 'file')} checked")
    return "\n".join(out)


def _one_line(s: str) -> str:
    return " ".join(s.split())


REPORTERS: dict[str, Callable[[Sequence[Finding], int], str]] = {"text": text, "json": as_json, "github": github}
