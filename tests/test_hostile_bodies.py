"""Hang guards: hostile bodies that once made a stage quadratic go through the whole extraction in
a child process with a generous timeout (their timing lives in bench/micro.py, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = 200_000

# name -> a Python expression building the body from N (run in the child process)
SHAPES = {
    "sentence enders": '"." * (N - 1) + "x"',
    "blanks after an ATX heading": '"# a" + " " * (N - 5) + "b#"',
    "ideographic spaces between CJK": '"字\\u3000" * (N // 2)',
    "digits": '"1" * N',
    "commas": '"1," * (N // 2)',
    "CJK numerals": '"一二三四五六七八九十" * (N // 10)',
    "list markers": '"1. " * (N // 3)',
    "soft line breaks": '"字\\n" * (N // 2)',
    "blank runs without a line break": '"字" + " " * N + "字"',
    "modal words in one clause": '"应当不得可以" * (N // 6)',
    "dates in one clause": '"2030年から" * (N // 7)',
    "figures in one table row": '"| " + "1 2 3 | " * (N // 8)',
    "month names": '"May 1, " * (N // 7)',
    "yearly flows after frequency words": '"每年减排1万吨，" * (N // 8)',
    "space-grouped and decimal-comma figures": '"1 000 2,5 0,1 " * (N // 14)',
    "HTML table cells in one row": '"<tr>" + "<td>1 000</td>" * (N // 14) + "</tr>"',
    "label-value lines": '"補助率\\u3000\\u30001/2以内\\n" * (N // 12)',
    "quoted sentences with modals": '"「企業應申報。」" * (N // 8)',
}

CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from kb.extract import extract_text
from tests.contracts import check_extraction
N = int(sys.argv[2])
out = {}
for name, expr in json.loads(sys.argv[3]).items():
    body = eval(expr)
    ex = extract_text(body)
    check_extraction(body, ex)
    out[name] = len(ex.clauses)
print(json.dumps(out))
"""


def test_hostile_bodies_finish():
    done = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(SIZE), json.dumps(SHAPES)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(json.loads(done.stdout)) == set(SHAPES)
