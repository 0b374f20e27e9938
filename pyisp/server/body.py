"""The JSON into the service, quickly, with the very values and errors of `pyisp query`
(the answers go out by `dumps_json`, as `pyisp query --json` writes them).

`parse_body`: a request's case read quickly when it is plain JSON, with the very data and
the very errors of `pyisp query` (pyisp/core/case.py, `parse_document`).

`parse_document` reads every case as YAML (JSON is YAML) after walking its events for the
case limits: right for a file, but ~1 ms of CPU a request, most of a service's parsing.
A body that is plain JSON, as a service's callers send it, is read here by the json
module instead, only where YAML would read it to the same values: JSON text with no
backslash escape, tab, carriage return, no character YAML reads otherwise (a line break
of its own such as U+0085 or U+2028, a byte-order mark, a character YAML refuses), no
whitespace before a colon (YAML wants a key on one line), an object at the top, no key
given twice, no key longer than YAML's 1024 characters, whole numbers only (JSON's
`1e5` is a string in YAML; a float is left to YAML) no longer than YAML's constructor
takes, and within the case limits of nesting and values. Anything else, every error
included, goes to `parse_document`, which then answers (or refuses) exactly as for
`pyisp query`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..core.case import parse_document
from ..core.schema import MAX_NUMBER_CHARS, limit
from ..errors import CaseError

# a character outside this set sends the body to YAML: newline, printable ASCII but the
# backslash, and the characters YAML takes as they are (not U+0085, U+2028, U+2029, U+FEFF)
_ELSEWHERE = re.compile("[^\n -\\[\\]-~\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|\\s:")
_LONGEST_KEY = 1000  # YAML's simple keys end within 1024 characters
_DEEPEST = 900  # libyaml refuses documents nested 1,000 deep, whatever our limit


class _ToYaml(Exception):
    """The body is not plain JSON that YAML reads to the same values."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs) or any(len(key) > _LONGEST_KEY for key in found):
        raise _ToYaml
    return found


def _whole(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _ToYaml
    return int(text)


def _other(text: str) -> Any:
    raise _ToYaml


def _size(value: Any, depth: int) -> tuple[int, int]:
    """(values, deepest level) as `parse_document` counts them: each map, list, key and scalar
    one value; the level of a map or list its nesting, of a scalar the nesting it is in."""
    if isinstance(value, dict):
        depth += 1
        values, deepest = 1 + len(value), depth
        for item in value.values():
            more, reached = _size(item, depth)
            values, deepest = values + more, max(deepest, reached)
        return values, deepest
    if isinstance(value, list):
        depth += 1
        values, deepest = 1, depth
        for item in value:
            more, reached = _size(item, depth)
            values, deepest = values + more, max(deepest, reached)
        return values, deepest
    return 1, depth


def parse_body(text: str, where: str) -> Any:
    """The case in a request's body: `parse_document(text, where)`, read by the json module
    when that gives the same (see above)."""
    try:
        cap = limit("PYISP_MAX_CASE_BYTES")
        if len(text) * 4 > cap or _ELSEWHERE.search(text):
            raise _ToYaml
        data = json.loads(text, object_pairs_hook=_unique, parse_int=_whole, parse_float=_other,
                          parse_constant=_other)
        if not isinstance(data, dict):
            raise _ToYaml
        values, deepest = _size(data, 0)
        if values > limit("PYISP_MAX_CASE_VALUES") or deepest > min(limit("PYISP_MAX_CASE_DEPTH"), _DEEPEST):
            raise _ToYaml
        return data
    except (_ToYaml, ValueError, RecursionError, CaseError):
        return parse_document(text, where)
