"""pyisp/core/jsontext.py: the JSON text written by orjson is the json module's, byte for
byte (but for a float's spelling), and what orjson refuses is written by json."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import date
from enum import IntEnum
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyisp
from pyisp.core import jsontext
from pyisp.core.batch import compact_json
from pyisp.core.case import dumps_json
from pyisp.register import entries
from pyisp.register.chain import canonical

FACTS = Path(__file__).resolve().parent.parent / "facts"


def _indented(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def _compact(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_every_answer_and_register_entry_of_facts_is_written_as_json_writes_it() -> None:
    written = 0
    for path in sorted(FACTS.glob("*.yaml")):
        result = pyisp.query_file(path)
        answer = result.to_dict()
        assert jsontext._orjson(answer, jsontext._INDENT) == _indented(answer) == dumps_json(answer)
        assert jsontext._orjson(answer, jsontext._FLAGS) == _compact(answer) == compact_json(answer)
        for entry in entries(result, "tester", answer=answer):
            text = canonical(entry)
            assert text == json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        written += 1
    assert written >= 60


# text with every character class that JSON escapes or that YAML/JSON readers treat apart
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(
    list("\x00\x01\x1f\x7f\"\\/\n\r\t\b\f\u2028\u2029\ufeff\x85") + ["\U0001f600", "é"]), max_size=12)
_PLAIN = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | _TEXT,
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4)
                      | st.lists(inner, max_size=3).map(tuple), max_leaves=30)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(_PLAIN)
def test_plain_data_is_written_as_json_writes_it(data: object) -> None:
    assert jsontext._orjson(data, jsontext._INDENT) == _indented(data)  # by orjson, not by the fallback
    assert jsontext._orjson(data, jsontext._FLAGS) == _compact(data)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.recursive(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-2**63, 2**63 - 1),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=12))
def test_floats_are_written_with_the_same_values(data: object) -> None:
    for text, reference in ((jsontext.indented(data), _indented(data)), (jsontext.compact(data), _compact(data))):
        assert json.loads(text) == json.loads(reference)
    assert dumps_json(data) == jsontext.indented(data)  # the writers agree


@pytest.mark.parametrize("data", [
    {"big": 2**64}, [-(2**63) - 1],  # beyond 64 bits
    {"lone": "\ud800"},  # a surrogate
    {1: "a"},  # a key that is not text
    {"when": date(2026, 12, 2)},  # a value json refuses (the register writes its text)
    OrderedDict(a=1), {"s": type("Name", (str,), {})("x")},  # subclasses
])
def test_what_orjson_refuses_is_left_to_json(data: object) -> None:
    assert jsontext._orjson(data, jsontext._INDENT) is None and jsontext._orjson(data, jsontext._FLAGS) is None
    if isinstance(data, dict) and "when" in data:
        assert canonical(data) == '{"when":"2026-12-02"}'
    else:
        assert jsontext.indented(data) == _indented(data) == dumps_json(data)
        assert jsontext.compact(data) == _compact(data) == compact_json(data)


def test_enums_are_written_by_their_values() -> None:
    data = {"n": IntEnum("N", "ONE").ONE, "verdict": pyisp.Verdict.MAY_SHARE}
    assert jsontext.indented(data) == _indented(data) == '{\n  "n": 1,\n  "verdict": "may_share"\n}'


def test_nesting_orjson_refuses_is_written_by_json() -> None:
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    assert jsontext._orjson(deep, jsontext._INDENT) is None
    assert dumps_json(deep) == _indented(deep)


def test_without_orjson_every_writer_answers_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    assert jsontext.orjson is not None  # installed with the serve extra, as `make install` does
    answer = pyisp.query_file(FACTS / "teacher-counselling-disclosure.yaml").to_dict()
    with_orjson = (dumps_json(answer), compact_json(answer))
    monkeypatch.setattr(jsontext, "orjson", None)
    assert jsontext._orjson(answer, jsontext._INDENT) is None
    assert (dumps_json(answer), compact_json(answer)) == with_orjson == (_indented(answer), _compact(answer))
