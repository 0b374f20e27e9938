"""The instrumented policy records which rules fire, read from the rules themselves."""

from __future__ import annotations

from pathlib import Path

import clingo
import pytest

from pyisp.core.atoms import case_inputs
from pyisp.core.case import Case
from pyisp.explain.instrument import fired_rules, trace
from pyisp.core.policy import Policy

FACTS = Path(__file__).resolve().parent.parent / "facts"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy()


def _inputs(name: str):
    return case_inputs(dict(Case.load(FACTS / name).data))


def test_refusal_by_a_competent_child_fires_the_refusal_rule_not_the_consent_route(policy):
    fired = [policy.rules[i] for i in fired_rules(policy, _inputs("teacher-counselling-disclosure.yaml"))]
    heads = {r.head_name for r in fired}
    assert "consent_refused" in heads and "confidential" in heads
    assert "consent_obtained" not in heads
    # the consent route of 3.3.4 never fires: Amy refused
    assert not any(r.head_name == "permitted_by" and "consent_obtained" in r.text for r in fired)


def test_a_route_that_depends_on_an_unknown_judgement_fires_in_some_completions_only(policy):
    inputs = _inputs("teacher-counselling-disclosure.yaml")
    some = fired_rules(policy, inputs)
    every = fired_rules(policy, inputs, every_completion=True)
    public_interest = next(i for i, r in enumerate(policy.rules)
                           if r.head_name == "permitted_by" and "public_interest_test_met" in r.text)
    assert public_interest in some and public_interest not in every
    assert every < some


def test_each_firing_keeps_negative_conditions_apart_with_their_arguments(policy):
    found = trace(policy, _inputs("teacher-counselling-disclosure.yaml"))
    drug = clingo.String("drug-misuse")
    firings = found.by_head[clingo.Function("confidential", [drug])]
    # two rules conclude it: 3.3.2 (sensitive, in a relationship of confidence) and 3.5.6 (a formal relationship)
    assert len(firings) == 2 and all(f.certain for f in firings)
    confidential = [f for f in firings if policy.rules[f.rule].paragraphs == ("3.3.2", "3.3.3")]
    assert len(confidential) == 1
    negative = {a.name for a in confidential[0].negative}
    assert negative == {"in_public_domain", "widely_known", "shared_without_limits"}
    assert {a.name for a in confidential[0].positive} == {"information", "sensitive", "confidential_relationship"}
    assert policy.rules[confidential[0].rule].paragraphs == ("3.3.2", "3.3.3")


def test_comparisons_are_recorded_with_their_values(policy):
    found = trace(policy, _inputs("teacher-counselling-disclosure.yaml"))
    amy = clingo.String("amy")
    firing = found.by_head[clingo.Function("can_decide_for_self", [amy, clingo.Function("sufficient_understanding")])][0]
    assert [str(c) for c in firing.comparisons] == ['cmp(14,"<",16)']


SYNTHETIC = """\
#const limit = 2.
%% 3.1.1: An aggregate.
many(D) :- disclosure(D), #count { I : discloses(D, I) } >= limit.
%% 3.1.2: Pooled facts and arithmetic.
level(1;2;3).
next(X, X+1) :- level(X), level(X+1).
%% 3.1.3: A constraint, a choice, double negation and a negated comparison.
:- disclosure(D), bad(D).
{ maybe(D) } :- disclosure(D).
odd(D) :- disclosure(D), not not maybe(D), not 1 > 2.
%% 3.1.4: An anonymous variable under not.
alone(D) :- disclosure(D), not discloses(D, _).
"""


def test_success_any_rule_form_is_instrumented_and_explained(tmp_path):
    """Not a list of predicates: aggregates, pools, arithmetic, constraints, choices,
    double negation, negated comparisons and anonymous variables all work."""
    from pyisp.core.atoms import Inputs
    from pyisp.explain import NO, UNKNOWN, YES, Explainer

    (tmp_path / "main.lp").write_text(SYNTHETIC)
    policy = Policy(tmp_path)
    d = clingo.String("d")
    inputs = Inputs((clingo.Function("disclosure", [d]), clingo.Function("discloses", [d, clingo.String("a")]),
                     clingo.Function("discloses", [d, clingo.String("b")])), ())
    fired = {policy.rules[i].head_name for i in fired_rules(policy, inputs)}
    assert {"many", "next", "odd"} <= fired and "alone" not in fired
    explainer = Explainer(policy, inputs, {})
    many = explainer.statement(clingo.parse_term('many("d")'))
    assert many.truth == YES and [c.statement.kind for c in many.steps[0].checks] == ["input", "aggregate"]
    step = explainer.statement(clingo.parse_term("next(1,2)")).steps[0]
    assert [c.statement.atom for c in step.checks] == ["level(1)", "level(2)"]
    odd = explainer.statement(clingo.parse_term('odd("d")'))
    assert odd.truth == UNKNOWN
    maybe, comparison = odd.steps[0].checks[1:]
    assert not maybe.negated and maybe.holds == UNKNOWN  # `not not maybe(D)` reads as maybe(D)
    assert comparison.negated and comparison.holds == YES and comparison.statement.sentence == "1 is over 2"
    alone = explainer.statement(clingo.parse_term('alone("d")'))
    assert alone.truth == NO and alone.steps[0].checks[-1].holds == NO
