"""Every predicate an explanation can show has a sentence in policy/templates.yaml."""

from __future__ import annotations

import clingo
import pytest
from clingo import ast

from pyisp.core.atoms import iter_input_predicates
from pyisp.errors import PolicyError
from pyisp.explain import _record_atoms, _shapes, _templates, _words
from pyisp.core.policy import OUTPUT_FILE, Policy
from pyisp.explain.wording import Wording, case_names, load_templates


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy()


def _predicates(policy: Policy) -> set[tuple[str, int]]:
    found = set(iter_input_predicates())
    found |= {(s.name, s.arity) for s in policy.statements if s.ast_type == ast.ASTType.Defined}
    for shape in _shapes(policy):
        if policy.rules[shape.rule].file == OUTPUT_FILE:
            continue
        for atom in [shape.head, *(a for c in shape.conditions for a in _record_atoms(c))]:
            if atom.type == clingo.SymbolType.Function:
                found.add((atom.name, len(atom.arguments)))
    return found


def _worded_terms(policy: Policy) -> set[tuple[str, int]]:
    """Terms with sentences of their own beside the predicates: the codes of obligations
    (show.lp: `obligation(D, confirm_in_writing(F))` worded as `confirm_in_writing(D, F)`) and
    the values of the record that read as themselves (`record_value(D, consent_of(P), answer(A))`)."""
    found = set()
    for shape in _shapes(policy):
        head = shape.head
        if head.type != clingo.SymbolType.Function or len(head.arguments) < 2:
            continue
        value = head.arguments[-1]
        if value.type != clingo.SymbolType.Function or value.name == "__var":
            continue
        if head.name == "obligation" and policy.rules[shape.rule].file == OUTPUT_FILE:
            found.add((value.name, len(value.arguments) + 1))
        elif head.name == "record_value":
            found.add((value.name, len(value.arguments)))
    return found


def _key(policy: Policy, name: str, arity: int) -> str:
    """A template key to start from: the argument names a rule head uses."""
    for shape in _shapes(policy):
        head = shape.head
        if head.type == clingo.SymbolType.Function and (head.name, len(head.arguments)) == (name, arity) and all(
                a.type == clingo.SymbolType.Function and a.name == "__var" for a in head.arguments):
            return f"{name}({', '.join(a.arguments[0].string for a in head.arguments)})"
    return f"{name}({', '.join('ABCDEFGH'[:arity])})" if arity else name


def test_fail_when_a_predicate_of_the_policy_has_no_sentence(policy):
    missing = sorted(_predicates(policy) - set(_templates(policy)))
    lines = "\n".join(f'{_key(policy, n, a)}: "..."' for n, a in missing)
    assert not missing, f"add a sentence for each of these to policy/templates.yaml:\n{lines}"


def test_fail_when_a_sentence_names_no_predicate_of_the_policy(policy):
    stale = sorted(f"{n}/{a}" for n, a in set(_templates(policy)) - _predicates(policy) - _worded_terms(policy))
    assert not stale, f"policy/templates.yaml has sentences for predicates no rule uses: {', '.join(stale)}"


def test_success_sentences_name_people_from_the_case(policy):
    case = {"child": {"id": "amy", "name": "Amy", "age": 14},
            "people": [{"id": "mother", "name": "Ms Jones", "role": "parent"}],
            "disclosures": [{"id": "to-social-care"}]}
    words = Wording(_templates(policy), case_names(case), _words(policy))
    amy, d = clingo.String("amy"), clingo.String("to-social-care")
    assert words.sentence(clingo.Function("understanding_judged", [amy, clingo.Function("yes")])) == \
        "the professional judges that Amy (14) understands enough to decide about sharing"
    assert words.sentence(clingo.Function("consent_refused", [d, clingo.String("mother"), clingo.Function("refused")])) \
        == 'Ms Jones (parent) has refused consent to the disclosure "to-social-care"'
    # a key with a constant wins over the general key
    assert words.sentence(clingo.Function("permitted_by", [d, clingo.Function("consent")])) == \
        'the disclosure "to-social-care" is allowed with consent'
    # constants read as words (policy/templates.yaml, words:)
    assert words.sentence(clingo.Function("recipient_agency", [d, clingo.Function("childrens_social_care")])) == \
        'the disclosure "to-social-care" would go to children\'s social care'
    assert words.denial(clingo.Function("proportionate", [d])) == \
        'the professional does not judge the disclosure "to-social-care" proportionate'


def test_fail_a_template_with_an_unknown_placeholder_names_the_key(tmp_path):
    (tmp_path / "templates.yaml").write_text('age(C, A): "{C} is {Years} old"\n')
    with pytest.raises(PolicyError) as info:
        load_templates(tmp_path)
    assert "age(C, A)" in str(info.value) and "Years" in str(info.value)
