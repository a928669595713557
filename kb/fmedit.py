"""Editing a record's frontmatter in place: set a field, touching no other byte of the file.

Re-serializing a frontmatter would reorder keys, requote strings and drop comments, so a person's
file would come back rewritten. Instead each edit finds the span of one value (or the end of the
mapping that lacks the key) in the frontmatter text, through PyYAML's node marks or a JSON scan,
and replaces or inserts only there. Inserted scalars are written as JSON, which is also valid YAML;
a mapping inserted into block YAML is written as indented lines, one key a line. After the edits
the file is parsed again and must hold exactly the intended values with the same body, or nothing
is written.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from kb import regex_cache
from kb.records import RecordError, parse_record

__all__ = ["EditError", "FieldEdit", "apply_edits"]

_FENCE_LINE = regex_cache.compile(r"^---[ \t]*\r?$", re.M)


class EditError(Exception):
    """The frontmatter could not be edited in place; the file is left as it was."""


@dataclass(frozen=True, slots=True)
class FieldEdit:
    path: tuple[str, ...]  # mapping keys from the frontmatter's root
    value: Any


def apply_edits(text: str, edits: list[FieldEdit], path: str = "<record>") -> str:
    """The file text with each edit's field set; every other byte as it was."""
    before = parse_record(text, path)
    expected = copy.deepcopy(before.meta)
    for edit in edits:
        _set(expected, edit.path, edit.value)
    for edit in edits:
        start, end = _frontmatter_span(text)
        fm = text[start:end]
        newline = "\r\n" if "\r\n" in fm else "\n"
        edited = _edit_json(fm, edit, newline) if before.fm_format == "json" else _edit_yaml(fm, edit, newline)
        text = text[:start] + edited + text[end:]
    try:
        after = parse_record(text, path)
    except RecordError as exc:
        raise EditError(f"the edited frontmatter would not load ({exc.message})") from None
    if after.meta != expected or after.body != before.body:
        raise EditError("the edited frontmatter would not hold exactly the suggested values")
    return text


def _set(meta: dict, path: tuple[str, ...], value: Any) -> None:
    node = meta
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


def _frontmatter_span(text: str) -> tuple[int, int]:
    first_end = text.find("\n")
    close = _FENCE_LINE.search(text, first_end + 1)
    if first_end < 0 or close is None:
        raise EditError("no frontmatter block")
    return first_end + 1, close.start()


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _nest(path: tuple[str, ...], value: Any) -> Any:
    for part in reversed(path):
        value = {part: value}
    return value


# --- YAML ----------------------------------------------------------------------------------------


