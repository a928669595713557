"""Reading policy record files: frontmatter (JSON or YAML) + body.

A record file is UTF-8 text (an optional BOM is dropped), a frontmatter block between two `---`
lines, then the body. The body is kept exactly as written, so clause and measure offsets index it.
Loading failures are raised as `RecordError` subclasses that carry the path, line and column; the
validator turns them into findings.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb import regex_cache

MAX_BYTES = 16 * 1024 * 1024  # a policy text of 16 MiB is already ~10,000 pages
MAX_DEPTH = 32  # records nest 3 levels deep; anything near this limit is hostile or broken
MAX_YAML_NODES = 100_000  # aliases may expand a small text into an exponential tree
RECORD_SUFFIXES = (".md", ".markdown", ".txt")
# Files that live beside records in a folder but are not records.
NOT_RECORDS = ("readme", "license", "licence", "changelog", "contributing", "notice")
LANG_DIRS = {"ja", "zh", "en", "zh-hant", "zh-hans", "ko"}

_FENCE = regex_cache.compile(r"---[ \t]*\r?$")
# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
               (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
# A JSON `\u` escape of half a UTF-16 surrogate pair with no other half beside it: the decoded
# string cannot be written as UTF-8, so SQLite and stdout would both refuse it.
_LONE_SURROGATE = regex_cache.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                             r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


class RecordError(Exception):
    """A file that cannot be read as a record. One subclass per failure class."""

    rule = "load.error"

    def __init__(self, path: str, message: str, line: int = 1, col: int = 1):
        super().__init__(message)
        self.path, self.message, self.line, self.col = str(path), message, line, col


class UnreadableFile(RecordError):
    rule = "load.unreadable"


class TooLarge(RecordError):
    rule = "load.too-large"


class NotAFile(RecordError):
    """A FIFO, socket or device: reading it could block forever or never end."""

    rule = "load.not-a-file"


class OutsideRoot(RecordError):
    """A link in a corpus folder that leads out of it: its target is never read or published."""

    rule = "load.outside-root"


class BinaryFile(RecordError):
    rule = "load.binary"


class NotUtf8(RecordError):
    rule = "load.encoding"


class NotText(RecordError):
    """A document in a format that holds text but is not text (PDF, Word, RTF, a saved web page with
    binary content): it has to be converted before its text can be checked or extracted."""

    rule = "load.convert-first"


class EmptyFile(RecordError):
    rule = "load.empty"


class NoFrontmatter(RecordError):
    rule = "load.no-frontmatter"


class UnterminatedFrontmatter(RecordError):
    rule = "load.unterminated-frontmatter"


class FrontmatterSyntax(RecordError):
    rule = "load.syntax"


class DuplicateKey(RecordError):
    rule = "load.duplicate-key"


class AliasBomb(RecordError):
    rule = "load.alias-bomb"


class TooDeep(RecordError):
    rule = "load.too-deep"


class NotAMapping(RecordError):
    rule = "load.not-a-mapping"


class BadValue(RecordError):
    """NaN, Infinity or a number too large to represent: JSON Schema cannot reason about them."""

    rule = "load.bad-value"


@dataclass(frozen=True, slots=True)
class Record:
    path: str
    meta: dict[str, Any]
    body: str
    lang: str
    fm_format: str | None  # "json", "yaml", or None when the file has no frontmatter
    fm_text: str = ""  # the frontmatter source, LF line ends
    fm_line: int = 0  # file line of the frontmatter's first line
    body_line: int = 1  # file line where the body starts
    sha256: str = ""
    positions: dict = field(default_factory=dict, compare=False, repr=False)  # filled lazily

    @property
    def id(self) -> str | None:
        value = self.meta.get("id")
        return value if isinstance(value, str) else None

    @property
    def stem_id(self) -> str:
        """The id the file name gives: `x.md` and `x.ja.md` both say `x`."""
        stem = Path(self.path).name.split(".")[0]
        return stem

    def locate(self, path: tuple, key: bool = False) -> tuple[int, int]:
        """File line and column of the value at `path` (or of its key), falling back to the
        nearest located parent, then to the frontmatter's opening line."""
        if self.fm_format == "json":
            if (tuple(path), key) not in self.positions:
                try:
                    self.positions.update(_json_locate(self.fm_text, tuple(path)))
                except (ValueError, IndexError):
                    pass
        elif not self.positions:
            self.positions.update(_yaml_positions(self))
        for depth in range(len(path), -1, -1):
            hit = self.positions.get((tuple(path[:depth]), key and depth == len(path)))
            if hit is None and key and depth == len(path):
                hit = self.positions.get((tuple(path[:depth]), False))
            if hit is not None:
                return hit
        return (max(self.fm_line - 1, 1), 1)


