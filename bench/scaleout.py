"""Scale-out on one machine: K Datasette processes serve one SQLite file under load while
`policy-kb build` commits into it; what it costs and how fast every server shows a new build.

    python bench/scaleout.py [--records 1000] [--servers 3] [--seconds 20] [--concurrency 4]
                             [--converge-timeout 15] [--workdir bench/out] [--out FILE]
                             [--seed 1] [--keep] [--write-doc]

1. The corpus of bench/run.py (cached in WORKDIR) is copied to WORKDIR/scaleout-n<N>/corpus and
   built; every command runs a snapshot of kb/, schema/ and the metadata taken at the start.
2. K `datasette` processes on 127.0.0.1 serve the file with the arguments `kb.cli.datasette_args`
   gives (what `policy-kb serve` runs).
3. A load generator in its own process keeps C requests in flight (closed loop), round-robin over
   the servers and a fixed list: the records facet page, the `search` query over bench/run.py's
   words, two filtered table pages, and a one-statement "state" query fingerprinting the whole
   build. Each response is hashed with what differs per process or moment (`query_ms`, the
   host:port of absolute URLs) taken out.
4. Meanwhile: a quiet phase; one record body edited and rebuilt incrementally, again and again,
   until half of --seconds has gone; a full rebuild forced as an upgrade forces it (a comment in
   the snapshot's kb/__init__.py changes the code fingerprint); a final quiet phase. After each
   build the new state is read from the file and the schedule waits for every server to show it.

Reported: throughput and latency per request kind; after each build, how long until every
server answered with its state; counts of answers that are errors (not 200), state answers of no
completed build, stale state answers, mismatches (different answers to one request within one
stable state), mixed pages (a table page whose rows, count and facets, separate SQL statements in
Datasette, straddled a commit) and unexplained answers (no build's, whole or in parts). The exit
code is 1 when any of errors, unknown states, mismatches, unexplained answers or a server that never
showed a build is not zero. tests/test_scaleout.py checks the same properties at a small size.

Results go to a JSON file (default WORKDIR/scaleout-<N>.json); with --write-doc also to the
"Scale-out" section of docs/benchmarks.md (between `<!-- bench:scaleout -->` markers). Every
process started here is stopped on exit, Ctrl-C and failure included.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import itertools
import json
import multiprocessing
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter, defaultdict
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import run as bench  # bench/run.py, beside this file: corpus, snapshot, machine, ...

DOC = bench.DOC
SECTION_START, SECTION_END = "<!-- bench:scaleout -->", "<!-- /bench:scaleout -->"

# One SQL statement, so one snapshot: which complete build answered.
STATE_SQL = """select
  (select value from kb_meta where key = 'built_at') as built_at,
  (select value from kb_meta where key = 'fingerprint') as fingerprint,
  (select count(*) from builds) as builds,
  (select count(*) from records) as records,
  (select count(*) from clauses) as clauses,
  (select count(*) from measures) as measures,
  (select count(*) from files) as files,
  (select group_concat(substr(coalesce(sha256, '-'), 1, 12), '') from (select sha256 from files order by key)) as file_hashes"""


def request_list() -> list[tuple[str, str]]:
    """(kind, path) of every request the load generator cycles through; a state query after every
    two others, so each server reports its state several times a second."""
    facet = bench.FACET_PAGE.replace("/kb/records", "/kb/records.json", 1) + "?_size=0"
    others = [("facet", facet)]
    others += [("search", f"/kb/search.json?q={quote(w)}&_shape=objects") for w in bench.SEARCH_WORDS]
    others += [("filter", p.replace("?", ".json?", 1)) for p in bench.FILTER_PAGES]
    state = ("state", f"/kb.json?sql={quote(STATE_SQL)}&_shape=array")
    out: list[tuple[str, str]] = []
    for i, item in enumerate(others):
        out.append(item)
        if i % 2 == 1 or i == len(others) - 1:
            out.append(state)
    return out


def state_digest(row: dict) -> str:
    """Short name of a build state: the same for a Datasette JSON row and a sqlite3 row."""
    return hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


def read_state(db: Path) -> dict:
    """The state of the database file as it is now, read directly (not through Datasette)."""
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        cur = conn.execute(STATE_SQL)
        row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    return {"digest": state_digest(row), "built_at": row["built_at"], "builds": row["builds"], "records": row["records"],
            "clauses": row["clauses"], "measures": row["measures"]}


_ORIGIN = re.compile(r"https?://127\.0\.0\.1:\d+")
# The parts of a table page that Datasette computes with separate SQL statements.
PAGE_PARTS = ("rows", "filtered_table_rows_count", "next")


def _digest(value) -> str:
    return hashlib.sha256(_ORIGIN.sub("ORIGIN", json.dumps(value, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()[:16]


def normalise(body: bytes) -> tuple[str, int | None, str | None, dict | None]:
    """(hash of the answer without what differs per process or per moment, number of facets of a
    table page, state digest of a state answer, hashes of the separately computed parts of a page:
    rows, count, next, each facet)."""
    try:
        data = json.loads(body)
    except ValueError:
        return hashlib.sha256(body).hexdigest()[:16], None, None, None
    facets = state = parts = None
    if isinstance(data, dict):
        data.pop("query_ms", None)
        if isinstance(data.get("facet_results"), dict):
            facets = len(data["facet_results"])
        if "rows" in data:
            parts = {k: _digest(data.get(k)) for k in PAGE_PARTS}
            parts.update({f"facet {k}": _digest(v) for k, v in (data.get("facet_results") or {}).items()})
    elif isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict) and "fingerprint" in data[0]:
        state = state_digest(data[0])
    return _digest(data), facets, state, parts


class Answer(NamedTuple):
    """One response as the load generator saw it (times are time.monotonic(), shared by both
    processes)."""
    t0: float
    t1: float
    server: int
    req: int  # index into the request list
    status: int  # 0: no HTTP answer (refused, dropped, timed out)
    ms: float
    digest: str | None
    facets: int | None
    state: str | None
    error: str | None
    parts: dict | None


# --- the load generator (its own process) --------------------------------------------------------


def load_main(ports: list[int], paths: list[str], concurrency: int, out: multiprocessing.Queue,
              stop: multiprocessing.Event) -> None:
    """C threads in a closed loop; request j goes to server j % K with path (j // K) % P, so every
    path reaches every server in turn. Responses go to `out` in batches of plain tuples, the
    fields of `Answer`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    counter = itertools.count()
    k, p = len(ports), len(paths)

    def worker() -> None:
        conns: dict[int, http.client.HTTPConnection] = {}
        batch: list[tuple] = []
        last_flush = time.monotonic()
        while not stop.is_set():
            j = next(counter)
            server, pi = j % k, (j // k) % p
            t0 = time.monotonic()
            status, digest, facets, state, error, parts = 0, None, None, None, None, None
            try:
                conn = conns.get(server)
                if conn is None:
                    conn = conns[server] = http.client.HTTPConnection("127.0.0.1", ports[server], timeout=30)
                conn.request("GET", paths[pi])
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
                if resp.getheader("connection", "").lower() == "close":
                    conns.pop(server).close()
            except (http.client.HTTPException, OSError) as exc:
                dropped = conns.pop(server, None)
                if dropped is not None:
                    dropped.close()
                error = f"{type(exc).__name__}: {exc}"
                body = b""
            t1 = time.monotonic()
            if status:
                digest, facets, state, parts = normalise(body)
                if status != 200:
                    error = body[:300].decode("utf-8", "replace")
            batch.append((t0, t1, server, pi, status, round((t1 - t0) * 1000, 3), digest, facets, state, error, parts))
            if t1 - last_flush > 0.2:
                out.put(batch)
                batch, last_flush = [], t1
        if batch:
            out.put(batch)
        for conn in conns.values():
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(None)


class Load:
    """The load process and, in this process, a thread collecting what it reports."""

    def __init__(self, ports: list[int], requests: list[tuple[str, str]], concurrency: int):
        ctx = multiprocessing.get_context("spawn")
        self.queue, self.stop_event = ctx.Queue(), ctx.Event()
        self.proc = ctx.Process(target=load_main, args=(ports, [p for _, p in requests], concurrency, self.queue, self.stop_event),
                                daemon=True, name="scaleout-load")
        self.responses: list[Answer] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.collector = threading.Thread(target=self._collect, daemon=True)

    def start(self) -> None:
        self.proc.start()
        self.collector.start()

    def _collect(self) -> None:
        while True:
            try:
                batch = self.queue.get(timeout=0.5)
            except queue.Empty:
                if not self.proc.is_alive():
                    break
                continue
            if batch is None:
                break
            with self.lock:
                self.responses += [Answer(*t) for t in batch]
        self.done.set()

    def snapshot(self) -> list[Answer]:
        with self.lock:
            return list(self.responses)

    def stop(self, timeout: float = 30) -> None:
        self.stop_event.set()
        self.done.wait(timeout)
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)


# --- servers -------------------------------------------------------------------------------------


def serve_args(src: Path, db: Path, ports: list[int], scratch: Path) -> list[list[str]]:
    """`kb.cli.datasette_args` for each port, computed by the snapshot's kb (what `policy-kb serve`
    would run), with its default SQL time limit."""
    code = ("import json, sys\nfrom pathlib import Path\nfrom kb.cli import datasette_args\n"
            "db, scratch, ports = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])\n"
            "print(json.dumps([datasette_args(db, host='127.0.0.1', port=p, sql_time_limit_ms=1000, scratch=scratch / str(p))"
            " for p in ports]))\n")
    for p in ports:
        (scratch / str(p)).mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-c", code, str(db), str(scratch), json.dumps(ports)], cwd=src, env=bench.kb_env(src),
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"kb.cli.datasette_args failed: {out.stderr[-800:]}")
    return json.loads(out.stdout)


