"""The long-lived engine (pyisp/engine.py) answers exactly as the foundation's engine
(tests/reference_engine.py, a fresh Control per query) on every recorded case, through
both of its doors (`pyisp.query` and `Engine.answer(inputs)`), whatever the case's shape."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import clingo
import pytest

from pyisp.authoring import generate as casegen
import pyisp
import pyisp.core.atoms
from pyisp.core import service
from pyisp.core.atoms import case_inputs
from pyisp.core.case import Case, dumps_json
from pyisp.core.engine import FRESH_FIRST, Engine
from pyisp.core.result import build_result
import reference_engine
from record_golden import CORPUS, reference_query

ENTRIES = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def _engine_json(result: Any) -> str:
    """A result's JSON without what the engine does not answer (the record, the provenance:
    the version and rules fingerprint change with every release), as the corpus holds it."""
    data = result.to_dict()
    data.pop("record", None)
    data.pop("provenance", None)
    return dumps_json(data)


def _answer(case: dict[str, Any], depends_on: bool) -> dict[str, str]:
    try:
        return {"json": _engine_json(pyisp.query(case, depends_on=depends_on))}
    except pyisp.PyispError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


ENGINES = {"slots": Engine(fresh_first=0), "fresh": Engine(fresh_first=10**9)}


# both ways the engine answers: over a slot grounding (every entry), and in a fresh
# Control (every third entry: it is the reference's way, slower)
CHECKS = [(e, "slots") for e in ENTRIES] + [(e, "fresh") for e in ENTRIES[::3]]


@pytest.mark.parametrize("entry,path", CHECKS, ids=[f"{e['name']}-{p}" for e, p in CHECKS])
def test_query_gives_the_recorded_json_with_and_without_depends_on(entry: dict[str, Any], path: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "engine_for", lambda _policy=None: ENGINES[path])
    assert _answer(entry["case"], True) == entry["depends_on"]
    assert _answer(entry["case"], False) == entry["plain"]


def _symbol_door(case: dict[str, Any]) -> str:
    """The result built from Engine.answer(inputs), the door other tools use (clingo symbols)."""
    the_case = Case.from_dict(case)
    ids = [d["id"] for d in the_case.data["disclosures"]]
    decide = [clingo.Function(n, [clingo.String(i)]) for i in ids for n in ("permitted", "required")]
    engine = Engine()
    answer = engine.answer(case_inputs(dict(the_case.data)), decide)
    assert all(s.arguments[0].string in ids for s in answer.certain if s.name in ("finding", "permitted"))
    return dumps_json(build_result(the_case.id, the_case.title, ids, answer, engine.policy).to_dict())


@pytest.mark.parametrize("entry", [e for e in ENTRIES if "json" in e["depends_on"]][::7],
                         ids=lambda e: e["name"])
def test_engine_answer_on_symbols_names_the_case_ids_and_matches(entry: dict[str, Any]) -> None:
    assert _symbol_door(entry["case"]) == entry["depends_on"]["json"]


def _teacher_case() -> dict[str, Any]:
    return copy.deepcopy(next(c for c in casegen.seed_cases(scenarios=False) if c["id"] == "teacher-counselling-disclosure"))


def _valid(case: dict[str, Any]) -> bool:
    try:
        pyisp.query(case, depends_on=False)
        return True
    except pyisp.PyispError:
        return False


@pytest.mark.slow
def test_a_case_larger_than_any_before_gets_a_grounding_of_its_size() -> None:
    seed = _teacher_case()
    engine = pyisp.load_policy()
    small = pyisp.query(seed)
    big = next(v for n in range(100) if _valid(v := casegen.variant(seed, random.Random(n), drop=4, change=0,
                                                                      extra=14)))
    sizes = {coll: len(big.get(coll) or []) for coll in ("people", "information", "consents", "disclosures")}
    assert max(sizes.values()) >= 4
    expected = dumps_json(reference_query(big).to_dict())
    for _ in range(FRESH_FIRST):  # a new shape: answered in a fresh Control
        assert _engine_json(pyisp.query(big)) == expected
    assert _engine_json(pyisp.query(big)) == expected  # seen before: grounded over slots
    shapes = list(engine._groundings)
    if sizes["disclosures"] > 1 and engine.policy.checked.separable:
        sizes["disclosures"] = 1  # answered one disclosure at a time
    assert tuple(max(1, n) for n in (1, *sizes.values())) in shapes
    assert dumps_json(pyisp.query(seed).to_dict()) == dumps_json(small.to_dict())


def test_an_unknown_purpose_may_be_any_recognised_purpose_not_only_the_first() -> None:
    # The foundation engine gave unknown atoms to the grounder as facts, which kept one
    # instance of legitimate_purpose(D) :- purpose(D, P), recognised_purpose(P), ...:
    # only child_protection made the purpose legitimate (3.5.2), so sharing information
    # that is not confidential was "permitted: no" for promote_welfare.
    case = _teacher_case()
    del case["disclosures"][0]["purpose"]
    case["information"][0]["relationship"] = "none"
    disclosure = pyisp.query(case).disclosures[0]
    assert disclosure.finding("legitimate_purpose")[0].status == "depends"
    yes = [d for d in disclosure.depends_on if d.conclusion == "permitted" and d.value == "yes"
           and [c.path for c in d.conditions] == ["disclosures[0].purpose"]]
    no = [d for d in disclosure.depends_on if d.conclusion == "permitted" and d.value == "no"]
    assert set(yes[0].conditions[0].values) == {"child_protection", "child_in_need_assessment", "promote_welfare",
                                                "prevent_harm_to_adult", "prevent_or_detect_crime",
                                                "identify_causes_of_harm", "preventative_intervention",
                                                "service_referral", "court_proceedings", "statutory_requirement"}
    # 'other' is legitimate only when the professional judges it so (3.5.2-3.5.4)
    assert {(c.path, c.values) for c in no[0].conditions} == {
        ("disclosures[0].purpose", ("other",)), ("disclosures[0].judgements.legitimate_purpose", (False,))}


def test_facts_added_beside_the_case_format_are_answered_too() -> None:
    case = Case.from_dict(_teacher_case())
    inputs = case_inputs(dict(case.data))
    extra = pyisp.core.atoms.Inputs(inputs.facts + (clingo.Function("statutory_duty", [clingo.String("to-social-care")]),),
                               inputs.unknowns)
    engine = Engine(fresh_first=0)
    assert engine.answer(extra).certain == reference_engine.Engine().answer(extra).certain
    beside = pyisp.core.atoms.Inputs(inputs.facts + (clingo.Function("reading", [clingo.Function("strict")]),),
                                inputs.unknowns)
    assert engine.answer(beside).certain == reference_engine.Engine().answer(beside).certain


@pytest.mark.parametrize("fresh", [False, True], ids=["slots", "fresh"])
def test_every_rebuttal_read_in_one_solve_is_the_rebuttal_asked_one_presumption_at_a_time(monkeypatch: Any,
                                                                                         fresh: bool) -> None:
    """Each applied presumption's `rebutted` verdicts (what some completion gives when that
    presumption fails and the others hold) are read in one solve for all of them
    (engine._add_rebuttals); asked one presumption at a time they are the same, on the
    facts/ cases and on generated ones."""
    from pyisp.core import engine as engine_module

    cases = [dict(Case.from_dict(c).data) for c in casegen.seed_cases(scenarios=False)]
    rng = random.Random(5)
    cases += [casegen.with_unknowns(c, 12, rng) for c in cases[:40]]
    if fresh:  # a grounding per case: a sample
        cases = cases[::4]
    one_by_one = engine_module._rebutted
    checked = 0

    def both(solver: Any, base: Any, presumed: Any) -> Any:
        nonlocal checked
        together = one_by_one(solver, base, presumed)
        assert solver.rebut is not None  # the one-solve way was taken
        alone = [engine_module._verdicts(solver, [b for b in base if b != lit] + [-lit]) for *_, lit in presumed]
        assert together == alone, [name for (name, *_), a, b in zip(presumed, together, alone) if a != b]
        checked += len(presumed)
        return together

    monkeypatch.setattr(engine_module, "_rebutted", both)
    engine = Engine(fresh_first=10**9 if fresh else 0, memo=0)
    for data in cases:
        try:
            engine.answer_case(Case.from_dict(data).data if isinstance(data, dict) else data, None)
        except pyisp.PyispError:
            continue  # a generated contradiction: nothing presumed to compare
    assert checked > (100 if fresh else 500)


def test_a_presumption_on_no_input_atom_is_left_out_and_the_rest_answer(tmp_path: Any) -> None:
    """A policy whose presumption names no input atom (a number, a string, a value that is
    not true or false) answers as if it were not there: the one-solve rebuttals skip it."""
    import shutil

    from pyisp.core.policy import Policy, default_policy_dir

    odd = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), odd)
    with (odd / "presumptions.lp").open("a", encoding="utf-8") as handle:
        handle.write('\npresumption_applies(odd_one, 5, true).\npresumption_applies(odd_two, "x", false).\n'
                     'presumption_applies(odd_three, statutory_duty("d"), 1).\n')
    case = dict(Case.from_dict(casegen.seed_cases(scenarios=False)[0]).data)
    shipped = Engine(memo=0).answer_case(case, None)[0]
    changed = Engine(Policy(odd), memo=0).answer_case(case, None)[0]
    verdicts = sorted(str(s) for s in shipped.certain if s.name == "verdict")
    assert verdicts and verdicts == sorted(str(s) for s in changed.certain if s.name == "verdict")
    assert [(p.name, p.rebutted) for p in shipped.presumed] == [(p.name, p.rebutted) for p in changed.presumed]