# --- reading -------------------------------------------------------------------------------


def read_text(path: str | Path, max_bytes: int = MAX_BYTES, root: str | Path | None = None) -> tuple[str, str]:
    """Decode a file as UTF-8 text; return (text, sha256 of the bytes). Only a regular file is
    read (opened without blocking, so a FIFO cannot hang the reader), never more than max_bytes
    (a file that grows, or /dev/zero behind a link, is cut off), and, with `root`, only when its
    real path lies inside that folder."""
    if root is not None:
        confine(path, root)
    data = read_bytes(path, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    kind = document_kind(data)
    if kind is not None:
        raise NotText(str(path), f"{kind.name}, not text: convert it to UTF-8 text first ({kind.how})")
    for bom, name in _OTHER_BOMS:  # UTF-16/32 text is full of NUL bytes but is not binary
        if data.startswith(bom):
            raise NotUtf8(str(path), f"{name} text (byte order mark {bom.hex(' ').upper()}); save the file as UTF-8")
    if b"\x00" in data:
        raise BinaryFile(str(path), "binary file (contains NUL bytes); a record must be UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise NotUtf8(str(path), f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded", line, col) from None
    return text.removeprefix("\ufeff"), digest


@dataclass(frozen=True, slots=True)
class DocumentKind:
    name: str  # what the file is, in the user's terms
    how: str  # a way to get its text


# Signatures at the start of a file. A PDF reader accepts a little junk before %PDF-, so the header
# is looked for after leading whitespace; zip and OLE containers are told apart by what they hold.
_PDF = DocumentKind("a PDF document", "e.g. pdftotext FILE.pdf FILE.txt")
_WORD = DocumentKind("a Word document", "e.g. pandoc -t plain, or soffice --headless --convert-to txt")
_RTF = DocumentKind("an RTF document", "e.g. pandoc -t plain, or soffice --headless --convert-to txt")
_ZIP = DocumentKind("a zip archive (an office document or other package)", "e.g. soffice --headless --convert-to txt")
_OLE = DocumentKind("an old-style Office document (OLE: .doc, .xls, .ppt)", "e.g. soffice --headless --convert-to txt")
_HTML = DocumentKind("an HTML page with binary content", "e.g. save it as UTF-8, then pandoc -f html -t plain")
_HTML_START = regex_cache.compile(rb"\s*(?:<!--[^>]{0,200}-->\s*)?<(?:!doctype\s+html|html|head|meta|body)\b", re.I)


def document_kind(data: bytes) -> DocumentKind | None:
    """The kind of document `data` is when it is not text but holds text to convert (PDF, Word,
    RTF, a zip or OLE office file, HTML with NUL bytes or bytes that are not UTF-8), else None."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return _PDF
    if head.startswith(b"{\\rtf"):
        return _RTF
    if data.startswith(b"PK\x03\x04"):
        return _WORD if b"word/" in data[:65536] else _ZIP
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _WORD if b"W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t" in data else _OLE
    if _HTML_START.match(head) and (b"\x00" in data or not _is_utf8(data)):
        return _HTML
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def read_bytes(path: str | Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, at most max_bytes: opened without blocking, so a FIFO cannot
    hang the reader; a FIFO, socket or device is NotAFile, a longer file (or one that grows while
    it is read) TooLarge."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableFile(str(path), f"cannot read file: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotAFile(str(path), f"not a regular file ({_file_type(st.st_mode)}); a record must be a text file")
        if st.st_size > max_bytes:
            raise TooLarge(str(path), f"file is {st.st_size:,} bytes; the limit is {max_bytes:,}")
        data = _read_capped(fd, max_bytes)
        if data is None:
            raise TooLarge(str(path), f"file grew past the limit of {max_bytes:,} bytes while it was read")
        return data
    except OSError as exc:
        raise UnreadableFile(str(path), f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _read_capped(fd: int, max_bytes: int) -> bytes | None:
    """Everything fd holds, or None when that is more than max_bytes."""
    chunks, total = [], 0
    while chunk := os.read(fd, min(1 << 20, max_bytes + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            return None
    return b"".join(chunks)


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "a special file"


def confine(path: str | Path, root: str | Path) -> None:
    """Raise OutsideRoot when path, its links followed, leads out of the folder root."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
        raise OutsideRoot(str(path), f"links to {real}, outside the folder {root}; it is not read")


def load_record(path: str | Path, *, require_frontmatter: bool = True, max_bytes: int = MAX_BYTES,
                root: str | Path | None = None) -> Record:
    text, digest = read_text(path, max_bytes, root)
    return parse_record(text, str(path), sha256=digest, require_frontmatter=require_frontmatter)


def parse_record(text: str, path: str = "<string>", *, sha256: str = "", require_frontmatter: bool = True) -> Record:
    text = text.removeprefix("\ufeff")
    if not sha256:
        sha256 = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if not text.strip():
        if require_frontmatter:
            raise EmptyFile(path, "empty file: a record needs a frontmatter block between `---` lines")
        return Record(path, {}, text, _detect_lang(text), None, sha256=sha256)
    first_end = text.find("\n")
    first = text if first_end < 0 else text[:first_end]
    if not _FENCE.fullmatch(first):
        if require_frontmatter:
            raise NoFrontmatter(path, "no frontmatter: the file must start with a `---` line")
        return Record(path, {}, text, _detect_lang(text), None, sha256=sha256)
    # Find the closing fence: the next line that is exactly `---`.
    close = None
    for m in re.finditer(r"^---[ \t]*\r?$", text[first_end + 1:], re.M):
        close = m
        break
    if first_end < 0 or close is None:
        raise UnterminatedFrontmatter(path, "frontmatter opened on line 1 is never closed by a `---` line")
    fm_raw = text[first_end + 1: first_end + 1 + close.start()]
    body_start = first_end + 1 + close.end()
    if text.startswith("\r\n", body_start):
        body_start += 2
    elif text.startswith("\n", body_start):
        body_start += 1
    body = text[body_start:]
    fm_text = fm_raw.replace("\r\n", "\n")
    body_line = text.count("\n", 0, body_start) + 1
    meta, fmt = _parse_frontmatter(fm_text, path)
    lang = _record_lang(meta, path, body)
    return Record(path, meta, body, lang, fmt, fm_text, 2, body_line, sha256)


def _parse_frontmatter(fm: str, path: str) -> tuple[dict, str]:
    try:  # text decoded from a file never fails this; a str handed to parse_record may
        fm.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadValue(path, f"{fm[exc.start]!r} is half a UTF-16 surrogate pair: the text cannot be stored as UTF-8",
                       *_offset_position(fm, exc.start)) from None
    stripped = fm.lstrip()
    if not stripped:
        raise NotAMapping(path, "frontmatter is empty: it must be a mapping of fields", 2, 1)
    if stripped[0] == "{":
        try:
            if _deeply_nested(fm):
                raise TooDeep(path, f"frontmatter nests deeper than {MAX_DEPTH} levels", 2, 1)
            data = json.loads(fm, parse_constant=_reject_constant, parse_float=_finite_float,
                              parse_int=_bounded_int, object_pairs_hook=_unique_pairs)
            if isinstance(data, dict):
                # The hooks above already did what _check_values does, except for surrogates.
                lone = _LONE_SURROGATE.search(fm)
                if lone and _unencodable(data) is not None:
                    raise BadValue(path, f"{lone.group()} is half a UTF-16 surrogate pair: the text cannot be stored as UTF-8",
                                   *_offset_position(fm, lone.start()))
                return data, "json"
            fmt = "json"
        except _DuplicateJsonKey as exc:
            line, col = _json_key_position(fm, exc.key)
            raise DuplicateKey(path, f"duplicate key {exc.key!r} in frontmatter", line, col) from None
        except _BadJsonConstant as exc:
            raise BadValue(
                path,
                f"{exc.args[0][:40]} is not a finite number that fits in 64 bits (JSON has no NaN or Infinity)",
                *_find(fm, exc.args[0]),
            ) from None
        except RecursionError:
            raise TooDeep(path, f"frontmatter nests deeper than {MAX_DEPTH} levels", 2, 1) from None
        except ValueError as json_exc:
            # Not JSON. YAML flow style (single quotes, trailing commas) also opens with `{`.
            if re.match(r'\{\s*"', stripped):
                if isinstance(json_exc, json.JSONDecodeError):
                    raise FrontmatterSyntax(path, f"invalid JSON: {json_exc.msg}", json_exc.lineno + 1, json_exc.colno) from None
                raise FrontmatterSyntax(path, f"invalid JSON: {json_exc}", 2, 1) from None
            data, fmt = _load_yaml(fm, path), "yaml"
    else:
        data, fmt = _load_yaml(fm, path), "yaml"
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "null" if data is None else f"a {type(data).__name__}"
        raise NotAMapping(path, f"frontmatter is {kind}, not a mapping of fields", 2, 1)
    _check_values(data, path, fm)
    return data, fmt


def _check_values(data: Any, path: str, fm: str) -> None:
    """Reject what JSON Schema cannot judge: non-finite or unrepresentable numbers, odd YAML types,
    and nesting deep enough to exhaust the stack of later stages."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooDeep(path, f"frontmatter nests deeper than {MAX_DEPTH} levels", 2, 1)
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise BadValue(path, f"key {k!r} is not a string", *_find(fm, str(k)))
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            if not value.isascii() and _unencodable(value) is not None:
                raise BadValue(path, "a string holds half a UTF-16 surrogate pair: it cannot be stored as UTF-8", 2, 1)
        elif isinstance(value, float) and not math.isfinite(value):
            raise BadValue(path, f"{value} is not a finite number", *_find(fm, str(value).replace("inf", "inf")))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
            raise BadValue(path, "number too large to store (more than 64 bits)", 2, 1)
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            raise BadValue(path, f"unsupported value of type {type(value).__name__}", 2, 1)


def _find(fm: str, needle: str) -> tuple[int, int]:
    """Position of `needle` written as a value of its own, not inside a word or a string
    (`NaN` must not be found in "financial"); the frontmatter's start when it is not there."""
    m = re.search(rf"(?<![\w.+\-\"']){re.escape(needle)}(?![\w.\"'])", fm)
    return _offset_position(fm, m.start() if m else 0)


def _unencodable(data: Any) -> str | None:
    """The first string (key or value) in `data` that UTF-8 cannot encode, if any."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return value
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def _offset_position(fm: str, offset: int) -> tuple[int, int]:
    line = fm.count("\n", 0, offset) + 2  # frontmatter starts on file line 2
    col = offset - (fm.rfind("\n", 0, offset) + 1) + 1
    return line, col


class _DuplicateJsonKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


class _BadJsonConstant(ValueError):
    pass


def _reject_constant(name: str):
    raise _BadJsonConstant(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadJsonConstant(text)
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(int(text)) > 2**63:
        raise _BadJsonConstant(text)
    return int(text)


def _unique_pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateJsonKey(k)
        out[k] = v
    return out


def _json_key_position(fm: str, key: str) -> tuple[int, int]:
    needle = json.dumps(key, ensure_ascii=False)
    first = fm.find(needle)
    second = fm.find(needle, first + 1) if first >= 0 else -1
    return _offset_position(fm, second if second >= 0 else max(first, 0))


# --- YAML -----------------------------------------------------------------------------------

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader that keeps dates as the text the author wrote (no timestamp resolver)."""


class _PyLoader(yaml.SafeLoader):
    """The pure-Python twin, for text nested deeply enough to overflow libyaml's C stack: Python
    recursion fails with a catchable RecursionError instead of a crash."""


# YAML 1.1 reads 0x7E8, 0o3750, 33:44 (sexagesimal), 1_000 and yes/no/on/off as numbers and
# booleans: `year: 0x7E8` would pass as 2024. Scalars resolve as in YAML 1.2's JSON-compatible core
# instead: decimal integers and floats, true/false, null; every other form stays the string the
# author wrote, and the schema says it is not a number.
_DROPPED = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}
_CORE = [
    ("tag:yaml.org,2002:bool", regex_cache.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
    ("tag:yaml.org,2002:int", regex_cache.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")),
    ("tag:yaml.org,2002:float", regex_cache.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                                           r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+.0123456789")),
]


def _decimal_int(loader, node) -> int:
    """A YAML integer in base ten, whatever its leading zeros (YAML 1.1 read 0777 as octal)."""
    return int(loader.construct_scalar(node), 10)


for _cls in (_Loader, _PyLoader):
    _cls.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
        for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    for _tag, _rx, _first in _CORE:
        _cls.add_implicit_resolver(_tag, _rx, _first)
    _cls.add_constructor("tag:yaml.org,2002:int", _decimal_int)

_QUOTED = regex_cache.compile(r"'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"")
_DEEP_INDENT = regex_cache.compile(rf"^[ \t-]{{{2 * MAX_DEPTH},}}", re.M)
_NEST = regex_cache.compile(rf"[\[\]{{}}]|^[ \t-]{{{2 * MAX_DEPTH},}}", re.M)


def _deeply_nested(fm: str) -> bool:
    if fm.count("[") + fm.count("{") <= MAX_DEPTH and not _DEEP_INDENT.search(fm):
        # Too few brackets to nest that deep and no line indented that far: the common case,
        # decided without stripping quoted strings first (the costly step below).
        return False
    depth = 0
    for m in _NEST.finditer(_QUOTED.sub("", fm)):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif c in "]}":
            depth -= 1
        else:  # a long run of indentation or `- - -` sequence markers
            return True
    return False


def _load_yaml(fm: str, path: str) -> Any:
    cls = _PyLoader if _deeply_nested(fm) else _Loader
    loader = None
    try:
        loader = cls(fm)  # the pure-Python reader rejects control characters right here
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, path)
        return loader.construct_document(node)
    except yaml.reader.ReaderError as exc:
        offset = exc.position if isinstance(exc.position, int) else 0
        if not issubclass(cls, yaml.SafeLoader):  # libyaml counts UTF-8 bytes, not characters
            offset = len(fm.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore"))
        where = _offset_position(fm, offset)
        raise FrontmatterSyntax(path, f"invalid YAML: character {chr(exc.character)!r} is not allowed in YAML text"
                                if isinstance(exc.character, int) else f"invalid YAML: {exc.reason}", *where) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 2, mark.column + 1) if mark else (2, 1)
        raise FrontmatterSyntax(path, f"invalid YAML: {exc.problem or exc.context}", line, col) from None
    except yaml.YAMLError as exc:
        raise FrontmatterSyntax(path, f"invalid YAML: {exc}", 2, 1) from None
    except RecursionError:
        raise TooDeep(path, f"frontmatter nests deeper than {MAX_DEPTH} levels", 2, 1) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python will convert
        raise BadValue(path, f"unreadable value: {exc}", 2, 1) from None
    finally:
        if loader is not None:
            loader.dispose()


_TAG = "tag:yaml.org,2002:"
_NOT_STR_KEYS = {_TAG + t for t in ("int", "float", "bool", "null")}
_DECIMAL = regex_cache.compile(r"[-+]?[0-9][0-9_]*")


def _check_scalar(node: yaml.ScalarNode, path: str) -> None:
    """Numbers JSON Schema and SQLite cannot hold, reported where they are written. Spellings
    this does not recognise are still caught, less precisely, by _check_values."""
    text, message = node.value.replace("_", ""), None
    if node.tag == _TAG + "float":
        try:
            if not math.isfinite(float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))):
                message = f"{node.value} is not a finite number"
        except ValueError:  # sexagesimal and other YAML 1.1 spellings
            pass
    elif node.tag == _TAG + "int" and _DECIMAL.fullmatch(node.value):
        if len(text.lstrip("+-")) > 19 or abs(int(text)) > 2**63:
            message = f"{node.value[:40]} is a number too large to store (more than 64 bits)"
    if message:
        m = node.start_mark
        raise BadValue(path, message, m.line + 2, m.column + 1)


def _check_nodes(root: yaml.Node, path: str) -> None:
    """Duplicate keys, depth and alias expansion, checked on the node graph before constructing."""
    sizes: dict[int, int] = {}
    # Iterative post-order walk; a node reached again through an alias reuses its size.
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if id(node) in sizes and not done:
            continue
        if depth > MAX_DEPTH:
            m = node.start_mark
            raise TooDeep(path, f"frontmatter nests deeper than {MAX_DEPTH} levels", m.line + 2, m.column + 1)
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            _check_scalar(node, path)
            sizes[id(node)] = 1
            continue
        if done:
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            if total > MAX_YAML_NODES:
                m = node.start_mark
                raise AliasBomb(path, f"aliases expand the frontmatter to over {MAX_YAML_NODES:,} values", m.line + 2, m.column + 1)
            sizes[id(node)] = total
            continue
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, yaml.Node] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.tag in _NOT_STR_KEYS:
                        m = key_node.start_mark
                        raise BadValue(path, f"key {key_node.value!r} is not a string (quote it)", m.line + 2, m.column + 1)
                    if key_node.value in seen:
                        m = key_node.start_mark
                        raise DuplicateKey(path, f"duplicate key {key_node.value!r} in frontmatter", m.line + 2, m.column + 1)
                    seen[key_node.value] = key_node
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


