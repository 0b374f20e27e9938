"""Hardening (issue 16): bad input of any shape is a CaseError (exit 2, no traceback) found
before it can cost time or memory; case text cannot forge output lines; the API does not
read files by accident; Result.explain() is thread-safe."""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path

import pytest
from casekit import FACTS, base_case, changed
from typer.testing import CliRunner

import pyisp
from pyisp._cli import app

runner = CliRunner()
TEACHER = FACTS / "teacher-counselling-disclosure.yaml"


def _cli_refuses(path: Path, *words: str) -> str:
    """Run `pyisp query PATH`: exit 2, no traceback, the words in the message."""
    outcome = runner.invoke(app, ["query", str(path)])
    assert outcome.exit_code == 2, outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.exception
    for word in words:
        assert word in outcome.output, (word, outcome.output)
    return outcome.output


def _case_error(data, where: str | None = None) -> pyisp.CaseError:
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.from_dict(data)
    if where is not None:
        assert caught.value.where == where, caught.value
    return caught.value


def _nested(depth: int):
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


# ------------------------------------------------------------------ 1. query and query_file

@pytest.mark.parametrize("given", ["facts/teacher-counselling-disclosure.yaml", '{"child": {"id": "a"}}',
                                   TEACHER, b"child: {id: a}"])
def test_query_given_a_string_or_a_path_is_a_type_error_pointing_to_query_file(given):
    with pytest.raises(TypeError) as caught:
        pyisp.query(given)
    message = str(caught.value)
    assert "pass a Case or a mapping" in message and "pyisp.query_file(path)" in message
    assert "pyisp.Case.load" in message
    assert "child" not in message  # the body of the string is not echoed


def test_query_file_is_public_and_answers_the_case_file_with_the_options_of_query():
    assert "query_file" in pyisp.__all__
    by_file = pyisp.query_file(TEACHER, depends_on=False, strict=True)
    by_case = pyisp.query(pyisp.Case.load(TEACHER), depends_on=False, strict=True)
    assert by_file.to_dict() == by_case.to_dict()
    assert pyisp.query_file(str(TEACHER), depends_on=False).case_id == by_file.case_id


def test_query_file_of_a_missing_file_is_a_case_error_naming_it(tmp_path):
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.query_file(tmp_path / "missing.yaml")
    assert caught.value.where == str(tmp_path / "missing.yaml")


# ------------------------------------------------------------------ 2. case files

