"""Run clingo and pyDatalog, an independent second engine, on the same cases and compare
every output atom: the way a compiler is tested against a reference interpreter.

Every case compared states every input, so clingo's answer is a single model (the
engine's all-known path, ``Engine.answer(inputs).certain``) and pyDatalog evaluates the
translated rules on the same facts. Cases come from facts/, from scenarios/ and from the
case format at random; a case that leaves inputs out is compared through random
completions, each of which must also lie between what clingo says holds for certain and
what it says is possible for the case itself.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml
from clingo import Symbol, SymbolType

from ..core.atoms import Inputs, case_inputs
from ..core.case import Case
from .datalog.evaluate import DatalogEngine
from .datalog.translate import Translation, translate
from ..core.engine import Engine, _Run
from ..errors import CaseError, ContradictionError, PyispError
from .generate import complete_case, fill_unknowns, random_case, strip_inputs
from ..core.policy import Policy
from ..core.presumption import switched_off
from ..core.schema import validate

ANSWER, CONTRADICTION, NO_MODEL = "answer", "contradiction", "no answer set"
Bounds = tuple[frozenset[Symbol], frozenset[Symbol]]  # clingo's certain and possible atoms for a case with unknowns


@dataclass(frozen=True)
class Outcome:
    """One engine's answer for a case with every input known."""

    status: str
    atoms: frozenset[Symbol]


@dataclass(frozen=True)
class Difference:
    """An output atom (or the status of the case) on which the engines differ."""

    atom: str
    clingo: str
    datalog: str


@dataclass(frozen=True)
class Disagreement:
    source: str
    document: dict[str, Any] = field(repr=False)
    differences: tuple[Difference, ...]


@dataclass
class Report:
    """What a cross-check compared and found."""

    translation: Translation
    cases: int = 0
    contradictory: int = 0
    sources: list[str] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    clingo_ms: list[float] = field(default_factory=list)
    datalog_ms: list[float] = field(default_factory=list)
    clingo_cpu_ms: list[float] = field(default_factory=list)
    datalog_cpu_ms: list[float] = field(default_factory=list)

    def summary(self) -> str:
        return f"crosscheck: {self.cases} cases, {len(self.disagreements)} disagreements"


