"""Rules of 3.1-3.5 at their thresholds, in near-miss pairs, on a fully stated base case."""

from __future__ import annotations

import pytest

import pyisp
from casekit import base_case, changed, disclosure, labels


def test_base_case_valid_consent_of_a_competent_15_year_old_permits_sharing():
    d = disclosure(base_case())
    assert (d.verdict, d.permitted, d.required) == ("may_share", "yes", "no")
    assert "permitted_by(consent)" in labels(d.findings)
    assert d.depends_on == ()


# ---- 3.3.11: each element of valid consent, missing in turn -----------------------------------

@pytest.mark.parametrize("element", ["why", "who", "purpose", "implications"])
def test_consent_without_telling_the_person_each_element_is_not_valid(element):
    d = disclosure(changed(base_case(), **{f"consents[0].told.{element}": False}))
    assert f"consent_invalid(kim-consent, not_told({element}))" in labels(d.findings)
    assert "3.3.11" in next(f.paragraphs for f in d.findings if f.code == "consent_invalid")
    assert "permitted_by(consent)" not in labels(d.findings, None)
    assert d.verdict == "must_not_share"


def test_consent_not_freely_given_is_not_valid():
    d = disclosure(changed(base_case(), **{"consents[0].freely_given": False}))
    assert "consent_invalid(kim-consent, not_freely_given)" in labels(d.findings)
    assert d.verdict == "must_not_share"


def test_consent_after_a_significant_change_must_be_sought_again():
    d = disclosure(changed(base_case(), **{"consents[0].significant_change_since": True}))
    assert "consent_invalid(kim-consent, significant_change_since)" in labels(d.findings)
    assert "seek_consent_again(kim)" in labels(d.obligations)
    assert d.verdict == "must_not_share"


def test_withdrawn_consent_is_a_refusal():
    d = disclosure(changed(base_case(), **{"consents[0].answer": "withdrawn"}))
    assert "consent_refused(kim, withdrawn)" in labels(d.findings)
    assert "public_interest_question(consent_refused)" in labels(d.findings)
    assert d.verdict == "must_not_share"  # the public interest is judged insufficient in the base case


def test_oral_consent_is_valid_and_must_be_recorded():
    d = disclosure(changed(base_case(), **{"consents[0].form": "oral"}))
    assert d.verdict == "may_share"
    assert "record_oral_consent(kim-consent)" in labels(d.obligations)


# ---- 3.3.15-3.3.18: age and understanding --------------------------------------------------------

def test_a_16_year_old_decides_unless_judged_not_to_understand():
    d = disclosure(changed(base_case(), **{"child.age": 16, "child.understanding": True}))
    assert "can_decide_for_self(kim, aged_16_or_over)" in labels(d.findings)
    assert d.verdict == "may_share"
    d = disclosure(changed(base_case(), **{"child.age": 16, "child.understanding": False}))
    assert "can_decide_for_self(kim, aged_16_or_over)" not in labels(d.findings)
    assert "seek_consent(mum)" in labels(d.obligations)
    assert d.verdict == "must_not_share"


def test_a_15_year_old_judged_unable_to_understand_has_a_parent_decide():
    d = disclosure(changed(base_case(), **{"child.age": 15, "child.understanding": False}))
    assert "whose_consent(mum)" in labels(d.findings)
    assert "whose_consent(kim)" not in labels(d.findings)
    assert "seek_consent(mum)" in labels(d.obligations)
    assert d.verdict == "must_not_share"


@pytest.mark.parametrize("age, expected", [(11, False), (12, True), (15, True), (16, False)])
def test_from_12_to_15_understanding_is_expected_and_to_be_assessed(age, expected):
    d = disclosure(changed(base_case(), **{"child.age": age}))
    assert ("assess_understanding(kim)" in labels(d.obligations)) is expected


def test_an_11_year_old_judged_to_understand_decides_for_herself():
    d = disclosure(changed(base_case(), **{"child.age": 11}))
    assert "can_decide_for_self(kim, sufficient_understanding)" in labels(d.findings)
    assert d.verdict == "may_share"


