"""The scenario corpus (scenarios/**/*.yaml) as pytest items: one test per scenario, named
by its file and line, failing with expected against got and what was got."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import CORPUS, SCENARIOS, outcomes

from pyisp.authoring.scenarios import Scenario
from pyisp.authoring.testreport import failure_text


def _id(scenario: Scenario) -> str:
    return f"{Path(scenario.source).relative_to(CORPUS)}:{scenario.line}"


pytestmark = pytest.mark.xdist_group("corpus")  # one worker answers the corpus once (corpus.outcomes)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[_id(s) for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    outcome = outcomes()[(scenario.source, scenario.line)]
    if not outcome.passed:
        pytest.fail(failure_text(outcome, verbose=True), pytrace=False)
