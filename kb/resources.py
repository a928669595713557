"""Files shipped beside the package: the record schema, Datasette's metadata and the data files
(kb/data/: word lists, rules, labels). The one way the code reads them."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path


def resource_path(name: str) -> Path:
    """A file shipped beside the package: inside the wheel (kb/<name>) or in a source checkout."""
    packaged = resources.files("kb").joinpath(name)
    if packaged.is_file() or packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / name


def load_json(name: str):
    """A shipped JSON file (`datasette_metadata.json`, `schema/...`, `data/...`), parsed."""
    return json.loads(resource_path(name).read_text(encoding="utf-8"))


def load_data(name: str) -> dict:
    """A data file of kb/data/ (word lists and rules are data, the code is grammar)."""
    return load_json(f"data/{name}")
