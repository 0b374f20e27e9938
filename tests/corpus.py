"""The scenario corpus, loaded and run once per test session (shared by the pytest items
of test_scenarios.py and the coverage test)."""

from __future__ import annotations

import functools
from pathlib import Path

from pyisp.authoring import scenarios

CORPUS = Path(__file__).resolve().parent.parent / "scenarios"
SCENARIOS = scenarios.load([CORPUS])


@functools.cache
def outcomes() -> dict[tuple[str, int], scenarios.Outcome]:
    """Every scenario's outcome, by (file, line)."""
    return {(o.scenario.source, o.scenario.line): o for o in scenarios.run(SCENARIOS)}
