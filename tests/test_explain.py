"""Explanation trees of the chapter's worked examples (facts/): the rules and paragraphs
on the path, negative conditions kept apart from unknown ones, and the why-not of the
verdicts not reached. Trees come from the rules, so these tests name predicates and
paragraphs, never line numbers."""

from __future__ import annotations

import json

import clingo
import pytest
from casekit import FACTS

import pyisp
import yaml
from pyisp.explain import NO, UNKNOWN, YES, Explanation, Statement, Step
from pyisp.render.explanation import phrase


def _explain(name: str, disclosure: str | None = None, readings: dict[str, str] | None = None,
             **question: str) -> Explanation:
    result = pyisp.query_file(FACTS / f"{name}.yaml", readings=readings)
    return result.explain(disclosure or result.disclosures[0].id, **question)


def _statements(ex: Explanation) -> list[Statement]:
    return [s for top in ex.statements for s in top.walk()]


def _steps(ex: Explanation, predicate: str, *args: str) -> list[Step]:
    """Steps concluding `predicate`, whose conclusion mentions every one of `args`."""
    return [step for top in ex.statements for step in top.all_steps()
            if step.predicate == predicate and all(a in step.conclusion for a in args)]


def _checks(step: Step, predicate: str):
    return [c for c in step.checks if c.statement.atom.startswith(predicate + "(") or c.statement.atom == predicate]


# ---------------------------------------------------------------- 3.3.3: counselling session
@pytest.fixture(scope="module")
def counselling() -> Explanation:
    # stating that the drug misuse is not information relevant to child protection (3.6.17),
    # so that the public interest alone decides (left unstated, it is a second open question)
    case = yaml.safe_load((FACTS / "teacher-counselling-disclosure.yaml").read_text(encoding="utf-8"))
    case["disclosures"][0]["education"] = {"relevant_to_child_protection": False}
    result = pyisp.query(case)
    return result.explain(result.disclosures[0].id)


def test_success_undetermined_verdict_rests_on_the_public_interest_route_that_may_apply(counselling):
    assert counselling.verdict == "undetermined"
    permitted = counselling.statements[0]
    assert permitted.atom == 'permitted("to-social-care")' and permitted.truth == UNKNOWN
    route = _steps(counselling, "permitted_by", "public_interest")
    assert route and route[0].status == "may apply" and {"3.3.5", "3.5.16"} <= set(route[0].paragraphs)
    test_met = _steps(counselling, "public_interest_test_met")[0]
    assert test_met.status == "may apply"
    judgement = _checks(test_met, "public_interest_sufficient")[0]
    assert judgement.holds == UNKNOWN
    assert judgement.statement.field == "disclosures[0].judgements.public_interest_sufficient"
    # an open judgement reads as the question the case format asks of it
    assert phrase(judgement.statement) == ("Open question: Is the public interest in to-social-care sufficient "
                                           "to justify sharing without consent (your judgement)?")


def test_success_the_path_reaches_amys_refusal_and_her_understanding(counselling):
    refusal = _steps(counselling, "consent_refused", '"amy"')
    assert refusal and refusal[0].status == "applies" and {"3.3.5", "3.3.22"} <= set(refusal[0].paragraphs)
    understanding = _steps(counselling, "sufficient_understanding", '"amy"')
    assert understanding and "3.3.17" in understanding[0].paragraphs
    judged = _checks(understanding[0], "understanding_judged")[0]
    assert judged.holds == YES and judged.statement.kind == "input" and judged.statement.field is None
    assert "Amy (14)" in judged.statement.sentence


def test_success_negative_conditions_read_as_not_stated_not_as_unknown(counselling):
    confidential = _steps(counselling, "confidential", "drug-misuse")[0]
    assert set(confidential.paragraphs) == {"3.3.2", "3.3.3"}
    negative = [c for c in confidential.checks if c.negated]
    assert {c.statement.atom.split("(")[0] for c in negative} == {
        "in_public_domain", "widely_known", "shared_without_limits"}
    for check in negative:
        assert check.holds == YES and check.statement.truth == NO
        if check.statement.kind == "input":  # stated false in the case: said so, once, without a double negative
            assert check.statement.given == "stated"
            assert phrase(check.statement, negated=True).startswith("The case says no: ")


def test_success_why_not_shows_the_consent_route_failing_on_consent_not_obtained(counselling):
    consent = _steps(counselling, "permitted_by", "consent")
    assert consent and consent[0].status == "does not apply"
    failed = _checks(consent[0], "consent_obtained")
    assert failed and failed[0].holds == NO
    # explained once (later mentions say "explained above"): no consent authorises it
    explained = [s for s in _statements(counselling)
                 if s.atom == failed[0].statement.atom and not s.repeated and s.steps]
    assert len(explained) == 1
    assert all(step.status == "does not apply" for step in explained[0].steps)


