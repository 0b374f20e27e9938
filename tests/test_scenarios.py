"""The scenario corpus (scenarios/**/*.yaml) as pytest items: one test per scenario, named
by its file and line, failing with expected against got and what was got."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import CORPUS, SCENARIOS, outcome

from pyisp.authoring.scenarios import Scenario
from pyisp.authoring.testreport import failure_text


def _id(scenario: Scenario) -> str:
    return f"{Path(scenario.source).relative_to(CORPUS)}:{scenario.line}"


pytestmark = pytest.mark.xdist_group("corpus")  # one worker: the coverage test reuses the outcomes (corpus.outcome)


@pytest.mark.parametrize("index", range(len(SCENARIOS)), ids=[_id(s) for s in SCENARIOS])
def test_scenario(index: int) -> None:
    got = outcome(index)
    if not got.passed:
        pytest.fail(failure_text(got, verbose=True), pytrace=False)
