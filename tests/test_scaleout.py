"""Two Datasette servers on one database file while builds commit into it (the scale-out
`policy-kb serve` allows): every answer is 200 and whole, every state answer is the state of a
completed build, and both servers move to the last build. Small and bounded: a generated corpus
of 30 records, three incremental builds and one full one under a closed-loop load.
bench/scaleout.py measures the same at size (throughput, latency, convergence time); nothing
here is timed, the timeouts are hang guards.
"""

from __future__ import annotations

import hashlib
import http.client
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import pytest

from kb.cli import datasette_args
from tests.helpers import REPO, free_port, make_corpus, stop_group

RECORDS = 30
HANG_GUARD_S = 120

# One SQL statement, so one read transaction: which complete build answered.
STATE_SQL = """select
  (select value from kb_meta where key = 'built_at') as built_at,
  (select value from kb_meta where key = 'fingerprint') as fingerprint,
  (select count(*) from builds) as builds,
  (select count(*) from records) as records,
  (select count(*) from clauses) as clauses,
  (select count(*) from measures) as measures,
  (select group_concat(substr(coalesce(sha256, '-'), 1, 12), '') from (select sha256 from files order by key)) as files"""

PATHS = [
    ("state", f"/kb.json?sql={quote(STATE_SQL)}&_shape=array"),
    ("search", f"/kb/search.json?q={quote('事業継続義務')}&_shape=objects"),
    ("facets", "/kb/records.json?_size=0&_facet=country_code&_facet=status_key"),
    ("state", f"/kb.json?sql={quote(STATE_SQL)}&_shape=array"),
    ("filter", "/kb/measures.json?role=support_period&_shape=objects"),
]

# A build with its code fingerprint given on the command line: the same one keeps builds
# incremental (whatever else is edited in kb/ meanwhile), a new one forces a full rebuild.
BUILD = """import sys
from kb import publish
publish._fingerprint = lambda: sys.argv[3]
report = publish.build([sys.argv[1]], sys.argv[2])
print("full" if report.full else "incremental")
"""


class Answer(NamedTuple):
    server: int
    kind: str
    status: int  # 0: no HTTP answer
    state: str | None  # digest of a state answer
    problem: str | None


def digest(row: dict) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


def file_state(db: Path) -> str:
    """The state of the file as a fresh read-only connection sees it, not through Datasette."""
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        cur = conn.execute(STATE_SQL)
        return digest(dict(zip([d[0] for d in cur.description], cur.fetchone())))


def run_build(corpus: Path, db: Path, fingerprint: str) -> str:
    done = subprocess.run([sys.executable, "-c", BUILD, str(corpus), str(db), fingerprint], cwd=REPO,
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def answer(conn: http.client.HTTPConnection, server: int, kind: str, path: str) -> Answer:
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except (http.client.HTTPException, OSError) as exc:
        conn.close()  # reconnects on the next request
        return Answer(server, kind, 0, None, f"{type(exc).__name__}: {exc}")
    if resp.status != 200:
        return Answer(server, kind, resp.status, None, body[:300].decode("utf-8", "replace"))
    try:
        data = json.loads(body)
    except ValueError:
        return Answer(server, kind, resp.status, None, f"not JSON: {body[:200]!r}")
    if kind == "state":
        return Answer(server, kind, 200, digest(data[0]), None)
    if "rows" not in data:
        return Answer(server, kind, 200, None, f"no rows in {sorted(data)}")
    return Answer(server, kind, 200, None, None)


class Load:
    """Two threads, one request in flight each, round-robin over the servers and PATHS."""

    def __init__(self, ports: list[int]):
        self.ports, self.answers, self.stop = ports, [], threading.Event()
        self.counter = itertools.count()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(2)]

    def loop(self) -> None:
        conns = {i: http.client.HTTPConnection("127.0.0.1", p, timeout=HANG_GUARD_S / 4) for i, p in enumerate(self.ports)}
        while not self.stop.is_set():
            j = next(self.counter)
            server = j % len(self.ports)
            kind, path = PATHS[(j // len(self.ports)) % len(PATHS)]
            self.answers.append(answer(conns[server], server, kind, path))
        for conn in conns.values():
            conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(HANG_GUARD_S)

    def states_since(self, start: int) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {i: [] for i in range(len(self.ports))}
        for a in self.answers[start:]:
            if a.state:
                out[a.server].append(a.state)
        return out


@pytest.fixture
def served(tmp_path):
    """A generated corpus, built; two `datasette` processes serving the one file with the
    arguments `policy-kb serve` gives."""
    corpus, db = tmp_path / "corpus", tmp_path / "kb.db"
    make_corpus(corpus, RECORDS)
    assert run_build(corpus, db, "a") == "full"
    ports = [free_port(), free_port()]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    procs = []
    for i, port in enumerate(ports):
        (tmp_path / f"scratch-{i}").mkdir()
        args = datasette_args(db, host="127.0.0.1", port=port, sql_time_limit_ms=5000, scratch=tmp_path / f"scratch-{i}")
        log = open(tmp_path / f"datasette-{i}.log", "w+")
        procs.append((subprocess.Popen([sys.executable, "-m", "datasette", *args], cwd=tmp_path, env=env,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
    try:
        wait_ready(ports, procs)
        yield corpus, db, ports
    finally:
        for proc, log in procs:
            stop_group(proc, log)


def wait_ready(ports: list[int], procs) -> None:
    deadline = time.monotonic() + HANG_GUARD_S  # a readiness wait, not a timing check
    for port, (proc, log) in zip(ports, procs):
        while True:
            with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) as conn:
                try:
                    conn.request("GET", "/kb.json?sql=select+1")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"datasette on port {port} did not answer (exit {proc.poll()}):\n{log.read()[-3000:]}")
            time.sleep(0.2)


def wait_both_show(load: Load, state: str, since: int) -> None:
    """Until every server has answered `state` to requests sent after answer number `since`."""
    deadline = time.monotonic() + HANG_GUARD_S
    while not all(state in seen for seen in load.states_since(since).values()):
        assert time.monotonic() < deadline, f"not every server moved to build state {state}: {load.states_since(since)}"
        time.sleep(0.05)


def test_two_servers_serve_every_build_whole(served):
    corpus, db, ports = served
    states = [file_state(db)]

    with Load(ports) as load:
        wait_both_show(load, states[0], 0)
        for variant, fingerprint, kind in [(1, "a", "incremental"), (2, "a", "incremental"), (3, "a", "incremental"),
                                           (4, "b", "full")]:
            target = corpus / sorted(os.listdir(corpus))[variant]
            with open(target, "a", encoding="utf-8") as fh:  # a new sentence with a measure in one body
                fh.write(f"\n追加（改訂{variant}）：支援期間は{10 + variant}年とする。\n")
            mark = len(load.answers)
            assert run_build(corpus, db, fingerprint) == kind
            states.append(file_state(db))
            wait_both_show(load, states[-1], mark)

    answers = load.answers
    assert len(set(states)) == len(states), "every build must leave a new state"
    bad = [a for a in answers if a.status != 200 or a.problem]
    assert not bad, f"{len(bad)} of {len(answers)} answers not 200 and whole, e.g. {bad[:3]}"
    seen = {a.state for a in answers if a.state}
    assert seen <= set(states), f"state answers of no completed build: {seen - set(states)}"
    assert len(seen) == len(states), "the load did not see every build; the test proves nothing"
    assert {a.kind for a in answers} == {kind for kind, _ in PATHS} and {a.server for a in answers} == {0, 1}