def test_a_15_year_olds_understanding_left_unstated_leaves_whose_consent_undetermined():
    d = disclosure(changed(base_case(), **{"child.understanding": ...}))
    assert d.verdict == "undetermined"
    assert any(c.path == "child.understanding" for dep in d.depends_on for c in dep.conditions)


def test_all_criteria_of_3_3_17_met_is_sufficient_understanding():
    criteria = dict.fromkeys(["understands_question", "understands_what_shared", "understands_reasons",
                              "understands_implications", "appreciates_alternatives", "weighs_up",
                              "expresses_own_view", "consistent_view"], True)
    case = changed(base_case(), **{"child.understanding": ..., "child.understanding_criteria": criteria})
    assert "sufficient_understanding(kim)" in labels(disclosure(case).findings)
    case = changed(case, **{"child.understanding_criteria.consistent_view": False})
    d = disclosure(case)
    assert "criterion_not_met(kim, consistent_view)" in labels(d.findings)
    assert "whose_consent(mum)" in labels(d.findings)


def test_an_unknown_age_is_decided_by_the_age_bands():
    # Under the reading no_test (16-17 decide whatever their understanding); by default a
    # 16-year-old judged not to understand has a parent decide, as a younger child does.
    case = changed(base_case(), **{"child.age": ..., "child.understanding": False})
    d = pyisp.query(case, readings={"consent_16_17": "no_test"}).disclosures[0]
    assert d.verdict == "undetermined"
    ages = {v for dep in d.depends_on for c in dep.conditions if c.path == "child.age" for v in c.values}
    assert ages == set(range(0, 18))  # 16-17 decide themselves (may share), younger need a parent (must not)
    yes = [dep for dep in d.depends_on if dep.conclusion == "permitted" and dep.value == "yes"]
    assert yes and set(yes[0].conditions[0].values) == {16, 17}


# ---- 3.4.2: when not to seek consent -------------------------------------------------------------

@pytest.mark.parametrize("reason", ["increase_risk_to_child", "put_adult_at_risk", "prejudice_crime_inquiry",
                                    "cause_unjustified_delay"])
def test_each_reason_not_to_seek_consent_leaves_the_public_interest_to_decide(reason):
    # a purpose other than offering a service, which 3.3.26 would decide
    case = changed(base_case(), **{"consents": [], f"seeking_consent_would.{reason}": True,
                                   "disclosures[0].purpose": "promote_welfare",
                                   "disclosures[0].judgements.public_interest_sufficient": True})
    d = disclosure(case)
    assert f"consent_should_not_be_sought({reason})" in labels(d.findings)
    assert "seek_consent(kim)" not in labels(d.obligations, None)
    assert d.verdict == "may_share"
    assert "record_reasons_for_not_seeking_consent" in labels(d.obligations)


def test_consent_not_sought_without_a_reason_must_be_sought_first():
    d = disclosure(changed(base_case(), **{"consents": [], "disclosures[0].judgements.public_interest_sufficient": True}))
    assert "seek_consent(kim)" in labels(d.obligations)
    assert d.verdict == "must_not_share"


# ---- 3.5.5 anonymised; 3.5.9-3.5.10 statutory duty and court order; 3.4.1 ------------------------

def test_anonymised_information_may_be_shared_for_a_legitimate_purpose_without_consent():
    case = changed(base_case(), **{"consents": [], "information[0].identifiable": False})
    d = disclosure(case)
    assert d.verdict == "may_share"
    assert "anonymised(health)" in labels(d.findings)
    assert "3.5.5" in next(f.paragraphs for f in d.findings if f.code == "anonymised")


def test_anonymised_information_without_a_legitimate_purpose_must_not_be_shared():
    case = changed(base_case(), **{"consents": [], "information[0].identifiable": False,
                                   "disclosures[0].purpose": "other",
                                   "disclosures[0].judgements.legitimate_purpose": False})
    d = disclosure(case)
    assert d.verdict == "must_not_share"
    assert "no_legitimate_purpose(purpose_not_recognised)" in labels(d.findings)


def test_anonymised_information_for_another_purpose_judged_legitimate_may_be_shared():
    case = changed(base_case(), **{"consents": [], "information[0].identifiable": False,
                                   "disclosures[0].purpose": "other",
                                   "disclosures[0].judgements.legitimate_purpose": True,
                                   "information[0].supplied_by_police": False})
    d = disclosure(case)
    assert d.verdict == "may_share"
    assert "legitimate_purpose" in labels(d.findings)


