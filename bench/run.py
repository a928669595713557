"""Measure policy-kb at scale on a generated corpus, in one run on the same texts.

    python bench/run.py --records 1000 [--out bench/out/results-1000.json] [--workdir bench/out] [--keep]

Steps (each a separate process, as a user would run it, timed on the wall clock):
1. the corpus: `bench/corpus.py` output in WORKDIR/corpus-n<N>-s<seed>, reused when its manifest
   matches (same N, seed, generator and source texts), generated otherwise;
2. raw_tokenize_s: the floor. fugashi (unidic-lite) over every Japanese body in chunks of at
   most 10,000 characters cut at newlines, rjieba over every Chinese body; English bodies are not
   given to a heavy tokenizer. In this process, one after the other, best of two passes; loading
   the dictionaries is not counted;
3. validate_s: `python -m kb validate CORPUS` (exit 1 is expected: the corpus has broken files);
4. build_s: `python -m kb build CORPUS --db kb.db` from nothing; peak_rss_mb is the largest
   resident set of any single process of that build (wait4's rusage: the process and the children
   it waited for), peak_rss_tree_mb the largest sum over the process tree, sampled every 0.1 s;
   peak_own_rss_mb the largest resident set of one process less its file-backed pages (MeCab maps
   its 246 MB dictionary read-only: the pages a corpus touches count in RSS, shared by every
   process and the page cache, and grow with the variety of Japanese words, not the record count);
5. incremental_one_s: one body edited, rebuilt; noop_s: rebuilt again with nothing changed. The
   edited file is restored afterwards;
6. Datasette: `python -m datasette serve kb.db --metadata datasette_metadata.json` with the
   settings `policy-kb serve` uses (the file read-only, as `serve` opens it), then sequential GETs (warm-ups first) of the facet page,
   filtered table pages and the `search` canned query.

The commands run a copy of kb/, schema/ and datasette_metadata.json taken when the run starts
(WORKDIR/run-n<N>/src), so an edit to the working tree during a run cannot turn the incremental
or no-op build into a full one. Results go to a JSON file; with --write-doc also to one row per N
of the table in docs/benchmarks.md (a run never edits the docs unasked). Without --keep,
WORKDIR/run-n<N> (snapshot, database, log) is removed at the end; the corpus stays cached either way.
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import corpus as corpus_mod  # bench/corpus.py, beside this file

DOC = REPO / "docs" / "benchmarks.md"
SEARCH_WORDS = ["事業継続義務", "義務", "封存", "万吨", "support period"]
# The records page as a visitor opens it: its facets (country, category, status, legal weight, year)
# come from datasette_metadata.json; adding _facet= for them would compute each twice.
FACET_PAGE = "/kb/records"
FILTER_PAGES = ["/kb/records?country_code=JP", "/kb/measures?role=support_period"]
JA_CHUNK = 10_000


# --- the corpus ----------------------------------------------------------------------------------


def ensure_corpus(workdir: Path, n: int, seed: int) -> tuple[Path, dict, bool]:
    """The corpus folder, its manifest, and whether it was reused."""
    folder = workdir / f"corpus-n{n}-s{seed}"
    manifest_path = folder / corpus_mod.MANIFEST
    want = corpus_mod.expected_manifest_key(n, seed)
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if all(manifest.get(k) == v for k, v in want.items()) and all((folder / f["path"]).is_file() for f in manifest["files"]):
            return folder, manifest, True
    return folder, corpus_mod.generate(n, folder, seed), False


def read_body(path: Path) -> str:
    """The body of a generated file: everything after the second `---` line."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        return ""
    return body[1:] if body.startswith("\n") else body


# --- the raw tokenizers --------------------------------------------------------------------------


