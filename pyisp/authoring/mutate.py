"""`pyisp mutate`: mutation testing of the policy. Small changes to the rules, one at a
time (delete a rule, drop a body literal, flip a negation, change a number, drop one
value of a pooled fact), each run against the scenario corpus and the properties. A
mutant nothing catches is a hole in the tests or a rule that does not matter; survivors
the solver cannot tell apart from the real rules in a bounded domain are reported as
equivalent.

Fast by construction: the rules are parsed once and mutated as clingo.ast nodes; mutants
run in worker processes (2 by default) forked after parsing; each mutant tries first the
checks that killed the previous ones.
"""

from __future__ import annotations

import functools
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import clingo
from clingo import ast

from ..core.atoms import Inputs, case_inputs
from .domain import Bounds
from ..core.engine import Engine
from ..errors import PyispError
from ..core.policy import OUTPUT_FILE, Policy, Rule
from ..core.reading import reading_facts
from ..core.result import build_result
from .solving import ground

EQUIVALENCE_PEOPLE = (1, 2)


@dataclass(frozen=True)
class Mutant:
    """One small change to one rule."""

    index: int          # position in policy.statements
    rule: Rule
    operator: str       # delete_rule, drop_literal, flip_negation, change_number, drop_value
    position: int       # which literal, number or pool value
    description: str

    @property
    def where(self) -> str:
        return f"{self.rule.where} ({', '.join(self.rule.paragraphs) or 'no citation'})"


@dataclass
class MutantOutcome:
    mutant: Mutant
    status: str        # killed, survived, equivalent, invalid
    killer: str = ""
    seconds: float = 0.0


# ------------------------------------------------------------------ making mutants

def _literals(rule: Any) -> list[Any]:
    return list(rule.body)


def _numbers(node: Any) -> list[Any]:
    found: list[Any] = []

    class Find(ast.Transformer):
        def visit_SymbolicTerm(self, term: Any) -> Any:
            if term.symbol.type == clingo.SymbolType.Number:
                found.append(term)
            return term

    Find()(node)
    return found


def _pool(rule: Any) -> Any:
    head = rule.head
    if not rule.body and head.ast_type == ast.ASTType.Literal and head.atom.ast_type == ast.ASTType.SymbolicAtom:
        symbol = head.atom.symbol
        if symbol.ast_type == ast.ASTType.Pool:  # p(a; b) parses as a pool of atoms
            return symbol
    return None


def mutants(policy: Policy) -> list[Mutant]:
    """Every mutant of the policy's rules (show.lp only renames outputs: left alone)."""
    by_node = {id(r.node): r for r in policy.rules}
    out: list[Mutant] = []
    for index, statement in enumerate(policy.statements):
        rule = by_node.get(id(statement))
        if rule is None or rule.file == OUTPUT_FILE:
            continue
        out.append(Mutant(index, rule, "delete_rule", 0, "delete the rule"))
        for i, literal in enumerate(_literals(statement)):
            out.append(Mutant(index, rule, "drop_literal", i, f"drop `{literal}`"))
            if literal.ast_type == ast.ASTType.Literal and literal.atom.ast_type == ast.ASTType.SymbolicAtom:
                flipped = "not " if literal.sign == ast.Sign.NoSign else ""
                out.append(Mutant(index, rule, "flip_negation", i,
                                  f"`{literal}` -> `{flipped}{literal.atom}`"))
        for i, number in enumerate(_numbers(statement)):
            n = number.symbol.number
            out.append(Mutant(index, rule, "change_number", 2 * i, f"{n} -> {n + 1}"))
            out.append(Mutant(index, rule, "change_number", 2 * i + 1, f"{n} -> {n - 1}"))
        pool = _pool(statement)
        if pool is not None:
            for i, value in enumerate(pool.arguments):
                out.append(Mutant(index, rule, "drop_value", i, f"drop the fact `{value}`"))
    return out


