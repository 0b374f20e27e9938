"""Presumptions (policy/presumptions.lp): facts a case need not state, reported in every
answer that rests on them, switchable off; and sound verdicts (a verdict is settled only
when every completion of the case gives it)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import pyisp
from pyisp._cli import app

FACTS = Path(__file__).resolve().parent.parent / "facts"
runner = CliRunner()

# A teacher's case, told as a teacher tells it: nothing about statutory duties, court
# orders, the police or whether the pupil's words are public.
TEACHER = {
    "format": 2,
    "meta": {"case_ref": "SCH-2026-0415"},
    "child": {"id": "leo", "age": 9},
    "people": [{"id": "stepfather", "role": "carer"}],
    "information": [{"id": "bruises", "description": "Leo showed his teacher bruises and said his stepfather hit him.",
                     "about": ["leo", "stepfather"], "provided_by": "leo", "sensitive": True,
                     "relationship": "assumed"}],
    "concern": {"reasonable_cause_to_suspect": True},
    "disclosures": [{"id": "referral", "from": {"agency": "school", "role": "teacher"},
                     "to": {"agency": "childrens_social_care"}, "information": ["bruises"],
                     "purpose": "child_protection"}],
}


def test_success_every_presumption_cites_its_paragraphs_and_says_what_it_presumes() -> None:
    found = pyisp.presumptions()
    assert {"no_statutory_duty", "no_court_order", "not_supplied_by_police", "consent_freely_given"} <= {
        p.name for p in found}
    for item in found:
        assert item.paragraphs and item.text and item.where.startswith("presumptions.lp:")


def test_success_a_teacher_case_stated_minimally_gets_a_settled_verdict_with_its_assumptions_listed() -> None:
    result = pyisp.query(TEACHER)
    referral = result.disclosure("referral")
    assert referral.verdict == "must_share"  # 3.4.1: reasonable cause to suspect significant harm
    assert referral.possible_verdicts == ("must_share",)
    assert result.meta == {"case_ref": "SCH-2026-0415"}  # metadata carried through untouched
    assert "no_statutory_duty" in {a.name for a in result.presumptions}


def test_success_the_verdict_names_the_presumption_it_rests_on_and_what_it_would_be_otherwise() -> None:
    case = copy.deepcopy(TEACHER)
    case["concern"] = {"reasonable_cause_to_suspect": False}
    case["consents"] = [{"person": "leo", "answer": "refused"}, {"person": "stepfather", "answer": "refused"}]
    case["disclosures"][0]["judgements"] = {"public_interest_sufficient": False}
    case["disclosures"][0]["education"] = {"relevant_to_child_protection": False}
    referral = pyisp.query(case).disclosure("referral")
    assert referral.verdict == "must_not_share"
    rests_on = {a.name: a for a in referral.assumptions}
    assert "no_statutory_duty" in rests_on
    assert rests_on["no_statutory_duty"].if_not == ("must_share",)  # 3.5.10: a duty would require it
    assert rests_on["no_statutory_duty"].paragraphs == ("3.5.9", "3.5.10")


def test_success_strict_leaves_every_presumed_fact_unknown() -> None:
    presumed = pyisp.query(TEACHER)
    strict = pyisp.query(TEACHER, strict=True)
    assert not strict.presumptions
    assert len(strict.unknowns) > len(presumed.unknowns)
    assert "disclosures[0].statutory_duty" in strict.unknowns
    assert "disclosures[0].statutory_duty" not in presumed.unknowns


def test_success_one_presumption_switched_off_leaves_its_fact_unknown() -> None:
    result = pyisp.query(TEACHER, presumptions={"not_supplied_by_police": False})
    assert "information[0].supplied_by_police" in result.unknowns
    assert "not_supplied_by_police" not in {a.name for a in result.presumptions}


def test_fail_an_unknown_presumption_name_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(pyisp.PresumptionError, match="did you mean 'no_court_order'"):
        pyisp.query(TEACHER, presumptions={"no_court_ordr": False})
    outcome = runner.invoke(app, ["query", str(FACTS / "teacher-counselling-disclosure.yaml"),
                                  "--no-presume", "nonsense"])
    assert outcome.exit_code == 2 and "no presumption named 'nonsense'" in outcome.output


def test_success_a_stated_fact_wins_over_a_presumption() -> None:
    case = copy.deepcopy(TEACHER)
    case["information"][0]["supplied_by_police"] = True
    result = pyisp.query(case)
    assert "not_supplied_by_police" not in {a.name for a in result.presumptions}


def test_success_cli_lists_presumptions_and_query_prints_what_was_assumed() -> None:
    listing = runner.invoke(app, ["presumptions"])
    assert listing.exit_code == 0 and "no_statutory_duty  (3.5.9, 3.5.10)" in listing.output
    outcome = runner.invoke(app, ["query", str(FACTS / "teacher-counselling-disclosure.yaml")])
    assert outcome.exit_code == 0 and "Taken as so, not stated (the rules' presumptions" in outcome.output
    assert "Switch one off with --no-presume NAME, or all with --strict." in outcome.output


def _fact_cases() -> list[Path]:
    return sorted(FACTS.glob("*.yaml"))


@pytest.mark.parametrize("path", _fact_cases(), ids=lambda p: p.stem)
def test_success_no_verdict_is_may_share_unless_nothing_can_require_it(path: Path) -> None:
    for disclosure in pyisp.query_file(path, depends_on=False).disclosures:
        if disclosure.verdict == "may_share":
            assert disclosure.required == "no", disclosure.id
        if disclosure.verdict == "undetermined":
            assert len(disclosure.possible_verdicts) > 1
        else:
            assert disclosure.possible_verdicts == (disclosure.verdict,)


def _leaves(data: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Paths of the stated facts of a case (booleans and enumerated strings), not ids or text."""
    found: list[tuple[object, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("id", "name", "description", "title", "paragraphs", "format", "meta", "about",
                       "information", "person", "from", "to", "age"):
                continue
            found += _leaves(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _leaves(value, path + (i,))
    elif isinstance(data, bool):
        found.append(path)
    return found


def _without(data: dict, path: tuple[object, ...]) -> dict:
    copy_ = copy.deepcopy(data)
    node = copy_
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return copy_


@pytest.mark.parametrize("path", _fact_cases()[::4], ids=lambda p: p.stem)
def test_success_forgetting_a_stated_fact_never_silently_flips_a_settled_answer(path: Path) -> None:
    """Without presumptions a forgotten fact can only open an answer, never change it; with
    them, a changed answer names the presumption it rests on and gives the old verdict as
    what it would be otherwise."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    strict_before = {d.id: d.verdict for d in pyisp.query(data, depends_on=False, strict=True).disclosures}
    before = {d.id: d.verdict for d in pyisp.query(data, depends_on=False).disclosures}
    for leaf in _leaves(data)[:40]:
        reduced = _without(data, leaf)
        try:
            strict = pyisp.query(reduced, depends_on=False, strict=True)
            presumed = pyisp.query(reduced, depends_on=False)
        except pyisp.CaseError:
            continue
        for d in strict.disclosures:
            if strict_before[d.id] != "undetermined" and d.verdict != strict_before[d.id]:
                assert d.verdict == "undetermined" and strict_before[d.id] in d.possible_verdicts, (leaf, d.id)
        for d in presumed.disclosures:
            if before[d.id] != "undetermined" and d.verdict not in (before[d.id], "undetermined"):
                assert any(before[d.id] in a.if_not for a in d.assumptions), (leaf, d.id, d.verdict)
