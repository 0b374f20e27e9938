"""The engine at scale and with broken rules: a case of a few hundred disclosures is
answered one disclosure at a time (each as the guidance decides it alone), a policy that
joins disclosures is answered whole, and rules that run away, admit no answer or decide
nothing are refused with a PolicyError naming them (issue 16)."""

from __future__ import annotations

import copy
import shutil
import time
from pathlib import Path
from typing import Any

import clingo
import pytest
import yaml

import pyisp
from pyisp.core.engine import Engine
from pyisp.core.policy import Policy
from pyisp.core.program import check

ROOT = Path(__file__).resolve().parent.parent
FAX = ROOT / "facts" / "channel-fax-avoidable.yaml"


def _fax_case() -> dict[str, Any]:
    return yaml.safe_load(FAX.read_text(encoding="utf-8"))


def _many(n: int) -> dict[str, Any]:
    """The fax case with n disclosures of three kinds, in turn: by fax when a secure system
    reaches the recipient and nothing is urgent (3.7.6 rules fax out), by the secure system
    (consent covers it: may share), and by the secure system for a purpose not stated
    (undetermined: consent covers one purpose only, 3.3.11)."""
    case = _fax_case()
    first = case["disclosures"][0]
    disclosures = []
    for i in range(n):
        item = {**copy.deepcopy(first), "id": f"d{i}"}
        if i % 3:
            item["channel"] = "secure_electronic"
        if i % 3 == 2:
            del item["purpose"]
        disclosures.append(item)
    case["disclosures"] = disclosures
    return case


@pytest.mark.timeout(600)
def test_three_hundred_disclosures_are_each_answered_as_alone() -> None:
    result = pyisp.query(_many(300), depends_on=False)
    assert [d.id for d in result.disclosures] == [f"d{i}" for i in range(300)]
    for i, disclosure in enumerate(result.disclosures):
        expected = ("must_not_share", "may_share", "undetermined")[i % 3]
        assert disclosure.verdict == expected, disclosure.id
        if i % 3 == 0:
            assert "3.7.6" in {p for f in disclosure.findings if f.code == "channel_not_allowed" for p in f.paragraphs}
    purposes = [p for p in result.unknowns if p.endswith("].purpose")]
    assert purposes == [f"disclosures[{i}].purpose" for i in range(2, 300, 3)]  # in the case's order
    assert len(result.record.disclosures) == 300 and result.record.disclosures[299].disclosure == "d299"


@pytest.mark.timeout(300)
def test_the_deciding_sets_of_a_disclosure_name_its_own_fields_at_its_place_in_the_case() -> None:
    result = pyisp.query(_many(9))
    for i in (2, 5, 8):
        disclosure = result.disclosures[i]
        assert disclosure.verdict == "undetermined"
        assert {c.path for d in disclosure.depends_on for c in d.conditions} == {f"disclosures[{i}].purpose"}
        assert any(q.path == f"disclosures[{i}].purpose" and q.changes == "verdict" for q in disclosure.questions)


@pytest.mark.timeout(300)
def test_answering_one_disclosure_at_a_time_equals_answering_the_case_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyisp.core import service
    from pyisp.core.program import Checked

    case = _many(6)
    case["information"][0].pop("sensitive")  # an unknown shared by every disclosure (presumed: 3.3.2)
    case["people"][0].pop("lacks_capacity", None)
    parts = pyisp.query(case).to_dict()
    whole_engine = Engine(fresh_first=0)
    whole_engine.policy.__dict__["checked"] = Checked(separable=False)  # as if the rules joined disclosures
    monkeypatch.setattr(service, "engine_for", lambda _policy=None: whole_engine)
    whole = pyisp.query(case).to_dict()
    for data in (parts, whole):
        data.pop("provenance")
    assert parts == whole and parts["unknowns"]


def _broken(tmp_path: Path, name: str, text: str, replace: bool = False) -> Path:
    rules = tmp_path / name
    shutil.copytree(ROOT / "policy", rules)
    main = rules / "main.lp"
    main.write_text(text if replace else main.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")
    return rules


def test_the_shipped_rules_let_cases_be_answered_one_disclosure_at_a_time() -> None:
    assert check(Policy(), isolated=True).separable


@pytest.mark.parametrize("rule", ["some_urgent :- urgent(D).", ":- urgent(D), serious_crime.",
                                  "pair(D, E) :- urgent(D), disclosure(E)."])
def test_rules_that_join_disclosures_make_the_case_answered_whole(tmp_path: Path, rule: str) -> None:
    assert not check(Policy(_broken(tmp_path, "joined", rule))).separable


@pytest.mark.timeout(120)
def test_a_runaway_rule_stops_within_the_budget_naming_the_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = _broken(tmp_path, "runaway", "p(0).\np(X+1) :- p(X).")
    monkeypatch.setenv("PYISP_POLICY_SECONDS", "3")
    started = time.monotonic()
    with pytest.raises(pyisp.PolicyError) as caught:
        pyisp.query(_fax_case(), policy=rules)
    assert time.monotonic() - started < 60
    assert "PYISP_POLICY_SECONDS" in caught.value.message and "p(X+1) :- p(X)." in caught.value.message
    assert caught.value.where.startswith("main.lp:")


def test_rules_with_no_answer_at_all_are_blamed_on_the_policy(tmp_path: Path) -> None:
    rules = _broken(tmp_path, "unsat", ":- not never_derived.")
    with pytest.raises(pyisp.PolicyError) as caught:
        pyisp.query(_fax_case(), policy=rules)
    assert "no answer" in caught.value.message and caught.value.where == str(rules)


def test_a_constraint_that_rules_out_a_case_is_blamed_on_the_policy_not_the_case(tmp_path: Path) -> None:
    rules = _broken(tmp_path, "no-fax", ":- channel(D, fax).")
    with pytest.raises(pyisp.PolicyError) as caught:
        pyisp.query(_fax_case(), policy=rules)
    assert not isinstance(caught.value, pyisp.CaseError)
    assert "constraint" in caught.value.message and caught.value.where == str(rules)


def test_a_policy_that_defines_no_verdict_is_refused_not_answered(tmp_path: Path) -> None:
    rules = _broken(tmp_path, "empty", "", replace=True)
    with pytest.raises(pyisp.PolicyError) as caught:
        pyisp.query(_fax_case(), policy=rules)
    assert "verdict/2" in caught.value.message


def test_the_cli_refuses_a_policy_that_defines_no_verdict_with_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pyisp._cli import app

    rules = _broken(tmp_path, "empty", "", replace=True)
    outcome = CliRunner().invoke(app, ["query", "--policy", str(rules), str(FAX)])
    assert outcome.exit_code == 2 and "verdict/2" in outcome.output and "MUST NOT SHARE" not in outcome.output


def test_a_policy_made_from_other_statements_has_its_own_rules_and_fingerprint() -> None:
    policy = Policy()
    kept = [s for s in policy.statements if "channel_not_allowed" not in str(s)]
    other = policy.with_statements(kept)
    assert other.fingerprint != policy.fingerprint and len(other.rules) < len(policy.rules)
    assert not other.rules_concluding(clingo.Function("channel_not_allowed", [clingo.String("d"),
                                                                            clingo.Function("fax"),
                                                                            clingo.Function("fax_avoidable")]))
    assert policy.rules_concluding(clingo.Function("channel_not_allowed", [clingo.String("d"), clingo.Function("fax"),
                                                                         clingo.Function("fax_avoidable")]))