# --- positions (computed only for files that have findings) ----------------------------------


def _yaml_positions(record: Record) -> dict:
    """Map (field path, is_key) -> (file line, column) for every node of a YAML frontmatter."""
    if record.fm_format == "yaml":
        try:
            node = yaml.compose(record.fm_text, Loader=_PyLoader if _deeply_nested(record.fm_text) else _Loader)
        except (yaml.YAMLError, RecursionError):
            return {}
        out: dict = {}
        stack = [(node, ())]
        while stack:
            n, p = stack.pop()
            out[(p, False)] = (n.start_mark.line + 2, n.start_mark.column + 1)
            if isinstance(n, yaml.MappingNode):
                for k, v in n.value:
                    child = p + (k.value,)
                    out[(child, True)] = (k.start_mark.line + 2, k.start_mark.column + 1)
                    stack.append((v, child))
            elif isinstance(n, yaml.SequenceNode):
                stack.extend((v, p + (i,)) for i, v in enumerate(n.value))
        return out
    return {}


_WS = regex_cache.compile(r"\s*")
_SKIP = json.JSONDecoder(parse_constant=float)


def _json_locate(text: str, path: tuple) -> dict:
    """Positions of the values (and keys) along one field path, found by walking down that path
    only; sibling values are skipped with the C JSON scanner, so this costs one pass at most."""
    out: dict = {}
    scan, ws = json.decoder.scanstring, _WS
    i = ws.match(text, 0).end()
    out[((), False)] = _offset_position(text, i)
    for depth, want in enumerate(path):
        opener = text[i] if i < len(text) else ""
        if opener not in "{[" or isinstance(want, int) != (opener == "["):
            break
        i, n, found = i + 1, 0, False
        while True:
            i = ws.match(text, i).end()
            c = text[i]
            if c in "}]":
                break
            if c == ",":
                i += 1
                continue
            if opener == "{":
                key, j = scan(text, i + 1)
                key_at, j = i, ws.match(text, j).end() + 1
                i = ws.match(text, j).end()
                if key == want:
                    out[(path[: depth + 1], True)] = _offset_position(text, key_at)
                    found = True
                    break
            elif n == want:
                found = True
                break
            _, i = _SKIP.raw_decode(text, i)
            n += 1
        if not found:
            break
        out[(path[: depth + 1], False)] = _offset_position(text, i)
    return out


