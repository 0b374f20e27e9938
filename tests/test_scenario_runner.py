"""`pyisp test`: the scenario format's errors, failures with expected against got, JUnit
XML, rule coverage of the corpus (at least 95%), and --compare on an edited policy."""

from __future__ import annotations

import shutil
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from casekit import FACTS
from corpus import CORPUS, SCENARIOS, outcomes
from typer.testing import CliRunner

from pyisp.authoring import scenarios
from pyisp._cli import app
from pyisp.authoring.coverage import measure
from pyisp.errors import ScenarioError
from pyisp.authoring.impact import cases_to_compare, compare_policies
from pyisp.core.policy import default_policy_dir
from pyisp.core.service import engine_for

runner = CliRunner()

HEADER = f"""\
facts: {FACTS / "teacher-counselling-disclosure.yaml"}
scenarios:
  - title: The counselling disclosure should be confidential
    paragraphs: ["3.3.3"]
"""


def _file(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.indent(textwrap.dedent(body), "    "), encoding="utf-8")
    return path


def test_fail_unknown_expectation_key_names_file_line_field_and_nearest_key(tmp_path):
    path = _file(tmp_path, """\
        expect:
          to-social-care:
            verdikt: undetermined
        """)
    with pytest.raises(ScenarioError) as raised:
        scenarios.load([path])
    message = str(raised.value)
    assert f"{path}:7" in message
    assert "scenarios[0].expect.to-social-care.verdikt" in message
    assert "did you mean 'verdict'" in message


def test_fail_disclosure_the_case_does_not_have_is_an_error_with_exit_code_2(tmp_path):
    path = _file(tmp_path, """\
        expect:
          to-police:
            verdict: undetermined
        """)
    outcome = runner.invoke(app, ["test", str(path)])
    assert outcome.exit_code == 2
    assert "no disclosure 'to-police'" in outcome.output and "to-social-care" in outcome.output


def test_fail_misspelt_finding_and_unknown_depends_on_path_are_errors(tmp_path):
    misspelt = _file(tmp_path, """\
        expect:
          to-social-care:
            findings: [confidentail]
        """, "a.yaml")
    with pytest.raises(ScenarioError, match="did you mean 'confidential'"):
        scenarios.load([misspelt])
    known = _file(tmp_path, """\
        expect:
          to-social-care:
            depends_on: [child.age]
        """, "b.yaml")
    with pytest.raises(ScenarioError, match="not a fact this case leaves unknown"):
        scenarios.load([known])


def test_fail_override_field_error_names_the_override(tmp_path):
    path = _file(tmp_path, """\
        override: {child: {agee: 15}}
        expect:
          to-social-care: {verdict: undetermined}
        """)
    with pytest.raises(ScenarioError, match=r"scenarios\[0\]\.override\.child\.agee: unknown field 'agee'"):
        scenarios.load([path])


def test_fail_title_must_say_what_should_happen(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(HEADER.replace("should be", "is") + "    expect: {to-social-care: {verdict: undetermined}}\n")
    with pytest.raises(ScenarioError, match="with 'should'"):
        scenarios.load([path])


def test_success_override_merges_entities_by_id_and_null_makes_a_fact_unknown():
    base = {"child": {"id": "a", "age": 9}, "people": [{"id": "m", "role": "parent"}, {"id": "f", "role": "parent"}]}
    merged = scenarios.merge(base, {"child": {"age": None}, "people": [{"id": "f", "resident_parent": False}]})
    assert merged["child"] == {"id": "a", "age": None}
    assert merged["people"] == [{"id": "m", "role": "parent"}, {"id": "f", "role": "parent", "resident_parent": False}]
    assert base["child"]["age"] == 9


def test_fail_wrong_expectation_prints_expected_against_got_and_what_was_got_and_exits_1(tmp_path):
    path = _file(tmp_path, """\
        expect:
          to-social-care:
            verdict: must_share
            findings: ["confidential(drug-misuse)"]
            absent_findings: [consent_refused]
        """)
    report = tmp_path / "junit.xml"
    outcome = runner.invoke(app, ["test", str(path), "--junit-xml", str(report)])
    assert outcome.exit_code == 1
    assert "FAIL" in outcome.output and "0 passed, 1 failed" in outcome.output
    assert "expected: must_share" in outcome.output and "got:      undetermined" in outcome.output
    assert "expected: consent_refused" in outcome.output and "consent_refused(amy, refused) (yes)" in outcome.output
    assert "expected: confidential(drug-misuse)" not in outcome.output  # that expectation held
    assert "possible: " in outcome.output  # the result that was got, with the verdicts still possible
    assert "Why consent_refused(amy, refused)? It holds." in outcome.output  # explained from the rules
    assert "Verdict: UNDETERMINED" in outcome.output
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    assert "expected must_share, got undetermined" in suite.find("testcase/failure").get("message")


def test_success_passing_scenario_prints_a_pass_line_and_summary(tmp_path):
    path = _file(tmp_path, """\
        expect:
          to-social-care:
            verdict: undetermined
            findings: ["confidential(drug-misuse)", "consent_refused(amy, _)"]
            depends_on: ["disclosures[0].judgements.public_interest_sufficient"]
        """)
    outcome = runner.invoke(app, ["test", str(path)])
    assert outcome.exit_code == 0, outcome.output
    assert "PASS" in outcome.output and "1 passed, 0 failed" in outcome.output


def test_corpus_has_at_least_80_scenarios_with_rule_coverage_of_at_least_95_percent():
    assert len(SCENARIOS) >= 80
    coverage = measure(list(outcomes().values()), engine_for(None).policy)
    never = ", ".join(r.where for r in coverage.never)
    assert coverage.rule_percent >= 95.0, f"rules no scenario fires: {never}"


def test_fail_under_exits_1_when_rule_coverage_is_below_the_threshold(tmp_path):
    path = _file(tmp_path, """\
        expect:
          to-social-care: {verdict: undetermined}
        """)
    outcome = runner.invoke(app, ["test", str(path), "--fail-under", "95"])
    assert outcome.exit_code == 1
    assert "rule coverage" in outcome.output and "never fired:" in outcome.output and ".lp:" in outcome.output


def test_compare_lists_cases_a_rule_edit_changes_with_the_rule(tmp_path):
    new = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), new)
    statutory = new / "statutory.lp"
    text = statutory.read_text()
    edited = text.replace(":- recipient_agency(D, childrens_social_care),", ":- disclosure(D),")
    assert edited != text
    statutory.write_text(edited)
    loaded = scenarios.load([CORPUS / "3.4-significant-harm" / "not-seeking-consent.yaml"])
    cases = cases_to_compare([(s.where, s.case, {}) for s in loaded], None)
    differences = compare_policies(cases, default_policy_dir(), new)
    police = [d for d in differences if d.disclosure == "to-police" and d.old_verdict == "may_share"]
    assert police and all(d.new_verdict == "must_share" for d in police)
    assert any("statutory.lp" in rule and "disclosure(D)" in rule for rule in police[0].rules)
    assert "required_by(reasonable_cause_to_suspect_significant_harm) (yes)" in police[0].findings_added
    assert not compare_policies(cases[:5], default_policy_dir(), default_policy_dir())
