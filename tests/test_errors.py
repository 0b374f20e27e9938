"""Bad input gets a clear error naming the field (API) and exit code 2 without a traceback (CLI)."""

from __future__ import annotations

import pytest
from casekit import base_case, changed
from typer.testing import CliRunner

import pyisp
from pyisp._cli import app


@pytest.mark.parametrize("change, where, words", [
    ({"child.agee": 5}, "child.agee", "did you mean 'age'"),
    ({"child.age": -3}, "child.age", "outside 0..17"),
    ({"child.age": 18}, "child.age", "outside 0..17"),
    ({"child.age": "ten"}, "child.age", "whole number"),
    ({"child.age": True}, "child.age", "whole number"),
    ({"disclosures[0].to.agency": "polce"}, "disclosures[0].to.agency", "did you mean 'police'"),
    ({"disclosures[0].information": ["nothing"]}, "disclosures[0].information[0]", "not the id"),
    ({"consents[0].person": "kym"}, "consents[0].person", "did you mean 'kim'"),
    ({"consents[0].told.why": "yes"}, "consents[0].told.why", "expected a boolean"),
    ({"disclosures": []}, "disclosures", "at least 1"),
    ({"people[0].id": "kim"}, "people[0].id", "already used"),
    ({"child.understanding_criteria": {"weighs_up": True}}, "child.understanding_criteria", "not both"),
])
def test_fail_malformed_case_names_the_field(change, where, words):
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.query(changed(base_case(), **change))
    assert caught.value.where == where
    assert words in caught.value.message


def test_fail_consent_both_given_and_refused_by_the_same_person_is_a_contradiction():
    case = base_case()
    case["consents"].append({**case["consents"][0], "id": "again", "answer": "refused"})
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.query(case)
    assert caught.value.where == "consents[1].answer"


def test_fail_evidence_of_harm_with_no_cause_to_believe_is_a_contradiction():
    case = changed(base_case(), **{"concern.significant_harm_evidence": True})
    with pytest.raises(pyisp.ContradictionError) as caught:
        pyisp.query(case)
    assert caught.value.where == "concern.reasonable_cause_to_believe"


def test_success_a_stronger_concern_fills_in_an_unstated_weaker_one():
    case = changed(base_case(), **{"concern": {"significant_harm_evidence": True}})
    d = pyisp.query(case).disclosures[0]
    assert "significant_harm_threshold_met" in {f.label for f in d.findings if f.status == "yes"}


def test_fail_cli_reports_bad_files_with_exit_code_2_and_no_traceback(tmp_path):
    runner = CliRunner()
    cases = {
        "typo.yaml": ("child: {id: a, agee: 5}\n", "child.agee: unknown field 'agee' (did you mean 'age'?)"),
        "syntax.yaml": ("child: {id: a\n  age: 5\n", "syntax.yaml:2: not valid YAML or JSON"),
        "dup.yaml": ("child: {id: a}\nchild: {id: b}\n", "the key 'child' is given twice"),
        "list.json": ("[1, 2]", "a case must be a mapping"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        outcome = runner.invoke(app, ["query", str(path)])
        assert outcome.exit_code == 2, name
        assert message in outcome.output
        assert "Traceback" not in outcome.output
    outcome = runner.invoke(app, ["query", str(tmp_path / "missing.yaml")])
    assert outcome.exit_code == 2 and "cannot read the file" in outcome.output


def test_fail_broken_rule_file_names_file_and_line(tmp_path):
    from pyisp.core.policy import default_policy_dir
    policy = tmp_path / "policy"
    policy.mkdir()
    for lp in default_policy_dir().glob("*.lp"):
        (policy / lp.name).write_text(lp.read_text())
    broken = policy / "consent.lp"
    lines = broken.read_text().splitlines()
    lines.append("valid_consent(K) :- consent_answer(K, given) freely_given(K).")
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(pyisp.PolicyError) as caught:
        pyisp.query(base_case(), policy=policy)
    assert caught.value.where == f"{broken}:{len(lines)}"
    outcome = CliRunner().invoke(app, ["query", "--policy", str(policy), str(tmp_path / "x.yaml")])
    assert outcome.exit_code == 2