# --- language --------------------------------------------------------------------------------


def _record_lang(meta: dict, path: str, body: str) -> str:
    """The record's language: its `lang` field, else a language folder (`zh/x.md`) or suffix
    (`x.ja.md`), else the script of its title and body."""
    lang = meta.get("lang")
    if isinstance(lang, str) and lang.strip():
        return lang.strip()
    p = Path(path)
    parts = p.name.split(".")
    if len(parts) > 2 and parts[-2].lower() in LANG_DIRS:
        return parts[-2].lower()
    if p.parent.name.lower() in LANG_DIRS:
        return p.parent.name.lower()
    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    return _detect_lang(f"{title}\n{body[:4000]}")


def _detect_lang(text: str) -> str:
    from kb.tokens import detect_lang

    return detect_lang(text)


class NoRecordFiles(ValueError):
    """A folder given to validate or build holds no record file: a gate pointed at the wrong folder
    must not pass."""


@dataclass(frozen=True, slots=True)
class RecordFile:
    path: Path
    root: Path | None  # the folder it was found in (a file named directly has none)


def iter_record_files(paths: list[str | Path]) -> list[RecordFile]:
    """Record files under the given files and folders, sorted, each with the folder it was found
    under (a file in a corpus folder is read only when its real path lies inside that folder, see
    read_text). Hidden entries are skipped and linked folders not followed (as Path.rglob); FIFOs,
    sockets and devices with a record's name are listed, so that reading them reports them. A
    missing path raises FileNotFoundError, a folder with no record file NoRecordFiles (usage
    errors, not findings)."""
    found: list[RecordFile] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            folder = list(_walk(str(p)))
            if not folder:
                raise NoRecordFiles(f"no record files ({', '.join('*' + x for x in RECORD_SUFFIXES)}) under {raw}")
            # Path order (part by part: "a/b" before "a-b"), without building a Path to compare.
            found += [RecordFile(Path(f), p) for f in sorted(folder, key=lambda f: f.split(os.sep))]
        elif p.exists() or p.is_symlink():
            found.append(RecordFile(p, None))
        else:
            raise FileNotFoundError(str(raw))
    return found