def _edit_yaml(fm: str, edit: FieldEdit, newline: str) -> str:
    try:
        node = yaml.compose(fm, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise EditError(f"frontmatter is not valid YAML: {exc}") from None
    for depth, part in enumerate(edit.path):
        rest = edit.path[depth + 1:]
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null", "Null", "NULL"):
            return _replace(fm, node.start_mark.index, node.end_mark.index, _dump(_nest(edit.path[depth:], edit.value)))
        if not isinstance(node, yaml.MappingNode):
            raise EditError(f"{'.'.join(edit.path[:depth]) or 'frontmatter'} is not a mapping")
        child = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        if child is None:
            return _insert_yaml(fm, node, part, _nest(rest, edit.value), newline)
        node = child
    if isinstance(node, yaml.ScalarNode):
        return _replace(fm, node.start_mark.index, node.end_mark.index, _dump(edit.value))
    raise EditError(f"{'.'.join(edit.path)} holds a collection, not a value")


def _replace(fm: str, start: int, end: int, new: str) -> str:
    if start == end and start and fm[start - 1] == ":":
        new = " " + new  # `key:` with nothing after it
    return fm[:start] + new + fm[end:]


def _last_end(node: yaml.Node) -> int:
    """Where the text of a node ends: a block collection's own end mark can lie lines further on."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node.end_mark.index


def _insert_yaml(fm: str, mapping: yaml.MappingNode, key: str, value: Any, newline: str) -> str:
    entry = f"{key}: {_dump(value)}"
    if mapping.flow_style or not mapping.value:
        return _insert_flow(fm, mapping.start_mark.index, mapping.end_mark.index,
                            [(k.start_mark.index, _last_end(v)) for k, v in mapping.value], entry, newline)
    end = _last_end(mapping.value[-1][1])
    if end and fm[end - 1] == "\n":
        at = end
    else:
        eol = fm.find("\n", end)
        at = len(fm) if eol < 0 else eol + 1
    indent = " " * mapping.value[0][0].start_mark.column
    lead = newline if at == len(fm) and fm and not fm.endswith("\n") else ""
    return fm[:at] + lead + _block(key, value, indent, newline) + newline + fm[at:]


_PLAIN_KEY = regex_cache.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _block(key: str, value: Any, indent: str, newline: str) -> str:
    """An entry of a block mapping, nested mappings as indented lines (as a person writes them),
    scalars as JSON (valid YAML)."""
    head = f"{indent}{key if _PLAIN_KEY.fullmatch(key) else _dump(key)}:"
    if isinstance(value, dict) and value:
        return newline.join([head] + [_block(k, v, indent + "  ", newline) for k, v in value.items()])
    return f"{head} {_dump(value)}"


def _insert_flow(fm: str, open_at: int, close_end: int, items: list[tuple[int, int]], entry: str, newline: str) -> str:
    """A new entry in a flow mapping or JSON object: after its last value, in the same layout."""
    if not items:
        close = fm.rindex("}", open_at, close_end)
        return fm[:close] + entry + fm[close:]
    first_key, last_end = items[0][0], items[-1][1]
    if "\n" in fm[open_at:first_key]:  # one entry a line: follow the first key's indentation
        line_start = fm.rfind("\n", 0, first_key) + 1
        return fm[:last_end] + "," + newline + fm[line_start:first_key] + entry + fm[last_end:]
    return fm[:last_end] + ", " + entry + fm[last_end:]


# --- JSON ----------------------------------------------------------------------------------------

_WS = regex_cache.compile(r"\s*")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class _Item:
    key: str
    key_start: int
    start: int
    end: int


def _object_items(fm: str, at: int) -> tuple[list[_Item], int]:
    """The entries of the JSON object opening at `at`, and the offset just past its `}`."""
    items, i = [], _WS.match(fm, at + 1).end()
    while fm[i] != "}":
        if fm[i] == ",":
            i = _WS.match(fm, i + 1).end()
            continue
        key, j = json.decoder.scanstring(fm, i + 1)
        j = _WS.match(fm, j).end() + 1  # past the colon
        start = _WS.match(fm, j).end()
        _, end = _DECODER.raw_decode(fm, start)
        items.append(_Item(key, i, start, end))
        i = _WS.match(fm, end).end()
    return items, i + 1


def _edit_json(fm: str, edit: FieldEdit, newline: str) -> str:
    at = _WS.match(fm).end()
    try:
        for depth, part in enumerate(edit.path):
            if fm[at] == "n" and fm.startswith("null", at):
                return fm[:at] + _dump(_nest(edit.path[depth:], edit.value)) + fm[at + 4:]
            if fm[at] != "{":
                raise EditError(f"{'.'.join(edit.path[:depth]) or 'frontmatter'} is not an object")
            items, close_end = _object_items(fm, at)
            item = next((x for x in items if x.key == part), None)
            if item is None:
                entry = f"{_dump(part)}: {_dump(_nest(edit.path[depth + 1:], edit.value))}"
                return _insert_flow(fm, at, close_end, [(x.key_start, x.end) for x in items], entry, newline)
            at = item.start
        _, end = _DECODER.raw_decode(fm, at)
    except (ValueError, IndexError) as exc:
        raise EditError(f"frontmatter is not valid JSON: {exc}") from None
    if fm[at] in "{[":
        raise EditError(f"{'.'.join(edit.path)} holds a collection, not a value")
    return fm[:at] + _dump(edit.value) + fm[end:]
