"""Crash safety of `policy-kb build`: a build killed outright (SIGKILL, no cleanup possible) at any
point leaves the previous database intact and readable, the next build succeeds and removes the
killed build's temporary file, and a read-only reader (as Datasette opens the file) never sees a
half-written database while builds commit into the file it reads.

The corpus is generated: ~300 records recombined from the seed bodies with their own ids, and a
second variant of every file so a rebuild has real work to do.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.helpers import REPO, make_corpus

KILLS = 10
TIMEOUT = 120  # hang guard per build


def build_cmd(folder: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "kb", "build", str(folder), "--db", str(db)]


def run_build(folder: Path, db: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(build_cmd(folder, db), capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return time.perf_counter() - started


def snapshot(db: Path, *, check: bool = True) -> tuple[int, str]:
    """(record count, hash of every record's sha256 in key order), read in one statement; raises
    if the file is not a complete, consistent database."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if check:
            assert [r[0] for r in conn.execute("pragma integrity_check")] == ["ok"]
        return state(conn)
    finally:
        conn.close()


def state(conn: sqlite3.Connection) -> tuple[int, str]:
    count, shas = conn.execute("select count(*), group_concat(sha256, ',') from (select sha256 from records order by key)").fetchone()
    return count, hashlib.sha256((shas or "").encode()).hexdigest()


def orphans(pgid: int, grace: float = 10.0) -> bool:
    """True when processes of the killed build's group are still alive after `grace` seconds
    (they are then killed, so one failure does not leak processes into the next round)."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)
    return True


def restore(baseline: Path, db: Path) -> None:
    """Put the old database back. Its WAL sidecars go first: a -wal left by the killed build is
    another database's and must not be replayed into the restored file."""
    for sidecar in ("-wal", "-shm"):
        db.with_name(db.name + sidecar).unlink(missing_ok=True)
    shutil.copyfile(baseline, db)


def temps(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f".{db.name}.tmp-*"))


def test_killed_builds_leave_the_old_database(tmp_path):
    corpus, db = tmp_path / "corpus", tmp_path / "out" / "kb.db"
    make_corpus(corpus, 300)
    run_build(corpus, db)
    old = snapshot(db)
    assert old[0] == 300
    baseline = tmp_path / "baseline.db"
    shutil.copyfile(db, baseline)

    make_corpus(corpus, 300, variant=1)  # every file changes: the rebuild has all 300 to redo
    probe = tmp_path / "probe" / "kb.db"
    probe.parent.mkdir()
    shutil.copyfile(baseline, probe)
    duration = run_build(corpus, probe)
    new = snapshot(probe)
    assert new != old and new[0] == 300

    killed = completed = 0
    for k in range(KILLS):
        delay = duration * (k + 0.5) / KILLS  # spread over the whole run, start-up included
        # Its own session, so any worker processes it forked can be found (and reaped) after.
        proc = subprocess.Popen(build_cmd(corpus, db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO,
                                start_new_session=True)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)  # the build only: its workers must notice on their own
        _, err = proc.communicate(timeout=TIMEOUT)
        if proc.returncode == 0:
            assert b"Traceback" not in err
        assert not orphans(proc.pid), "worker processes outlived the killed build"
        got = snapshot(db)  # opens, passes integrity_check, or raises
        if proc.returncode == -signal.SIGKILL and got == old:
            killed += 1
        else:  # finished (or was killed after the swap): the new database, whole
            assert got == new, (k, delay, proc.returncode)
            completed += 1
            restore(baseline, db)  # start the next round from the old database again
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} kills landed mid-build (build takes {duration:.2f}s)"

    run_build(corpus, db)  # a normal build after all that
    assert snapshot(db) == new
    assert temps(db) == [], "the next build must remove temporary files of killed builds"
    assert not list(db.parent.glob("*-journal"))
    print(f"kills survived: {killed}, builds that finished first: {completed}, build time {duration:.2f}s")


def test_reader_never_sees_a_half_written_database(tmp_path):
    """Readers as Datasette opens the file (read-only, not immutable) querying in a loop while
    builds commit into it get either the old or the new content, never a mix or an error: fresh
    connections (a new request) and one held open across the builds (a server's pool)."""
    corpus, db = tmp_path / "corpus", tmp_path / "kb.db"
    make_corpus(corpus, 60)
    run_build(corpus, db)
    states = {snapshot(db)}
    seen: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    held = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)

    def reader() -> None:
        try:
            while not stop.is_set():
                seen.append(snapshot(db, check=False))  # a fresh connection, as a new request would
                seen.append(state(held))  # a connection opened before the builds, as a server's
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        for round_ in range(4):
            make_corpus(corpus, 60, variant=round_ % 2 + 1)
            run_build(corpus, db)
            states.add(snapshot(db))
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
        last_held = state(held)
        held.close()
    assert not errors, errors[0]
    assert len(states) == 3
    assert seen and set(seen) <= states, set(seen) - states
    assert len(set(seen)) >= 2, "the reader never saw a swap; the test proves nothing"
    assert last_held == snapshot(db), "a connection held open must move on to the last build"


def test_a_worker_dies_with_its_parent(tmp_path):
    """A forked worker of a build or validation must not outlive a parent killed with SIGKILL: busy
    (or stuck on a queue lock the dead parent held), it would keep the parent's pipes open, and a
    caller waiting for the output would hang. The kernel ends it with its parent (kb.workers)."""
    script = tmp_path / "orphan.py"
    script.write_text(
        "import multiprocessing, os, time\n"
        "from kb.workers import die_with_parent\n"
        "def busy(_):\n    print(os.getpid(), flush=True)\n    time.sleep(600)\n"
        "if __name__ == '__main__':\n"
        "    pool = multiprocessing.get_context('fork').Pool(1, initializer=die_with_parent, initargs=(os.getpid(),))\n"
        "    pool.apply_async(busy, (0,))\n"
        "    time.sleep(1)\n"
        "    os.kill(os.getpid(), 9)\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    with out.open("w") as sink:  # a file, not a pipe: a surviving worker must not hang this test
        subprocess.run([sys.executable, str(script)], stdout=sink, timeout=120, cwd=Path(__file__).resolve().parents[1])
    worker = int(out.read_text().split()[0])
    deadline = time.monotonic() + 30  # a hang guard: the kernel acts at once
    while time.monotonic() < deadline and "sleeping" in _state(worker):
        time.sleep(0.05)
    state = _state(worker)
    if "sleeping" in state:
        os.kill(worker, signal.SIGKILL)
    assert "sleeping" not in state, f"worker {worker} outlived its parent ({state})"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (OSError, IndexError):
        return "gone"


def test_validation_across_workers_gives_what_one_process_gives(tmp_path):
    """Validation of a corpus large enough for forked workers finds, in order, what checking the
    files one by one finds (kb.workers.ordered, shared with the build)."""
    from kb.records import iter_record_files
    from kb.validation import PARALLEL_MIN_FILES, check_files

    src = tmp_path / "corpus"
    make_corpus(src, PARALLEL_MIN_FILES + 40)
    files = list(iter_record_files([src]))
    alone = check_files(files, workers=1)
    spread = check_files(files, workers=2)
    assert len(alone) == len(files) >= PARALLEL_MIN_FILES
    assert [(c.path, c.findings) for c in spread] == [(c.path, c.findings) for c in alone]
