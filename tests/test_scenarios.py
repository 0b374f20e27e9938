"""The scenario corpus (scenarios/**/*.yaml) as pytest items: one test per scenario, named
by its file and title, failing with expected against got and what was got."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyisp import scenarios
from pyisp.testreport import failure_text

CORPUS = Path(__file__).resolve().parent.parent / "scenarios"
SCENARIOS = scenarios.load([CORPUS])


def _id(scenario: scenarios.Scenario) -> str:
    return f"{Path(scenario.source).relative_to(CORPUS)}:{scenario.line}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[_id(s) for s in SCENARIOS])
def test_scenario(scenario: scenarios.Scenario) -> None:
    outcome = scenarios.run_scenario(scenario)
    if not outcome.passed:
        pytest.fail(failure_text(outcome), pytrace=False)
