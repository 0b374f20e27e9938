"""JSON text as pyisp writes it (sorted keys, not ASCII-escaped; indented by two spaces or
compact), written by orjson when it is installed and gives the very same text.

orjson writes in C what the json module writes in Python when indenting (~0.3 ms for an
answer, the largest part of a service request's output) and several times faster when
compact. Its text equals json's for exact dicts, lists, tuples, text, whole numbers within
64 bits, booleans, null and text enums whose values are their text (every string escape included: a differential test over facts/
and generated data). Anything else (a float, whose shortest form json and orjson spell
differently, a subclass, a date, a key that is not text, a lone surrogate, deep nesting) is
left to the caller's own writer: `indented`/`compact` then return None.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

try:  # the `serve` extra; without it every caller writes with the json module, as before
    import orjson
except ImportError:
    orjson = None  # type: ignore[assignment]

_LEAVES = {str: True, int: True, bool: True, type(None): True}  # leaf type -> written alike by both
_FLAGS = 0 if orjson is None else (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
                                   | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
_INDENT = 0 if orjson is None else _FLAGS | orjson.OPT_INDENT_2


def _alike(kind: type) -> bool:
    """Whether both write every value of a leaf type alike: a text enum (pyisp's verdicts and
    statuses) whose every member's value is its own text (json writes the text, orjson the
    value)."""
    return (issubclass(kind, str) and issubclass(kind, Enum)
            and all(type(m.value) is str and m.value == str.__str__(m) for m in kind))  # type: ignore[var-annotated]


def plain(data: Any) -> bool:
    """Whether `data` holds only exact dicts, lists and tuples of text, ints, booleans, null
    and text enums whose values are their text."""
    stack = [data]
    leaves = _LEAVES
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            stack.extend(value.values())
        elif kind is list or kind is tuple:
            stack.extend(value)
        else:
            known = leaves.get(kind)
            if known is None:
                known = leaves[kind] = _alike(kind)
            if not known:
                return False
    return True


def _written(data: Any, flags: int) -> str | None:
    if orjson is None or not plain(data):
        return None
    try:
        return orjson.dumps(data, option=flags).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError: an int beyond 64 bits, a surrogate, a key not text, too deep
        return None


def indented(data: Any) -> str | None:
    """`json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)`, or None (see above)."""
    return _written(data, _INDENT)


def compact(data: Any) -> str | None:
    """`json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`, or None."""
    return _written(data, _FLAGS)