def test_success_why_not_must_share_lists_every_rule_that_could_require_it(counselling):
    required = counselling.statements[1]
    assert required.atom == 'required("to-social-care")' and required.truth == NO
    requiring = {s.conclusion.split(",")[-1].rstrip(")") for s in _steps(counselling, "required_by")}
    assert {"statutory_duty", "court_order", "reasonable_cause_to_suspect_significant_harm"} <= requiring
    assert all(s.status == "does not apply" for s in _steps(counselling, "required_by"))
    assert any("3.4.1" in s.paragraphs for s in _steps(counselling, "required_by"))


def test_success_what_would_settle_it_names_the_public_interest_judgement_each_way(counselling):
    verdicts = {c.verdict for c in counselling.changes}
    assert verdicts == {"may_share", "must_not_share"}
    for change in counselling.changes:
        assert change.fields == ("disclosures[0].judgements.public_interest_sufficient",)
        assert "public interest" in change.conditions[0]
    assert "What would settle it" in counselling.to_text()


# ---------------------------------------------------------------- 3.3.19: separated parents
def test_success_must_not_share_explains_why_not_for_every_route_of_the_policy():
    ex = _explain("separated-parents")
    assert ex.verdict == "must_not_share" and ex.statements[0].truth == NO
    policy = pyisp.load_policy().policy
    routes = {r.where for r in policy.rules if r.head_name == "permitted_by"}
    shown = {s.rule for s in _steps(ex, "permitted_by")}
    assert shown == routes
    assert all(s.status == "does not apply" for s in _steps(ex, "permitted_by"))
    # the consent that counts is the resident mother's; the father's agreement does not authorise
    authorised = _steps(ex, "authorised_by")
    assert authorised and {"3.3.4", "3.3.19"} <= set(authorised[0].paragraphs)
    deciders = [c for s in authorised for c in _checks(s, "decides_for") if c.holds == YES]
    assert any('"mother"' in c.statement.atom for c in deciders)
    assert not any('"father"' in c.statement.atom for c in deciders)


# ---------------------------------------------------------------- 3.4.1: failure to thrive
def test_success_must_share_rests_on_reasonable_cause_to_suspect_significant_harm():
    ex = _explain("failure-to-thrive-parents-refuse", "to-social-care")
    assert ex.verdict == "must_share" and ex.statements[0].atom == 'required("to-social-care")'
    duty = _steps(ex, "required_by", "reasonable_cause_to_suspect_significant_harm")
    assert duty and duty[0].status == "applies" and "3.4.1" in duty[0].paragraphs
    threshold = _steps(ex, "significant_harm_threshold_met")[0]
    assert _checks(threshold, "cause_to_suspect_significant_harm")[0].statement.truth == YES


def test_success_why_not_may_share_of_a_must_share_verdict_says_it_is_required():
    ex = _explain("failure-to-thrive-parents-refuse", "to-social-care", why_not="may_share")
    assert "so it is not MAY SHARE" in ex.answer
    # the question asked, not the whole tree: it is not "may" because it is required
    assert [s.atom for s in ex.statements] == ['required("to-social-care")'] and ex.statements[0].truth == YES


# ---------------------------------------------------------------- 3.3.3: widely known
def test_success_information_widely_known_is_shared_without_a_confidence():
    ex = _explain("drug-misuse-widely-known")
    assert ex.verdict == "may_share"
    route = _steps(ex, "permitted_by", "not_confidential")
    assert route and route[0].status == "applies" and "3.3.2" in route[0].paragraphs
    carries = _checks(route[0], "carries_confidential_information")[0]
    assert carries.negated and carries.holds == YES and carries.statement.truth == NO
    confidential = _steps(ex, "confidential", "drug-misuse")
    assert confidential and confidential[0].status == "does not apply"
    known = _checks(confidential[0], "widely_known")[0]
    assert known.negated and known.holds == NO and known.statement.truth == YES


# ---------------------------------------------------------------- 3.3.13: GP referral
def test_success_implied_consent_by_agreeing_to_a_referral_authorises_the_letter():
    ex = _explain("gp-referral-implied-consent")
    assert ex.verdict == "may_share"
    assert _steps(ex, "permitted_by", "consent")[0].status == "applies"
    form = [s for s in _steps(ex, "acceptable_form") if _checks(s, "implied_by")]
    assert form and "3.3.13" in form[0].paragraphs
    assert _checks(form[0], "implied_by")[0].statement.atom.endswith("agreed_to_referral)")


