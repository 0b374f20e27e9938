"""The case format's child parts (issue 12): one child ('child') or several ('children'),
the concern about each child (3.4.1 is about a child), clear errors for a child id that
names nobody, and a question of its own for every input a case may leave out."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import pyisp
from pyisp._cli import app
from pyisp.core.atoms import case_inputs
from pyisp.core.schema import CASE, json_schema, validate

FACTS = Path(__file__).resolve().parent.parent / "facts"
SIBLINGS = FACTS / "older-brother-tells-tutor-stepfather-hits-his-sister.yaml"


def _siblings() -> dict:
    return yaml.safe_load(SIBLINGS.read_text(encoding="utf-8"))


def _error(case: dict) -> pyisp.CaseError:
    with pytest.raises(pyisp.CaseError) as caught:
        validate(case)
    return caught.value


# ------------------------------------------------------------------ several children

def test_fail_a_child_id_that_names_nobody_is_refused_naming_the_field_and_the_ids_it_may_name():
    case = _siblings()
    case["information"][0]["about"] = ["elle", "stepfather"]
    error = _error(case)
    assert error.where == "information[0].about[0]"
    assert "'elle' is not the id of any of: child, people" in error.message
    assert "did you mean 'ella'" in error.message


def test_fail_a_consent_by_an_unknown_child_is_refused():
    case = _siblings()
    case["consents"][0]["person"] = "samuel"
    assert _error(case).where == "consents[0].person"


def test_fail_child_and_children_together_are_refused():
    case = _siblings()
    case["child"] = {"id": "tom"}
    error = _error(case)
    assert error.where == "children" and "not both" in error.message


def test_fail_a_case_with_no_child_says_how_to_name_one_or_several():
    case = _siblings()
    del case["children"]
    error = _error(case)
    assert error.where == "child" and "children" in error.message


def test_fail_with_several_children_the_concern_about_a_child_is_stated_under_that_child():
    case = _siblings()
    case["concern"] = {"reasonable_cause_to_suspect": True, "serious_crime": False}
    error = _error(case)
    assert error.where == "concern.reasonable_cause_to_suspect"
    assert "children[].concern.reasonable_cause_to_suspect" in error.message


def test_fail_an_empty_list_of_children_is_refused():
    case = _siblings()
    case["children"] = []
    assert _error(case).where == "children"


def test_success_a_school_year_gives_each_child_a_range_of_ages():
    case = _siblings()
    case["children"][1] = {"id": "ella", "school_year": 2, "concern": {"reasonable_cause_to_suspect": True}}
    assert validate(case)["children"][1]["age_range"] == {"min": 6, "max": 7}


def test_success_the_concern_about_one_child_states_an_atom_about_that_child_only():
    facts = {str(atom) for atom in case_inputs(validate(_siblings())).facts}
    assert 'cause_to_suspect_significant_harm("ella")' in facts
    assert not any(fact.startswith("cause_to_suspect_significant_harm(\"sam\")") for fact in facts)


def test_success_the_one_child_form_and_the_list_of_one_give_the_same_answer():
    one = yaml.safe_load((FACTS / "teacher-refers-bruised-pupil-to-social-care.yaml").read_text(encoding="utf-8"))
    listed = copy.deepcopy(one)
    child = listed.pop("child")
    concern = listed.pop("concern")
    listed["children"] = [{**child, "concern": concern}]
    a, b = pyisp.query(one), pyisp.query(listed)
    assert [(d.id, d.verdict, d.permitted, d.required) for d in a.disclosures] == \
           [(d.id, d.verdict, d.permitted, d.required) for d in b.disclosures] == [("referral", "must_share", "yes", "yes")]


def test_success_a_concern_about_one_sibling_does_not_settle_a_referral_about_the_other():
    # 3.4.1: the duty is about the child there is reasonable cause to suspect may be harmed.
    result = pyisp.query_file(SIBLINGS)
    assert result.disclosure("refer-ella").verdict == "must_share"
    sam = result.disclosure("refer-sam")
    assert sam.verdict == "undetermined"
    question = next(q for q in sam.questions if q.path == "children[0].concern.reasonable_cause_to_suspect")
    assert question.text == "Do you have reasonable cause to suspect sam may be suffering, or at risk of, significant harm?"
    assert question.changes == "verdict"


def test_success_a_child_who_told_about_another_child_is_owed_the_confidence_of_what_they_gave():
    # 3.3.4, 3.3.15: a confidence is owed to whoever gave the information, a child informant too.
    sam = pyisp.query_file(SIBLINGS).disclosure("refer-sam")
    assert any(f.code == "confidence_owed_to" and f.args == ("sam",) and f.status == "yes" for f in sam.findings)


def test_success_the_schema_describes_children_and_the_concern_about_each():
    schema = json_schema()
    children = schema["properties"]["children"]
    assert children["type"] == "array" and children["minItems"] == 1
    item = children["items"]
    assert set(item["properties"]) >= {"id", "age", "understanding", "concern"}
    assert "reasonable_cause_to_suspect" in item["properties"]["concern"]["properties"]
    assert "child" not in schema["required"]
    printed = json.loads(CliRunner().invoke(app, ["schema"]).stdout)
    assert printed["properties"]["children"]["items"]["properties"]["concern"]["description"]


def test_fail_cli_query_of_an_unknown_child_id_exits_2_naming_the_field(tmp_path):
    case = _siblings()
    case["information"][1]["provided_by"] = "samm"
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case), encoding="utf-8")
    outcome = CliRunner().invoke(app, ["query", str(path)])
    assert outcome.exit_code == 2
    assert "information[1].provided_by" in outcome.output and "Traceback" not in outcome.output


# ------------------------------------------------------------------ a question for every input

def _leaves(spec: dict, path: str = ""):
    if "x-atom" in spec and spec.get("type") != "object":
        yield path, spec
    for key, sub in spec.get("properties", {}).items():
        yield from _leaves(sub, f"{path}.{key}" if path else key)
    items = spec.get("items")
    if isinstance(items, dict) and items.get("type") == "object":
        yield from _leaves(items, path)


def test_success_every_input_of_the_case_format_has_a_question_of_its_own():
    missing = [path for path, spec in _leaves(CASE) if not spec.get("x-question")]
    assert missing == []


@pytest.mark.parametrize("name", sorted(p.name for p in FACTS.glob("*.yaml")))
def test_success_no_unstated_fact_of_a_case_is_asked_by_its_description(name):
    unknowns = case_inputs(validate(yaml.safe_load((FACTS / name).read_text(encoding="utf-8")))).unknowns
    for unknown in unknowns:
        assert unknown.question and "{" not in unknown.question, (unknown.path, unknown.question)
        assert not unknown.question.startswith("Not stated"), unknown.path


def test_success_the_question_about_one_of_several_children_names_that_child():
    questions = {u.path: u.question for u in case_inputs(validate(_siblings())).unknowns}
    assert questions["children[1].understanding"] == \
        "Does ella understand enough to decide about sharing (your judgement, 3.3.15-3.3.17)?"
    assert questions["children[0].concern.unsure"] == \
        "Do you have a concern about sam you are unsure amounts to reasonable cause?"