def ja_chunks(text: str, limit: int = JA_CHUNK):
    """Pieces of at most `limit` characters, cut after a newline (hard cut inside a longer line):
    MeCab crashes when handed a string near a megabyte in one call."""
    buf: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if buf:
                yield "".join(buf)
                buf, size = [], 0
            yield line[:limit]
            line = line[limit:]
        if size + len(line) > limit and buf:
            yield "".join(buf)
            buf, size = [], 0
        buf.append(line)
        size += len(line)
    if buf:
        yield "".join(buf)


def raw_tokenize(bodies: list[tuple[str, str]]) -> dict:
    import fugashi
    import rjieba
    import unidic_lite

    d = unidic_lite.DICDIR
    tagger = fugashi.Tagger(f'-d "{d}" -r "{d}/mecabrc"')
    tagger("準備"), rjieba.cut("准备")  # load the dictionaries before the clock starts
    ja = [b for lang, b in bodies if lang == "ja"]
    zh = [b for lang, b in bodies if lang == "zh"]
    ja_tokens = zh_tokens = 0
    t0 = time.perf_counter()
    for body in ja:
        for chunk in ja_chunks(body):
            ja_tokens += len([w.surface for w in tagger(chunk)])
    t1 = time.perf_counter()
    for body in zh:
        zh_tokens += len(rjieba.cut(body))
    t2 = time.perf_counter()
    return {"raw_tokenize_s": round(t2 - t0, 3), "raw_tokenize_ja_s": round(t1 - t0, 3), "raw_tokenize_zh_s": round(t2 - t1, 3),
            "ja_chars": sum(map(len, ja)), "zh_chars": sum(map(len, zh)), "ja_tokens": ja_tokens, "zh_tokens": zh_tokens}


def _raw_tokenize_files(corpus: Path, manifest: dict, passes: int) -> list[dict]:
    bodies = [(f["lang"], read_body(corpus / f["path"])) for f in manifest["files"]]
    return [raw_tokenize(bodies) for _ in range(passes)]


