"""The table declarations (kb/tables.py) against what a build creates, the column notes Datasette
shows, and the code reading rows: one declaration, nothing read by position."""

from __future__ import annotations

import ast
import json
import pickle
import sqlite3

import pytest

from kb import tables
from kb.publish import build
from kb.tables import TABLES
from tests.helpers import REPO

KB = REPO / "kb"


@pytest.fixture(scope="module")
def seeds_conn(tmp_path_factory):
    db = tmp_path_factory.mktemp("tables") / "kb.db"
    build([REPO / "seeds"], db)
    conn = sqlite3.connect(db)
    yield conn
    conn.close()


def _master(conn) -> dict[str, tuple[str, str]]:
    return {name: (kind, sql or "") for name, kind, sql in conn.execute("select name, type, sql from sqlite_master")}


def test_every_table_built_is_declared_and_every_declared_table_built(seeds_conn):
    master = _master(seeds_conn)
    virtual = [n for n, (kind, sql) in master.items() if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    ours = {n for n, (kind, _) in master.items()
            if kind in ("table", "view") and not any(n.startswith(v + "_") for v in virtual)}  # FTS5 keeps shadow tables
    assert ours == set(TABLES)
    for name, table in TABLES.items():
        kind, sql = master[name]
        assert (kind, sql.upper().startswith("CREATE VIRTUAL TABLE")) == {
            "table": ("table", False), "fts5": ("table", True), "view": ("view", False)}[table.kind], name


@pytest.mark.parametrize("name", sorted(TABLES))
def test_columns_types_keys_and_references_are_as_declared(seeds_conn, name):
    table = TABLES[name]
    info = seeds_conn.execute(f"pragma table_info([{name}])").fetchall()
    assert [r[1] for r in info] == [c.name for c in table.columns]
    if table.kind != "table":
        return
    assert [r[2] for r in info] == [c.type for c in table.columns]
    assert [r[1] for r in info if r[5]] == ([table.pk] if table.pk else [])
    assert [r[1] for r in info if r[3]] == [c.name for c in table.columns if c.not_null]
    fks = {(r[3], r[2], r[4]) for r in seeds_conn.execute(f"pragma foreign_key_list([{name}])")}
    assert fks == set(table.references())


@pytest.mark.parametrize("name", sorted(TABLES))
def test_indexes_are_as_declared(seeds_conn, name):
    table = TABLES[name]
    made = {}
    for _, index, _unique, origin, _ in seeds_conn.execute(f"pragma index_list([{name}])"):
        if origin == "c":  # made by a create index statement, not by a unique or primary key constraint
            columns = seeds_conn.execute(f"pragma index_xinfo([{index}])").fetchall()
            made[index] = tuple(("-" if desc else "") + column for _, _, column, desc, *_ in columns if column)
    assert sorted(made.values()) == sorted(table.indexes)
    unique = [c.name for c in table.columns if c.unique]
    got = [seeds_conn.execute(f"pragma index_info([{index}])").fetchone()[2]
           for _, index, is_unique, origin, _ in seeds_conn.execute(f"pragma index_list([{name}])") if origin == "u"]
    assert got == unique


@pytest.mark.parametrize("name", sorted(TABLES))
def test_datasette_column_notes_are_the_declared_ones(name):
    metadata = json.loads((REPO / "datasette_metadata.json").read_text("utf-8"))["databases"]["kb"]["tables"]
    notes = tables.column_notes(TABLES[name])
    assert metadata[name]["columns"] == notes
    assert all(notes.values()), f"{name}: a column without a note"


def test_metadata_file_is_what_the_tool_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_metadata", REPO / "tools" / "make_metadata.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    current = (REPO / "datasette_metadata.json").read_text("utf-8")
    assert tool.generated(current) == current, "run python tools/make_metadata.py"


def test_a_note_can_come_from_the_record_schema():
    from kb.validation import schema

    assert tables.column_notes(tables.RECORDS)["legal_weight"] == schema()["properties"]["legalWeight"]["description"]
    assert tables.column_notes(tables.ANALYSIS)["audit_note"] == (
        schema()["properties"]["analysis"]["properties"]["mrv"]["properties"]["auditNote"]["description"])


@pytest.mark.parametrize("name", sorted(n for n, t in TABLES.items() if t.row is not None))
def test_row_records_follow_the_declaration_and_travel_between_processes(name):
    table = TABLES[name]
    assert list(table.row._fields) == table.names
    assert getattr(tables, table.row.__name__) is table.row  # pickle finds it by name
    row = table.row(**{c: f"v{i}" for i, c in enumerate(table.names)})
    assert pickle.loads(pickle.dumps(row)) == row and type(pickle.loads(pickle.dumps(row))) is table.row


def test_a_declaration_is_checked_when_made():
    with pytest.raises(ValueError, match="twice"):
        tables.Table("t", (tables.text("a", "x"), tables.text("a", "y")))
    with pytest.raises(ValueError, match="primary key"):
        tables.Table("t", (tables.text("a", "x"),), pk="b")


# --- no row is read by position ---------------------------------------------------------------------

# What rows come from: a cursor (conn.execute, fetchall, ...) or a list of row records (rows, batch).
_CURSOR_CALLS = {"execute", "executemany", "fetchone", "fetchall", "fetchmany"}
_ROW_LISTS = ("rows", "batch", "pending", "measures", "clauses", "found", "manifest", "files")


def _is_position(node: ast.expr) -> bool:
    """An integer index or a slice with integer bounds."""
    def integer(e):
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            e = e.operand
        return isinstance(e, ast.Constant) and type(e.value) is int
    if isinstance(node, ast.Slice):
        return any(b is not None and integer(b) for b in (node.lower, node.upper))
    return integer(node)


def _is_cursor(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _CURSOR_CALLS
               for n in ast.walk(node))


def _is_row_source(node: ast.expr) -> bool:
    if _is_cursor(node):
        return True
    names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)] + [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
    return any(name.endswith(_ROW_LISTS) for name in names) or any(
        isinstance(n, ast.Constant) and n.value in TABLES for n in ast.walk(node))


def positional_reads(source: str) -> list[tuple[int, str]]:
    """(line, code) of each place where a row is read by position: a cursor's result indexed
    (`conn.execute(...).fetchone()[0]`), or a variable iterating over a cursor or a list of rows
    indexed (`for r in conn.execute(...)`: `r[0]`; `for m in measures`: `m[3]`); also a row of
    such a list read as `rows[i][j]`."""
    tree = ast.parse(source)
    found = []

    def report(scope: ast.AST, names: set[str]) -> None:
        for node in ast.walk(scope):
            if isinstance(node, ast.Subscript) and _is_position(node.slice):
                value = node.value
                if (isinstance(value, ast.Name) and value.id in names) or _is_cursor(value) or (
                        isinstance(value, ast.Subscript) and _is_row_source(value.value)):
                    found.append((node.lineno, ast.unparse(node)))

    for node in ast.walk(tree):
        # A row variable is looked at where it is bound: the loop's body, or the comprehension.
        if isinstance(node, ast.For) and _is_row_source(node.iter):
            names = {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
            for statement in node.body:
                report(statement, names)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            names = {n.id for g in node.generators if _is_row_source(g.iter) for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            report(node, names)
        elif isinstance(node, ast.Subscript):
            report(node, set())  # a cursor's result or rows[i] indexed in place
    return sorted(set(found))


@pytest.mark.parametrize("source, expected", [
    ("n = conn.execute('select count(*) from t').fetchone()[0]", 1),
    ("ids = {r[0] for r in conn.execute('select id from t')}", 1),
    ("for m in measures:\n    if m[3]: pass", 1),
    ("texts = [c[-1] for c in rows['clauses']]", 1),
    ("first = rows[0][2]", 1),
    ("(n,) = conn.execute('select count(*) from t').fetchone()", 0),
    ("ids = {r.id for r in rows['clauses']}", 0),
    ("head = 'a-b'.split('-')[0]", 0),
    ("for word in words:\n    first = word[0]", 0),
])
def test_the_position_check_finds_what_it_should(source, expected):
    assert len(positional_reads(source)) == expected


@pytest.mark.parametrize("path", sorted(str(p.relative_to(REPO)) for p in KB.rglob("*.py")))
def test_no_module_reads_a_row_by_position(path):
    assert positional_reads((REPO / path).read_text("utf-8")) == []