# ---------------------------------------------------------------- 3.3.19-3.3.20: competent child
def test_success_a_competent_childs_refusal_is_overridden_only_in_her_best_interests():
    services = {"consent_for_services": "good_practice"}  # by default 3.3.26 decides a referral offering a service
    ex = _explain("competent-child-refuses-parent-agrees", readings=services)
    route = _steps(ex, "permitted_by", "best_interests")
    assert route and route[0].status == "applies" and "3.3.20" in route[0].paragraphs
    conflict = _steps(ex, "wishes_conflict")
    assert conflict and {"3.3.19", "3.3.20"} <= set(conflict[0].paragraphs)
    answers = {c.statement.atom for c in _checks(conflict[0], "consent_answer")}
    assert any("refused" in a for a in answers) and any("given" in a for a in answers)
    # why not simply with consent: Mia, who decides for herself, refused
    why_not = _explain("competent-child-refuses-parent-agrees", readings=services, why_not="permitted_by(consent)")
    assert why_not.statements[0].truth == NO and why_not.answer == "It does not hold."
    consent = _steps(why_not, "permitted_by", "consent")
    assert consent and consent[0].status == "does not apply"
    assert _checks(consent[0], "consent_obtained")[0].holds == NO


# ---------------------------------------------------------------- the API
def test_success_explain_a_named_conclusion_with_or_without_its_disclosure():
    result = pyisp.query_file(FACTS / "teacher-counselling-disclosure.yaml")
    ex = result.explain("to-social-care", "confidential(drug-misuse)")
    assert ex.statements[0].atom == 'confidential("drug-misuse")' and ex.statements[0].truth == YES
    assert ex.answer == "It holds."
    ex = result.explain("to-social-care", why_not="consent_obtained")
    assert ex.statements[0].atom == 'consent_obtained("to-social-care")' and ex.answer == "It does not hold."
    # an obligation's code leads to the conclusion it reports
    ex = result.explain("to-social-care", why_not="consult_information_lead_and_child_protection_adviser")
    assert ex.statements[0].atom == 'consult_on_whose_consent("to-social-care")'


def test_fail_an_unknown_conclusion_or_disclosure_is_a_case_error_with_a_hint():
    result = pyisp.query_file(FACTS / "teacher-counselling-disclosure.yaml")
    with pytest.raises(pyisp.CaseError, match="did you mean consent_obtained"):
        result.explain("to-social-care", why_not="consent_obtaned")
    with pytest.raises(pyisp.CaseError, match="to-social-care"):
        result.explain("to-police")
    with pytest.raises(pyisp.CaseError, match="either why or why not"):
        result.explain("to-social-care", "permitted", "required")


def test_success_to_dict_is_plain_json_with_rules_and_paragraphs(counselling):
    data = json.loads(json.dumps(counselling.to_dict()))
    assert data["verdict"] == "undetermined" and data["statements"][0]["truth"] == "unknown"
    assert "3.3.5" in data["paragraphs"] and data["changes"]
    assert data["statements"][0]["steps"][0]["rule"].startswith("decision.lp:")


def test_success_a_plain_query_does_not_run_the_instrumented_program(monkeypatch):
    import pyisp.explain
    import pyisp.explain.instrument

    def refuse(*_args, **_kwargs):
        raise AssertionError("query must not trace")

    monkeypatch.setattr(pyisp.explain.instrument, "trace", refuse)
    monkeypatch.setattr(pyisp.explain, "run_trace", refuse)
    result = pyisp.query_file(FACTS / "teacher-counselling-disclosure.yaml")
    assert result.disclosures[0].verdict == "undetermined"
    explanation = result.explain("to-social-care")  # the brief needs no instrumented run
    assert explanation.reasons and explanation.to_text().startswith("Case teacher-counselling-disclosure")
    with pytest.raises(AssertionError, match="must not trace"):
        _ = explanation.statements  # the derivation does, when it is read
    with pytest.raises(AssertionError, match="must not trace"):
        result.explain("to-social-care", why_not="consent_obtained")


