"""A fast yes/no answer to "does this instance satisfy the schema?".

jsonschema spends ~2 ms a record building error objects and evolving validators, which makes
validating 5,000 records a 10-second job. Almost every record is valid, so we compile the schema
once into nested closures for the keywords our schema uses and only hand the rare failing record
to jsonschema for its detailed errors. A keyword this compiler does not know makes it give up
(return None), and then jsonschema alone decides; a test checks both agree on every test input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kb import regex_cache

Check = Callable[[Any], bool]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
# Keywords that only annotate and never change the verdict.
_ANNOTATIONS = {"title", "description", "$schema", "$id", "x-vocabulary", "default", "examples", "$comment"}
_KNOWN = _ANNOTATIONS | {"type", "properties", "additionalProperties", "required", "items", "pattern",
                         "minimum", "maximum", "minLength", "maxLength"}


def compile_schema(schema: dict) -> Check | None:
    """A predicate equivalent to jsonschema's is_valid for this schema, or None if the schema uses
    a keyword not handled here."""
    if not isinstance(schema, dict) or set(schema) - _KNOWN:
        return None
    checks: list[Check] = []
    t = schema.get("type")
    if t is not None:
        preds = [_TYPES[x] for x in ([t] if isinstance(t, str) else t)]
        checks.append(preds[0] if len(preds) == 1 else (lambda v, ps=preds: any(p(v) for p in ps)))
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        props = {}
        for name, sub in schema.get("properties", {}).items():
            c = compile_schema(sub)
            if c is None:
                return None
            props[name] = c
        extra = schema.get("additionalProperties", True)
        closed = extra is False
        other = compile_schema(extra) if isinstance(extra, dict) else None  # a schema every other value meets
        if extra not in (True, False) and other is None:
            return None
        required = tuple(schema.get("required", ()))

        def obj(v, props=props, closed=closed, other=other, required=required) -> bool:
            if not isinstance(v, dict):
                return True
            for k in required:
                if k not in v:
                    return False
            for k, x in v.items():
                c = props.get(k)
                if c is None:
                    if closed or (other is not None and not other(x)):
                        return False
                elif not c(x):
                    return False
            return True

        checks.append(obj)
    if "items" in schema:
        item = compile_schema(schema["items"])
        if item is None:
            return None
        checks.append(lambda v, item=item: not isinstance(v, list) or all(item(x) for x in v))
    if "pattern" in schema:
        rx = regex_cache.compile(schema["pattern"])
        checks.append(lambda v, rx=rx: not isinstance(v, str) or rx.search(v) is not None)
    for key, test in (("minimum", lambda v, b: v >= b), ("maximum", lambda v, b: v <= b)):
        if key in schema:
            bound = schema[key]
            checks.append(lambda v, b=bound, test=test: not _TYPES["number"](v) or test(v, b))
    if "minLength" in schema:
        n = schema["minLength"]
        checks.append(lambda v, n=n: not isinstance(v, str) or len(v) >= n)
    if "maxLength" in schema:
        n = schema["maxLength"]
        checks.append(lambda v, n=n: not isinstance(v, str) or len(v) <= n)
    if len(checks) == 1:
        return checks[0]
    return lambda v, cs=tuple(checks): all(c(v) for c in cs)
