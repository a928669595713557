"""What tests share besides fixtures: where the repository and the shared material live, the
in-process Datasette as `policy-kb serve` configures it, SQL reads of a built database, and the
generated corpora. Fixtures are in conftest.py; the offset contract is in contracts.py."""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import sqlite3
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CASES = Path(__file__).resolve().parent / "cases"
SEEDS = REPO / "seeds"
PIPELINE = "jp-ccs-pipeline-support-interim-draft-2026.md"  # the seed made from document 002
JOGMEC = "jp-jogmec-advanced-ccs-2024.md"
HUB = ("peer", "ccus-policy-hub")
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def shared(*parts: str) -> Path:
    """A path under ../shared, skipping the test with the reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared material {p} is absent (tests read ../shared/ beside the checkout; it is never copied in)")
    return p


# --- Datasette in process --------------------------------------------------------------------------


def metadata() -> dict:
    from kb.resources import resource_path

    return json.loads(resource_path("datasette_metadata.json").read_text(encoding="utf-8"))


METADATA = metadata()


def get(db: Path, *paths: str, method: str = "get", lang: str | None = "en", **kw):
    """Each path from one Datasette over `db` (a file named kb.db, so the database is /kb) with the
    shipped metadata and settings, as `policy-kb serve` runs it: one response, or a list for
    several. `lang` is the visitor's Accept-Language; the timeout is a hang guard, not a timing check."""
    from datasette.app import Datasette

    from kb.plugin.versions import served
    from kb.publish import SETTINGS

    headers = {"accept-language": lang} if lang else {}

    async def fetch():
        ds = Datasette([str(db)], settings=SETTINGS, **served().datasette_kwargs())
        send = getattr(ds.client, method)
        return [await asyncio.wait_for(send(p, headers=headers, **kw), timeout=120) for p in paths]

    got = asyncio.run(fetch())
    return got[0] if len(paths) == 1 else got


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- reading a built database ----------------------------------------------------------------------


def rows(db: Path, sql: str, args=()) -> list[dict]:
    """Rows of a query as dicts."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def tuples(db: Path, sql: str, args=()) -> list[tuple]:
    """Rows of a query as tuples, for comparing whole result sets."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# --- corpora ---------------------------------------------------------------------------------------


def hostile_copy(folder: Path) -> Path:
    """A copy of the 002 seed with markup in its title, a metadata field and its body."""
    text = (SEEDS / PIPELINE).read_text(encoding="utf-8")
    meta_end = text.index("\n---\n", 4)
    meta = json.loads(text[4:meta_end])
    meta["id"] = "jp-hostile-copy"
    meta["title"] = "Hostile " + HOSTILE
    meta["source"] = HOSTILE
    body = text[meta_end + 5:].replace("支援期間は15年とし", f"支援期間は15年とし{HOSTILE}", 1)
    path = folder / "jp-hostile-copy.md"
    path.write_text("---\n" + json.dumps(meta, ensure_ascii=False, indent=2) + "\n---\n" + body, encoding="utf-8")
    return path


def make_corpus(folder: Path, n: int, variant: int = 0) -> None:
    """Write n valid records built from the seeds' frontmatter and shuffled seed paragraphs.
    `variant` changes every body (a different paragraph mix plus one sentence with a figure)."""
    from kb.records import load_record

    folder.mkdir(parents=True, exist_ok=True)
    seeds = [load_record(p) for p in sorted(SEEDS.glob("*.md"))]
    paragraphs = [p for s in seeds for p in re.split(r"\n\s*\n", s.body) if p.strip()]
    for i in range(n):
        rng = random.Random(i * 7919 + variant)
        seed = seeds[i % len(seeds)]
        rid = f"{seed.id}-{i:04d}"
        meta = {**seed.meta, "id": rid}
        meta.pop("evolution", None)  # supersedes would name records outside this corpus
        body = "\n\n".join(rng.sample(paragraphs, k=rng.randint(3, min(8, len(paragraphs)))))
        if variant:
            body += f"\n\n改訂 {variant}: 補助の上限は {variant * 100 + i} 万円とする。\n"
        text = "---\n" + json.dumps(meta, ensure_ascii=False, indent=1) + "\n---\n" + body + "\n"
        (folder / f"{rid}.md").write_text(text, encoding="utf-8")


def stop_group(proc, log=None) -> None:
    """End a process started in a session of its own (start_new_session=True) and everything it
    started: SIGTERM to the group, SIGKILL when it does not go within 20 s."""
    import os
    import signal
    import subprocess

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if log is not None:
        log.close()
