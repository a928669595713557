"""The regex cache: a pattern compiled from stored code matches exactly as re.compile's does, and
no cache file, however damaged or out of reach, changes that or raises."""

from __future__ import annotations

import re

import pytest

from kb import regex_cache
from kb.workers import ordered

# (pattern, flags, texts): groups, names, flags inline and given, look-arounds, back-references,
# classes, repeats and Unicode, each against text that matches and text that does not.
PATTERNS = [
    (r"(?P<value>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>t|kt|Mt)\b", 0, ["100 t and 2.5 Mt", "no figures"]),
    (r"(?<![A-Za-z])shall(?: not)?(?![A-Za-z])", re.I, ["The operator SHALL NOT store", "marshall"]),
    (r"^---[ \t]*\r?$", re.M, ["---\nbody\n---  \r\n", "- - -"]),
    (r"令和\s?(?P<n>元|[0-9]{1,2})\s?年(?:度)?", 0, ["令和７年度 and 令和元年", "平成30年"]),
    (r"(\w)\1", 0, ["aa bb", "ab"]),
    (r"(?x) [0-9]{1,3} (?: , [0-9]{3} )*  # thousands", 0, ["1,000,000 and 12", "none"]),
    (r"[一-鿿]{2,4}(?=しなければならない)", 0, ["報告しなければならない", "報告する"]),
    (r"(?s)<!--.*?-->", 0, ["a <!-- x\ny --> b", "<!- -->"]),
    (r"(?:a|b)*+c|d{2,}?", 0, ["aabc ddd", "xyz"]),
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder and a regex_cache that has read nothing yet; returns the folder."""
    fresh(monkeypatch)
    monkeypatch.setenv("POLICY_KB_CACHE_DIR", str(tmp_path))
    return tmp_path


def fresh(monkeypatch) -> None:
    """regex_cache as a new process would find it (the file on disk stays)."""
    for name, value in (("_memo", {}), ("_stored", None), ("_new", {}), ("_readers", {}), ("_facts", {}),
                        ("_finalizer_pid", None)):
        monkeypatch.setattr(regex_cache, name, value)


def same(a: re.Pattern, b: re.Pattern, texts: list[str]) -> None:
    assert (a.pattern, a.flags, a.groups, a.groupindex) == (b.pattern, b.flags, b.groups, b.groupindex)
    for text in texts:
        assert [m.span() + m.groups() for m in a.finditer(text)] == [m.span() + m.groups() for m in b.finditer(text)]


@pytest.mark.parametrize(("pattern", "flags", "texts"), PATTERNS)
def test_stored_code_matches_as_re_compile(cache, monkeypatch, pattern, flags, texts):
    cold = regex_cache.compile(pattern, flags)
    same(cold, re.compile(pattern, flags), texts)
    regex_cache.save()
    fresh(monkeypatch)
    assert (pattern, int(flags)) in regex_cache._load(), "the pattern was not stored"
    same(regex_cache.compile(pattern, flags), re.compile(pattern, flags), texts)


def test_a_damaged_file_is_read_as_empty_and_rewritten(cache, monkeypatch):
    path = regex_cache.cache_file()
    path.write_bytes(b"\x00not marshal at all")
    rx = regex_cache.compile(r"[0-9]+万吨")
    assert rx.findall("600-1200万吨") == ["1200万吨"]
    regex_cache.save()
    fresh(monkeypatch)
    assert (r"[0-9]+万吨", 0) in regex_cache._load()


def test_code_the_engine_rejects_is_compiled_again(cache, monkeypatch):
    pattern = r"(?P<n>[0-9]+)%"
    regex_cache.compile(pattern)
    regex_cache.save()
    fresh(monkeypatch)
    flags, code, *groups = regex_cache._load()[pattern, 0]
    regex_cache._load()[pattern, 0] = (flags, b"\xff" * len(code), *groups)
    assert regex_cache.compile(pattern).match("75%")["n"] == "75"


@pytest.mark.parametrize("where", ["off", "file"])
def test_no_usable_folder_means_no_file_and_no_error(tmp_path, monkeypatch, where):
    fresh(monkeypatch)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("POLICY_KB_CACHE_DIR", "off" if where == "off" else str(blocker / "cache"))
    assert regex_cache.compile(r"\d+年").findall("15年") == ["15年"]
    regex_cache.save()
    assert list(tmp_path.iterdir()) == [blocker]


def test_bad_pattern_raises_as_re_does(cache):
    with pytest.raises(re.error):
        regex_cache.compile(r"(unclosed")


def test_a_fact_of_an_older_reader_is_not_read_and_is_dropped(cache, monkeypatch):
    assert regex_cache.remembered("first_char", "v1", "ab|ac", 0, lambda: "a") == "a"
    regex_cache.save()
    fresh(monkeypatch)
    assert regex_cache.remembered("first_char", "v1", "ab|ac", 0, lambda: "stale") == "a"  # read back
    fresh(monkeypatch)
    assert regex_cache.remembered("first_char", "v2", "ab|ac", 0, lambda: "new") == "new"
    regex_cache.save()
    keys = [k for k in regex_cache._read(regex_cache.cache_file()) if k[0] == "fact"]
    assert keys == [("fact", "first_char", "v2", "ab|ac", 0)]


def _compile_in_worker(n: int) -> int:
    return regex_cache.compile(f"worker-{n}-[0-9]+").groups


def test_pool_workers_save_what_they_compiled(cache, monkeypatch):
    """Workers end as processes do once every result is read, so their exit handlers save."""
    with ordered(_compile_in_worker, [1, 2, 3, 4], parallel=True, workers=2) as results:
        assert list(results) == [0, 0, 0, 0]
    fresh(monkeypatch)
    stored = regex_cache._load()
    assert {f"worker-{n}-[0-9]+" for n in (1, 2, 3, 4)} <= {k[0] for k in stored}