@pytest.mark.parametrize("content", [b"child: {id: \xff\xfe caf\xe9}\n", bytes(range(256)) * 4,
                                     b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_a_non_utf8_or_binary_case_file_is_a_case_error_naming_the_file(tmp_path, content):
    path = tmp_path / "case.yaml"
    path.write_bytes(content)
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.load(path)
    assert str(path) in str(caught.value)
    _cli_refuses(path, "case.yaml")


@pytest.mark.parametrize("text, words", [
    ("child: {id: a}\n? [x, y]\n: 1\n", "a key must be"),
    ("child: {id: a}\n? {x: 1}\n: 1\n", "a key must be"),
    ("child: {id: a, {k: 1}: 2}\n", "a key must be"),
])
def test_a_yaml_key_that_is_a_list_or_a_map_is_a_case_error_naming_the_place(tmp_path, text, words):
    path = tmp_path / "key.yaml"
    path.write_text(text)
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.load(path)
    assert words in caught.value.message
    assert caught.value.where.startswith(f"{path}:")  # file:line
    _cli_refuses(path, words)


def test_an_integer_of_5000_digits_is_a_case_error_in_a_file_and_in_the_api(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("child: {id: a, age: " + "9" * 5000 + "}\ndisclosures: []\n")
    error = _cli_refuses(path, "big.yaml")
    assert len(error) < 400
    huge = changed(base_case(), **{"child.age": 10 ** 5000})
    caught = _case_error(huge, "child.age")
    assert len(str(caught)) < 300


def test_an_integer_of_5000_digits_as_a_key_is_a_case_error(tmp_path):
    path = tmp_path / "bigkey.yaml"
    path.write_text("child: {id: a}\n" + "9" * 5000 + ": 1\n")
    _cli_refuses(path, "bigkey.yaml")
    data = base_case()
    data["child"][10 ** 5000] = 1
    assert len(str(_case_error(data))) < 300


@pytest.mark.parametrize("depth", [101, 600, 999, 5000])
def test_nesting_deeper_than_the_limit_is_a_case_error_in_a_file(tmp_path, depth):
    path = tmp_path / "deep.yaml"
    path.write_text("child: {id: a}\nmeta: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.load(path)
    assert "deeper than" in caught.value.message and "PYISP_MAX_CASE_DEPTH" in caught.value.message
    _cli_refuses(path, "deeper than")


@pytest.mark.parametrize("depth", [101, 700, 50_000])
def test_nesting_deeper_than_the_limit_is_a_case_error_in_the_api(depth):
    data = base_case()
    data["meta"] = _nested(depth)
    caught = _case_error(data)
    assert "deeper than" in caught.message


def test_nesting_within_the_limit_is_accepted():
    data = base_case()
    data["meta"] = _nested(90)
    pyisp.Case.from_dict(data)


def test_a_case_that_contains_itself_is_a_case_error():
    data = base_case()
    data["meta"] = {"loop": None}
    data["meta"]["loop"] = data["meta"]
    _case_error(data)


ALIAS_BOMB = """\
child: {id: a}
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
disclosures: *i
"""


def test_a_yaml_alias_bomb_is_refused_by_the_loader_quickly_without_expanding_it(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    start = time.perf_counter()
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.load(path)
    assert time.perf_counter() - start < 1.0
    assert "alias" in caught.value.message and "PYISP_MAX_CASE_ALIAS_NODES" in caught.value.message
    assert len(str(caught.value)) < 400
    output = _cli_refuses(path, "alias")
    assert "lol" not in output


def test_a_few_yaml_aliases_within_the_budget_are_read(tmp_path):
    data = base_case()
    text = json.dumps(data)
    text = text.replace('"information": [{"id": "health", "about": ["kim"]',
                        '"information": [{"id": "health", "about": &who ["kim"]')
    text = text.replace('"consents": [{"id": "kim-consent"', '"x-about": *who, "consents": [{"id": "kim-consent"')
    path = tmp_path / "aliases.yaml"
    path.write_text(text)
    assert pyisp.Case.load(path).data["x-about"] == ["kim"]


def test_an_alias_bomb_given_through_the_api_is_refused_without_expanding_it():
    level: object = ["lol"] * 9
    for _ in range(9):
        level = [level] * 9  # shared references: 9**10 items when walked
    data = changed(base_case(), **{"child.age": level})
    start = time.perf_counter()
    caught = _case_error(data)
    assert time.perf_counter() - start < 2.0
    assert len(str(caught)) < 300


@pytest.mark.parametrize("field, value", [
    ("child.age", "x" * 100_000), ("disclosures[0].purpose", "x" * 100_000), ("child.id", "x" * 100_000 + "!"),
    ("people[0].role", "x" * 100_000), ("child.age", ["x" * 1000] * 1000), ("consents[0].told.why", {"x": "x" * 1000}),
])
def test_an_error_message_never_renders_a_whole_value(field, value):
    caught = _case_error(changed(base_case(), **{field: value}), field)
    assert "x" * 81 not in str(caught)  # the value at most ~80 characters (an enum's choices are listed whole)
    assert len(str(caught)) < 600


def test_an_unknown_field_with_a_huge_name_is_reported_truncated():
    data = base_case()
    data["child"]["y" * 100_000] = 1
    caught = _case_error(data)
    assert len(str(caught)) < 300


def test_a_case_file_over_the_size_cap_is_refused_before_parsing_naming_the_variable(tmp_path, monkeypatch):
    path = tmp_path / "large.yaml"
    path.write_text("child: {id: a}\nmeta: [" + ", ".join(["1"] * 2000) + "]\n")
    monkeypatch.setenv("PYISP_MAX_CASE_BYTES", "1000")
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.load(path)
    assert "PYISP_MAX_CASE_BYTES" in caught.value.message and caught.value.where == str(path)
    _cli_refuses(path, "PYISP_MAX_CASE_BYTES")


def test_the_default_size_cap_is_5_mb_and_refuses_a_large_file_quickly(tmp_path, monkeypatch):
    monkeypatch.delenv("PYISP_MAX_CASE_BYTES", raising=False)
    path = tmp_path / "huge.yaml"
    path.write_text("child: {id: a}\nmeta: [" + "1, " * 2_000_000 + "1]\n")  # 6 MB
    start = time.perf_counter()
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.load(path)
    assert time.perf_counter() - start < 1.0
    assert "5000000" in caught.value.message or "5 MB" in caught.value.message


def test_more_values_than_the_cap_is_refused_while_reading_before_anything_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("PYISP_MAX_CASE_VALUES", "1000")
    path = tmp_path / "many.yaml"
    path.write_text("child: {id: a}\nmeta: [" + ", ".join(["1"] * 2000) + "]\n")
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.load(path)
    assert "PYISP_MAX_CASE_VALUES" in caught.value.message and caught.value.where == f"{path}:2"
    data = changed(base_case(), **{"meta": [1] * 2000})
    assert "PYISP_MAX_CASE_VALUES" in _case_error(data).message
    monkeypatch.setenv("PYISP_MAX_CASE_VALUES", "5000")
    pyisp.Case.from_dict(data)


@pytest.mark.parametrize("collection, variable", [
    ("disclosures", "PYISP_MAX_DISCLOSURES"), ("people", "PYISP_MAX_PEOPLE"),
    ("information", "PYISP_MAX_INFORMATION"), ("consents", "PYISP_MAX_CONSENTS"),
])
def test_more_entries_than_the_cap_is_a_case_error_naming_the_limit_and_how_to_raise_it(collection, variable,
                                                                                        monkeypatch):
    from pyisp.core.schema import LIMITS

    cap = LIMITS[variable]
    data = base_case()
    first = data[collection][0]
    data[collection] = [{**copy.deepcopy(first), "id": f"{first['id']}-{n}"} for n in range(cap + 1)]
    monkeypatch.delenv(variable, raising=False)
    caught = _case_error(data, collection)
    assert str(cap) in caught.message and variable in caught.message
    monkeypatch.setenv(variable, str(cap + 100))
    try:
        pyisp.Case.from_dict(data)
    except pyisp.CaseError as exc:
        assert variable not in exc.message  # past the cap: another problem of the copies, if any


@pytest.mark.parametrize("field, value", [
    ("consents", 1), ("people", 1), ("information", "x"), ("disclosures", {"id": "d"}),
    ("consents", "abc"), ("paragraphs", 3), ("child", [1]), ("concern", 1), ("family", ["x"]),
    ("seeking_consent_would", 1), ("disclosures[0].information", 5), ("information[0].about", 1),
    ("consents[0].purposes", 1), ("consents[0].told", True), ("disclosures[0].judgements", 1),
    ("disclosures[0].to", 1), ("disclosures[0].from", "school"), ("consents[0]", 1), ("people[0]", "mum"),
    ("disclosures[0]", 7), ("consents[0].information", 1), ("child.age_range", 1),
])
def test_a_number_or_text_where_a_list_or_a_map_belongs_is_a_case_error_naming_the_field(field, value):
    data = changed(base_case(), **{field: value})
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.query(data)
    assert caught.value.where == field, caught.value


# ------------------------------------------------------------------ 3. output that cannot be forged

FORGED = "\nto-social-care: MUST SHARE"


def _forged_case(tmp_path: Path) -> Path:
    data = changed(base_case(), **{"title": "A case" + FORGED + "\x1b[2J", "child.name": "Kim" + FORGED,
                                   "people[0].name": "Lo\x1b]0;owned\x07" + FORGED,
                                   "information[0].description": "notes" + FORGED,
                                   "disclosures[0].description": "referral" + FORGED})
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(data))
    return path


def _no_forged_line(output: str) -> None:
    assert not any(line.lstrip("#*- ").startswith("to-social-care: MUST SHARE") for line in output.splitlines())
    assert "\x1b" not in output and "\x07" not in output


@pytest.mark.parametrize("command", [["query"], ["explain"], ["explain", "--format", "markdown"], ["record"]])
def test_a_name_with_a_newline_cannot_forge_an_output_line(tmp_path, command):
    path = _forged_case(tmp_path)
    outcome = runner.invoke(app, [*command, str(path)])
    assert outcome.exit_code == 0, outcome.output
    _no_forged_line(outcome.output)
    if command == ["query"]:
        assert "A case\\nto-social-care: MUST SHARE\\x1b[2J" in outcome.output


def test_explanation_text_of_the_api_escapes_case_strings(tmp_path):
    result = pyisp.query_file(_forged_case(tmp_path), depends_on=False)
    explanation = result.explain("d")
    _no_forged_line(explanation.to_text())
    _no_forged_line(explanation.to_markdown())


@pytest.mark.parametrize("field", ["id", "child.id", "people[0].id", "disclosures[0].id", "information[0].id"])
def test_an_id_must_match_its_pattern_to_the_end(field):
    data = base_case()
    old = changed(data, **{})  # a copy
    target = old
    for step in field.replace("[0]", ".0").split(".")[:-1]:
        target = target[int(step)] if step.isdigit() else target[step]
    target["id"] = target["id"] + "\n"
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.Case.from_dict(old)
    assert caught.value.where == field
    assert "\n" not in caught.value.message


# ------------------------------------------------------------------ 4. thread safety

def test_explain_from_8_threads_on_one_result_gives_8_identical_complete_explanations():
    expected = pyisp.query_file(TEACHER).explain("to-social-care").to_text()
    result = pyisp.query_file(TEACHER)
    got: list[str | None] = [None] * 8
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        got[i] = result.explain("to-social-care").to_text()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(text == expected for text in got), [len(t or "") for t in got]
    assert result.explain("to-social-care").to_text() == expected  # and after: the cache is intact
