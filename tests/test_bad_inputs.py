"""Malformed and hostile input through `validate`, `build` and `extract`, each in its own process.

tests/cases/bad/ holds the small files; `generate()` below writes the large or odd ones (deep
nesting, 200,000-item arrays, a 10 MB line, a 17 MiB sparse file, symlink loops) into the same
temporary copy at test time so nothing big is committed. `expected.tsv` lists every file of the
assembled folder with each finding `policy-kb validate` must give for it (file, rule, line, col);
rule `-` marks a file that must come through clean. A finding repeats when the file has it more
than once (one `schema.required` per missing field).

Every command runs under `subprocess.run(timeout=180)`: a hang fails the test instead of stalling
the suite. The assertions are about robustness: no traceback, the documented exit codes, one-line
errors, and the other files of the folder still processed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kb.records import count_record_files, iter_record_files
from tests.helpers import CASES, REPO

BAD = CASES / "bad"
TIMEOUT = 180  # seconds: a hang guard, not a performance budget (the 10 MB line takes ~45 s here)
# Anything a terminal would act on: C0 controls other than newline/tab, DEL, C1 controls, and the
# invisible or direction-changing characters that make a printed path or id lie.
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _meta(rid: str, **extra) -> dict:
    m = {"id": rid, "lang": "en", "title": "A title", "country": "Japan", "category": "Incentive",
         "status": "Active", "year": 2024, "pubDate": "2024-06-01", "source": "METI",
         "url": "https://example.org/a", "reviewStatus": "draft", "provenance": {"author": "tester"}}
    return {**m, **extra}


_YAML_HEAD = ("id: {}\nlang: en\ntitle: A title\ncountry: Japan\ncategory: Incentive\nstatus: Active\nyear: 2024\n"
              "pubDate: 2024-06-01\nsource: METI\nurl: https://example.org/a\nreviewStatus: draft\n"
              "provenance:\n  author: tester\n")


def generate(folder: Path) -> None:
    """Write the inputs too big or too odd to commit. Their expected findings are in expected.tsv."""
    def write(name: str, frontmatter: str, body: str = "Body.\n") -> None:
        (folder / name).write_text(f"---\n{frontmatter}\n---\n{body}", encoding="utf-8")

    n = 10_000
    write("json-deep-10000.md", json.dumps(_meta("json-deep-10000"))[:-1] + ', "description": ' + "[" * n + "]" * n + "}")
    write("yaml-deep-flow-10000.md", _YAML_HEAD.format("yaml-deep-flow-10000") + "description: " + "[" * n + "]" * n)
    write("yaml-deep-block-10000.md", _YAML_HEAD.format("yaml-deep-block-10000") + "description:\n" + "- " * n + "x")
    write("yaml-deep-indent-500.md", _YAML_HEAD.format("yaml-deep-indent-500")
          + "".join("  " * i + "a:\n" for i in range(500)) + "  " * 500 + "x")
    # 10**5000: more digits than Python converts by default (4,300).
    write("json-huge-int.md", json.dumps(_meta("json-huge-int"))[:-1] + ', "relatedFacilities": [1' + "0" * 5000 + "]}")
    write("yaml-huge-int.md", _YAML_HEAD.format("yaml-huge-int") + "relatedFacilities:\n  - 1" + "0" * 5000)
    write("huge-array.md", json.dumps(_meta("huge-array", relatedFacilities=[f"facility {i}" for i in range(200_000)])))
    # One line of ~10 MB with no sentence end: a single clause as long as the file, a figure
    # every ~470 characters (denser figures only add rows: the work stays linear).
    prose = "the operator shall monitor the storage site and report to the ministry, " * 6
    write("long-line-body.md", json.dumps(_meta("long-line-body")),
          "The cap is 5 million yen, " + (prose + "补贴上限为 5000 万日元, ") * 21_000 + "\n")
    write("long-title.md", json.dumps(_meta("long-title", title="T" * 1_000_000)))
    with open(folder / "too-large.md", "wb") as fh:  # sparse: 17 MiB by its size, a few blocks on disk
        fh.write(b"---\n")
        fh.truncate(17 * 1024 * 1024)
    os.symlink("self-loop.md", folder / "self-loop.md")  # a link to itself: ELOOP on open
    os.symlink("missing-target.md", folder / "dangling.md")
    os.symlink(".", folder / "loop")  # a folder inside itself: scanning must not recurse forever


def expected() -> dict[str, Counter]:
    """file -> Counter of (rule, line, col); an empty Counter for a file that must be clean."""
    out: dict[str, Counter] = {}
    with (BAD / "expected.tsv").open(encoding="utf-8", newline="") as fh:
        for row in list(csv.reader(fh, delimiter="\t"))[1:]:
            if not row:
                continue
            name, rule, line, col = row
            bucket = out.setdefault(name, Counter())
            if rule != "-":
                bucket[(rule, int(line), int(col))] += 1
    return out


EXPECTED = expected()
FILES = sorted(EXPECTED)


def has_errors(name: str) -> bool:
    return any(not rule.startswith(("vocab.other-language", "quality.")) for rule, _, _ in EXPECTED[name])


def kb(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb", *map(str, args)], capture_output=True, text=True,
                          errors="replace", timeout=TIMEOUT, cwd=cwd)


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    for stream in (result.stdout, result.stderr):
        assert "Traceback (most recent call last)" not in stream, stream[-3000:]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad") / "bad"
    shutil.copytree(BAD, root, symlinks=True)
    generate(root)
    return root


# --- the corpus itself -------------------------------------------------------------------------


def test_corpus_lists_every_file(corpus):
    found = {f.path.relative_to(corpus).as_posix() for f in iter_record_files([corpus])}
    assert found == set(EXPECTED)
    assert len(found) >= 40
    # the count a build decides on before it lists (links, FIFOs and hidden entries included or not alike)
    assert count_record_files([corpus]) == len(found)
    one = next(f.path for f in iter_record_files([corpus]))
    assert count_record_files([corpus, one, corpus / "no such file.md"]) == len(found) + 1
    assert count_record_files([corpus], 3) == 3  # a build asks only whether there are enough to fork for
    assert sum(1 for name in FILES if EXPECTED[name]) >= 40  # files that must give a finding


def test_committed_files_stay_small():
    big = [p for p in BAD.rglob("*") if p.is_file() and p.stat().st_size > 16 * 1024]
    assert not big, f"generate large inputs in generate(), do not commit them: {big}"


# --- validate, one file at a time --------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_validate_file(corpus, name):
    result = kb("validate", "--format", "json", corpus / name)
    assert_no_traceback(result)
    assert result.returncode == (1 if has_errors(name) else 0), result.stdout[-2000:] + result.stderr[-2000:]
    got = Counter((f["rule"], f["line"], f["col"]) for f in json.loads(result.stdout)["findings"])
    assert got == EXPECTED[name]


# --- extract, one file at a time ---------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_extract_file(corpus, name):
    """Either clauses and measures as JSON (exit 0) or one line saying why not (exit 1)."""
    result = kb("extract", corpus / name, "--format", "json")
    assert_no_traceback(result)
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
    if result.returncode == 0:
        json.loads(result.stdout)
    else:
        message = result.stderr.strip()
        assert message and "\n" not in message, result.stderr[-2000:]
        assert not TERMINAL_UNSAFE.search(message), message


# --- the whole folder at once ------------------------------------------------------------------


def _relative(corpus: Path, path: str) -> str:
    return Path(path).relative_to(corpus).as_posix()


def test_validate_folder(corpus):
    result = kb("validate", "--format", "json", corpus)
    assert_no_traceback(result)
    assert result.returncode == 1
    got: dict[str, Counter] = {}
    for f in json.loads(result.stdout)["findings"]:
        got.setdefault(_relative(corpus, f["path"]), Counter())[(f["rule"], f["line"], f["col"])] += 1
    assert got == {k: v for k, v in EXPECTED.items() if v}


def test_validate_text_is_safe_for_a_terminal(corpus):
    """Ids with ANSI escapes, bidi overrides, zero-width characters or lone surrogates are shown
    escaped: the report never carries a character a terminal would act on or hide."""
    result = kb("validate", corpus)
    assert_no_traceback(result)
    assert result.returncode == 1
    bad = TERMINAL_UNSAFE.findall(result.stdout + result.stderr)
    assert not bad, sorted(set(bad))
    assert "\ufffd" not in result.stdout  # nothing had to be replaced to be printed


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory):
    db = tmp_path_factory.mktemp("bad-db") / "kb.db"
    result = kb("build", corpus, "--db", db)
    return result, db


def test_build_folder(built):
    result, db = built
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr[-3000:]
    assert db.exists()


def test_build_keeps_every_file(built):
    """Every good file has a records row, every bad one its findings, whatever sits beside it."""
    result, db = built
    assert result.returncode == 0, result.stderr[-3000:]
    conn = sqlite3.connect(db)
    files = dict(conn.execute("select key, published from files"))
    records = {k for (k,) in conn.execute("select key from records")}
    findings: dict[str, Counter] = {}
    for key, rule, line, col in conn.execute("select file, rule, line, col from findings"):
        findings.setdefault(key, Counter())[(rule, line, col)] += 1
    conn.close()
    assert set(files) == set(EXPECTED)
    unloadable = {k for k, v in EXPECTED.items() if any(rule.startswith("load.") for rule, _, _ in v)}
    assert records == set(EXPECTED) - unloadable
    assert {k for k, published in files.items() if not published} == unloadable
    assert findings == {k: v for k, v in EXPECTED.items() if v}


def test_build_stores_hostile_text_verbatim(built):
    """HTML is data: it is stored as written (escaping is the publisher's job when rendering)."""
    _, db = built
    conn = sqlite3.connect(db)
    tables = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
    texts = "record_texts" if "record_texts" in tables else "records"  # where the body is kept
    title, body = conn.execute(f"select r.title, t.body from records r join {texts} t using (key)"
                               " where r.key = 'html-everywhere.md'").fetchone()
    conn.close()
    assert "<script>alert(\"x\")</script>" in title and "<script>" in body


# --- odd folders ---------------------------------------------------------------------------------


def _valid_record(folder: Path, rid: str) -> None:
    (folder / f"{rid}.md").write_text(f"---\n{json.dumps(_meta(rid))}\n---\nBody.\n", encoding="utf-8")


def test_folder_symlinked_into_itself(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    _valid_record(folder / "sub", "inside")
    os.symlink("..", folder / "sub" / "up")  # sub/up/sub/up/... forever if links were followed
    os.symlink(".", folder / "self")
    result = kb("validate", folder)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout
    assert "in 1 file checked" in result.stdout
    result = kb("build", folder, "--db", tmp_path / "kb.db")
    assert result.returncode == 0, result.stderr[-3000:]


def test_directory_named_like_a_record(corpus):
    """`x.md` is a folder: given directly it is scanned as one; extract refuses it in one line."""
    result = kb("validate", corpus / "x.md")
    assert result.returncode == 0 and "in 1 file checked" in result.stdout, result.stdout
    result = kb("extract", corpus / "x.md", "--format", "json")
    assert_no_traceback(result)
    assert result.returncode in (1, 2)


def test_symlink_loop_given_directly(corpus):
    result = kb("validate", corpus / "self-loop.md")
    assert_no_traceback(result)
    assert result.returncode == 1 and "load.unreadable" in result.stdout


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: chmod 000 does not stop root from reading the file")
def test_unreadable_file(tmp_path):
    _valid_record(tmp_path, "fine")
    locked = tmp_path / "locked.md"
    locked.write_text("---\n{}\n---\n", encoding="utf-8")
    locked.chmod(0)
    try:
        result = kb("validate", "--format", "json", tmp_path)
        assert_no_traceback(result)
        assert result.returncode == 1
        rules = {(Path(f["path"]).name, f["rule"]) for f in json.loads(result.stdout)["findings"]}
        assert rules == {("locked.md", "load.unreadable")}
        result = kb("build", tmp_path, "--db", tmp_path / "kb.db")
        assert result.returncode == 0, result.stderr[-3000:]
    finally:
        locked.chmod(0o644)


def test_file_name_that_is_not_utf8(tmp_path):
    """A name from a latin-1 archive (b'caf\\xe9.md') decodes with surrogate escapes; the build
    must still store its findings instead of failing on them."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    _valid_record(folder, "fine")
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.md"), "w", encoding="utf-8") as fh:
        fh.write(f"---\n{json.dumps(_meta('cafe'))}\n---\nBody.\n")
    result = kb("validate", folder)
    assert_no_traceback(result)
    assert result.returncode == 1  # the id differs from the file name
    result = kb("build", folder, "--db", tmp_path / "kb.db")
    assert_no_traceback(result)
    assert result.returncode == 0
    conn = sqlite3.connect(tmp_path / "kb.db")
    assert conn.execute("select count(*) from files").fetchone()[0] == 2
    conn.close()
