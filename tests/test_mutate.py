"""pyisp mutate: mutants of the shipped rules, run against the scenario corpus and the
properties. A fast subset here; the full run is `pyisp mutate` (README has its output)."""

from __future__ import annotations

from pathlib import Path

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


def test_deleting_the_recording_duty_is_caught_by_the_properties_even_without_scenarios():
    report = run(scenario_paths=[], workers=1,
                 select=lambda m: m.operator == "delete_rule" and m.rule.text.startswith("record_decision(D)"))
    assert [o.status for o in report.outcomes] == ["killed"]
    assert report.outcomes[0].killer == "properties"


def test_a_fast_subset_of_mutants_is_mostly_caught_and_ends_with_the_score_line():
    report = run(scenario_paths=[SCENARIOS], workers=2, limit=16)
    text = report_text(report)
    last = text.splitlines()[-1]
    assert last.startswith(f"mutation score: {report.caught}/{report.total} caught (")
    assert report.caught >= 0.75 * report.total
    assert not report.baseline_failures  # every scenario and property passes on the real rules