def raw_tokenize_apart(corpus: Path, manifest: dict, passes: int) -> list[dict]:
    """raw_tokenize over the corpus in a forked child that reads the bodies itself: the bodies and
    the dictionaries never enter this process, whose size every later child would start from (on
    Linux a child's peak RSS counts the pages it shared with its parent before exec)."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(_raw_tokenize_files, (corpus, manifest, passes))


# --- subprocesses --------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def _rss_kb(pid: int) -> tuple[int, int]:
    """(resident, of it the process's own: resident less pages shared with files) in KB."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            fields = fh.read().split()
        page = os.sysconf("SC_PAGE_SIZE") // 1024
        return int(fields[1]) * page, (int(fields[1]) - int(fields[2])) * page
    except (OSError, ValueError, IndexError):
        return 0, 0


class TreeSampler(threading.Thread):
    """Largest total resident set of a process and its descendants, and largest own (anonymous)
    resident set of any one of them, polled every `interval` s."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb, self.max_procs, self.peak_own_kb = pid, interval, 0, 0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            seen, todo, total = set(), [self.pid], 0
            while todo:
                p = todo.pop()
                if p in seen:
                    continue
                seen.add(p)
                rss, own = _rss_kb(p)
                total += rss
                self.peak_own_kb = max(self.peak_own_kb, own)
                todo += _children(p)
            self.peak_kb = max(self.peak_kb, total)
            self.max_procs = max(self.max_procs, len(seen))
            self.stop.wait(self.interval)


def run_timed(cmd: list[str], *, cwd: Path, env: dict, sample: bool = False) -> dict:
    """Run `cmd` in `cwd`; wall time, exit code, output, and the peak RSS of its
    largest single process (children it waited for included) from wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        sampler = TreeSampler(proc.pid) if sample else None
        if sampler:
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen consistent
        if sampler:
            sampler.stop.set()
            sampler.join()
        out.seek(0)
        err.seek(0)
        result = {"seconds": round(wall, 3), "code": proc.returncode, "maxrss_mb": round(usage.ru_maxrss / 1024, 1),
                  "user_s": round(usage.ru_utime, 3), "sys_s": round(usage.ru_stime, 3),
                  "stdout": out.read().decode("utf-8", "replace"), "stderr": err.read().decode("utf-8", "replace")}
        if sampler:
            result["tree_rss_mb"] = round(sampler.peak_kb / 1024, 1)
            result["own_rss_mb"] = round(sampler.peak_own_kb / 1024, 1)
            result["max_processes"] = sampler.max_procs
        return result


SNAPSHOT = ["kb", "schema", "datasette_metadata.json"]


def snapshot(dest: Path) -> Path:
    """Copy the code, schema and metadata of the working tree to `dest` and compile its bytecode,
    so every command of the run measures the same code even while someone edits kb/ (an edit
    changes the build's fingerprint and turns an incremental build into a full one)."""
    for name in SNAPSHOT:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.is_file():
            shutil.copy2(src, dest / name)
    # Bytecode, as an installed package has it: without it every command recompiles kb/ from
    # source (~50 ms a start, more with the extractor), and where PYTHONDONTWRITEBYTECODE is set
    # (this machine) it never gets cached.
    compileall.compile_dir(str(dest / "kb"), quiet=1)
    return dest


def kb_env(root: Path) -> dict:
    """The environment of the measured commands: the `kb` under `root` first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return env


_FINDING = re.compile(r"^(.*?):\d+:\d+: (error|warning) (\S+):")


def check_validate_output(stdout: str, corpus: Path, manifest: dict) -> dict:
    """Which files the validator reported errors for, against the files broken on purpose."""
    errors: dict[str, set[str]] = {}
    for line in stdout.splitlines():
        m = _FINDING.match(line)
        if m and m.group(2) == "error":
            rel = os.path.relpath(m.group(1), corpus).replace(os.sep, "/")
            errors.setdefault(rel, set()).add(m.group(3))
    expected = {i["path"]: i["rule"] for i in manifest["invalid"]}
    return {"expected_error_files": len(expected),
            "unexpected_error_files": sorted(set(errors) - set(expected))[:20],
            "missed_invalid_files": sorted(p for p, rule in expected.items() if rule not in errors.get(p, ()))[:20]}


def edit_one(corpus: Path, manifest: dict) -> tuple[Path, bytes]:
    """Append a sentence to the body of one valid, mid-sized file; return it and its old bytes."""
    valid = [f for f in manifest["files"] if "invalid" not in f]
    valid.sort(key=lambda f: (f["chars"], f["path"]))
    target = corpus / valid[len(valid) // 2]["path"]
    old = target.read_bytes()
    target.write_bytes(old + "\n追加の一文：支援期間は15年とする。\n".encode())
    return target, old


def db_counts(db: Path) -> dict:
    out: dict = {"db_mb": round(db.stat().st_size / 2**20, 1)}
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")}
        for t in ("records", "clauses", "measures", "findings"):
            if t in tables:
                out[f"db_{t}"] = conn.execute(f"select count(*) from [{t}]").fetchone()[0]
        out["db_tables"] = sorted(tables)
    finally:
        conn.close()
    return out


# --- Datasette -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_settings(src: Path) -> dict:
    """The settings `policy-kb serve` passes to Datasette; the documented minimum without kb."""
    code = "import json; from kb.publish import SETTINGS; print(json.dumps(SETTINGS))"
    try:
        out = subprocess.run([sys.executable, "-c", code], cwd=src, env=kb_env(src), capture_output=True, text=True, timeout=120)
        return json.loads(out.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return {"suggest_facets": False}


class Client:
    """Sequential GETs over one keep-alive connection to 127.0.0.1 (reconnects when dropped)."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("GET", path)
                resp = self.conn.getresponse()
                body = resp.read()
                return resp.status, body
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    s = sorted(samples)
    return round(s[max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))], 2)