def apply(policy: Policy, mutant: Mutant) -> list[Any]:
    """The policy's statements with the mutant's change made."""
    statements = list(policy.statements)
    rule = statements[mutant.index]
    if mutant.operator == "delete_rule":
        del statements[mutant.index]
        return statements
    if mutant.operator == "drop_literal":
        body = _literals(rule)
        del body[mutant.position]
        statements[mutant.index] = rule.update(body=body)
    elif mutant.operator == "flip_negation":
        body = _literals(rule)
        literal = body[mutant.position]
        sign = ast.Sign.Negation if literal.sign == ast.Sign.NoSign else ast.Sign.NoSign
        body[mutant.position] = literal.update(sign=sign)
        statements[mutant.index] = rule.update(body=body)
    elif mutant.operator == "change_number":
        target = _numbers(rule)[mutant.position // 2]
        delta = 1 if mutant.position % 2 == 0 else -1

        class Change(ast.Transformer):
            def visit_SymbolicTerm(self, term: Any) -> Any:
                if term is target or (term.location == target.location and term.symbol == target.symbol):
                    return term.update(symbol=clingo.Number(term.symbol.number + delta))
                return term

        statements[mutant.index] = Change()(rule)
    elif mutant.operator == "drop_value":
        pool = _pool(rule)
        values = list(pool.arguments)
        del values[mutant.position]
        symbol = pool.update(arguments=values) if len(values) > 1 else values[0]
        head = rule.head.update(atom=rule.head.atom.update(symbol=symbol))
        statements[mutant.index] = rule.update(head=head)
    return statements


# ------------------------------------------------------------------ running the checks

class Checks:
    """The corpus (scenarios) and the properties, run against any version of the rules."""

    def __init__(self, policy: Policy, scenario_paths: Sequence[str | Path], bounds: Bounds,
                 use_properties: bool = True) -> None:
        from .scenarios import load
        from .verify import META, Verifier

        self.policy = policy
        self.scenarios = load(list(scenario_paths), policy) if scenario_paths else []
        self.bounds = bounds
        verifier = Verifier(policy=policy)
        self.property_rules = verifier.rules if use_properties else []
        self.property_names = [p.name for p in verifier.properties if p.name not in META] if use_properties else []
        self.order: list[str] = []
        self.broken_properties: set[str] = set()  # properties the real rules break: left out of "properties"
        self._index = {f"scenario {s.where}": i for i, s in enumerate(self.scenarios)}

    def names(self) -> list[str]:
        names = [f"scenario {s.where}" for s in self.scenarios]
        if not self.property_names:
            return names
        larger = ["properties at full size"] if self.bounds.people > 1 else []
        return ["properties"] + names + larger  # cheapest first

    def baseline_failures(self) -> list[str]:
        """Checks that fail on the real rules (they cannot tell mutants apart). A property
        the real rules break is named (`property NAME`) and left out of the properties
        check, which still runs the others."""
        failing: list[str] = []
        if self.property_names:
            for bounds in sorted({Bounds.for_people(1), self.bounds}, key=lambda b: b.people):
                self.broken_properties |= self._broken(self.policy.statements, bounds)
            failing += [f"property {name}" for name in sorted(self.broken_properties)]
        engine = functools.cache(lambda: Engine(self.policy))
        return failing + [name for name in self.names() if self._run(name, self.policy.statements, engine)]

    def _broken(self, statements: list[Any], bounds: Bounds) -> set[str]:
        """The names of the properties some case in the domain violates."""
        grounded = ground([statements, self.property_rules], bounds)
        broken: set[str] = set()
        while True:
            violations = [s for s in grounded.atoms("violation", 2) if str(s.arguments[0]) not in broken]
            goal = grounded.goal([[grounded.literal(s)] for s in violations])
            model, _ = grounded.search(goal, optimise=False)
            found = {str(s.arguments[0]) for s in model or () if s.name == "violation" and len(s.arguments) == 2}
            if not found - broken:
                return broken
            broken |= found

    def first_failure(self, statements: list[Any], skip: set[str]) -> str:
        """The first check that fails on these rules ('' when all pass); killers first."""
        # one engine for these rules, made when a scenario needs it and reused over the scenarios
        # (its groundings, one per shape of case, serve every scenario of that shape)
        engine = functools.cache(lambda: Engine(self.policy.with_statements(statements)))
        names = self.names()
        ordered = names[:1] + [n for n in self.order if n in names[1:]] + [n for n in names[1:] if n not in self.order]
        for name in ordered:
            if name in skip:
                continue
            if self._run(name, statements, engine):
                if name in self.order:
                    self.order.remove(name)
                self.order.insert(0, name)
                return name
        return ""

    def _run(self, name: str, statements: list[Any], engine: Callable[[], Engine]) -> bool:
        """True when the check fails (or the rules cannot even run) on these statements
        (`engine()`: an engine of these statements)."""
        try:
            if name == "properties":
                return self._properties_fail(statements, Bounds.for_people(1))
            if name == "properties at full size":
                return self._properties_fail(statements, self.bounds)
            return self._scenario_fails(self.scenarios[self._index[name]], engine())
        except (RuntimeError, PyispError):
            return True

    def _properties_fail(self, statements: list[Any], bounds: Bounds) -> bool:
        grounded = ground([statements, self.property_rules], bounds)
        violations = [s for s in grounded.atoms("violation", 2) if str(s.arguments[0]) not in self.broken_properties]
        goal = grounded.goal([[grounded.literal(s)] for s in violations])
        model, _ = grounded.search(goal, optimise=False)
        return model is not None

    def _scenario_fails(self, scenario: Any, engine: Engine) -> bool:
        from .scenarios import compare

        data = dict(scenario.case.data)
        ids = [d["id"] for d in data["disclosures"]]
        decide = [clingo.Function(n, [clingo.String(i)]) for i in ids for n in ("permitted", "required")]
        inputs = case_inputs(data)
        chosen = reading_facts(self.policy, dict(getattr(scenario, "readings", ())))  # the scenario's readings
        answer = engine.answer(Inputs(inputs.facts + chosen, inputs.unknowns), decide if scenario.needs_depends_on else None,
                               off=getattr(scenario, "presumptions_off", frozenset()))
        result = build_result(scenario.case.id, scenario.case.title, ids, answer, self.policy)
        for expectation in scenario.expectations:
            if not all(c.passed for c in compare(expectation, result.disclosure(expectation.disclosure), self.policy)):
                return True
        return False


def _valid(statements: list[Any]) -> bool:
    """False when the mutant is not a program clingo accepts (an unsafe variable)."""
    ctl = clingo.Control(["--warn=none"], logger=lambda _code, _message: None)
    try:
        with ast.ProgramBuilder(ctl) as builder:
            for statement in statements:
                builder.add(statement)
        ctl.ground([("base", [])])
        return True
    except RuntimeError:
        return False


def _equivalent(policy: Policy, statements: list[Any]) -> bool:
    from .diff import distinguishable

    mutant = policy.with_statements(statements)
    return not any(distinguishable(policy, mutant, Bounds.for_people(n)) for n in EQUIVALENCE_PEOPLE)


# process-wide state for forked workers
_STATE: dict[str, Any] = {}


def _work(chunk: list[int]) -> list[tuple[int, str, str, float]]:
    policy: Policy = _STATE["policy"]
    checks: Checks = _STATE["checks"]
    skip: set[str] = _STATE["skip"]
    found = []
    for i in chunk:
        start = time.perf_counter()
        mutant = _STATE["mutants"][i]
        statements = apply(policy, mutant)
        if not _valid(statements):
            status, killer = "invalid", ""
        else:
            killer = checks.first_failure(statements, skip)
            status = "killed" if killer else ("equivalent" if _equivalent(policy, statements) else "survived")
        found.append((i, status, killer, time.perf_counter() - start))
    return found


@dataclass
class MutationReport:
    outcomes: list[MutantOutcome]
    seconds: float
    checks: int
    baseline_failures: list[str]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def caught(self) -> int:
        return self.count("killed")

    @property
    def score(self) -> float:
        """The percentage of counted mutants caught (100 when there is none to count)."""
        return 100.0 * self.caught / self.total if self.total else 100.0

    @property
    def total(self) -> int:
        """Mutants that count: valid ones that some case tells apart from the real rules."""
        return self.count("killed") + self.count("survived")


def changed_lines(policy_dir: str | Path, revision: str) -> dict[str, set[int]]:
    """The lines of each rule file (by name in the policy directory) added or changed since
    a git revision (``git diff REV``, the working tree included)."""
    import re
    import subprocess

    directory = Path(policy_dir)
    try:
        done = subprocess.run(["git", "-C", str(directory), "diff", "--relative", "-U0", "--no-color", revision,
                               "--", "."], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PyispError(f"cannot run git: {exc.strerror}", where="--changed-since") from None
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["git diff failed"])[-1]
        raise PyispError(f"git cannot compare with '{revision}': {message}", where="--changed-since")
    changed: dict[str, set[int]] = {}
    current = None
    for line in done.stdout.splitlines():
        if line.startswith("+++ "):
            current = None if line[4:] == "/dev/null" else line[4:].removeprefix("b/")
        hunk = re.match(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", line)
        if hunk and current:
            first, count = int(hunk.group(1)), int(hunk.group(2) or 1)
            # a pure deletion (count 0) changes the rule around the deleted lines
            lines = range(first, first + count) if count else range(first, first + 2)
            changed.setdefault(current, set()).update(lines)
    return changed


def select_rules(policy_dir: str | Path, changed_since: str | None = None,
                 files: Sequence[str] | None = None) -> Callable[[Mutant], bool] | None:
    """A filter keeping the mutants of the rules changed since a git revision, or of the
    rule files named (None: every mutant)."""
    if changed_since is None and not files:
        return None
    wanted_files = {Path(f).name for f in files or ()}
    changed = changed_lines(policy_dir, changed_since) if changed_since is not None else None
    if files:
        known = {p.name for p in Path(policy_dir).glob("*.lp")}
        for name in sorted(wanted_files - known):
            raise PyispError(f"the policy has no rule file '{name}'", where="--files")

    def keep(mutant: Mutant) -> bool:
        if wanted_files and Path(mutant.rule.file).name not in wanted_files:
            return False
        if changed is None:
            return True
        node = mutant.rule.node.location
        span = set(range(node.begin.line, node.end.line + 1))
        return bool(span & changed.get(mutant.rule.file, set()))
    return keep


def run(policy_dir: str | Path | None = None, scenario_paths: Sequence[str | Path] = ("scenarios",),
        people: int = 2, workers: int = 2, limit: int | None = None, use_properties: bool = True,
        select: Callable[[Mutant], bool] | None = None) -> MutationReport:
    """Make every mutant (or every k-th one when `limit` is given) and run the checks."""
    start = time.perf_counter()
    policy = Policy(policy_dir)
    paths = [p for p in scenario_paths if Path(p).exists()]
    checks = Checks(policy, paths, Bounds.for_people(people), use_properties)
    baseline = checks.baseline_failures()
    every = [m for m in mutants(policy) if select is None or select(m)]
    if limit and limit < len(every):
        step = len(every) / limit
        every = [every[int(k * step)] for k in range(limit)]
    _STATE.update(policy=policy, checks=checks, skip=set(baseline), mutants=every)
    indices = list(range(len(every)))
    chunks = [indices[k::max(1, workers)] for k in range(max(1, workers))]
    if workers > 1 and len(every) > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = [r for part in pool.map(_work, chunks) for r in part]
    else:
        results = _work(indices)
    outcomes = [MutantOutcome(every[i], status, killer, secs) for i, status, killer, secs in sorted(results)]
    return MutationReport(outcomes, time.perf_counter() - start, len(checks.names()), baseline)


def report_text(report: MutationReport) -> str:
    """Survivors by rule and paragraph, the equivalent mutants, then the score line."""
    lines = []
    if report.baseline_failures:
        lines.append(f"error: {len(report.baseline_failures)} check(s) fail on the real rules, so they cannot "
                     f"catch mutants (fix them first: pyisp verify, pyisp test): {', '.join(report.baseline_failures)}")
    by_rule: dict[str, list[MutantOutcome]] = {}
    for o in report.outcomes:
        if o.status in ("survived", "equivalent"):
            by_rule.setdefault(o.mutant.where, []).append(o)
    if by_rule:
        lines.append("survivors by rule (E = equivalent: no case with up to "
                     f"{max(EQUIVALENCE_PEOPLE)} people tells it apart from the real rules):")
    for where, items in sorted(by_rule.items()):
        lines.append(f"  {where}: {items[0].mutant.rule.text[:100]}")
        for o in items:
            lines.append(f"    {'E' if o.status == 'equivalent' else '!'} {o.mutant.operator}: {o.mutant.description}")
    killers: dict[str, int] = {}
    for o in report.outcomes:
        if o.status == "killed":
            kind = "properties" if o.killer.startswith("properties") else "scenarios"
            killers[kind] = killers.get(kind, 0) + 1
    valid = len(report.outcomes) - report.count("invalid")
    lines += ["", f"{len(report.outcomes)} mutants ({report.count('invalid')} not valid ASP), {valid} run against "
              f"{report.checks} checks in {report.seconds:.1f} s; caught by "
              + ", ".join(f"{k}: {v}" for k, v in sorted(killers.items())),
              f"{report.count('equivalent')} survivors are equivalent within the domain and not counted; "
              f"{report.count('survived')} survive",
              f"mutation score: {report.caught}/{report.total} caught ({report.score:.1f}%)"]
    return "\n".join(lines)


def iter_mutants(policy_dir: str | Path | None = None) -> Iterator[Mutant]:
    yield from mutants(Policy(policy_dir))
