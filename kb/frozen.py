"""Fast constructors for frozen dataclasses with slots.

A frozen dataclass's own __init__ stores each field through object.__setattr__, looked up anew
for every field, which is half the cost of making the object; extraction makes some 400,000 of
them (clauses, quantities, measures) per thousand records. maker(cls) returns a function with the
same parameters and defaults that fills the slots directly: an equal object, twice as fast.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, TypeVar

T = TypeVar("T")


def maker(cls: type[T]) -> Callable[..., T]:
    """A constructor for `cls` (frozen, slots, no __post_init__, plain defaults only)."""
    params = dataclasses.fields(cls)
    if not (cls.__dataclass_params__.frozen and "__slots__" in cls.__dict__) or hasattr(cls, "__post_init__") \
            or any(f.default_factory is not dataclasses.MISSING or not f.init for f in params):
        raise TypeError(f"maker() does not handle {cls.__name__}")
    ns: dict = {"_new": object.__new__, "_cls": cls}
    sig, body = [], []
    for i, f in enumerate(params):
        ns[f"_set{i}"] = getattr(cls, f.name).__set__  # the slot's descriptor
        if f.default is dataclasses.MISSING:
            sig.append(f.name)
        else:
            ns[f"_default{i}"] = f.default
            sig.append(f"{f.name}=_default{i}")
        body.append(f"    _set{i}(o, {f.name})")
    src = f"def make({', '.join(sig)}):\n    o = _new(_cls)\n" + "\n".join(body) + "\n    return o\n"
    exec(src, ns)  # the way dataclasses builds __init__ itself
    make = ns["make"]
    make.__name__ = make.__qualname__ = f"make_{cls.__name__}"
    return make