@pytest.mark.parametrize("path", sorted(FACTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_success_explanations_agree_with_the_engine_on_every_conclusion(path):
    """The instrumented run and the engine are separate runs of the rules: the truth an
    explanation gives each verdict input, finding and obligation is the status the result reports."""
    result = pyisp.query_file(path)
    status = {"yes": YES, "no": NO, "depends": UNKNOWN}
    rank = {NO: 0, UNKNOWN: 1, YES: 2}
    for disclosure in result.disclosures:
        verdict = result.explain(disclosure.id)
        truths = {s.atom.split("(")[0]: s.truth for s in verdict.statements}
        assert truths == {"permitted": status[disclosure.permitted], "required": status[disclosure.required]}
        for conclusion in disclosure.findings + disclosure.obligations:
            label = conclusion.code + (f"({', '.join(conclusion.args)})" if conclusion.args else "")
            ex = result.explain(disclosure.id, label)
            got = min((s.truth for s in ex.statements), key=rank.get)
            assert got == status[conclusion.status], (disclosure.id, label)


# ---------------------------------------------------------------- 3.3.17: criteria one by one
def _criteria_case(**answers):
    from casekit import base_case, changed

    criteria = {"understands_question": True, "understands_what_shared": True, "understands_reasons": True,
                "understands_implications": True, "appreciates_alternatives": True, "weighs_up": True,
                "expresses_own_view": True, "consistent_view": True, **answers}
    case = changed(base_case(), **{"child.age": 14, "child.understanding": ...})
    case["child"]["understanding_criteria"] = {k: v for k, v in criteria.items() if v is not None}
    return pyisp.query(case)


def test_success_a_criterion_left_unstated_makes_understanding_unknown_and_names_it():
    result = _criteria_case(weighs_up=None)
    ex = result.explain("d", "sufficient_understanding(kim)")
    assert ex.statements[0].truth == UNKNOWN
    step = [s for s in _steps(ex, "sufficient_understanding") if s.status == "may apply"][0]
    assert "3.3.17" in step.paragraphs
    every = [c for c in step.checks if c.statement.kind == "all"][0]
    assert every.holds == UNKNOWN and len(every.statement.cases) == 8
    open_ones = [c.statement for c in every.statement.cases if c.holds == UNKNOWN]
    assert [s.field for s in open_ones] == ["child.understanding_criteria.weighs_up"]


def test_success_a_criterion_not_met_is_the_failed_condition_of_why_not():
    result = _criteria_case(weighs_up=False)
    ex = result.explain("d", why_not="sufficient_understanding(kim)")
    assert ex.statements[0].truth == NO
    step = [s for s in _steps(ex, "sufficient_understanding") if any(c.statement.kind == "all" for c in s.checks)][0]
    every = [c for c in step.checks if c.statement.kind == "all"][0]
    assert every.holds == NO
    failed = [c.statement.atom for c in every.statement.cases if c.holds == NO]
    assert failed == ['criterion_met("kim",weighs_up)']


def test_success_someone_who_always_decides_is_certain_though_who_is_unknown():
    """Cara (13) either is judged able to decide (she decides) or is not (a parent decides):
    someone decides in every completion, though who is unknown. `not decides_for(_, C)`
    therefore fails for sure, and nobody_can_consent_for never holds."""
    from casekit import base_case, changed

    case = changed(base_case(), **{"child.id": "cara", "child.name": "Cara", "child.age": 13,
                                   "child.understanding": ...})
    case["information"][0]["about"] = ["cara"]
    case["information"][0]["provided_by"] = "cara"
    case["consents"][0]["person"] = "cara"
    result = pyisp.query(case)
    ex = result.explain("d", why_not="nobody_can_consent_for")
    assert ex.statements[0].truth == NO
    step = _steps(ex, "nobody_can_consent_for")[0]
    someone = [c for c in step.checks if c.negated][0]
    assert someone.holds == NO and someone.statement.truth == YES
    assert {c.holds for c in someone.statement.cases} == {UNKNOWN}  # no one decider is certain
    assert not step.note


def test_success_a_rule_whose_open_conditions_never_hold_together_says_so(tmp_path):
    from pyisp.core.atoms import Inputs, Unknown
    from pyisp.explain import JOINTLY, Explainer
    from pyisp.core.policy import Policy

    (tmp_path / "main.lp").write_text("%% 3.1.1: Both answers at once.\nboth :- answer(yes), answer(no).\n")
    answers = [clingo.Function("answer", [clingo.Function(v)]) for v in ("yes", "no")]
    unknown = Unknown("answer", tuple((v, ((answers[0], v == "yes"), (answers[1], v == "no")))
                                      for v in ("yes", "no")))
    explainer = Explainer(Policy(tmp_path), Inputs((), (unknown,)), {})
    both = explainer.statement(clingo.Function("both"))
    assert both.truth == NO
    assert [c.holds for c in both.steps[0].checks] == [UNKNOWN, UNKNOWN]
    assert both.steps[0].note == JOINTLY


@pytest.mark.slow
def test_an_explanation_is_the_same_whatever_the_hash_seed() -> None:
    """The rule instances behind a conclusion are taken in a fixed order (not the order of a
    set, which follows Python's hash seed): the same explanation in every process."""
    import os
    import subprocess
    import sys

    script = ("import json, sys, pyisp; r = pyisp.query_file(sys.argv[1]); "
              "print(json.dumps([r.explain(d.id).to_dict() for d in r.disclosures], sort_keys=True))")
    case = str(FACTS / "ae-nurse-tells-police-of-assault-mother-refuses.yaml")
    texts = {subprocess.run([sys.executable, "-c", script, case], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "5")}
    assert len(texts) == 1 and '"steps"' in texts.pop()
