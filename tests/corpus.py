"""The scenario corpus, loaded once per test session and each scenario run at most once
(shared by the pytest items of test_scenarios.py and the coverage test). A scenario is
run when first asked for, so `pytest -k` on one scenario runs that one, not the corpus."""

from __future__ import annotations

import functools
from pathlib import Path

from pyisp.authoring import scenarios

CORPUS = Path(__file__).resolve().parent.parent / "scenarios"
SCENARIOS = scenarios.load([CORPUS])


@functools.cache
def outcome(index: int) -> scenarios.Outcome:
    """The outcome of the scenario at `index` in SCENARIOS."""
    return scenarios.run_scenario(SCENARIOS[index])


def outcomes() -> dict[tuple[str, int], scenarios.Outcome]:
    """Every scenario's outcome, by (file, line)."""
    return {(s.source, s.line): outcome(i) for i, s in enumerate(SCENARIOS)}