class Servers:
    """K Datasette processes, each in its own session (a Ctrl-C here does not reach them; we stop
    them), logging to run_dir/datasette-<i>.log."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []
        self.logs: list[Path] = []

    def start(self, arg_lists: list[list[str]], ports: list[int], src: Path, run_dir: Path) -> None:
        for i, (args, port) in enumerate(zip(arg_lists, ports)):
            log_path = run_dir / f"datasette-{i}.log"
            with open(log_path, "wb") as log:
                proc = subprocess.Popen([sys.executable, "-m", "datasette", *args], cwd=src, env=bench.kb_env(src),
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            self.procs.append(proc)
            self.ports.append(port)
            self.logs.append(log_path)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        for i, (proc, port) in enumerate(zip(self.procs, self.ports)):
            client = bench.Client(port)
            try:
                problem = bench.wait_ready(proc, client, self.logs[i], max(deadline - time.monotonic(), 0.1))
            finally:
                client.close()
            if problem:
                raise RuntimeError(f"server {i}: {problem}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- the changes made while serving --------------------------------------------------------------


def edit_targets(corpus: Path, manifest: dict, count: int = 3) -> list[Path]:
    """Mid-sized valid Japanese files (any valid file when there are too few), spread apart."""
    valid = [f for f in manifest["files"] if "invalid" not in f]
    ja = [f for f in valid if f.get("lang") == "ja"]
    pool = sorted(ja if len(ja) >= count else valid, key=lambda f: (f["chars"], f["path"]))
    mid = len(pool) // 2
    picks = [pool[min(len(pool) - 1, max(0, mid + (i - count // 2) * 5))]["path"] for i in range(count)]
    return [corpus / path for path in dict.fromkeys(picks)]


def edit_body(path: Path, n: int) -> None:
    """Append a sentence the search and the measures table will see (事業継続義務, a support period)."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"\n追加の一文（改訂{n}）：事業者に事業継続義務を課し、支援期間は{10 + n}年とする。\n")


