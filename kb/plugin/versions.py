"""What differs between the Datasette versions we serve on (0.65.x and 1.0a), in one place.

Datasette 0.65 reads everything from one metadata file: descriptions, table options (facets,
sort order, page size, hidden tables) and canned queries. Datasette 1.0 keeps only descriptions
there; table options and queries move to its configuration (`-c datasette.json`), and plugins
add queries to its internal database instead of answering a `canned_queries` hook. `served`
splits the shipped metadata the way the installed version reads it; `policy-kb serve` and the
tests both start Datasette from it.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib.metadata import version
from typing import NamedTuple

from kb.resources import load_json

DATASETTE_VERSION = version("datasette")
# Read from the installed distribution, not from the datasette package: the plugin is imported
# while Datasette itself is still being imported.
DATASETTE_1 = int(DATASETTE_VERSION.split(".")[0]) >= 1
# The per-table keys Datasette 1.0 reads from its configuration, not from metadata.
TABLE_CONFIG_KEYS = ("hidden", "sort", "sort_desc", "size", "sortable_columns", "label_column", "facets",
                     "fts_table", "fts_pk", "searchmode")


def sql_path(database: str) -> str:
    """The page that runs arbitrary SQL (`?sql=`; add `.json` for JSON): 1.0 moved it from
    /db to /db/-/query."""
    return f"/{database}/-/query" if DATASETTE_1 else f"/{database}"


class Served(NamedTuple):
    """What Datasette is started with: the metadata, and on 1.0 the configuration (None on 0.65,
    whose metadata holds it all)."""
    metadata: dict
    config: dict | None

    def datasette_kwargs(self) -> dict:
        """Keyword arguments for `Datasette(...)`."""
        return {"metadata": self.metadata, **({"config": self.config} if self.config is not None else {})}

    def queries(self) -> dict:
        """Every canned query, by database, wherever this version reads them from."""
        source = self.config if self.config is not None else self.metadata
        return {name: db.get("queries", {}) for name, db in source.get("databases", {}).items()}


@cache
def shipped() -> dict:
    return load_json("datasette_metadata.json")


def served(database: str = "kb") -> Served:
    """The shipped metadata for a database served under the name `database` (the file's stem),
    laid out for the installed Datasette."""
    metadata = copy.deepcopy(shipped())
    metadata["databases"] = {database: metadata["databases"]["kb"]}
    if not DATASETTE_1:
        return Served(metadata, None)
    db = metadata["databases"][database]
    tables = {}
    for name, table in db.get("tables", {}).items():
        options = {k: table.pop(k) for k in TABLE_CONFIG_KEYS if k in table}
        if options:
            tables[name] = options
    config = {"databases": {database: {"queries": db.pop("queries", {}), "tables": tables}}}
    return Served(metadata, config)


async def table_metadata(datasette, database: str, table: str) -> dict:
    """A table's metadata as Datasette's table page has it: description, source, licence and
    `columns` (column name -> description)."""
    if hasattr(datasette, "get_resource_metadata"):  # 1.0: held in the internal database
        meta = await datasette.get_resource_metadata(database, table)
        rows = await datasette.get_internal_database().execute(
            "select column_name, value from metadata_columns where database_name = ? and resource_name = ?"
            " and key = 'description'", [database, table])
        return {**meta, "columns": {r["column_name"]: r["value"] for r in rows}}
    return datasette.table_metadata(database, table) or {}