def time_path(client: Client, path: str, requests: int, warmup: int) -> dict:
    first, body = None, b""
    for i in range(warmup):
        t0 = time.perf_counter()
        status, body = client.get(path)
        if i == 0:
            first = (time.perf_counter() - t0) * 1000
        if status != 200:
            return {"status": status, "bytes": len(body), "error": body[:300].decode("utf-8", "replace")}
    samples = []
    for _ in range(requests):
        t0 = time.perf_counter()
        status, body = client.get(path)
        samples.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            return {"status": status, "bytes": len(body), "error": body[:300].decode("utf-8", "replace")}
    rows = None
    if ".json" in path.split("?")[0]:
        try:
            rows = len(json.loads(body).get("rows", []))
        except (ValueError, AttributeError):
            pass
    return {"status": 200, "bytes": len(body), "rows": rows, "first_ms": round(first, 2) if first is not None else None,
            "p50_ms": percentile(samples, 0.5), "p95_ms": percentile(samples, 0.95), "max_ms": round(max(samples), 2),
            "samples": samples}


def fresh_dir(path: Path) -> Path:
    """An empty folder at `path` (a previous run's is removed), its parents created."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def wait_ready(proc: subprocess.Popen, client: Client, log_path: Path, timeout: float = 90) -> str | None:
    """Poll a starting Datasette until it answers; None when it does, else what went wrong."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            return f"datasette exited with code {proc.returncode} before serving: {' | '.join(tail)}"
        try:
            if client.get("/-/versions.json")[0] == 200:
                return None
        except OSError:
            pass
        if time.monotonic() > deadline:
            return f"datasette did not answer within {timeout:.0f} s"
        time.sleep(0.2)


def measure_datasette(db: Path, workdir: Path, src: Path, requests: int, warmup: int) -> dict:
    metadata_path = src / "datasette_metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    queries = metadata.get("databases", {}).get("kb", {}).get("queries", {})
    port = free_port()
    cmd = [sys.executable, "-m", "datasette", "serve", str(db), "--metadata", str(metadata_path),
           "--host", "127.0.0.1", "--port", str(port)]
    settings = {**serve_settings(src), "suggest_facets": False}
    for key, value in settings.items():
        cmd += ["--setting", key, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    log_path = workdir / "datasette.log"
    out: dict = {"datasette_settings": settings, "notes_ds": []}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=src, stdout=log, stderr=subprocess.STDOUT, env=kb_env(src), start_new_session=True)
    client = Client(port)
    try:
        problem = wait_ready(proc, client, log_path)
        if problem:
            out["notes_ds"].append(problem)
            return out
        pages: dict[str, dict] = {FACET_PAGE: time_path(client, FACET_PAGE, requests, warmup)}
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        for page in FILTER_PAGES:
            table = page.split("?")[0].rsplit("/", 1)[-1]
            if table in tables:
                pages[page] = time_path(client, page, requests, warmup)
            else:
                out["notes_ds"].append(f"table {table} absent: {page} not measured")
        if "search" in queries:
            if not conn_count(db, "clauses"):
                out["notes_ds"].append("no clauses were published (is kb.extract missing?): search ran over an empty index")
            for word in SEARCH_WORDS:
                path = f"/kb/search.json?q={quote(word)}"
                pages[path] = time_path(client, path, requests, warmup)
        else:
            out["notes_ds"].append("no `search` canned query in datasette_metadata.json yet: search latency not measured")
        facet = pages[FACET_PAGE]
        filters = [s for p in FILTER_PAGES if p in pages for s in pages[p].get("samples", [])]
        search = [s for p, r in pages.items() if p.startswith("/kb/search") for s in r.get("samples", [])]
        bad = {p: r["status"] for p, r in pages.items() if r.get("status") != 200}
        if bad:
            out["notes_ds"].append(f"non-200 answers: {bad}")
        out.update({
            "facet_p50_ms": facet.get("p50_ms"), "facet_p95_ms": facet.get("p95_ms"),
            "filter_p50_ms": percentile(filters, 0.5), "filter_p95_ms": percentile(filters, 0.95),
            "search_p50_ms": percentile(search, 0.5), "search_p95_ms": percentile(search, 0.95),
            "pages": {p: {k: v for k, v in r.items() if k != "samples"} for p, r in pages.items()},
        })
        return out
    finally:
        client.close()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def conn_count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        try:
            return conn.execute(f"select count(*) from [{table}]").fetchone()[0]
        except sqlite3.DatabaseError:
            return 0


