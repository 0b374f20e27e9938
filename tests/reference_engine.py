"""The foundation's engine, kept as the reference the fast engine (pyisp/engine.py) must
match byte for byte: a fresh clingo.Control per query, the policy AST replayed through
ProgramBuilder, inputs through the backend and unknowns as choice rules.

Used only by tests/record_golden.py and the equivalence tests. Do not speed it up.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import clingo
from clingo import ast

from pyisp.atoms import Inputs, Unknown
from pyisp.errors import ContradictionError
from pyisp.policy import Policy

INCONSISTENT = clingo.Function("inconsistent")
CONTRADICTION = "contradiction"


@dataclass(frozen=True)
class DecidingSet:
    """Values of unknown inputs that together settle a conclusion, whatever the other
    unknowns are. Each item is (unknown, the values any of which will do)."""

    value: bool
    conditions: tuple[tuple[Unknown, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class Answer:
    """What holds for every completion of the case (`certain`) and for some (`possible`)."""

    certain: frozenset[clingo.Symbol]
    possible: frozenset[clingo.Symbol]
    deciding: dict[clingo.Symbol, tuple[DecidingSet, ...]]
    unknowns: tuple[Unknown, ...]


class _Run:
    """One grounded case. Kept only for the length of a query."""

    def __init__(self, policy: Policy, inputs: Inputs) -> None:
        self.ctl = clingo.Control(["--warn=none"])
        with ast.ProgramBuilder(self.ctl) as builder:
            for statement in policy.statements:
                builder.add(statement)
        self.unknowns = inputs.unknowns
        self.options: list[list[tuple[Any, list[int]]]] = []
        with self.ctl.backend() as backend:
            for fact in inputs.facts:
                backend.add_rule([backend.add_atom(fact)])
            for unknown in inputs.unknowns:
                lits = {sym: backend.add_atom(sym) for sym in unknown.atoms}
                atoms = list(lits.values())
                backend.add_rule(atoms, choice=True)
                if len(atoms) > 1:
                    backend.add_weight_rule([], 2, [(a, 1) for a in atoms])  # at most one
                    if unknown.exactly_one:
                        backend.add_rule([], [-a for a in atoms])  # at least one
                self.options.append([(value, [lits[s] if truth else -lits[s] for s, truth in option])
                                     for value, option in unknown.options])
        self.ctl.ground([("base", [])])
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

    def witness(self, assumptions: Sequence[int]) -> list[Any] | None:
        """The value of every unknown in one completion satisfying the assumptions."""
        values: list[Any] = []

        def read(model: clingo.Model) -> None:
            for options in self.options:
                for value, lits in options:
                    if all(model.is_true(lit) for lit in lits):
                        values.append(value)
                        break

        result = self.ctl.solve(assumptions=list(assumptions), on_model=read)
        return values if result.satisfiable else None

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
        """The three-valued answer; for each atom of `decide` that depends on the unknowns,
        up to `max_sets` smallest deciding sets for each of its two values."""
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
        return Answer(certain, possible, deciding, inputs.unknowns)


def _contradiction(run: _Run) -> ContradictionError:
    found = run.consequences("brave", []) or frozenset()
    contradictions = sorted((s for s in found if s.name == CONTRADICTION), key=str)
    if not contradictions:
        return ContradictionError("the facts of the case cannot all hold together")
    symbol = contradictions[0]
    path = symbol.arguments[0].string
    reason = symbol.arguments[1]
    detail = f"contradicts {reason.arguments[0].string}" if reason.name == "implied_by" else str(reason)
    return ContradictionError(f"{detail}: a case cannot state one without the other", where=path)


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
            lits = [l for index, v in zip(indices, combo)
                    for l in next(ls for ov, ls in run.options[index] if ov == v)]
            blockers.append(run.block(lits))
    return sorted(found, key=lambda s: len(s.conditions))
