"""Reports of a scenario run: the terminal text of `pyisp test` and JUnit XML for CI."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Mapping, Sequence

from .coverage import coverage_text, measure
from .impact import compare_command
from ..errors import PyispError, ScenarioError
from ..core.policy import Policy
from ..render.result_text import result_text
from ..core.result import YES, Disclosure
from .scenarios import Outcome, chosen_readings, load, run
from ..core.service import engine_for


MAX_EXPLANATION_LINES = 60


def explanation(outcome: Outcome) -> str:
    """What was got, explained: the whole result, then (pyisp/explain/) for each broken
    expectation why the verdict is what it is, why an unexpected conclusion holds, or why
    an expected one does not. Each explanation is cut at 60 lines."""
    parts: list[str] = []
    asked: set[tuple[str, str | None, str | None]] = set()
    for check in outcome.failures:
        question = (check.disclosure, check.why, check.why_not)
        if check.why is None and check.why_not is None:
            question = (check.disclosure, None, None)
        if question in asked:
            continue
        asked.add(question)
        parts.append(_explain(outcome, *question))
    parts.insert(0, result_text(outcome.result))
    return "\n".join(part.rstrip("\n") + "\n" for part in parts if part)


def _explain(outcome: Outcome, disclosure: str, why: str | None, why_not: str | None) -> str:
    try:
        from ..render.explanation import text
        lines = text(outcome.result.explain(disclosure, conclusion=why, why_not=why_not)).splitlines()
    except (ImportError, PyispError):
        return ""
    if len(lines) > MAX_EXPLANATION_LINES:
        lines = lines[:MAX_EXPLANATION_LINES] + [f"... ({len(lines) - MAX_EXPLANATION_LINES} more lines)"]
    return "\n".join(lines)


def outcome_line(outcome: Outcome) -> str:
    """One line per scenario: PASS or FAIL, where, title, time."""
    mark = "PASS" if outcome.passed else "FAIL"
    return f"{mark}  {outcome.scenario.where}  {outcome.scenario.title}  ({outcome.seconds * 1000:.0f} ms)"


def failure_text(outcome: Outcome, verbose: bool = False) -> str:
    """One short block per failing scenario: where and what, expected against got for each
    broken expectation, and what decided each disclosure concerned (the routes and bars of
    `decided_by`, and the unknowns its verdict turns on). `verbose` adds the whole result
    and the explanation of what was got."""
    lines = [f"{outcome.scenario.where}: {outcome.scenario.title}"]
    for check in outcome.failures:
        got = check.got
        if check.key == "verdict":
            possible = outcome.result.disclosure(check.disclosure).possible_verdicts
            if len(possible) > 1:
                got += f" (possible: {', '.join(possible)})"
        lines.append(f"  {check.disclosure}: {check.key}: expected {check.expected}, got {got}")
    for ident in dict.fromkeys(c.disclosure for c in outcome.failures):
        lines += ["    " + line for line in deciding_lines(outcome.result.disclosure(ident))]
    if verbose:
        lines.append("  what was got:")
        lines += ["    " + line if line else "" for line in explanation(outcome).splitlines()]
    return "\n".join(lines)


def deciding_lines(disclosure: Disclosure, unknowns: int = 3) -> list[str]:
    """What decided a disclosure, in at most two lines: the decided_by findings (with
    their status) and the first unknowns its verdict turns on."""
    decided = [(c.args[0] if c.args else c.code) + ("" if c.status == YES else f" ({c.status})")
               + (f" [{', '.join(c.paragraphs)}]" if c.paragraphs else "")
               for c in disclosure.findings if c.code == "decided_by"]
    lines = [f"{disclosure.id} decided by: {', '.join(decided) or 'nothing'}"]
    if disclosure.depends_on:
        shown = [d.text for d in disclosure.depends_on[:unknowns]]
        more = len(disclosure.depends_on) - len(shown)
        lines.append(f"{disclosure.id} turns on: {'; '.join(shown)}" + (f" (and {more} more)" if more else ""))
    return lines


def summary_line(outcomes: Sequence[Outcome], seconds: float) -> str:
    passed = sum(o.passed for o in outcomes)
    return f"{passed} passed, {len(outcomes) - passed} failed ({seconds:.2f} s)"


def write_junit_xml(outcomes: Sequence[Outcome], path: str | Path, seconds: float) -> None:
    """Write a JUnit XML report: a test suite per scenario file, a test case per scenario."""
    root = ET.Element("testsuites", name="pyisp scenarios", tests=str(len(outcomes)),
                      failures=str(sum(not o.passed for o in outcomes)), time=f"{seconds:.3f}")
    suites: dict[str, ET.Element] = {}
    for outcome in outcomes:
        source = outcome.scenario.source
        if source not in suites:
            suites[source] = ET.SubElement(root, "testsuite", name=source, tests="0", failures="0")
        suite = suites[source]
        suite.set("tests", str(int(suite.get("tests", "0")) + 1))
        case = ET.SubElement(suite, "testcase", classname=source, name=outcome.scenario.title,
                             file=source, line=str(outcome.scenario.line), time=f"{outcome.seconds:.3f}")
        if not outcome.passed:
            suite.set("failures", str(int(suite.get("failures", "0")) + 1))
            first = outcome.failures[0]
            failure = ET.SubElement(case, "failure", message=f"{first.disclosure} {first.key}: expected "
                                    f"{first.expected}, got {first.got}")
            failure.text = failure_text(outcome, verbose=True)
    ET.indent(root)
    ET.ElementTree(root).write(str(path), encoding="utf-8", xml_declaration=True)


def default_policy(policy: str | Path | None) -> Path:
    """The rules `pyisp test` checks: the policy in force (pyisp/core/policy.py
    resolve_policy_dir: --policy, else PYISP_POLICY, else ./policy, else the shipped rules)."""
    from ..core.policy import resolve_policy_dir

    return resolve_policy_dir(policy)


def check_readings(policy: Policy, readings: Mapping[str, str]) -> None:
    """Raise (exit 2) for a reading or alternative the policy does not have."""
    try:
        from ..core.reading import reading_facts
    except ImportError:
        raise ScenarioError("this version of pyisp has no readings", where="--reading") from None
    reading_facts(policy, readings)


def parse_readings(items: Sequence[str] | None) -> dict[str, str]:
    """`NAME=VALUE` strings from the command line as a mapping."""
    chosen: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ScenarioError(f"'{item}' is not NAME=VALUE", where="--reading")
        chosen[name.strip()] = value.strip()
    return chosen


def run_command(paths: Sequence[str | Path], *, policy: str | Path | None = None,
                junit_xml: str | Path | None = None, coverage: bool = False, fail_under: float | None = None,
                compare: str | None = None, readings: Mapping[str, str] | None = None,
                verbose: bool = False, echo: Callable[[str], None] = print) -> int:
    """`pyisp test`: load and run the scenarios, print a line each and a short block per
    failure (the whole result and explanations with `verbose`), and coverage when asked; the exit code is 0 when all pass (and rule coverage is at least
    `fail_under`), 1 otherwise. A bad scenario raises ScenarioError (exit 2)."""
    policy_dir = default_policy(policy)
    start = time.perf_counter()
    rules = engine_for(policy_dir).policy
    if readings:
        check_readings(rules, readings)
    scenarios = load(paths, rules)
    if compare is not None:
        facts = Path("facts") if Path("facts").is_dir() else None
        items = [(s.where, s.case, chosen_readings(s, readings)) for s in scenarios]
        return compare_command(compare, items, policy_dir, facts, echo)
    outcomes = run(scenarios, policy_dir, readings)
    seconds = time.perf_counter() - start
    for outcome in outcomes:
        echo(outcome_line(outcome))
    failed = [o for o in outcomes if not o.passed]
    if failed:
        echo("")
        echo("FAILURES")
        for outcome in failed:
            echo("")
            echo(failure_text(outcome, verbose))
        if not verbose:
            echo("")
            echo("(pyisp test -v: the whole result and the explanation of each failure)")
    echo("")
    echo(f"rules: {policy_dir} (sha256 {rules.fingerprint[:8]})" + (
        "; readings: " + ", ".join(f"{k}={v}" for k, v in sorted(readings.items())) if readings else ""))
    echo(summary_line(outcomes, seconds))
    if junit_xml:
        write_junit_xml(outcomes, junit_xml, seconds)
    below = False
    if coverage or fail_under is not None:
        measured = measure(outcomes, rules, readings)
        echo(coverage_text(measured))
        if fail_under is not None and measured.rule_percent < fail_under:
            echo(f"rule coverage {measured.rule_percent:.1f}% is below --fail-under {fail_under:g}%")
            below = True
    return 1 if failed or below else 0
