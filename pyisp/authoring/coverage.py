"""Coverage of a scenario run: which rules fired in at least one scenario (file:line),
which never did, and which paragraphs of the chapter at least one passing expectation
exercises.

A rule fires in a scenario when some instance of its body holds in some completion of
the case (pyisp/explain/instrument.py). Facts (rules without a body, such as the list of the
elements of informed consent) always hold and are left out of the count. A paragraph is
exercised when a passing check's conclusion cites it; the paragraphs counted are those
that some rule of the policy cites.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..core.atoms import Inputs, case_inputs
from ..explain.instrument import fired_rules
from ..core.policy import Policy, Rule, paragraph_key
from .scenarios import Outcome, Scenario, chosen_readings


@dataclass(frozen=True)
class Coverage:
    """Rules fired or not, paragraphs exercised or not, and which scenarios reach a rule."""

    fired: tuple[Rule, ...]
    never: tuple[Rule, ...]
    paragraphs: tuple[str, ...]
    unexercised: tuple[str, ...]
    reached_by: dict[str, tuple[str, ...]]

    @property
    def rule_percent(self) -> float:
        total = len(self.fired) + len(self.never)
        return 100.0 * len(self.fired) / total if total else 100.0

    @property
    def paragraph_percent(self) -> float:
        total = len(self.paragraphs) + len(self.unexercised)
        return 100.0 * len(self.paragraphs) / total if total else 100.0

    def to_dict(self) -> dict[str, object]:
        return {"rules": {"percent": round(self.rule_percent, 1), "fired": [r.where for r in self.fired],
                          "never": [r.where for r in self.never]},
                "paragraphs": {"percent": round(self.paragraph_percent, 1), "exercised": list(self.paragraphs),
                               "not_exercised": list(self.unexercised)},
                "reached_by": {k: list(v) for k, v in self.reached_by.items()}}


REJECTING = ("contradiction", "inconsistent")


def counted_rules(policy: Policy) -> list[int]:
    """Indices of the rules coverage counts: every rule with a body, except those that
    reject a contradictory case (their heads are `contradiction/2` and `inconsistent`):
    a scenario is a valid case, so they cannot fire in one."""
    return [i for i, rule in enumerate(policy.rules)
            if len(rule.node.body) > 0 and rule.head_name not in REJECTING]


def scenario_inputs(scenario: Scenario, policy: Policy, readings: Mapping[str, str] | None = None) -> Inputs:
    """The input atoms of a scenario's case, with the facts choosing its readings."""
    inputs = case_inputs(dict(scenario.case.data))
    chosen = chosen_readings(scenario, readings)
    if not chosen:
        return inputs
    from ..core.reading import reading_facts

    return Inputs(inputs.facts + reading_facts(policy, chosen), inputs.unknowns)


def measure(outcomes: Sequence[Outcome], policy: Policy, readings: Mapping[str, str] | None = None) -> Coverage:
    """Coverage of a run: the rules that fired for the scenarios' cases and the paragraphs
    their passing checks exercise."""
    counted = counted_rules(policy)
    reached: dict[int, list[str]] = {i: [] for i in counted}
    for outcome in outcomes:
        inputs = scenario_inputs(outcome.scenario, policy, readings)
        for index in fired_rules(policy, inputs):
            if index in reached:
                reached[index].append(outcome.scenario.where)
    cited = {p for rule in policy.rules for p in rule.paragraphs}
    exercised = {p for o in outcomes for c in o.checks if c.passed for p in c.paragraphs} & cited
    fired = tuple(policy.rules[i] for i in counted if reached[i])
    never = tuple(policy.rules[i] for i in counted if not reached[i])
    return Coverage(fired, never, tuple(sorted(exercised, key=paragraph_key)),
                    tuple(sorted(cited - exercised, key=paragraph_key)),
                    {policy.rules[i].where: tuple(v) for i, v in reached.items()})


def coverage_text(coverage: Coverage) -> str:
    """The coverage report printed by `pyisp test --coverage`."""
    total = len(coverage.fired) + len(coverage.never)
    lines = [f"rule coverage: {len(coverage.fired)}/{total} rules fired in at least one scenario "
             f"({coverage.rule_percent:.1f}%)"]
    if coverage.never:
        lines.append("  never fired:")
        lines += [f"    {r.where}  {r.text}" for r in coverage.never]
    lines.append(f"paragraph coverage: {len(coverage.paragraphs)}/{len(coverage.paragraphs) + len(coverage.unexercised)}"
                 f" cited paragraphs exercised by a passing expectation ({coverage.paragraph_percent:.1f}%)")
    if coverage.unexercised:
        lines.append(f"  not exercised: {', '.join(coverage.unexercised)}")
    return "\n".join(lines)
