"""Obligations: each has the strength of the guidance's verb (must, should, may), read from
the rules, and none is reported where it makes no sense for the disclosure."""

from __future__ import annotations

from pathlib import Path

import clingo
import pytest
from clingo import ast

import pyisp
from pyisp.core.policy import Policy, _head_atom

STRENGTHS = {"must", "should", "may"}
FACTS = Path(__file__).resolve().parent.parent / "facts"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy()


def _strengths(policy: Policy) -> dict[str, list[str]]:
    """obligation_strength/2 as the rules give it: a clingo run over the policy (no case)."""
    ctl = clingo.Control(["--warn=none"])
    with ast.ProgramBuilder(ctl) as builder:
        for statement in policy.statements:
            builder.add(statement)
    ctl.ground([("base", [])])
    found: dict[str, list[str]] = {}
    for atom in ctl.symbolic_atoms.by_signature("obligation_strength", 2):
        code, strength = atom.symbol.arguments
        found.setdefault(code.name, []).append(strength.name)
    return found


def _obligation_codes(policy: Policy) -> set[str]:
    """The name of every obligation some rule of show.lp can report."""
    codes = set()
    for rule in policy.output_rules:
        head = _head_atom(rule.node)
        if head is None or head.ast_type != ast.ASTType.Function or head.name != "obligation":
            continue
        term = head.arguments[1]
        if term.ast_type == ast.ASTType.Function:
            codes.add(term.name)
        elif term.ast_type == ast.ASTType.SymbolicTerm:
            codes.add(term.symbol.name)
        else:
            raise AssertionError(f"obligation with a code the test cannot name: {rule.where}")
    return codes


def test_every_obligation_show_lp_can_report_has_exactly_one_strength(policy: Policy) -> None:
    strengths = _strengths(policy)
    codes = _obligation_codes(policy)
    assert len(codes) >= 30
    missing = sorted(codes - strengths.keys())
    assert not missing, f"obligations without a strength: {missing}"
    several = {code: found for code, found in strengths.items() if len(found) != 1}
    assert not several, f"obligations with more than one strength: {several}"
    assert all(found[0] in STRENGTHS for found in strengths.values())


def test_no_strength_is_given_for_an_obligation_show_lp_cannot_report(policy: Policy) -> None:
    stale = sorted(set(_strengths(policy)) - _obligation_codes(policy))
    assert not stale, f"strengths for obligations no rule reports: {stale}"


def test_each_strength_cites_the_paragraph_whose_verb_it_takes(policy: Policy) -> None:
    facts = [r for r in policy.rules if r.head_name == "obligation_strength"]
    assert facts
    for rule in facts:
        assert rule.paragraphs and rule.summary, rule.where


@pytest.mark.parametrize("code,strength", [
    ("record_what_was_shared", "must"),               # 3.3.9 "must record"
    ("record_oral_consent", "must"),                  # 3.3.12
    ("verify_caller_by_calling_back", "must"),        # 3.7.4
    ("disclose_promptly", "must"),                    # 3.6.4
    ("consult_child_protection_adviser", "should"),   # 3.4.4 "should always talk to"
    ("fax_precaution", "should"),                     # 3.7.6-3.7.7
    ("avoid_channel", "should"),                      # 3.7.6 "should only"
    ("seek_public_interest_advice", "may"),           # 3.5.17-3.5.18
])
def test_strengths_follow_the_verb_of_the_paragraph(policy: Policy, code: str, strength: str) -> None:
    assert _strengths(policy)[code] == [strength]


def _obligations(result: pyisp.Result, ident: str) -> dict[str, str]:
    return {o.code + (f"({', '.join(o.args)})" if o.args else ""): o.status
            for o in result.disclosure(ident).obligations}


def test_a_fax_already_ruled_out_has_no_precautions_but_an_allowed_one_has() -> None:
    ruled_out = _obligations(pyisp.query_file(FACTS / "channel-fax-avoidable.yaml", depends_on=False), "to-social-care")
    assert not any(code.startswith("fax_precaution") for code in ruled_out)
    allowed = _obligations(pyisp.query_file(FACTS / "channel-fax-unavoidable.yaml", depends_on=False), "to-social-care")
    assert any(code.startswith("fax_precaution") for code in allowed)
