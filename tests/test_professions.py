"""Professional guidance (3.6.1-3.6.8, 3.6.15-3.6.17): doctors, nurses and other health
professionals, education. Each case is in facts/."""

from __future__ import annotations

from pathlib import Path

import pyisp

FACTS = Path(__file__).resolve().parent.parent / "facts"


def answer(name: str, **readings: str) -> pyisp.Disclosure:
    return pyisp.query_file(FACTS / f"{name}.yaml", readings=readings or None).disclosures[0]


def has(items: list[pyisp.Conclusion], args: tuple[str, ...], paragraph: str, status: str = "yes") -> bool:
    return any(i.args == args and i.status == status and paragraph in i.paragraphs for i in items)


def test_gmc_29_doctor_must_disclose_promptly_when_in_the_childs_best_interests() -> None:
    d = answer("doctor-gmc-29-best-interests")
    assert d.verdict == "must_share"
    assert has(d.finding("gmc_paragraph_29_applies"), (), "3.6.4")
    assert has(d.finding("required_by"), ("gmc_paragraph_29",), "3.6.4")
    assert has(d.obligation("disclose_promptly"), (), "3.6.4")
    assert not d.obligation("discuss_with_experienced_colleague")


def test_gmc_29_doctor_who_judges_otherwise_discusses_and_justifies() -> None:
    d = answer("doctor-gmc-29-not-best-interests")
    assert d.verdict == "must_not_share"  # to the police, public interest judged insufficient
    assert not d.finding("required_by")
    assert has(d.obligation("discuss_with_experienced_colleague"), (), "3.6.4")
    assert has(d.obligation("justify_decision_not_to_disclose"), (), "3.6.4")


def test_3_4_1_read_as_leaving_doctors_to_3_6_4_still_requires_through_gmc_29() -> None:
    d = answer("doctor-gmc-29-best-interests", share_3_4_1="duty_except_doctors")
    assert d.verdict == "must_share"
    assert has(d.finding("required_by"), ("gmc_paragraph_29",), "3.6.4")
    assert not any(f.args == ("reasonable_cause_to_suspect_significant_harm",) for f in d.finding("required_by"))
    assert has(d.finding("reading_applied"), ("share_3_4_1", "duty_except_doctors"), "3.6.4")


def test_doctor_exceptional_disclosure_is_reported_as_normally_justified_and_third_party_of_relevance() -> None:
    d = answer("doctor-exceptional-disclosure")
    assert d.verdict == "may_share"
    assert has(d.finding("public_interest_normally_justifies"), ("risk_of_death_or_serious_harm",), "3.6.2")
    assert has(d.finding("third_party_of_direct_relevance"), ("threats",), "3.6.3")
    assert has(d.finding("permitted_by"), ("public_interest",), "3.5.16")


def test_each_nmc_ground_is_named_for_a_health_visitor() -> None:
    assert has(answer("health-visitor-consent").finding("nmc_ground"), ("consent",), "3.6.6")
    law = answer("health-visitor-law")
    assert law.verdict == "must_share"
    assert has(law.finding("nmc_ground"), ("required_by_law_or_court",), "3.6.6")
    assert has(answer("health-visitor-public-interest").finding("nmc_ground"), ("public_interest",), "3.6.6")


def test_health_visitor_on_no_nmc_ground_or_in_doubt_consults_the_safeguarding_adviser() -> None:
    d = answer("health-visitor-none")
    assert has(d.finding("no_nmc_ground"), (), "3.6.6")
    assert has(d.obligation("consult_safeguarding_adviser"), ("in_doubt",), "3.6.8")
    assert has(d.obligation("consult_safeguarding_adviser"), ("no_nmc_ground",), "3.6.8")
    assert not answer("health-visitor-consent").obligation("consult_safeguarding_adviser")


def test_education_authority_must_assist_childrens_social_care_on_request() -> None:
    d = answer("education-authority-s27-request")
    assert d.verdict == "must_share"
    assert has(d.finding("required_by"), ("s27_duty_to_assist",), "3.6.16")
    assert has(d.finding("education_responsibility_to_share"), (), "3.6.15")


def test_s27_duty_is_not_owed_where_it_would_prejudice_the_authoritys_functions() -> None:
    d = answer("education-authority-s27-prejudicial", education_act_2002="arrangements_only")
    assert d.verdict == "must_not_share"
    assert has(d.finding("s27_duty_not_owed"), ("prejudicial_to_own_functions",), "3.6.16")
    assert has(d.finding("reading_applied"), ("education_act_2002", "arrangements_only"), "3.6.17")


def test_education_act_2002_requires_sharing_only_under_the_duty_reading() -> None:
    d = answer("education-authority-s27-prejudicial", education_act_2002="duty")
    assert d.verdict == "must_share"
    assert has(d.finding("required_by"), ("education_act_2002",), "3.6.17")


def test_profession_fields_do_not_become_unknowns_for_other_senders() -> None:
    result = pyisp.query_file(FACTS / "police-category-1-s47-referral.yaml")
    assert not any(".health." in u or ".education." in u for u in result.unknowns)
    doctor = pyisp.query_file(FACTS / "doctor-gmc-29-best-interests.yaml")
    assert not any(".police_request." in u or ".transfer." in u for u in doctor.unknowns)