@pytest.mark.parametrize("basis", ["statutory_duty", "court_order"])
def test_a_statutory_duty_or_court_order_requires_sharing_despite_refusal(basis):
    case = changed(base_case(), **{"consents[0].answer": "refused", f"disclosures[0].{basis}": True})
    d = disclosure(case)
    assert (d.verdict, d.required) == ("must_share", "yes")
    assert f"required_by({basis})" in labels(d.findings)
    assert "inform_individual" in labels(d.obligations)
    assert {"3.5.9", "3.5.10"} & set(d.paragraphs)


def test_reasonable_cause_to_suspect_significant_harm_requires_sharing_with_social_care():
    case = changed(base_case(), **{"consents[0].answer": "refused", "concern.reasonable_cause_to_suspect": True,
                                   "disclosures[0].to": {"agency": "childrens_social_care"}})
    d = disclosure(case)
    assert d.verdict == "must_share"
    assert "3.4.1" in d.paragraphs


def test_the_3_4_1_duty_is_to_social_care_only():
    case = changed(base_case(), **{"consents[0].answer": "refused", "concern.reasonable_cause_to_suspect": True})
    d = disclosure(case)
    assert d.required == "no"


def test_an_unknown_court_order_without_the_presumption_leaves_the_verdict_open_between_may_and_must():
    # 3.5.1: a verdict is settled only when every completion gives it (may share here hid a must share)
    case = changed(base_case(), **{"disclosures[0].court_order": ...})
    d = pyisp.query(case, presumptions={"no_court_order": False}).disclosures[0]
    assert (d.verdict, d.permitted, d.required) == ("undetermined", "yes", "depends")
    assert d.possible_verdicts == ("must_share", "may_share")
    required = [dep for dep in d.depends_on if dep.conclusion == "required" and dep.value == "yes"]
    assert [c.path for c in required[0].conditions] == ["disclosures[0].court_order"]
    assert required[0].verdict == "must_share"


def test_an_unmentioned_court_order_is_presumed_absent_and_the_answer_says_so():
    # 3.5.10: court orders are unusual and professionals are told of them
    d = disclosure(changed(base_case(), **{"disclosures[0].court_order": ...}))
    assert d.verdict == "may_share"
    assert {a.name: a.if_not for a in d.assumptions}["no_court_order"] == ("must_share",)


def test_information_under_a_limiting_statutory_power_is_not_shared_beyond_its_limits():
    d = disclosure(changed(base_case(), **{"information[0].obtained_under_limiting_power": True}))
    assert d.verdict == "must_not_share"
    assert "use_limited_by_statute(health)" in labels(d.findings)
    allowed = changed(base_case(), **{"information[0].obtained_under_limiting_power": True,
                                      "disclosures[0].within_statutory_limits": True})
    assert disclosure(allowed).verdict == "may_share"
    unknown = changed(base_case(), **{"information[0].obtained_under_limiting_power": True,
                                      "disclosures[0].within_statutory_limits": ...})
    assert disclosure(unknown).verdict == "undetermined"


def test_a_court_order_needs_no_consent_to_be_sought():
    d = disclosure(changed(base_case(), **{"consents": [], "disclosures[0].court_order": True}))
    assert d.verdict == "must_share"
    assert not d.obligation("seek_consent")
    assert "inform_individual" in labels(d.obligations)


def test_every_deciding_set_really_decides():
    case = changed(base_case(), **{"child.understanding": ..., "consents[0].freely_given": ...,
                                   "disclosures[0].judgements.public_interest_sufficient": ...})
    d = disclosure(case)
    assert d.verdict == "undetermined" and d.depends_on
    for dep in d.depends_on:
        for values in _product([c.values for c in dep.conditions]):
            settled = case
            for condition, value in zip(dep.conditions, values):
                settled = changed(settled, **{condition.path: value})
            again = disclosure(settled)
            assert getattr(again, dep.conclusion) == dep.value, dep.text


def _product(lists):
    import itertools
    return itertools.product(*lists)