def force_full_rebuild(src: Path) -> None:
    """Change the snapshot's code the way an upgrade does (a comment in kb/__init__.py): the
    build's fingerprint changes, so the next build is a full one. The repository is not touched."""
    with open(src / "kb" / "__init__.py", "a", encoding="utf-8") as fh:
        fh.write(f"# bench/scaleout.py: code changed at {time.time():.0f} to force a full rebuild\n")


# --- the run -------------------------------------------------------------------------------------


def wait_converged(load: Load, n_servers: int, state: str, since: float, timeout: float, need: int = 3) -> float | None:
    """Seconds after `since` when every server had given `need` state answers in a row equal to
    `state` (requests sent after `since`); None after `timeout`."""
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        streak = [0] * n_servers
        for a in load.snapshot():
            if a.t0 >= since and a.state is not None:
                streak[a.server] = streak[a.server] + 1 if a.state == state else 0
        if all(s >= need for s in streak):
            return time.monotonic() - since
    return None


def build_step(kind: str, cmd: list[str], src: Path, db: Path, builds: list[dict], load: Load, n_servers: int,
               converge_timeout: float, log) -> dict:
    """Run one build on the served path, read the state it left, wait for the servers to show it.
    Times are time.monotonic(), the clock of the load process too."""
    t0 = time.monotonic()
    r = bench.run_timed(cmd, cwd=src, env=bench.kb_env(src))
    t1 = time.monotonic()
    if r["code"] != 0:
        raise RuntimeError(f"{kind} build exited {r['code']}: {r['stderr'][-800:]}")
    state = read_state(db)
    step = {"kind": kind, "started": t0, "ended": t1, "seconds": r["seconds"], "summary": r["stdout"].strip()[-300:], "state": state}
    builds.append(step)
    waited = wait_converged(load, n_servers, state["digest"], t1, converge_timeout)
    step["waited_s"] = round(waited, 2) if waited is not None else None
    log(f"{kind} build {r['seconds']:.1f}s -> state {state['digest']} (build #{state['builds']}, {state['records']} records); "
        + (f"all servers report it after {waited:.1f}s" if waited is not None
           else f"NOT reported by every server within {converge_timeout:.0f}s"))
    return step


