"""Police requests (3.6.9-3.6.14): the six categories, a request outside them, doubt,
the conditions on police-supplied information and the forms. Each case is in facts/."""

from __future__ import annotations

from pathlib import Path

import pytest

import pyisp

FACTS = Path(__file__).resolve().parent.parent / "facts"


def answer(name: str, **readings: str) -> pyisp.Disclosure:
    return pyisp.query_file(FACTS / f"{name}.yaml", readings=readings or None).disclosures[0]


def has(items: list[pyisp.Conclusion], args: tuple[str, ...], paragraph: str, status: str = "yes") -> bool:
    return any(i.args == args and i.status == status and paragraph in i.paragraphs for i in items)


@pytest.mark.parametrize("name, category, verdict", [
    ("police-category-1-s47-referral", "s47_referral", "must_share"),
    ("police-category-2-risk-management-meeting", "risk_management_meeting", "may_share"),
    ("police-category-3-initial-assessment", "initial_or_core_assessment", "must_share"),
    ("police-category-4-child-in-need-with-consent", "child_in_need_assessment", "may_share"),
    ("police-category-5-child-protection-plan", "child_protection_plan", "must_share"),
    ("police-category-6-emergency-placement", "emergency_placement", "may_share"),
])
def test_request_in_a_category_is_answered_on_the_police_conditions(name: str, category: str, verdict: str) -> None:
    d = answer(name)
    assert d.verdict == verdict
    assert has(d.finding("police_request_in_category"), (category,), "3.6.9")
    assert not d.finding("police_request_declined")
    assert has(d.obligation("observe_police_conditions"), (), "3.6.12")


def test_request_outside_the_categories_is_declined_even_with_a_harm_concern() -> None:
    d = answer("police-request-outside-categories")
    assert d.verdict == "must_not_share"
    assert has(d.finding("police_request_declined"), ("outside_categories",), "3.6.10")
    assert not d.finding("required_by")  # 3.4.1 does not make a declined request required
    assert not d.obligation("observe_police_conditions")


def test_child_in_need_request_without_written_consent_or_override_is_declined() -> None:
    d = answer("police-category-4-child-in-need-without-consent")
    assert d.verdict == "must_not_share"
    assert has(d.finding("police_category_condition_unmet"),
               ("child_in_need_assessment", "no_written_consent_and_no_override"), "3.6.9")
    assert has(d.finding("police_request_declined"), ("outside_categories",), "3.6.10")


def test_risk_meeting_under_a_later_act_is_declined_under_the_default_reading() -> None:
    d = answer("police-category-2-later-act")
    assert d.verdict == "must_not_share"
    assert has(d.finding("reading_applied"), ("police_category_2", "named_acts"), "3.6.9")
    assert has(d.finding("police_category_condition_unmet"),
               ("risk_management_meeting", "meeting_not_under_named_act"), "3.6.9")


def test_risk_meeting_under_a_later_act_is_answered_when_successor_acts_are_read_in() -> None:
    d = answer("police-category-2-later-act", police_category_2="with_successor_acts")
    assert d.verdict == "may_share"
    assert has(d.finding("reading_applied"), ("police_category_2", "with_successor_acts"), "3.6.9")
    assert has(d.finding("police_request_in_category"), ("risk_management_meeting",), "3.6.9")


def test_doubt_about_the_category_means_consulting_police_legal_services() -> None:
    d = answer("police-category-in-doubt")
    assert has(d.obligation("consult_police_legal_services"), (), "3.6.11")
    assert not answer("police-category-3-initial-assessment").obligation("consult_police_legal_services")


def test_outside_s47_and_criminal_investigation_a_request_form_is_needed() -> None:
    d = answer("police-category-3-initial-assessment")
    assert has(d.obligation("complete_information_request_form"), ("form_87b",), "3.6.13")
    assert not answer("police-category-1-s47-referral").obligation("complete_information_request_form")
    assert not answer("police-request-outside-categories").obligation("complete_information_request_form")


def test_urgent_s47_answer_may_be_oral_then_confirmed_in_writing() -> None:
    d = answer("police-category-1-urgent-oral")
    assert d.verdict == "must_share"
    assert has(d.obligation("confirm_in_writing"), ("form_87d",), "3.6.14")
    assert has(d.finding("reading_applied"), ("police_forms", "as_printed"), "3.6.14")
    assert not answer("police-category-1-s47-referral").obligation("confirm_in_writing")
    other = answer("police-category-1-urgent-oral", police_forms="form_87b_only")
    assert has(other.obligation("confirm_in_writing"), ("form_87b",), "3.6.14")


def test_police_information_is_not_passed_on_without_their_permission() -> None:
    d = answer("police-information-passed-on-without-permission")
    assert d.verdict == "must_not_share"
    assert has(d.finding("police_supplied"), ("convictions",), "3.6.12")
    assert has(d.finding("police_condition_breached"), ("convictions", "no_police_permission"), "3.6.12")


def test_police_information_may_be_passed_on_with_their_express_permission() -> None:
    d = answer("police-information-passed-on-with-permission")
    assert d.verdict == "may_share"
    assert not d.finding("police_condition_breached")


def test_police_request_category_left_unstated_makes_the_answer_depend_on_it() -> None:
    case = pyisp.Case.load(FACTS / "police-category-3-initial-assessment.yaml")
    data = dict(case.data)
    disclosure = dict(data["disclosures"][0])
    disclosure["police_request"] = {k: v for k, v in disclosure["police_request"].items() if k != "category"}
    data["disclosures"] = [disclosure]
    d = pyisp.query(data).disclosures[0]
    assert d.verdict == "undetermined"
    paths = {c.path for dep in d.depends_on for c in dep.conditions}
    assert "disclosures[0].police_request.category" in paths