class CrossCheck:
    """clingo on one policy against pyDatalog on the translation of another (the same one
    unless a test changes a rule on one side)."""

    def __init__(self, policy: Policy | None = None, datalog_policy: Policy | None = None,
                 exemptions: dict[str, str] | None = None) -> None:
        self.engine = Engine(policy or Policy())
        self.translation = translate(datalog_policy or self.engine.policy, exemptions)
        self.datalog = DatalogEngine(self.translation)
        self.exempt = {e.signature for e in self.translation.exemptions}

    # -- one case -------------------------------------------------------------------
    def clingo(self, inputs: Inputs) -> Outcome:
        try:
            return Outcome(ANSWER, self.engine.answer(inputs).certain)
        except ContradictionError:
            model = _Run(self.engine.policy, inputs).consequences("auto", [])
            return Outcome(CONTRADICTION, model) if model is not None else Outcome(NO_MODEL, frozenset())

    def pydatalog(self, inputs: Inputs) -> Outcome:
        answer = self.datalog.answer(list(inputs.facts) + self.exempt_facts(inputs))
        if answer.violated:
            return Outcome(NO_MODEL, frozenset())
        return Outcome(CONTRADICTION if answer.inconsistent else ANSWER, answer.atoms)

    def exempt_facts(self, inputs: Inputs) -> list[Symbol]:
        """clingo's atoms of the exempt predicates (none when nothing is exempt)."""
        if not self.exempt:
            return []
        run = _Run(self.engine.policy, inputs)
        atoms: list[Symbol] = []
        run.ctl.solve(on_model=lambda m: atoms.extend(
            s for s in m.symbols(atoms=True) if f"{s.name}/{len(s.arguments)}" in self.exempt))
        return atoms

    def compare(self, source: str, document: dict[str, Any], report: Report,
                bounds: Bounds | None = None) -> None:
        """Both engines on one complete case document; a disagreement goes in the report."""
        inputs = case_inputs(document)
        if inputs.unknowns:
            raise PyispError(f"case is not complete: {inputs.unknowns[0].path} is unknown", where=source)
        start, start_cpu = time.perf_counter(), time.process_time()
        expected = self.clingo(inputs)
        middle, middle_cpu = time.perf_counter(), time.process_time()
        got = self.pydatalog(inputs)
        end, end_cpu = time.perf_counter(), time.process_time()
        report.clingo_ms.append((middle - start) * 1000)
        report.datalog_ms.append((end - middle) * 1000)
        report.clingo_cpu_ms.append((middle_cpu - start_cpu) * 1000)
        report.datalog_cpu_ms.append((end_cpu - middle_cpu) * 1000)
        report.cases += 1
        report.contradictory += expected.status != ANSWER
        differences = list(_differences(expected, got))
        if bounds is not None and got.status == ANSWER:
            certain, possible = bounds
            differences += [Difference(str(a), "holds whatever the unknowns of the case are", "false here")
                             for a in sorted(certain - got.atoms)]
            differences += [Difference(str(a), "impossible for the case, whatever its unknowns", "true here")
                            for a in sorted(got.atoms - possible)]
        if differences:
            report.disagreements.append(Disagreement(source, document, tuple(differences)))

    def case(self, source: str, case: Case, report: Report, completions: int, rng: random.Random) -> None:
        """A case from facts/ or a scenario: as it is when complete, else through random
        completions, each checked against clingo's three-valued answer for the case."""
        document = dict(case.data)
        inputs = case_inputs(document)
        if not inputs.unknowns:
            self.compare(source, document, report)
            return
        try:
            # strict: a random completion may contradict a presumption, so the bounds are
            # those of the case with every unstated fact unknown
            answer = self.engine.answer(inputs, off=switched_off(self.engine.policy, None, strict=True))
            bounds: Bounds | None = (answer.certain, answer.possible)
        except ContradictionError:
            bounds = None
        seen: set[str] = set()
        for index in range(completions):
            completed = complete_case(document, rng)
            key = yaml.safe_dump(completed, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            self.compare(f"{source} (completion {index + 1})", completed, report, bounds)

    def steered_case(self, rng: random.Random, ident: str) -> tuple[dict[str, Any], Bounds | None]:
        """A case drawn from the format, then with some inputs redrawn so that a randomly
        chosen output atom that those inputs can decide holds: blind draws rarely meet long
        chains of conditions (valid consent needs every element). With it, clingo's
        three-valued answer for the case with those inputs unknown, which the complete
        case must lie within."""
        drawn = random_case(rng, ident)
        partial = validate(strip_inputs(drawn, rng, share=rng.choice([0.3, 0.6, 1.0])))
        inputs = case_inputs(partial)
        run = _Run(self.engine.policy, inputs)
        possible = run.consequences("brave", run.base)
        if possible is None:
            return drawn, None
        certain = run.consequences("cautious", run.base) or frozenset()
        bounds = (certain, possible)
        targets = sorted(possible - certain) or sorted(possible)
        kinds: dict[str, list[Symbol]] = {}
        for atom in targets:
            kinds.setdefault(_kind(atom), []).append(atom)
        target = run.literal(rng.choice(kinds[rng.choice(sorted(kinds))])) if kinds else None
        witness = run.witness(list(run.base) + ([target] if target is not None else []))
        if witness is None:
            return drawn, bounds
        values = {}
        for unknown, value in zip(inputs.unknowns, witness):
            if value is None:  # "none of the case's people": a case document cannot say so
                value = rng.choice([v for v, _ in unknown.options if v is not None])
            values[unknown.path] = value
        try:
            return validate(fill_unknowns(partial, values)), bounds
        except CaseError:
            return drawn, bounds  # the witness breaks a rule of the case format's shape

    # -- everything -----------------------------------------------------------------
    def run(self, cases: int = 1000, seed: int = 0, facts: Path | None = Path("facts"),
            scenarios: Path | None = Path("scenarios"), completions: int = 8) -> Report:
        report = Report(self.translation)
        rng = random.Random(seed)
        if facts is not None:
            suffixes = (".yaml", ".yml", ".json")
            files = sorted(p for p in facts.glob("*") if p.suffix in suffixes) if facts.is_dir() else []
            before = report.cases
            for path in files:
                self.case(str(path), Case.load(path), report, completions, rng)
            report.sources.append(f"{facts}/: {len(files)} case file(s), {report.cases - before} complete case(s)"
                                  if facts.is_dir() else f"{facts}/: not found, skipped")
        if scenarios is not None:
            before = report.cases
            found = list(_scenario_cases(scenarios))
            for where, case in found:
                self.case(where, case, report, completions, rng)
            report.sources.append(_scenario_note(scenarios, len(found), report.cases - before))
        before = report.cases
        for index in range(cases):
            ident = f"generated-{seed}-{index + 1}"
            if index % 2 == 0:
                document, bounds = random_case(rng, ident), None
            else:
                document, bounds = self.steered_case(rng, ident)
            self.compare(f"generated case {index + 1} (seed {seed})", document, report, bounds)
        report.sources.append(f"generated: {report.cases - before} case(s) from the case format (seed {seed}): "
                              f"{(cases + 1) // 2} drawn blind, {cases // 2} steered to a possible output atom "
                              "(and checked against clingo's answer with the inputs it redrew unknown)")
        return report


def _kind(atom: Symbol) -> str:
    """An output atom's kind: its predicate and, for a finding or obligation, its code."""
    args = atom.arguments
    code = args[-1].name if args and args[-1].type == SymbolType.Function else ""
    return f"{atom.name}:{code}"


def _differences(expected: Outcome, got: Outcome) -> Iterator[Difference]:
    if expected.status != got.status:
        yield Difference("(the case)", expected.status, got.status)
    if NO_MODEL in (expected.status, got.status):
        return
    for atom in sorted(expected.atoms - got.atoms):
        yield Difference(str(atom), "true", "false")
    for atom in sorted(got.atoms - expected.atoms):
        yield Difference(str(atom), "false", "true")


def _scenario_cases(directory: Path) -> Iterator[tuple[str, Case]]:
    """The case of every scenario under a folder (needs pyisp.authoring.scenarios, the scenario runner)."""
    if not directory.is_dir() or not any(directory.rglob("*.y*ml")):
        return
    try:
        from . import scenarios as runner  # type: ignore[attr-defined]
    except ImportError:
        return
    for scenario in runner.load([directory]):
        yield scenario.where, scenario.case


def _scenario_note(directory: Path, found: int, compared: int) -> str:
    if not directory.is_dir():
        return f"{directory}/: not found, skipped"
    if not found:
        return f"{directory}/: no scenarios (or no scenario runner in this version), skipped"
    return f"{directory}/: {found} scenario(s), {compared} complete case(s)"


def render(report: Report) -> str:
    """The command's output: where the cases came from, every disagreement as a ready
    case document, the cost per case of each engine, and the closing line."""
    lines = [f"translation: {len(report.translation.clauses)} Datalog clauses; {report.translation.describe()}"]
    lines += [f"  ignored (as by clingo): {note}" for note in report.translation.ignored]
    lines += report.sources
    for number, disagreement in enumerate(report.disagreements, start=1):
        lines.append("")
        lines.append(f"disagreement {number}: {disagreement.source}")
        for diff in disagreement.differences:
            lines.append(f"  {diff.atom}: clingo {diff.clingo}, pyDatalog {diff.datalog}")
        lines.append("  the case (save it as a .yaml file and run `pyisp query` on it):")
        text = yaml.safe_dump(disagreement.document, sort_keys=False, allow_unicode=True, width=100)
        lines += ["    " + line for line in text.splitlines()]
    if report.cases:
        lines.append(f"contradictory cases (the rules refuse the facts; compared as such): {report.contradictory}")
        median = statistics.median
        lines.append(f"cost per case (median): clingo {median(report.clingo_ms):.1f} ms "
                     f"(CPU {median(report.clingo_cpu_ms):.1f} ms), pyDatalog {median(report.datalog_ms):.1f} ms "
                     f"(CPU {median(report.datalog_cpu_ms):.1f} ms)")
    lines.append(report.summary())
    return "\n".join(lines)


def crosscheck(cases: int = 1000, seed: int = 0, policy: str | Path | None = None, facts: str | Path | None = "facts",
               scenarios: str | Path | None = "scenarios", against: str | Path | None = None,
               completions: int = 8) -> Report:
    """Cross-check the policy (default: the shipped one) on facts/, scenarios/ and
    `cases` generated cases. `against` gives pyDatalog other rules (to show a change)."""
    check = CrossCheck(Policy(policy) if policy else None, Policy(against) if against else None)
    return check.run(cases, seed, Path(facts) if facts else None, Path(scenarios) if scenarios else None,
                     completions)


__all__ = ["CrossCheck", "Report", "Disagreement", "Difference", "Outcome", "crosscheck", "render"]
