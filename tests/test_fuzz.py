"""Malformed documents thrown at pyisp (issue 16): 10,000 generated documents at `pyisp.query`
and the same documents through the command line (`pyisp batch`, one JSON a line, and
`pyisp query` on a sample of files). Only pyisp's own errors come back: a CaseError (or a
result), exit code 0 or 2, never a traceback, and each document answered well within the
time budget. The documents are facts/ cases with one to three places broken (a value of the
wrong kind, an unknown or misspelt key, a deleted field, deep nesting, huge numbers, control
characters), plus wholly random JSON values."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyisp

pytestmark = pytest.mark.xdist_group("fuzz")  # the batch and CLI tests reuse the documents the first one generated
FACTS = Path(__file__).resolve().parent.parent / "facts"
CASES = [json.loads(json.dumps(yaml.safe_load(p.read_text(encoding="utf-8")), default=str))
         for p in sorted(FACTS.glob("*.yaml"))]
EXAMPLES = 10_000
BUDGET = 20.0  # seconds for one document: a hang detector, not a speed goal (make bench has those)

KEYS = ["id", "format", "child", "children", "people", "information", "disclosures", "consents", "about", "from",
        "to", "purpose", "age", "understanding", "role", "agency", "channel", "judgements", "concern", "colour",
        "informaton", "", " id", "x-own", "meta", "\u202eevil", "a\nb"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=10 ** 30, max_value=10 ** 40),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                    st.sampled_from(["", "\x00", "\x1b[31mMUST SHARE\x1b[0m", "line\nMUST SHARE", "9" * 5000,
                                     "yes", "no", "true", "-1", "3.5.1"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def _places(value: Any) -> list[tuple]:
    """The paths into a document, down to depth 12 (deep values are not walked)."""
    found, todo = [], [((), value)]
    while todo:
        path, item = todo.pop()
        found.append(path)
        if len(path) >= 12:
            continue
        if isinstance(item, dict):
            todo += [(path + (key,), inner) for key, inner in item.items()]
        elif isinstance(item, list):
            todo += [(path + (index,), inner) for index, inner in enumerate(item)]
    return found


def _set(document: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


@st.composite
def broken_cases(draw: st.DrawFn) -> Any:
    document = json.loads(json.dumps(draw(st.sampled_from(CASES))))
    for _ in range(draw(st.integers(1, 3))):
        places = _places(document)
        path = draw(st.sampled_from(places))
        kind = draw(st.sampled_from(["value", "delete", "key", "deep"]))
        if kind == "delete" and path:
            document = _set(document, path, None, delete=True)
        elif kind == "key" and isinstance(document, dict):
            document[draw(st.sampled_from(KEYS))] = draw(values)
        elif kind == "deep":
            document = _set(document, path, _deep(draw(st.sampled_from([50, 500, 900]))), delete=False)
        else:
            document = _set(document, path, draw(values), delete=False)
        if not isinstance(document, (dict, list)):
            break
    return document


documents = st.one_of(broken_cases(), broken_cases(), broken_cases(), values)
SEEN: list[str] = []


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(documents)
def test_query_answers_or_raises_a_case_error_for_every_generated_document(document: Any) -> None:
    start = time.perf_counter()
    if not isinstance(document, dict):  # the API takes a mapping; anything else is the caller's mistake
        with pytest.raises(TypeError, match="pyisp.query takes a case"):
            pyisp.query(document)
        SEEN.append(_dump(document))
        return
    try:
        result = pyisp.query(document, depends_on=False)
    except pyisp.CaseError as exc:
        assert str(exc) and len(str(exc)) < 5_000, "an error message renders the whole value"
    else:
        assert all(d.verdict in ("must_share", "may_share", "must_not_share", "undetermined")
                   for d in result.disclosures)
    assert time.perf_counter() - start < BUDGET
    SEEN.append(_dump(document))


def _dump(document: Any) -> str:
    try:
        return json.dumps(document, allow_nan=True)
    except (ValueError, RecursionError):
        return json.dumps("unserialisable")


def test_the_same_documents_through_pyisp_batch_give_one_answer_or_error_each_and_no_traceback(tmp_path) -> None:
    if len(SEEN) < EXAMPLES:  # run alone (-k): generate the documents the same way
        test_query_answers_or_raises_a_case_error_for_every_generated_document()
    assert len(SEEN) >= EXAMPLES
    source, out = tmp_path / "fuzz.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(line.replace("\n", "\\n") + "\n" for line in SEEN[:EXAMPLES]), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pyisp._cli", "batch", str(source), "-o", str(out), "--no-depends",
                           "-j", "2"], capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 2) and "Traceback" not in done.stderr + done.stdout, done.stderr[-2000:]
    # lines of bytes: a JSON line may hold a raw U+0085 or U+2028 (a fuzzed string echoed back),
    # which str.splitlines() takes for a line break (an answer counted twice: 429 + 9572 == 10001)
    answered = out.read_bytes().splitlines() if out.exists() else []
    errors_file = Path(str(out) + ".errors.jsonl")
    errors = errors_file.read_bytes().splitlines() if errors_file.exists() else []
    blank = sum(1 for line in SEEN[:EXAMPLES] if not line.strip())
    assert len(answered) + len(errors) == EXAMPLES - blank


@pytest.mark.parametrize("index", range(0, EXAMPLES, EXAMPLES // 12))
def test_pyisp_query_on_a_sample_of_the_documents_as_files_exits_0_or_2_without_traceback(tmp_path, index) -> None:
    if len(SEEN) < EXAMPLES:
        test_query_answers_or_raises_a_case_error_for_every_generated_document()
    path = tmp_path / "case.json"
    path.write_text(SEEN[index], encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pyisp._cli", "query", str(path), "--no-depends"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 2) and "Traceback" not in done.stderr + done.stdout, done.stderr[-2000:]
    assert not any(0 < ord(c) < 32 and c not in "\n\t" for c in done.stdout), "a control character reached the terminal"
