"""JSON text as pyisp writes it (sorted keys, not ASCII-escaped; indented by two spaces or
compact), written by orjson when it is installed.

orjson writes in C what the json module writes in Python when indenting (~0.3 ms for an
answer, the largest part of a service request's output) and several times faster when
compact. Its text is json's, byte for byte (every string escape included: a differential
test over facts/ and generated data), for dicts, lists, tuples, text, whole numbers within
64 bits, booleans, null and enums, but for floats: a float has the same value but its own
spelling (`1e-7` or `0.0000244`, where json writes `1e-07` and `2.44e-05`), and NaN and the
infinities, which JSON cannot hold, become null (json wrote `NaN`, `Infinity`, which JSON
readers refuse). pyisp's answers hold no float of their own; a case's free metadata may
(YAML's `.nan`, `.inf`). orjson comes with the `serve` extra: an install without it writes
json's spelling everywhere, an install with it orjson's everywhere. Every writer of
pyisp's JSON goes through here (`pyisp query --json`, the service, `pyisp batch`, the
register), so on one install they agree with each other. What orjson
refuses (a subclass of dict, list or str, a date, a key that is not text, an int beyond 64
bits, a lone surrogate, nesting deeper than 254) is written by the json module, as is
everything without orjson.
"""

from __future__ import annotations

import json
from typing import Any, Callable

try:  # the `serve` extra; without it every caller writes with the json module
    import orjson
except ImportError:
    orjson = None  # type: ignore[assignment]

_FLAGS = 0 if orjson is None else (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
                                   | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
_INDENT = 0 if orjson is None else _FLAGS | orjson.OPT_INDENT_2


def _orjson(data: Any, flags: int) -> str | None:
    """orjson's text, or None when orjson is not installed or refuses the data."""
    if orjson is None:
        return None
    try:
        return orjson.dumps(data, option=flags).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError: see above
        return None


def indented(data: Any) -> str:
    """`json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)` (see above)."""
    text = _orjson(data, _INDENT)
    return text if text is not None else json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def compact(data: Any, default: Callable[[Any], Any] | None = None) -> str:
    """`json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    default=default)` (see above; `default` only where orjson refuses)."""
    text = _orjson(data, _FLAGS)
    return text if text is not None else json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                                    default=default)