def count_record_files(paths: list[str | Path], limit: int | None = None) -> int:
    """How many files iter_record_files lists (at most: a file given twice counts twice; a missing
    path counts none), without making a RecordFile of each; the walk stops once `limit` are found."""
    def found():
        for raw in paths:
            if os.path.isdir(raw):
                yield from _walk(str(raw))
            elif os.path.lexists(raw):
                yield raw
    return sum(1 for _ in itertools.islice(found(), limit))


def _walk(folder: str) -> Iterator[str]:
    # os.scandir hands back each entry's type with its name, so a corpus of thousands of files
    # is listed without a stat per file (Path.rglob plus is_file() cost ~4x as much).
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except (PermissionError, NotADirectoryError):
        return
    for e in entries:
        if e.name.startswith("."):
            continue
        if e.is_dir(follow_symlinks=False):
            yield from _walk(e.path)
        elif os.path.splitext(e.name)[1].lower() in RECORD_SUFFIXES and not e.name.lower().startswith(NOT_RECORDS):
            if not _is_linked_folder(e):
                yield e.path  # files, dangling or looping links, FIFOs, devices: the reader says


def _is_linked_folder(e: os.DirEntry) -> bool:
    try:
        return e.is_dir()  # a link to a folder named like a record: not followed, not a file
    except OSError:  # a link that loops
        return False
