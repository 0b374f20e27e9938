"""pyisp mutate: mutants of the shipped rules, run against the scenario corpus and the
properties. A fast subset here; the full run is `pyisp mutate` (README has its output)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyisp.authoring.mutate import apply, mutants, report_text, run
from pyisp.core.policy import Policy

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_mutants_cover_each_operator_and_change_the_age_threshold_both_ways():
    policy = Policy()
    found = mutants(policy)
    assert {m.operator for m in found} == {"delete_rule", "drop_literal", "flip_negation", "change_number",
                                           "drop_value"}
    age = [m for m in found if m.operator == "change_number" and "A >= 16" in m.rule.text
           and "aged_16_or_over" in m.rule.text and "rebuttable_presumption" in m.rule.text]
    assert sorted(m.description for m in age) == ["16 -> 15", "16 -> 17"]
    changed = {str(apply(policy, m)[m.index]) for m in age}
    assert any("A >= 15" in text for text in changed) and any("A >= 17" in text for text in changed)


@pytest.mark.slow
def test_deleting_the_recording_duty_is_caught_by_the_properties_even_without_scenarios():
    report = run(scenario_paths=[], workers=1,
                 select=lambda m: m.operator == "delete_rule" and m.rule.text.startswith("record_decision(D)"))
    assert [o.status for o in report.outcomes] == ["killed"]
    assert report.outcomes[0].killer == "properties"


@pytest.mark.slow
def test_a_fast_subset_of_mutants_is_mostly_caught_and_ends_with_the_score_line():
    # the scenario files as written (their "stated minimally" twins expect the same verdicts, and
    # test_scenarios runs them); one worker: pytest already runs on both cores; the properties
    # over one person (test_verify checks them at full size); 12 mutants spread over the rules
    originals = sorted(p for p in SCENARIOS.rglob("*.yaml") if not p.stem.endswith("-minimal"))
    report = run(scenario_paths=originals, workers=1, limit=12, people=1)
    text = report_text(report)
    last = text.splitlines()[-1]
    assert last.startswith(f"mutation score: {report.caught}/{report.total} caught (")
    assert report.caught >= 0.75 * report.total
    assert not report.baseline_failures  # every scenario and property passes on the real rules


def _repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of the shipped rules, committed."""
    import shutil
    import subprocess

    rules = tmp_path / "policy"
    shutil.copytree(Policy().directory, rules)
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(tmp_path), *command], check=True, capture_output=True)
    return rules


def test_changed_since_keeps_only_mutants_of_the_rules_changed(tmp_path):
    from pyisp.authoring.mutate import select_rules

    rules = _repo(tmp_path)
    path = rules / "whose_consent.lp"
    text = path.read_text()
    old = "A >= 16, reading(consent_16_17, no_test)."
    assert text.count(old) == 1
    path.write_text(text.replace(old, "A >= 15, reading(consent_16_17, no_test)."))
    keep = select_rules(rules, changed_since="HEAD")
    kept = [m for m in mutants(Policy(rules)) if keep(m)]
    assert {(m.rule.file, m.rule.line) for m in kept} == {("whose_consent.lp", 31)}
    assert {"16 -> 15", "16 -> 17", "15 -> 16", "15 -> 14"} & {m.description for m in kept} == {"15 -> 16", "15 -> 14"}
    only_file = select_rules(rules, files=["verdict.lp"])
    assert {m.rule.file for m in mutants(Policy(rules)) if only_file(m)} == {"verdict.lp"}


def test_fail_changed_since_an_unknown_revision_or_file_is_a_clear_error(tmp_path):
    import pytest

    from pyisp.authoring.mutate import select_rules
    from pyisp.errors import PyispError

    rules = _repo(tmp_path)
    with pytest.raises(PyispError, match="git cannot compare with 'no-such-rev'"):
        select_rules(rules, changed_since="no-such-rev")
    with pytest.raises(PyispError, match="the policy has no rule file 'verdikt.lp'"):
        select_rules(rules, files=["verdikt.lp"])


@pytest.mark.slow
def test_fail_a_property_the_real_rules_break_is_named_and_exits_1(tmp_path):
    from typer.testing import CliRunner

    from pyisp._cli import app

    rules = _repo(tmp_path)
    path = rules / "decision.lp"
    text = path.read_text()
    path.write_text(text.replace("record_decision(D) :- disclosure(D).", "record_decision(D) :- disclosure(D), court_order(D)."))
    outcome = CliRunner().invoke(app, ["mutate", "--policy", str(rules), "--files", "verdict.lp", "--limit", "1",
                                       "--workers", "1", str(tmp_path / "no-scenarios")])
    assert outcome.exit_code == 1, outcome.output
    assert "check(s) fail on the real rules" in outcome.output
    assert "property every_decision_recorded" in outcome.output


@pytest.mark.slow
def test_fail_under_exits_1_when_the_score_is_below(tmp_path):
    from typer.testing import CliRunner

    from pyisp._cli import app

    args = ["mutate", "--policy", str(Policy().directory), "--files", "verdict.lp", "--limit", "2", "--workers", "1",
            "--people", "1", str(tmp_path / "no-scenarios")]
    low = CliRunner().invoke(app, [*args, "--fail-under", "0"])
    assert low.exit_code == 0, low.output
    high = CliRunner().invoke(app, [*args, "--fail-under", "100.1"])
    assert high.exit_code == 1 and "is below --fail-under 100.1%" in high.output