# --- analysis ------------------------------------------------------------------------------------


def _pct(samples: list[float]) -> dict:
    return {"count": len(samples), "p50_ms": bench.percentile(samples, 0.5), "p95_ms": bench.percentile(samples, 0.95)}


def analyse(answers: list[Answer], requests: list[tuple[str, str]], builds: list[dict], initial: dict,
            load_started: float, load_ended: float, n_servers: int) -> dict:
    """The checks of the module docstring over every answer. State i is the database after build i
    (state 0: the initial build)."""
    states = [initial["digest"]] + [b["state"]["digest"] for b in builds]
    index_of = {d: i for i, d in enumerate(states)}
    kinds = [k for k, _ in requests]
    path = lambda a: requests[a.req][1][:120]  # noqa: E731

    ok = [a for a in answers if a.status == 200]
    errors = [a for a in answers if a.status != 200]
    latency: dict[str, list[float]] = defaultdict(list)
    for a in ok:
        latency["all"].append(a.ms)
        latency[kinds[a.req]].append(a.ms)

    # State answers: a completed build? Stale: older than the newest build finished before the
    # request was sent.
    state_answers = sorted((a for a in ok if kinds[a.req] == "state"), key=lambda a: a.t0)
    unknown = [a for a in state_answers if a.state not in index_of]
    stale = 0
    for a in state_answers:
        if a.state in index_of:
            completed = sum(1 for b in builds if b["ended"] <= a.t0)
            stale += index_of[a.state] < completed

    # After each build: when every server shows it (per server: the end of its first new-state
    # answer after its last other one), and until when the previous state was certainly still
    # served everywhere (the start of the last other-state answer that ended before any new-state one).
    convergence = []
    for i, b in enumerate(builds):
        new = b["state"]["digest"]
        until = builds[i + 1]["started"] if i + 1 < len(builds) else load_ended
        during = [a for a in state_answers if b["started"] <= a.t0 < until]
        first_new = min((a.t1 for a in during if a.state == new), default=None)
        b["old_until"] = max([b["started"]] + [a.t0 for a in during if a.state != new and (first_new is None or a.t1 < first_new)])
        switched = []
        for server in range(n_servers):
            mine = [a for a in during if a.server == server]
            last_other = max((a.t1 for a in mine if a.state != new), default=None)
            firsts = [a.t1 for a in mine if a.state == new and (last_other is None or a.t0 >= last_other)]
            switched.append(firsts[0] if firsts else None)
        converged = None not in switched
        b["converged_at"] = max(switched) if converged else None
        convergence.append({
            "build": i + 1, "kind": b["kind"], "state": new, "converged": converged,
            "seconds": round(max(0.0, b["converged_at"] - b["ended"]), 3) if converged else None,
            # negative: every server already showed the build before its process exited
            "all_switched_vs_exit_s": round(b["converged_at"] - b["ended"], 3) if converged else None,
        })
    gaps = []
    for server in range(n_servers):
        ts = [a.t0 for a in state_answers if a.server == server]
        gaps += [y - x for x, y in zip(ts, ts[1:])]

    # Stable windows: state i from the moment every server shows it until the next build could
    # have committed. Within one, every request must get one answer from every server.
    starts = [load_started] + [b["converged_at"] for b in builds]
    ends = [b["old_until"] for b in builds] + [load_ended]
    windows = [(i, lo, hi) for i, (lo, hi) in enumerate(zip(starts, ends)) if lo is not None and lo < hi]
    most_facets: dict[int, int] = {}
    for a in ok:
        if a.facets is not None:
            most_facets[a.req] = max(most_facets.get(a.req, 0), a.facets)
    degraded = [a for a in ok if a.facets is not None and a.facets < most_facets[a.req]]
    comparable = [a for a in ok if not (a.facets is not None and a.facets < most_facets[a.req])]
    reference: dict[tuple[int, int], str] = {}  # (request, state) -> the answer
    reference_parts: dict[tuple[int, int], dict] = {}
    mismatches = []
    compared = 0
    for state_i, lo, hi in windows:
        seen: dict[int, dict[str, list[Answer]]] = defaultdict(lambda: defaultdict(list))
        for a in comparable:
            if lo <= a.t0 and a.t1 <= hi:
                seen[a.req][a.digest].append(a)
                compared += 1
        for req, by_digest in seen.items():
            common = max(by_digest, key=lambda d: len(by_digest[d]))
            reference[(req, state_i)] = common
            reference_parts[(req, state_i)] = by_digest[common][0].parts or {}
            if len(by_digest) > 1:
                mismatches.append({"state": states[state_i], "path": requests[req][1][:120], "kind": kinds[req],
                                   "answers": {d: {"count": len(v), "servers": sorted({a.server for a in v})}
                                               for d, v in by_digest.items()}})

    # Answers outside the windows (around a commit) must be some state's answer. A table page is
    # several SQL statements: when its parts match different states, it straddled a commit (mixed).
    known = defaultdict(set)
    for (req, _), d in reference.items():
        known[req].add(d)
    in_window = lambda a: any(lo <= a.t0 and a.t1 <= hi for _, lo, hi in windows)  # noqa: E731
    mixed, unexplained = [], []
    for a in comparable:
        if in_window(a) or a.digest in known[a.req]:
            continue
        origin = {}
        for part, d in (a.parts or {}).items():
            origin[part] = sorted(s for (req, s), parts in reference_parts.items() if req == a.req and parts.get(part) == d)
        # parts_from_states: part -> the states (0: initial build, i: after the i-th build) whose answer has it
        example = {"server": a.server, "path": path(a), "at_s": round(a.t0 - load_started, 2), "parts_from_states": origin}
        explained = origin and all(origin.values()) and not set.intersection(*map(set, origin.values()))
        (mixed if explained else unexplained).append(example)

    return {
        "requests": len(answers), "duration_s": round(load_ended - load_started, 2),
        "throughput_rps": round(len(answers) / (load_ended - load_started), 1),
        "latency": {k: _pct(v) for k, v in latency.items()},
        "errors": len(errors),
        "error_examples": [{"server": a.server, "path": path(a), "status": a.status, "error": (a.error or "")[:200]} for a in errors[:5]],
        "state_answers": len(state_answers), "unknown_states": len(unknown),
        "unknown_state_examples": [{"server": a.server, "state": a.state} for a in unknown[:5]],
        "stale_state_answers": stale,
        "state_poll_interval_p50_s": round(sorted(gaps)[len(gaps) // 2], 3) if gaps else None,
        "convergence": convergence,
        "all_converged": all(c["converged"] for c in convergence),
        "convergence_max_s": (max((c["seconds"] for c in convergence), default=0.0)
                              if all(c["converged"] for c in convergence) else None),
        "switched_before_exit": sum(1 for c in convergence if c["converged"] and c["all_switched_vs_exit_s"] <= 0),
        "compared_answers": compared, "mismatches": len(mismatches), "mismatch_examples": mismatches[:5],
        "mixed_pages": len(mixed), "mixed_examples": mixed[:5],
        "unexplained": len(unexplained), "unexplained_examples": unexplained[:5],
        "degraded_facet_pages": len(degraded),
    }


# --- docs/benchmarks.md --------------------------------------------------------------------------


def _ms(lat: dict, kind: str) -> str:
    v = lat.get(kind) or {}
    return f"{bench._fmt(v.get('p50_ms'), 1)} / {bench._fmt(v.get('p95_ms'), 1)}"


def serving_mode(args: list[str]) -> str:
    return "immutable (`datasette serve -i`)" if "-i" in args or "--immutable" in args else "mutable, read-only (no `-i`)"


def _para(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=100, break_long_words=False, break_on_hyphens=False)


def section(r: dict) -> str:
    m = r["machine"]
    a = r["analysis"]
    lat = a["latency"]
    swapped = len(r["builds"])
    kinds = Counter(b["kind"] for b in r["builds"])
    full = [b for b in r["builds"] if b["kind"] == "full"]
    intro = _para(f"""Measured by `python bench/scaleout.py --records N --servers K --seconds S --concurrency C --write-doc`
        (see its docstring); such a rerun replaces this section. K Datasette processes on 127.0.0.1 serve one
        built file with the arguments of `kb.cli.datasette_args`, here {serving_mode(r["datasette_args"][0])}.
        A second process keeps C requests in flight (closed loop), round-robin over the servers: the records
        facet page, the `search` canned query ({", ".join(bench.SEARCH_WORDS)}), two filtered table pages and a
        one-statement "state" query naming the complete build that answered. Meanwhile record bodies are
        edited and rebuilt incrementally with `python -m kb build` on the served path, then a full rebuild is
        forced (code fingerprint changed). Answers are compared with `query_ms` and the host:port of absolute
        URLs taken out. Mismatches: different answers to one request within one build state. Mixed pages: a
        table page answered at a commit whose parts (rows, count, each facet: separate SQL statements in
        Datasette) come from two builds; a race, so its count varies from run to run. Unexplained: an answer
        that is no build's, whole or in parts. Stale: a state answer from an older build than the newest
        completed one. Behind a load balancer the servers would be copies on several hosts
        (`datasette publish` targets); Docker does not run on this machine.""")
    if a["all_converged"]:
        conv = ("before exit" if a["switched_before_exit"] == len(a["convergence"])
                else bench._fmt(a["convergence_max_s"], 2))
    else:
        conv = f"no ({sum(not c['converged'] for c in a['convergence'])} of {swapped})"
    header = ("| N | K | C | requests | req/s | p50 / p95 ms | facet | search | filter | state | builds swapped"
              " | all servers on the new build | mismatches | mixed pages | unexplained | unknown states | stale | errors"
              " | date | commit | machine |\n"
              "|" + "---:|" * 18 + "---|---|---|\n")
    cells = [
        str(r["records"]),
        str(r["servers"]),
        str(r["concurrency"]),
        f"{a['requests']:,}",
        bench._fmt(a["throughput_rps"], 1),
        _ms(lat, "all"),
        _ms(lat, "facet"),
        _ms(lat, "search"),
        _ms(lat, "filter"),
        _ms(lat, "state"),
        f"{swapped} ({kinds['incremental']} incremental, {kinds['full']} full)",
        conv,
        str(a["mismatches"]),
        str(a["mixed_pages"]),
        str(a["unexplained"]),
        str(a["unknown_states"]),
        str(a["stale_state_answers"]),
        str(a["errors"]),
        r["date"][:10],
        r.get("commit") or "—",
        f"{m['nproc']} CPU {m['cpu']}, {m['ram_gib']} GiB, load {m['loadavg_at_start'][0]}",
    ]
    row = "| " + " | ".join(c.replace("|", "/") for c in cells) + " |\n"
    notes = [_para(f"Verdict: **{'pass' if r['passed'] else 'FAIL'}**. {r['verdict']}")]
    builds = ", ".join(f"{b['seconds']:.1f}" for b in r["builds"] if b["kind"] == "incremental")
    full_s = f", full {full[0]['seconds']:.1f} s" if full else ""
    notes.append(
        _para(f"""Load ran {a["duration_s"]:.0f} s ({a["compared_answers"]:,} of {a["requests"]:,} answers fell in a
        stable window and were compared across servers). Builds under load: incremental {builds} s{full_s}
        (the initial build, before the servers started, took
        {r["initial_build"]["seconds"]:.1f} s). "All servers on the new build" is how long after the build process
        exited every server answered with the new state ("before exit": each time, every server showed it
        before the build process had returned); each server reported its state every
        {bench._fmt(a["state_poll_interval_p50_s"], 2)} s (median), the resolution of that figure. Latencies
        (p50 / p95 ms) are under this load, with the K servers, the load generator and the builds sharing
        {m["nproc"]} CPUs.""")
    )
    if a["mixed_pages"]:
        ex = a["mixed_examples"][0]
        by_state: dict[int, list[str]] = defaultdict(list)
        for part, st in ex["parts_from_states"].items():
            if len(st) == 1:
                by_state[st[0]].append(part)
        parts = "; ".join(f"{', '.join(ps)} from build state {i}" for i, ps in sorted(by_state.items()))
        notes.append(_para(f"""Mixed pages: {a['mixed_pages']} table pages answered at a commit had parts from two
            builds: Datasette runs a page's rows, count and facets as separate SQL statements (the facets in
            parallel), each its own read transaction. Example, `{ex['path']}` at {ex['at_s']} s: {parts}
            (state 0 is the initial build, state i the database after the i-th build while serving). The next
            request gets the new build whole."""))
    if a["degraded_facet_pages"]:
        notes.append(_para(f"""{a['degraded_facet_pages']} facet pages came back with fewer facets (a facet over
            Datasette's facet_time_limit_ms under load is left out of the JSON); they were not compared."""))
    return "## Scale-out\n\n" + intro + "\n\n" + header + row + "\n" + "\n\n".join(notes) + "\n"


def update_doc(result: dict, doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else bench.DOC_HEAD
    block = f"{SECTION_START}\n{section(result)}{SECTION_END}"
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        text = before + block + rest.split(SECTION_END, 1)[1]
    elif bench.TABLE_END in text:
        before, after = text.split(bench.TABLE_END, 1)
        text = f"{before}{bench.TABLE_END}\n\n{block}\n{after.lstrip(chr(10))}"
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")


# --- main ----------------------------------------------------------------------------------------


def verdict(a: dict) -> tuple[bool, str]:
    problems = []
    if a["errors"]:
        problems.append(f"{a['errors']} answers other than 200")
    if a["unknown_states"]:
        problems.append(f"{a['unknown_states']} state answers matching no completed build")
    if not a["all_converged"]:
        bad = [c for c in a["convergence"] if not c["converged"]]
        problems.append(f"After {len(bad)} of {len(a['convergence'])} builds not every server moved to the new state "
                        f"({a['stale_state_answers']} stale state answers)")
    if a["mismatches"]:
        problems.append(f"{a['mismatches']} requests answered differently by the servers within one state")
    if a["unexplained"]:
        problems.append(f"{a['unexplained']} answers that no build's answers explain")
    if problems:
        return False, "; ".join(problems) + "."
    if a["switched_before_exit"] == len(a["convergence"]):
        when = "before its build process had exited"
    else:
        when = f"within {a['convergence_max_s']:.2f} s of its build process's exit"
    return True, (f"Every answer 200, every state answer the state of a completed build, every server on each new "
                  f"build {when}, and one answer per request from all servers in each state.")


def _interrupt(*_) -> None:
    raise KeyboardInterrupt  # SIGTERM: clean up as for Ctrl-C


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument(
        "--seconds", type=float, default=20, help="quiet phases and incremental builds take this long; the full rebuild adds its own time"
    )
    ap.add_argument("--concurrency", type=int, default=4, help="load generator threads, one request in flight each")
    ap.add_argument("--converge-timeout", type=float, default=15, help="how long to wait for all servers to show a new build")
    ap.add_argument("--workdir", type=Path, default=HERE / "out")
    ap.add_argument("--out", type=Path, help="results JSON (default WORKDIR/scaleout-N.json)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep WORKDIR/scaleout-nN (snapshot, corpus copy, database, logs)")
    ap.add_argument("--write-doc", action="store_true", help="also write the results into docs/benchmarks.md (JSON only without it)")
    args = ap.parse_args(argv)
    log = lambda msg: print(f"[scaleout] {msg}", file=sys.stderr, flush=True)  # noqa: E731

    workdir = args.workdir.resolve()
    out_path = args.out or workdir / f"scaleout-{args.records}.json"
    run_dir = bench.fresh_dir(workdir / f"scaleout-n{args.records}")
    src = bench.snapshot(run_dir / "src")
    db = run_dir / "kb.db"  # the metadata names the database `kb`
    kb_cmd = [sys.executable, "-m", "kb"]
    requests = request_list()
    result: dict = {
        "records": args.records,
        "servers": args.servers,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "seed": args.seed,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": bench.source_commit(),
        "machine": bench.machine(),
        "requests_cycle": [{"kind": k, "path": p if k != "state" else "/kb.json?sql=<STATE_SQL>&_shape=array"} for k, p in requests],
        "state_sql": STATE_SQL,
    }

    servers = Servers()
    load: Load | None = None
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        corpus_cache, manifest, reused = bench.ensure_corpus(workdir, args.records, args.seed)
        log(f"corpus {corpus_cache} ({'reused' if reused else 'generated'})")
        corpus = run_dir / "corpus"
        shutil.copytree(corpus_cache, corpus)
        build_cmd = [*kb_cmd, "build", str(corpus), "--db", str(db)]
        b = bench.run_timed(build_cmd, cwd=src, env=bench.kb_env(src))
        if b["code"] != 0:
            raise RuntimeError(f"initial build exited {b['code']}: {b['stderr'][-800:]}")
        initial = read_state(db)
        result["initial_build"] = {"seconds": b["seconds"], "summary": b["stdout"].strip()[-300:], "state": initial}
        log(f"initial build {b['seconds']:.1f}s -> state {initial['digest']}")

        ports: list[int] = []
        while len(ports) < args.servers:
            p = bench.free_port()
            if p not in ports:
                ports.append(p)
        arg_lists = serve_args(src, db, ports, run_dir / "scratch")
        result["datasette_args"] = arg_lists
        log(f"starting {args.servers} × datasette {' '.join(arg_lists[0][:3])} … on ports {ports}")
        servers.start(arg_lists, ports, src, run_dir)
        servers.wait_ready()
        for port in ports:  # first requests load code and warm caches: not part of the measurement
            client = bench.Client(port)
            try:
                for _, path in requests:
                    client.get(path)
            finally:
                client.close()

        builds: list[dict] = []
        load = Load(ports, requests, args.concurrency)
        load.start()
        while not load.snapshot():  # the load process is up once its first answers arrive
            if not load.proc.is_alive():
                raise RuntimeError("the load process exited before sending a request")
            time.sleep(0.05)
        load_started = min(a.t0 for a in load.snapshot())
        quiet = max(3.0, args.seconds * 0.25)
        hold = max(1.5, args.seconds * 0.05)
        log(f"load: {args.concurrency} workers over {args.servers} servers; quiet {quiet:.0f}s")
        time.sleep(quiet)

        targets = edit_targets(corpus, manifest)
        edits_until = time.monotonic() + args.seconds * 0.5
        n = 0
        while n < 2 or time.monotonic() < edits_until:
            n += 1
            target = targets[(n - 1) % len(targets)]
            edit_body(target, n)
            step = build_step("incremental", build_cmd, src, db, builds, load, args.servers, args.converge_timeout, log)
            step["edited"] = str(target.relative_to(corpus))
            time.sleep(hold)
            if n >= 50:
                break

        force_full_rebuild(src)
        step = build_step("full", build_cmd, src, db, builds, load, args.servers, args.converge_timeout, log)
        if "full build" not in step["summary"]:
            log(f"note: the forced full rebuild reported: {step['summary']}")
        log(f"final quiet {quiet:.0f}s")
        time.sleep(quiet)
        load.stop()
        responses = load.snapshot()
        load_ended = max(a.t1 for a in responses)
        load = None

        a = analyse(responses, requests, builds, initial, load_started, load_ended, args.servers)
        result["builds"] = [{**{k: v for k, v in bb.items() if k not in ("started", "ended", "converged_at", "old_until")},
                             "started_s": round(bb["started"] - load_started, 2), "ended_s": round(bb["ended"] - load_started, 2)}
                            for bb in builds]
        result["analysis"] = a
        result["passed"], result["verdict"] = verdict(a)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        if load is not None:
            load.stop(5)
        servers.stop()
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.write_doc:
        update_doc(result)
    log(f"results -> {out_path}" + (f"; section 'Scale-out' in {DOC.relative_to(REPO)}" if args.write_doc else ""))
    a = result["analysis"]
    summary = ("requests", "throughput_rps", "convergence_max_s", "errors", "unknown_states", "stale_state_answers",
               "mismatches", "mixed_pages", "unexplained", "degraded_facet_pages")
    print(json.dumps({k: a[k] for k in summary}))
    print(("PASS: " if result["passed"] else "FAIL: ") + result["verdict"])
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
