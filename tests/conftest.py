"""Shared test helpers: where the repository and the shared material live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CASES = Path(__file__).resolve().parent / "cases"


def shared(*parts: str) -> Path:
    """A path under ../shared, skipping the test with the reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared material {p} is absent (tests read ../shared/ beside the checkout; it is never copied in)")
    return p
