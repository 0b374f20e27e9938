"""Shared machinery of `verify`, `diff` and `mutate`: a Control holding one or two versions
of the rules over a bounded domain, the renaming of one version's derived predicates
(a clingo.ast transformer), and asking the solver for a case that reaches a goal.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import clingo
from clingo import ast

from ..core.atoms import iter_input_predicates
from .domain import Bounds, Domain

OUTPUTS = (("permitted", 1), ("required", 1), ("finding", 2), ("obligation", 2))


def input_predicates(statements: Iterable[Any]) -> set[str]:
    """Names of the input predicates: those the case format states and those `#defined`."""
    names = {name for name, _ in iter_input_predicates()}
    for statement in statements:
        if statement.ast_type == ast.ASTType.Defined:
            names.add(statement.name)
    return names


class _Rename(ast.Transformer):
    def __init__(self, keep: set[str], prefix: str) -> None:
        self.keep = keep
        self.prefix = prefix

    def visit_SymbolicAtom(self, node: Any) -> Any:
        symbol = node.symbol
        if symbol.ast_type == ast.ASTType.Pool:  # p(a; b): a pool of atoms
            return node.update(symbol=symbol.update(arguments=[
                self.visit_SymbolicAtom(ast.SymbolicAtom(a)).symbol for a in symbol.arguments]))
        if symbol.ast_type == ast.ASTType.Function and symbol.name not in self.keep and not symbol.external:
            return node.update(symbol=symbol.update(name=self.prefix + symbol.name))
        if symbol.ast_type == ast.ASTType.SymbolicTerm and symbol.symbol.type == clingo.SymbolType.Function:
            sym = symbol.symbol
            if sym.name not in self.keep:
                return node.update(symbol=symbol.update(
                    symbol=clingo.Function(self.prefix + sym.name, sym.arguments, sym.positive)))
        return node


def renamed(statements: Sequence[Any], prefix: str) -> list[Any]:
    """A copy of the rules whose derived predicates carry `prefix`; inputs keep their names,
    so both copies read the same case. `#show` statements are dropped."""
    keep = input_predicates(statements)
    rename = _Rename(keep, prefix)
    out = []
    for statement in statements:
        if statement.ast_type in (ast.ASTType.ShowSignature, ast.ASTType.ShowTerm, ast.ASTType.Defined):
            continue
        out.append(rename(statement))
    return out


@dataclass
class Grounded:
    """A grounded Control over a domain, and how long grounding took."""

    ctl: clingo.Control
    domain: Domain
    seconds: float

    def literal(self, symbol: clingo.Symbol) -> int | None:
        atom = self.ctl.symbolic_atoms[symbol]
        return atom.literal if atom is not None else None

    def atoms(self, name: str, arity: int) -> list[clingo.Symbol]:
        return [a.symbol for a in self.ctl.symbolic_atoms.by_signature(name, arity)]

    def goal(self, bodies: Iterable[Sequence[int]]) -> int | None:
        """A fresh atom that holds when any of the bodies does (None: no body at all)."""
        bodies = [list(b) for b in bodies]
        if not bodies:
            return None
        with self.ctl.backend() as backend:
            atom = backend.add_atom()
            for body in bodies:
                backend.add_rule([atom], body)
        return atom

    def search(self, goal: int | None, on_model: Callable[[clingo.Model], None] | None = None,
               optimise: bool = True) -> tuple[set[clingo.Symbol] | None, float]:
        """A smallest case (all atoms of the best model) reaching the goal, or None: no case
        in the domain does. Returns the seconds spent too."""
        start = time.perf_counter()
        if goal is None:
            return None, time.perf_counter() - start
        best: list[set[clingo.Symbol]] = []

        def keep(model: clingo.Model) -> None:
            best.append(set(model.symbols(atoms=True)))
            if on_model:
                on_model(model)

        self.ctl.configuration.solve.opt_mode = "opt" if optimise else "ignore"
        result = self.ctl.solve(assumptions=[goal], on_model=keep)
        return (best[-1] if result.satisfiable and best else None), time.perf_counter() - start


@functools.lru_cache(maxsize=8)
def domain_for(bounds: Bounds) -> Domain:
    """The domain of a size, built once (its statements are cached too)."""
    return Domain(bounds)


def ground(programs: Sequence[Sequence[Any]], bounds: Bounds) -> Grounded:
    """Ground the given statement lists (policy, properties, a renamed copy) over a domain."""
    start = time.perf_counter()
    ctl = clingo.Control(["--warn=none"])
    domain = domain_for(bounds)
    with ast.ProgramBuilder(ctl) as builder:
        for statements in (*programs, domain.statements()):
            for statement in statements:
                builder.add(statement)
    ctl.ground([("base", [])])
    domain.preferences(ctl)
    return Grounded(ctl, domain, time.perf_counter() - start)