# --- the machine ---------------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"nproc": usable, "cpu_count": os.cpu_count(), "cpu": cpu or platform.processor(), "ram_gib": ram,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


def source_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "kb", "schema", "datasette_metadata.json"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + ("+dirty" if dirty else "")


# --- docs/benchmarks.md --------------------------------------------------------------------------

TABLE_START, TABLE_END = "<!-- bench:rows -->", "<!-- /bench:rows -->"
COLUMNS = ["N", "body chars", "measures /kchar", "raw tokenize s", "build s", "build ratio", "incremental s", "no-op s", "validate s",
           "peak RSS MB (tree)", "facet p50/p95 ms", "filter p50 ms", "search p50/p95 ms", "date", "commit", "machine"]
DOC_HEAD = f"""# Benchmarks

Measured by `python bench/run.py --records N` (see the docstring of `bench/run.py`): one run per
corpus size N replaces its row below. The corpus comes from `bench/corpus.py` with seed 1: N record
files, ~40% Japanese, ~40% Chinese, ~20% English, ~30% of ids with a translation twin, body lengths
log-normal (median 3,000 characters, clipped to 300..100,000), ~1% broken on purpose, recombined
from the sentences of the seeds and fixtures, with the quantity examples of the fixtures drawn
for about one sentence in eight so the text is as dense in figures as real policy text (measures
per 1,000 characters: seeds 8.7, ccus-policy-hub records 4.2, policy-gold statute passages 15.2).

Method
- raw tokenize: fugashi (unidic-lite) over the Japanese bodies, chunks of at most 10,000 characters
  cut at newlines, plus rjieba over the Chinese bodies, in one process; English bodies are not
  tokenized by a heavy tokenizer; best of two passes. This is the floor the build is compared with.
- build: `python -m kb build CORPUS --db kb.db` from nothing, wall clock; build ratio = build s /
  raw tokenize s. incremental: one body edited, rebuilt. no-op: rebuilt with nothing changed.
  Every command runs a snapshot of kb/ with its bytecode compiled, as an installed package has it.
- validate: `python -m kb validate CORPUS`, wall clock (exit 1 expected: broken files).
- peak RSS: largest resident set of any single process of the full build (wait4 rusage); in
  brackets the largest sum over the build's process tree, sampled every 0.1 s.
- latency: Datasette with the shipped metadata and the settings of `policy-kb serve`, sequential
  requests on 127.0.0.1 after 5 warm-ups: the records page with its 5 metadata facets, filtered table pages
  (`records?country_code=JP`, `measures?role=support_period`) and the `search` canned query over
  {", ".join(SEARCH_WORDS)}.
- The machine column gives usable CPUs, model, RAM and the 1-minute load average when the run
  started: figures taken on a busy machine are noisy.

Targets: build ratio ≤ 1.0; at N = 5,000 incremental ≤ 0.5 s, validate ≤ 2 s, peak RSS ≤ 400 MB
and flat between N = 1,000 and 5,000; facet and search p50 ≤ 50 ms.

"""


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table_row(r: dict) -> str:
    m = r["machine"]
    rss = _fmt(r["peak_rss_mb"], 0) + (f" ({_fmt(r.get('peak_rss_tree_mb'), 0)})" if r.get("peak_rss_tree_mb") else "")
    cells = [
        str(r["records"]),
        f"{r['chars']:,}",
        _fmt(r.get("measures_per_kchar")),
        _fmt(r["raw_tokenize_s"]),
        _fmt(r["build_s"]),
        _fmt(r["build_ratio"]),
        _fmt(r["incremental_one_s"]),
        _fmt(r["noop_s"]),
        _fmt(r["validate_s"]),
        rss,
        f"{_fmt(r.get('facet_p50_ms'), 1)} / {_fmt(r.get('facet_p95_ms'), 1)}",
        _fmt(r.get("filter_p50_ms"), 1),
        f"{_fmt(r.get('search_p50_ms'), 1)} / {_fmt(r.get('search_p95_ms'), 1)}",
        r["date"][:10],
        r.get("commit") or "—",
        f"{m['nproc']} CPU {m['cpu']}, {m['ram_gib']} GiB, load {m['loadavg_at_start'][0]}",
    ]
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def update_doc(result: dict, doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_HEAD
    if TABLE_START not in text or TABLE_END not in text:
        text = text.rstrip("\n") + f"\n\n{TABLE_START}\n{TABLE_END}\n"
    _, rest = text.split(TABLE_START, 1)
    block, after = rest.split(TABLE_END, 1)
    before = DOC_HEAD  # the method as this script measures it; sections after the table are kept
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and cells[0].isdigit():
            rows[int(cells[0])] = line
    rows[result["records"]] = table_row(result)
    header = "| " + " | ".join(COLUMNS) + " |\n|" + "|".join("---:" if i < len(COLUMNS) - 3 else "---" for i in range(len(COLUMNS))) + "|"
    body = "\n".join(rows[n] for n in sorted(rows))
    doc.write_text(f"{before}{TABLE_START}\n{header}\n{body}\n{TABLE_END}{after}", encoding="utf-8")


# --- the run -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--out", type=Path, help="results JSON (default WORKDIR/results-N.json)")
    ap.add_argument("--workdir", type=Path, default=HERE / "out", help="where the corpus is cached and the database built")
    ap.add_argument("--keep", action="store_true", help="keep the database and the Datasette log after the run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--requests", type=int, default=50, help="timed requests per page")
    ap.add_argument("--warmup", type=int, default=5, help="untimed requests per page first")
    ap.add_argument("--write-doc", action="store_true", help="also write the results into docs/benchmarks.md (JSON only without it)")
    args = ap.parse_args(argv)

    workdir = args.workdir.resolve()
    out_path = args.out or workdir / f"results-{args.records}.json"
    run_dir = fresh_dir(workdir / f"run-n{args.records}")
    db = run_dir / "kb.db"  # the metadata names the database `kb`
    src = snapshot(run_dir / "src")
    env = kb_env(src)
    kb = [sys.executable, "-m", "kb"]
    log = lambda msg: print(f"[bench] {msg}", file=sys.stderr, flush=True)  # noqa: E731

    result: dict = {"records": args.records, "seed": args.seed, "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "commit": source_commit(), "machine": machine(), "notes": []}
    t = time.perf_counter()
    corpus, manifest, reused = ensure_corpus(workdir, args.records, args.seed)
    log(f"corpus {corpus} ({'reused' if reused else f'generated in {time.perf_counter() - t:.1f}s'})")
    result.update(chars=sum(f["chars"] for f in manifest["files"]), ids=manifest["ids"], langs=manifest["langs"],
                  invalid_files=len(manifest["invalid"]), corpus=str(corpus), corpus_reused=reused)

    log("raw tokenizers")
    # Best of two passes: the first also faults the dictionaries' pages in, which swings the
    # floor by 2x from run to run (0.8-1.9 s at N = 1,000).
    runs = raw_tokenize_apart(corpus, manifest, passes=2)
    result.update(min(runs, key=lambda r: r["raw_tokenize_s"]), raw_tokenize_runs_s=[r["raw_tokenize_s"] for r in runs])
    # A child's peak RSS (wait4) starts at this process's size when it is forked: keep it small.
    result["bench_process_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["notes"].append("raw_tokenize_s covers ja (fugashi) and zh (rjieba) bodies only; en bodies get no heavy tokenizer")

    log("validate")
    v = run_timed([*kb, "validate", str(corpus)], cwd=src, env=env)
    result["validate_s"] = v["seconds"]
    result["validate_exit"] = v["code"]
    result["validate_check"] = check_validate_output(v["stdout"], corpus, manifest)
    if v["code"] not in (0, 1):
        result["notes"].append(f"validate exited {v['code']}: {v['stderr'][-500:]}")

    log("full build")
    b = run_timed([*kb, "build", str(corpus), "--db", str(db)], cwd=src, env=env, sample=True)
    result.update(build_s=b["seconds"], build_exit=b["code"], build_user_s=b["user_s"], build_sys_s=b["sys_s"],
                  peak_rss_mb=b["maxrss_mb"], peak_rss_tree_mb=b.get("tree_rss_mb"),
                  peak_own_rss_mb=b.get("own_rss_mb"), build_max_processes=b.get("max_processes"),
                  build_summary=b["stdout"].strip()[-400:])
    if b["code"] != 0:
        result["notes"].append(f"build exited {b['code']}: {b['stderr'][-800:]}")
    if (b.get("max_processes") or 1) > 1:
        result["notes"].append("the build ran several processes: peak_rss_mb is the largest single one, peak_rss_tree_mb their sampled sum")
    result["build_ratio"] = round(b["seconds"] / result["raw_tokenize_s"], 3) if result["raw_tokenize_s"] else None

    try:
        if b["code"] == 0:
            result.update(db_counts(db))
            if result.get("db_measures") is not None and result.get("chars"):
                # How dense in figures the text is drives extraction cost: compare with real texts.
                result["measures_per_kchar"] = round(result["db_measures"] / result["chars"] * 1000, 2)
            log("incremental build (one file edited)")
            edited, old = edit_one(corpus, manifest)
            try:
                i = run_timed([*kb, "build", str(corpus), "--db", str(db)], cwd=src, env=env)
                result.update(incremental_one_s=i["seconds"], incremental_summary=i["stdout"].strip()[-400:],
                              incremental_file=str(edited.relative_to(corpus)))
                log("no-op build")
                n = run_timed([*kb, "build", str(corpus), "--db", str(db)], cwd=src, env=env)
                result.update(noop_s=n["seconds"], noop_summary=n["stdout"].strip()[-400:])
                if "full build" in i["stdout"] or "not rewritten" not in n["stdout"]:
                    result["notes"].append("an incremental or no-op build did more than expected: see the summaries")
            finally:
                edited.write_bytes(old)
            log("datasette")
            result.update(measure_datasette(db, run_dir, src, args.requests, args.warmup))
        else:
            result.update(incremental_one_s=None, noop_s=None)
    finally:
        notes = result.pop("notes") + result.pop("notes_ds", [])
        result["notes"] = notes
        for key in ("incremental_one_s", "noop_s", "facet_p50_ms", "facet_p95_ms", "search_p50_ms", "search_p95_ms"):
            result.setdefault(key, None)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    if args.write_doc:
        update_doc(result)
    log(f"results -> {out_path}" + (f"; row for N={args.records} in {DOC.relative_to(REPO)}" if args.write_doc else ""))
    keys = ["records", "chars", "raw_tokenize_s", "build_s", "build_ratio", "incremental_one_s", "noop_s", "validate_s",
            "peak_rss_mb", "peak_rss_tree_mb", "peak_own_rss_mb", "facet_p50_ms", "filter_p50_ms", "search_p50_ms"]
    print(json.dumps({k: result.get(k) for k in keys}, ensure_ascii=False))
    for note in result["notes"]:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
