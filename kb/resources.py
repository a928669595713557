"""Files shipped beside the package: the record schema and Datasette's metadata."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(name: str) -> Path:
    """A file shipped beside the package: inside the wheel (kb/<name>) or in a source checkout."""
    packaged = resources.files("kb").joinpath(name)
    if packaged.is_file() or packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / name
