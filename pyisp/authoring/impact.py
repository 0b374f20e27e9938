"""The impact of a policy change: answer every scenario's case and every case in facts/
under two rule sets and list each disclosure whose outcome differs, with the rules that
make the difference.

The old rules are a directory or a git revision (its ``policy/`` is extracted with
``git archive`` to a temporary directory). A rule makes the difference when it fired for
the case (pyisp/explain/instrument.py) under one rule set and its text is not in the other: it
was added, removed or changed by the edit.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ..core.atoms import Inputs, case_inputs
from ..core.case import Case
from ..errors import PyispError, ScenarioError
from ..explain.instrument import fired_rules
from ..core.policy import Policy, Rule
from ..core.result import Disclosure, Result
from ..core.service import answer_case, engine_for


@dataclass(frozen=True)
class Difference:
    """One disclosure of one case answered differently by the old and new rules."""

    case: str
    disclosure: str
    old_verdict: str
    new_verdict: str
    findings_added: tuple[str, ...]
    findings_removed: tuple[str, ...]
    obligations_added: tuple[str, ...]
    obligations_removed: tuple[str, ...]
    rules: tuple[str, ...]

    def text(self) -> str:
        head = f"{self.case}  {self.disclosure}: {self.old_verdict} -> {self.new_verdict}"
        lines = [head]
        for label, items in (("+ finding", self.findings_added), ("- finding", self.findings_removed),
                             ("+ obligation", self.obligations_added), ("- obligation", self.obligations_removed)):
            lines += [f"    {label} {item}" for item in items]
        lines += [f"    rule {rule}" for rule in self.rules]
        return "\n".join(lines)


def old_policy(reference: str | Path, workdir: Path) -> Path:
    """The old rules: `reference` itself when it is a directory of rules, else the
    ``policy/`` of that git revision extracted under `workdir`."""
    path = Path(reference)
    if path.is_dir():
        return path / "policy" if (path / "policy" / "main.lp").is_file() else path
    rev = str(reference)
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True)
        data = subprocess.run(["git", "archive", "--format=tar", rev, "policy"], capture_output=True, check=True,
                              cwd=top.stdout.strip())
    except FileNotFoundError:
        raise ScenarioError("git is not installed, so a revision cannot be read", where=rev) from None
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or "").strip().splitlines()
        raise ScenarioError("neither a directory of rules nor a git revision with a policy/ folder"
                            + (f" ({detail[-1]})" if detail else ""), where=rev) from None
    with tarfile.open(fileobj=io.BytesIO(data.stdout)) as archive:
        archive.extractall(workdir, filter="data")
    return workdir / "policy"


Item = tuple[str, Case, Mapping[str, str]]  # a label, a case, the readings it is answered under


def cases_to_compare(scenario_cases: Sequence[Item], facts: Path | None) -> list[Item]:
    """The scenarios' cases (with their readings) and every case file in facts/, each
    distinct case and choice of readings once."""
    found: list[Item] = []
    seen: set[str] = set()
    extra: list[Item] = []
    if facts is not None and facts.is_dir():
        extra = [(str(p), Case.load(p), {}) for p in sorted(facts.glob("*.y*ml")) + sorted(facts.glob("*.json"))]
    for label, case, readings in [*extra, *scenario_cases]:
        key = json.dumps([case.data, dict(readings)], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            found.append((label, case, readings))
    return found


def _labels(items: Sequence) -> dict[str, str]:
    return {c.label: c.status for c in items}


def _changes(old: dict[str, str], new: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Conclusions added (or whose status changed: ``label (depends -> yes)``) and removed."""
    added = tuple(f"{k} ({old[k]} -> {v})" if k in old else f"{k} ({v})"
                  for k, v in sorted(new.items()) if old.get(k) != v)
    removed = tuple(f"{k} ({v})" for k, v in sorted(old.items()) if k not in new)
    return added, removed


def _answer(case: Case, policy: Path | None, readings: Mapping[str, str]) -> Result | str:
    extra = {"readings": dict(readings)} if readings else {}
    try:
        return answer_case(case, policy=policy, depends_on=False, **extra)
    except PyispError as exc:
        return f"error: {exc}"


def _inputs(case: Case, policy: Policy, readings: Mapping[str, str]) -> Inputs:
    inputs = case_inputs(dict(case.data))
    if not readings:
        return inputs
    from ..core.reading import reading_facts

    return Inputs(inputs.facts + reading_facts(policy, readings), inputs.unknowns)


def _changed_rules(case: Case, old: Policy, new: Policy, readings: Mapping[str, str]) -> tuple[str, ...]:
    """The rules that fired for the case under one rule set and are not in the other."""
    old_texts = {(r.file, r.text) for r in old.rules}
    new_texts = {(r.file, r.text) for r in new.rules}
    out: list[str] = []
    for policy, other, sign in ((new, old_texts, "added or changed"), (old, new_texts, "removed or changed")):
        try:
            fired = fired_rules(policy, _inputs(case, policy, readings))
        except PyispError:
            continue
        rules: list[Rule] = [policy.rules[i] for i in sorted(fired)]
        out += [f"{r.where} ({sign}): {r.text}" for r in rules if (r.file, r.text) not in other]
    return tuple(out)


def compare_policies(cases: Sequence[Item], old: Path, new: Path | None) -> list[Difference]:
    """Every disclosure whose verdict, findings or obligations differ between the rules."""
    differences: list[Difference] = []
    old_rules, new_rules = engine_for(old).policy, engine_for(new).policy
    for label, case, readings in cases:
        before, after = _answer(case, old, readings), _answer(case, new, readings)
        if isinstance(before, str) or isinstance(after, str):
            if str(before) != str(after):
                differences.append(Difference(label, "(case)", _verdicts(before), _verdicts(after), (), (), (), (), ()))
            continue
        for theirs in after.disclosures:
            mine = before.disclosure(theirs.id)
            if _same(mine, theirs):
                continue
            f_added, f_removed = _changes(_labels(mine.findings), _labels(theirs.findings))
            o_added, o_removed = _changes(_labels(mine.obligations), _labels(theirs.obligations))
            differences.append(Difference(label, theirs.id, mine.verdict, theirs.verdict, f_added, f_removed,
                                          o_added, o_removed,
                                          _changed_rules(case, old_rules, new_rules, readings)))
    return differences


def _verdicts(result: Result | str) -> str:
    return result if isinstance(result, str) else ", ".join(f"{d.id}={d.verdict}" for d in result.disclosures)


def _same(a: Disclosure, b: Disclosure) -> bool:
    return (a.verdict, a.permitted, a.required, _labels(a.findings), _labels(a.obligations)) == (
        b.verdict, b.permitted, b.required, _labels(b.findings), _labels(b.obligations))


def compare_command(reference: str, scenario_cases: Sequence[Item], new: Path | None,
                    facts: Path | None, echo: Callable[[str], None] = print) -> int:
    """`pyisp test --compare`: print every difference; exit code 0 (a report, not a test)."""
    with tempfile.TemporaryDirectory(prefix="pyisp-old-policy-") as tmp:
        old = old_policy(reference, Path(tmp))
        cases = cases_to_compare(scenario_cases, facts)
        differences = compare_policies(cases, old, new)
        for difference in differences:
            echo(difference.text())
        echo(f"{len(cases)} cases compared (old rules: {reference}, new rules: {new or 'shipped policy'}): "
             f"{len(differences)} disclosure(s) differ")
    return 0
