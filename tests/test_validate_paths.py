"""The field paths and messages of validation, written out by hand: validation builds a
field path only for a problem (pyisp/core/schema.py carries where it is as a chain), so
each kind of problem is checked here for its `where`, its message and the whole `errors`
list, in order: unknown and misspelt fields, values of the wrong kind, ranges, enums, ids,
required fields, references, duplicates, keys that are numbers or hold control characters,
huge numbers, nesting and size limits (where the walk of check_shape meets the cap)."""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest

from pyisp.core.schema import _validate, validate
from pyisp.errors import CaseError

pytestmark = pytest.mark.timeout(120)

BASE: dict[str, Any] = {
    "child": {"id": "amy", "age": 14, "understanding": True},
    "people": [{"id": "mother", "role": "parent", "parental_responsibility": True}],
    "information": [{"id": "drug-misuse", "about": ["mother", "amy"], "provided_by": "amy", "sensitive": True}],
    "consents": [{"person": "amy", "answer": "refused", "purposes": ["promote_welfare"]}],
    "disclosures": [{"id": "to-social-care", "from": {"agency": "school", "role": "teacher"},
                     "to": {"agency": "childrens_social_care"}, "information": ["drug-misuse"],
                     "purpose": "promote_welfare"}],
}


def _changed(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    case = copy.deepcopy(BASE)
    change(case)
    return case


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def _renamed(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


AGENCIES = ("childrens_social_care, police, school, local_education_authority, gp_practice, hospital, "
            "community_health, mental_health_service, youth_justice, voluntary_sector, housing, probation, court, "
            "other")
NOT_AN_ID = "may contain only letters, digits, '_', '.' and '-'"

# name -> (the change to BASE, the error's where, its message, every problem as (path, message))
CASES: dict[str, tuple[Callable[[dict[str, Any]], Any], str, str, list[tuple[str, str]]]] = {
    "an unknown field named '' of the case itself": (
        lambda c: c.update({"": 1}), "", "unknown field ''", [("(case)", "unknown field ''")]),
    "a misspelt field": (
        lambda c: _renamed(c["disclosures"][0], "purpose", "purpse"), "disclosures[0].purpse",
        "unknown field 'purpse' (did you mean 'purpose'?)",
        [("disclosures[0].purpse", "unknown field 'purpse' (did you mean 'purpose'?)")]),
    "a text for a number": (
        lambda c: c["child"].update(age="14"), "child.age", "expected a whole number, got '14'",
        [("child.age", "expected a whole number, got '14'")]),
    "a number out of range": (
        lambda c: c["child"].update(age=18), "child.age", "18 is outside 0..17", [("child.age", "18 is outside 0..17")]),
    "a value not of the enum": (
        lambda c: c["people"][0].update(role="parnet"), "people[0].role",
        "'parnet' is not one of parent, carer, relative, other_adult (did you mean 'parent'?)",
        [("people[0].role", "'parnet' is not one of parent, carer, relative, other_adult (did you mean 'parent'?)")]),
    "an id with a space, and the references to the old id": (
        lambda c: c["people"][0].update(id="a b"), "people[0].id", f"'a b' {NOT_AN_ID}",
        [("people[0].id", f"'a b' {NOT_AN_ID}"),
         ("information[0].about[0]", "'mother' is not the id of any of: child, people")]),
    "an id ending in a line break": (
        lambda c: c["child"].update(id="amy\n"), "child.id", f"'amy\\n' {NOT_AN_ID}",
        [("child.id", f"'amy\\n' {NOT_AN_ID}"),
         ("information[0].about[1]", "'amy' is not the id of any of: child, people (did you mean 'amy\n'?)"),
         ("information[0].provided_by", "'amy' is not the id of any of: child, people (did you mean 'amy\n'?)"),
         ("consents[0].person", "'amy' is not the id of any of: child, people (did you mean 'amy\n'?)")]),
    "a required field left out": (
        lambda c: c["disclosures"][0].pop("from"), "disclosures[0].from", "is required",
        [("disclosures[0].from", "is required")]),
    "a field and the one it replaces": (
        lambda c: c["child"].update(understanding_criteria={"weighs_up": True}), "child.understanding_criteria",
        "give either 'understanding' or 'understanding_criteria', not both",
        [("child.understanding_criteria", "give either 'understanding' or 'understanding_criteria', not both")]),
    "an id used twice": (
        lambda c: c["people"][0].update(id="amy"), "people[0].id", "id 'amy' is already used at child",
        [("people[0].id", "id 'amy' is already used at child")]),
    "a reference to no id": (
        lambda c: c["disclosures"][0].update(information=["drug-misuse", "drugs"]), "disclosures[0].information[1]",
        "'drugs' is not the id of any of: information (did you mean 'drug-misuse'?)",
        [("disclosures[0].information[1]", "'drugs' is not the id of any of: information (did you mean 'drug-misuse'?)")]),
    "an item listed twice": (
        lambda c: c["information"][0].update(about=["mother", "mother"]), "information[0].about",
        "lists an item twice", [("information[0].about", "lists an item twice")]),
    "a key that is a number": (
        lambda c: c["child"].update({5: True}), "child[5]", "unknown field 5", [("child[5]", "unknown field 5")]),
    "a key that is a huge number": (
        lambda c: c["child"].update({10 ** 400: True}), "child",
        "the key <a whole number of about 401 digits> is too long a number",
        [("child", "the key <a whole number of about 401 digits> is too long a number")]),
    "a huge number": (
        lambda c: c["child"].update(age=10 ** 400), "child.age",
        "<a whole number of about 401 digits> is too long a number (at most 100 digits)",
        [("child.age", "<a whole number of about 401 digits> is too long a number (at most 100 digits)")]),
    "nesting deeper than the limit": (
        lambda c: c.update(meta={"notes": _nested(150)}), "meta.notes" + "[0]" * 98,
        "nested deeper than 100 levels (raise the limit with the environment variable PYISP_MAX_CASE_DEPTH)",
        [("meta.notes" + "[0]" * 98,
          "nested deeper than 100 levels (raise the limit with the environment variable PYISP_MAX_CASE_DEPTH)")]),
    "a list inside itself": (
        lambda c: c["people"][0].update({"x-self": c["people"]}), "people[0].x-self", "contains itself",
        [("people[0].x-self", "contains itself")]),
    "a key with a line break": (
        lambda c: c["disclosures"][0]["to"].update({"a\nb": 1}), "disclosures[0].to.'a\\nb'",
        "unknown field 'a\\nb'", [("disclosures[0].to.'a\\nb'", "unknown field 'a\\nb'")]),
    "a map where a list belongs": (
        lambda c: c.update(people={"id": "mother"}), "people", "expected an array, got {'id': 'mother'}",
        [("people", "expected an array, got {'id': 'mother'}")]),
    "several problems, in the order of the case": (
        lambda c: (c["child"].update(age=-1, colour="red"), c["people"][0].update(role=3),
                   c["information"][0].update(about=[]), c["disclosures"][0]["from"].update(agency="skool"),
                   c["consents"][0].update(person="nobody")),
        "child.colour", "unknown field 'colour'",
        [("child.colour", "unknown field 'colour'"), ("child.age", "-1 is outside 0..17"),
         ("people[0].role", "expected a string, got 3"), ("information[0].about", "needs at least 1 item(s)"),
         ("disclosures[0].from.agency", f"'skool' is not one of {AGENCIES} (did you mean 'school'?)"),
         ("consents[0].person", "'nobody' is not the id of any of: child, people")]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fail_each_problem_names_its_field_path_and_every_problem_in_order(name: str) -> None:
    change, where, message, problems = CASES[name]
    with pytest.raises(CaseError) as caught:
        _validate(_changed(change))
    error = caught.value
    assert (error.where, error.message) == (where, message)
    assert [(p.path, p.message) for p in error.errors] == problems


TOO_MANY = "more than {} values in all (raise the limit with the environment variable PYISP_MAX_CASE_VALUES)"


@pytest.mark.parametrize(("variable", "value", "where", "message"), [
    # depth first, last entry first: the case, disclosures, its entry (id, purpose), information
    # (its text), to (agency), from: the 11th value is from's agency, counted at from
    ("PYISP_MAX_CASE_VALUES", "10", "disclosures[0].from", TOO_MANY.format(10)),
    ("PYISP_MAX_CASE_VALUES", "30", "people[0].parental_responsibility", TOO_MANY.format(30)),
    ("PYISP_MAX_CASE_DEPTH", "3", "disclosures[0].information",
     "nested deeper than 3 levels (raise the limit with the environment variable PYISP_MAX_CASE_DEPTH)"),
])
def test_fail_a_limit_is_reported_where_the_walk_meets_it(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                                          where: str, message: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(CaseError) as caught:
        validate(copy.deepcopy(BASE))
    assert (caught.value.where, caught.value.message) == (where, message)
    assert [(p.path, p.message) for p in caught.value.errors] == [(where, message)]


def test_success_a_valid_case_comes_back_normalised_with_its_types() -> None:
    case = _validate(copy.deepcopy(BASE))
    expected = copy.deepcopy(BASE)
    expected["consents"][0]["id"] = "consent-1"
    expected["format"] = 2
    assert case == expected and list(case) == list(expected)
    assert case["child"]["understanding"] is True and type(case["child"]["age"]) is int
