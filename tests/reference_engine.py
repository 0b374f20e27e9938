"""The foundation's engine (pyisp/engine.py on main before issue 9), kept as the reference
the fast engine must match byte for byte: a fresh clingo.Control per query, the policy AST
replayed through ProgramBuilder, facts and unknowns (choice rules) added as rules. One
change: the witness of a deciding-set search is the first completion in the case's order
(see `witness`), so results do not depend on the solver's search. Used by
tests/record_golden.py and tests/test_engine.py. Do not speed it up.

Run clingo on a case: the three-valued answer (true whatever the unknowns are, true for
some of them, or false for all) and the smallest sets of unknowns that decide a conclusion.

Unknown inputs are free choices; every completion of the case is one answer set. The
cautious consequences hold whatever the unknowns are, the brave ones for some filling
in. Completions in which the rules find a contradiction are left out (``inconsistent``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import clingo
from clingo import ast

from pyisp.core.atoms import Inputs, Unknown
from pyisp.errors import ContradictionError
from pyisp.core.policy import Policy

INCONSISTENT = clingo.Function("inconsistent")
CONTRADICTION = "contradiction"


@dataclass(frozen=True)
class DecidingSet:
    """Values of unknown inputs that together settle a conclusion, whatever the other
    unknowns are. Each item is (unknown, the values any of which will do)."""

    value: bool
    conditions: tuple[tuple[Unknown, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class Presumed:
    """A presumption applied to an unstated input (as pyisp.core.engine.Presumed)."""

    name: str
    unknown: Unknown
    value: Any
    rebutted: frozenset[clingo.Symbol]


@dataclass(frozen=True)
class Answer:
    """What holds for every completion of the case (`certain`) and for some (`possible`)."""

    certain: frozenset[clingo.Symbol]
    possible: frozenset[clingo.Symbol]
    deciding: dict[clingo.Symbol, tuple[DecidingSet, ...]]
    unknowns: tuple[Unknown, ...]
    presumed: tuple[Presumed, ...] = ()
    relevance: dict[Unknown, frozenset[clingo.Symbol]] | None = None


class _Run:
    """One grounded case. Kept only for the length of a query."""

    def __init__(self, policy: Policy, inputs: Inputs) -> None:
        self.ctl = clingo.Control(["--warn=none"])
        self.unknowns = inputs.unknowns
        with ast.ProgramBuilder(self.ctl) as builder:
            for statement in policy.statements:
                builder.add(statement)
            # Inputs go through the grounder as rules, not through the backend: atoms
            # added with the backend before grounding were seen to be missed by rules
            # that compare their arguments (age(C, A), A >= 16 matched 16 but not 17).
            for fact in inputs.facts:
                builder.add(_rule(_head(fact)))
            for unknown in inputs.unknowns:
                builder.add(_choice(unknown))
        self.ctl.ground([("base", [])])
        self.options: list[list[tuple[Any, list[int]]]] = []
        for unknown in inputs.unknowns:
            lits = {sym: self.ctl.symbolic_atoms[sym].literal for sym in unknown.atoms}
            self.options.append([(value, [lits[s] if truth else -lits[s] for s, truth in option])
                                 for value, option in unknown.options])
        inconsistent = self.ctl.symbolic_atoms[INCONSISTENT]
        self.base: list[int] = [-inconsistent.literal] if inconsistent is not None else []

    def literal(self, symbol: clingo.Symbol) -> int | None:
        atom = self.ctl.symbolic_atoms[symbol]
        return atom.literal if atom is not None else None

    def consequences(self, mode: str, assumptions: Sequence[int]) -> frozenset[clingo.Symbol] | None:
        config = self.ctl.configuration.solve
        config.enum_mode = mode
        config.models = 0
        last: list[Sequence[clingo.Symbol]] = []
        result = self.ctl.solve(assumptions=list(assumptions), on_model=lambda m: last.append(m.symbols(shown=True)))
        config.enum_mode = "auto"
        config.models = 1
        return frozenset(last[-1]) if result.satisfiable and last else None

    def satisfiable(self, assumptions: Sequence[int]) -> bool:
        return bool(self.ctl.solve(assumptions=list(assumptions)).satisfiable)

    def values(self, assumptions: Sequence[int]) -> list[Any] | None:
        """The value of every unknown in some completion satisfying the assumptions."""
        values: list[Any] = []

        def read(model: clingo.Model) -> None:
            for options in self.options:
                for value, lits in options:
                    if all(model.is_true(lit) for lit in lits):
                        values.append(value)
                        break

        result = self.ctl.solve(assumptions=list(assumptions), on_model=read)
        return values if result.satisfiable else None

    def witness(self, assumptions: Sequence[int]) -> list[Any] | None:
        """The first completion satisfying the assumptions, in the order of the unknowns
        and of their options (fixed by the case, not by the solver's search; issue 9)."""
        current = self.values(assumptions)
        if current is None:
            return None
        chosen = list(assumptions)
        for index, options in enumerate(self.options):
            for value, lits in options:
                if value == current[index]:
                    break
                found = self.values(chosen + lits)
                if found is not None:
                    current = found
                    break
            chosen += next(lits for value, lits in options if value == current[index])
        return current

    def block(self, lits: Iterable[int]) -> int:
        """A fresh atom true exactly when all the given literals are: assume its negation
        to look for completions that differ."""
        with self.ctl.backend() as backend:
            atom = backend.add_atom()
            backend.add_rule([atom], list(lits))
        return atom


class Engine:
    """Answers cases with one parsed policy; safe to reuse, one query at a time per thread."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()

    def answer(self, inputs: Inputs, decide: Iterable[clingo.Symbol] | None = None,
               max_sets: int = 2) -> Answer:
        """The three-valued answer under the policy's presumptions; for each atom of
        `decide` that depends on the unknowns, up to `max_sets` smallest deciding sets for
        each of its two values. Presumptions are applied the plain way: read from the strict
        answer of the case, then given as facts in a fresh run (the fast engine assumes them
        instead); what each rests on comes from a fresh run with it rebutted."""
        applied = _presumptions(self.policy, inputs)
        values = {u.path: v for _, u, v in applied}
        presumed = inputs.with_values(values)
        answer = self._answer(presumed, decide, max_sets)
        rebutted = []
        for name, unknown, value in applied:
            others = {u.path: v for _, u, v in applied if u.path != unknown.path}
            opposite = tuple(v for v, _ in unknown.options if v not in (value if isinstance(value, tuple) else (value,)))
            others[unknown.path] = opposite if len(opposite) > 1 else opposite[0]
            rebutted.append(Presumed(name, unknown, value, _verdicts(self.policy, inputs.with_values(others))))
        return Answer(answer.certain, answer.possible, answer.deciding, answer.unknowns, tuple(rebutted),
                      answer.relevance)

    def _answer(self, inputs: Inputs, decide: Iterable[clingo.Symbol] | None, max_sets: int) -> Answer:
        run = _Run(self.policy, inputs)
        if not inputs.unknowns:
            certain = run.consequences("auto", run.base)
            possible = certain
        else:
            possible = run.consequences("brave", run.base)
            certain = run.consequences("cautious", run.base) if possible is not None else None
        if possible is None or certain is None:
            raise _contradiction(run)
        deciding: dict[clingo.Symbol, tuple[DecidingSet, ...]] = {}
        for symbol in decide or ():
            if symbol in possible and symbol not in certain:
                lit = run.literal(symbol)
                if lit is not None:
                    deciding[symbol] = tuple(_deciding_sets(run, lit, True, max_sets)) + tuple(
                        _deciding_sets(run, lit, False, max_sets))
        relevance = None
        if decide is not None and inputs.unknowns:
            open_ = frozenset(s for s in possible - certain if s.name in ("verdict", "obligation"))
            relevance = {}
            for unknown, options in zip(inputs.unknowns, run.options) if open_ else ():
                changed: set[clingo.Symbol] = set()
                for _, lits in options:
                    brave = run.consequences("brave", run.base + lits)
                    if brave is not None:
                        changed |= open_ - brave
                if changed:
                    relevance[unknown] = frozenset(changed)
        return Answer(certain, possible, deciding, inputs.unknowns, relevance=relevance)


def _presumptions(policy: Policy, inputs: Inputs) -> list[tuple[str, Unknown, Any]]:
    """The presumptions that hold whatever the unknowns are and fill an unknown: (name,
    unknown, the value or values it leaves)."""
    if not inputs.unknowns:
        return []
    run = _Run(policy, inputs)
    strict = run.consequences("cautious", run.base)
    if strict is None:
        raise _contradiction(run)
    owner = {atom: unknown for unknown in inputs.unknowns for atom in unknown.atoms}
    left: dict[str, tuple[Any, ...]] = {}
    found: dict[str, tuple[str, Unknown]] = {}
    for symbol in sorted((s for s in strict if s.name == "presumption_applies"), key=str):
        name, atom, truth = symbol.arguments
        unknown = owner.get(atom)
        if unknown is None:
            continue
        wanted = truth.name == "true"
        values = tuple(v for v, lits in unknown.options if (atom, wanted) in lits or (not wanted and atom not in
                                                                                      dict(lits)))
        values = tuple(v for v in values if v in left.get(unknown.path, values))
        if not values:
            continue
        left[unknown.path] = values
        found.setdefault(unknown.path + "|" + name.name, (name.name, unknown))
    return [(name, unknown, left[unknown.path] if len(left[unknown.path]) > 1 else left[unknown.path][0])
            for name, unknown in found.values()]


def _verdicts(policy: Policy, inputs: Inputs) -> frozenset[clingo.Symbol]:
    run = _Run(policy, inputs)
    found = run.consequences("brave", run.base)
    return frozenset(s for s in found or () if s.name == "verdict")


_LOC = ast.Location(ast.Position("<case>", 1, 1), ast.Position("<case>", 1, 1))


def _head(symbol: clingo.Symbol) -> Any:
    return ast.Literal(_LOC, ast.Sign.NoSign, ast.SymbolicAtom(ast.SymbolicTerm(_LOC, symbol)))


def _rule(head: Any, body: Sequence[Any] = ()) -> Any:
    return ast.Rule(_LOC, head, list(body))


def _choice(unknown: Unknown) -> Any:
    """`{ a1; ...; an }` for an unknown, bounded to exactly one (an enumerated value) or
    at most one (a reference that may name nobody of the case) when it has several atoms."""
    elements = [ast.ConditionalLiteral(_LOC, _head(sym), []) for sym in unknown.atoms]
    several = len(elements) > 1
    lower = ast.Guard(ast.ComparisonOperator.LessEqual, ast.SymbolicTerm(_LOC, clingo.Number(1))) \
        if several and unknown.exactly_one else None
    upper = ast.Guard(ast.ComparisonOperator.LessEqual, ast.SymbolicTerm(_LOC, clingo.Number(1))) \
        if several else None
    return _rule(ast.Aggregate(_LOC, lower, elements, upper))


def _contradiction(run: _Run) -> ContradictionError:
    found = run.consequences("brave", []) or frozenset()
    contradictions = sorted((s for s in found if s.name == CONTRADICTION), key=str)
    if not contradictions:
        return ContradictionError("the facts of the case cannot all hold together")
    symbol = contradictions[0]
    path = symbol.arguments[0].string
    reason = symbol.arguments[1]
    if reason.name == "implied_by":
        return ContradictionError(f"is stated false, but {reason.arguments[0].string} is true and implies it",
                                  where=path)
    return ContradictionError(f"contradicts the other facts of the case ({reason})", where=path)


def _forces(run: _Run, chosen: dict[int, Any], lit: int, value: bool) -> bool:
    assumptions = list(run.base) + [-lit if value else lit]
    for index, option_value in chosen.items():
        assumptions += next(lits for v, lits in run.options[index] if v == option_value)
    return not run.satisfiable(assumptions)


def _deciding_sets(run: _Run, lit: int, value: bool, limit: int) -> list[DecidingSet]:
    """Subset-minimal sets of unknown values that force `lit` to `value` (greedy shrinking
    of a witness completion, then every alternative value that works as well)."""
    found: list[DecidingSet] = []
    blockers: list[int] = []
    for _ in range(limit):
        witness = run.witness(list(run.base) + [lit if value else -lit] + [-b for b in blockers])
        if witness is None:
            break
        chosen = dict(enumerate(witness))
        for index in list(chosen):
            trial = {k: v for k, v in chosen.items() if k != index}
            if _forces(run, trial, lit, value):
                chosen = trial
        conditions = []
        alternatives: list[list[Any]] = []
        for index, option_value in chosen.items():
            works = [v for v, _ in run.options[index]
                     if v == option_value or _forces(run, {**chosen, index: v}, lit, value)]
            conditions.append((run.unknowns[index], tuple(works)))
            alternatives.append(works)
        found.append(DecidingSet(value, tuple(conditions)))
        indices = list(chosen)
        for combo in itertools.islice(itertools.product(*alternatives), 64):
            lits = [lit for index, v in zip(indices, combo)
                    for lit in next(ls for ov, ls in run.options[index] if ov == v)]
            blockers.append(run.block(lits))
    return sorted(found, key=lambda s: len(s.conditions))
