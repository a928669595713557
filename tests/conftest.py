"""Fixtures every test module shares: the databases built once per session from the seeds and
the hub (read only by the tests that use them), fresh copies of the seeds to edit, and the
pinned build fingerprint. Plain helpers are in helpers.py, the offset contract in contracts.py."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import HUB, SEEDS, shared


def pytest_configure(config) -> None:
    """A regex cache of the session's own (kb.regex_cache), set before kb is imported: what a test
    run compiles never reaches the user's cache folder, and the commands tests run inherit it."""
    if "POLICY_KB_CACHE_DIR" not in os.environ:
        config._kb_cache = tempfile.TemporaryDirectory(prefix="policy-kb-cache-")
        os.environ["POLICY_KB_CACHE_DIR"] = config._kb_cache.name


def pytest_unconfigure(config) -> None:
    if getattr(config, "_kb_cache", None) is not None:
        config._kb_cache.cleanup()
        del os.environ["POLICY_KB_CACHE_DIR"]


@pytest.fixture(scope="session")
def seeds_db(tmp_path_factory) -> Path:
    """The two seeds built with the real extractor. Shared: tests only read it."""
    from kb.publish import build

    db = tmp_path_factory.mktemp("seeds") / "kb.db"
    build([SEEDS], db)
    return db


@pytest.fixture(scope="session")
def hub_dir() -> Path:
    return shared(*HUB)


@pytest.fixture(scope="session")
def hub_db(tmp_path_factory, hub_dir) -> Path:
    """The hub's records (en and zh) built with the real extractor. Shared: tests only read it."""
    from kb.publish import build

    db = tmp_path_factory.mktemp("hub") / "kb.db"
    build([hub_dir], db)
    return db


@pytest.fixture(scope="session")
def hub_and_seeds_db(tmp_path_factory, hub_dir) -> Path:
    """The hub's records and the seeds in one database: enough policies to browse and compare."""
    from kb.publish import build

    tmp = tmp_path_factory.mktemp("hub-and-seeds")
    for lang in ("en", "zh"):
        shutil.copytree(hub_dir / lang, tmp / "records" / lang)
    shutil.copytree(SEEDS, tmp / "records" / "seeds")
    build([tmp / "records"], tmp / "kb.db")
    return tmp / "kb.db"


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A copy of the seeds the test may edit, at tmp_path/records."""
    src = tmp_path / "records"
    shutil.copytree(SEEDS, src)
    return src


@pytest.fixture
def pinned_fingerprint(monkeypatch):
    """Other work edits kb/*.py while tests run; a moving code fingerprint would turn incremental
    builds into full ones at random. Tests of the fingerprint itself do not use this."""
    from kb import publish

    monkeypatch.setattr(publish, "_fingerprint", lambda: "pinned")
