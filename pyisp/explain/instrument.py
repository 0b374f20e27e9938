"""Record which rules fire for a case, read from the rules themselves.

Each rule ``H :- B.`` of the policy gets a companion rule with the same body,

    __fired(I, H, (C1, ..., Cn)) :- B.

where I is the rule's index in ``Policy.rules`` and each Ci records one body condition,
kept apart by kind: ``pos(A)`` a positive atom, ``neg(A)`` a negated atom, ``cmp(L, Op, R)``
a comparison (``neg((cmp(...), ...))`` a negated one), ``cond(L, (C...))`` a conditional literal (its local variables left as
``__var("K")``), ``agg(Text)`` an aggregate. An anonymous variable under ``not`` is
recorded as ``__var("_")``. The instrumented program runs in its own ``clingo.Control``
with the same inputs and unknowns as the engine, built by the same function
(`pyisp.core.program.case_control`: unknowns are free choices), so the
brave consequences say which rule instances fire in some completion of the case and the
cautious ones which fire in every completion. Only asked for by explanations and rule
coverage: a plain query never pays for it.

Public entry points: `fired_rules(policy, inputs)` (rule coverage; stable) and
`trace(policy, inputs)` (everything an explanation needs).
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

import clingo
from clingo import ast
from clingo.symbol import Symbol

from ..core.atoms import Inputs
from ..core.policy import Policy, ast_lock
from ..core.program import case_control
from ..errors import ContradictionError

FIRED = "__fired"
VAR = "__var"
_OPERATORS = {ast.ComparisonOperator.Equal: "=", ast.ComparisonOperator.NotEqual: "!=",
              ast.ComparisonOperator.LessThan: "<", ast.ComparisonOperator.LessEqual: "<=",
              ast.ComparisonOperator.GreaterThan: ">", ast.ComparisonOperator.GreaterEqual: ">="}
_SKIPPED = (ast.ASTType.ShowSignature, ast.ASTType.ShowTerm)


# -- the AST transformation ------------------------------------------------------------
def _variables(node: Any) -> set[str]:
    found: set[str] = set()

    def visit(item: Any) -> None:
        if isinstance(item, ast.AST):
            if item.ast_type == ast.ASTType.Variable:
                found.add(item.name)
                return
            for key in item.child_keys:
                visit(getattr(item, key))
        elif isinstance(item, (list, tuple, ast.ASTSequence)):
            for sub in item:
                visit(sub)

    visit(node)
    return found


class _Rename(ast.Transformer):
    """Replace variables by what `fn` returns for them."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def visit_Variable(self, node: Any) -> Any:  # noqa: N802 (clingo's naming)
        return self.fn(node)


def _string(loc: Any, text: str) -> Any:
    return ast.SymbolicTerm(loc, clingo.String(text))


def _fun(loc: Any, name: str, args: list[Any]) -> Any:
    return ast.Function(loc, name, args, False)


def _tuple(loc: Any, items: list[Any]) -> Any:
    return ast.Function(loc, "", items, False)


def _free(loc: Any, names: set[str]) -> _Rename:
    """Variables in `names` (and `_`) become the constant ``__var("Name")``."""
    return _Rename(lambda v: _fun(loc, VAR, [_string(loc, v.name)]) if v.name in names or v.name == "_" else v)


def _atom_term(literal: Any) -> Any | None:
    atom = literal.atom
    if atom.ast_type == ast.ASTType.SymbolicAtom:
        return atom.symbol
    return None


class _Companion:
    """Build the recording rule of one policy rule."""

    def __init__(self, index: int, rule: Any) -> None:
        self.index = index
        self.rule = rule
        self.loc = rule.location
        self.counter = itertools.count()

    def _fresh(self, var: Any) -> Any:
        if var.name == "_":
            return ast.Variable(var.location, f"__A{next(self.counter)}")
        return var

    def _head(self) -> Any:
        head = self.rule.head
        if head.ast_type == ast.ASTType.Literal:
            if head.atom.ast_type == ast.ASTType.SymbolicAtom:
                term = head.atom.symbol
                return _fun(self.loc, "neg", [term]) if head.sign != ast.Sign.NoSign else term
            if head.atom.ast_type == ast.ASTType.BooleanConstant:
                return _fun(self.loc, "false" if not head.atom.value else "true", [])
        return _fun(self.loc, "complex", [_string(self.loc, str(head))])

    def _outside(self, skip: int) -> set[str]:
        names = _variables(self.rule.head)
        for position, element in enumerate(self.rule.body):
            if position == skip or element.ast_type == ast.ASTType.ConditionalLiteral:
                continue
            if element.ast_type == ast.ASTType.Literal and element.atom.ast_type == ast.ASTType.BodyAggregate:
                agg = element.atom
                names |= _variables(agg.left_guard) | _variables(agg.right_guard)
                continue
            names |= _variables(element)
        return names

    def build(self) -> Any:
        loc = self.loc
        body: list[Any] = []
        records: list[Any] = []
        for position, element in enumerate(self.rule.body):
            kind = element.ast_type
            if kind == ast.ASTType.ConditionalLiteral:
                local = _variables(element) - self._outside(position)
                free = _free(loc, local)
                parts = [r for c in element.condition for r in self._records(free.visit(c))]
                records.append(_fun(loc, "cond", [self._records(free.visit(element.literal))[0],
                                                  _tuple(loc, parts)]))
                body.append(element)
                continue
            if kind != ast.ASTType.Literal:
                body.append(element)
                continue
            if element.sign == ast.Sign.NoSign and element.atom.ast_type in (ast.ASTType.SymbolicAtom,
                                                                              ast.ASTType.Comparison):
                element = _Rename(self._fresh).visit(element)  # name anonymous variables to record them
                records += self._records(element)
            else:  # under `not` an anonymous variable stays unbound: record it as __var("_")
                records += self._records(_free(loc, set()).visit(element))
            body.append(element)
        head = _fun(loc, FIRED, [ast.SymbolicTerm(loc, clingo.Number(self.index)), self._head(),
                                 _tuple(loc, records)])
        return ast.Rule(loc, ast.Literal(loc, ast.Sign.NoSign, ast.SymbolicAtom(head)), body)

    def _records(self, literal: Any) -> list[Any]:
        """The records of one body literal: `not not a` reads as `a`; a chained comparison
        gives one record a link; a negated one is `neg((cmp(...), ...))`."""
        loc = self.loc
        atom = literal.atom
        negated = literal.sign == ast.Sign.Negation
        if atom.ast_type == ast.ASTType.SymbolicAtom:
            return [_fun(loc, "neg" if negated else "pos", [atom.symbol])]
        if atom.ast_type == ast.ASTType.Comparison:
            parts, left = [], atom.term
            for guard in atom.guards:
                parts.append(_fun(loc, "cmp", [left, _string(loc, _OPERATORS[guard.comparison]), guard.term]))
                left = guard.term
            return [_fun(loc, "neg", [_tuple(loc, parts)])] if negated else parts
        if atom.ast_type == ast.ASTType.BooleanConstant:
            return []
        return [_fun(loc, "agg", [_string(loc, str(literal))])]


def companion(index: int, rule: Any) -> Any:
    """The recording rule of the policy's rule number `index` (an AST rule)."""
    return _Companion(index, rule).build()


def instrumented(policy: Policy) -> list[Any]:
    """The policy's statements with a recording companion after each rule, without its
    #show statements (every atom is shown, so all truths can be read)."""
    out: list[Any] = []
    index = 0
    with ast_lock():
        for statement in policy.statements:
            if statement.ast_type in _SKIPPED:
                continue
            out.append(statement)
            if statement.ast_type == ast.ASTType.Rule:
                out.append(companion(index, statement))
                index += 1
    return out


# -- running it ------------------------------------------------------------------------
@dataclass(frozen=True)
class Firing:
    """One rule instance that fires in some completion of the case (`certain`: in all)."""

    rule: int
    head: Symbol
    conditions: tuple[Symbol, ...]
    certain: bool

    def of_kind(self, kind: str) -> tuple[Symbol, ...]:
        return tuple(c.arguments[0] for c in self.conditions if c.name == kind)

    @property
    def positive(self) -> tuple[Symbol, ...]:
        return self.of_kind("pos")

    @property
    def negative(self) -> tuple[Symbol, ...]:
        return self.of_kind("neg")

    @property
    def comparisons(self) -> tuple[Symbol, ...]:
        return tuple(c for c in self.conditions if c.name == "cmp")


@dataclass(frozen=True)
class Trace:
    """What an instrumented run of one case found: atoms true in every completion
    (`certain`), in some (`possible`), and the rule instances that fire."""

    certain: frozenset[Symbol]
    possible: frozenset[Symbol]
    firings: tuple[Firing, ...]
    _solver: Any = field(default=None, repr=False, compare=False)  # (control, base assumptions)

    def always_one_of(self, atoms: Iterable[Symbol]) -> bool:
        """Whether at least one of the atoms holds in every completion (true although
        none of them may be certain on its own): no completion makes them all false."""
        if self._solver is None:
            return False
        ctl, base = self._solver
        lits = []
        for atom in atoms:
            found = ctl.symbolic_atoms[atom]
            if found is not None:
                lits.append(-found.literal)
        return not ctl.solve(assumptions=list(base) + lits).satisfiable

    @cached_property
    def by_head(self) -> dict[Symbol, tuple[Firing, ...]]:
        index: dict[Symbol, list[Firing]] = {}
        for firing in self.firings:
            index.setdefault(firing.head, []).append(firing)
        return {head: tuple(items) for head, items in index.items()}

    @cached_property
    def by_name(self) -> dict[tuple[str, int], tuple[Symbol, ...]]:
        index: dict[tuple[str, int], list[Symbol]] = {}
        for symbol in self.possible:
            if symbol.type == clingo.SymbolType.Function:
                index.setdefault((symbol.name, len(symbol.arguments)), []).append(symbol)
        return {key: tuple(sorted(items)) for key, items in index.items()}

    def truth(self, atom: Symbol) -> str:
        """``yes`` (in every completion), ``no`` (in none) or ``unknown`` (in some)."""
        if atom in self.certain:
            return "yes"
        return "unknown" if atom in self.possible else "no"


def _consequences(ctl: clingo.Control, mode: str, assumptions: list[int]) -> frozenset[Symbol] | None:
    config = ctl.configuration.solve
    config.enum_mode = mode
    config.models = 0
    last: list[list[Symbol]] = []
    result = ctl.solve(assumptions=assumptions, on_model=lambda m: last.append(m.symbols(shown=True)))
    return frozenset(last[-1]) if result.satisfiable and last else None


# the instrumented statements of each policy in use, dropped with the policy
_INSTRUMENTED: "weakref.WeakKeyDictionary[Policy, list[Any]]" = weakref.WeakKeyDictionary()


def _statements(policy: Policy) -> list[Any]:
    found = _INSTRUMENTED.get(policy)
    if found is None:
        found = _INSTRUMENTED[policy] = instrumented(policy)
    return found


def companions(policy: Policy) -> list[Any]:
    """The recording rules alone (AST), in the order of ``policy.rules``."""
    return [s for s in _statements(policy) if s.ast_type == ast.ASTType.Rule
            and s.head.ast_type == ast.ASTType.Literal and s.head.atom.ast_type == ast.ASTType.SymbolicAtom
            and s.head.atom.symbol.ast_type == ast.ASTType.Function and s.head.atom.symbol.name == FIRED]


def trace(policy: Policy, inputs: Inputs) -> Trace:
    """Run the instrumented policy on a case's inputs."""
    ctl, base = case_control(_statements(policy), inputs)
    possible = _consequences(ctl, "brave", base)
    certain = _consequences(ctl, "cautious", base) if possible is not None else None
    if possible is None or certain is None:
        raise ContradictionError("the facts of the case cannot all hold together")
    firings = []
    atoms_possible, atoms_certain = set(), set()
    for symbol in possible:
        if symbol.name == FIRED and len(symbol.arguments) == 3:
            rule, head, conditions = symbol.arguments
            firings.append(Firing(rule.number, head, tuple(conditions.arguments), symbol in certain))
        else:
            atoms_possible.add(symbol)
            if symbol in certain:
                atoms_certain.add(symbol)
    # a fixed order, whatever the order of the solver's set (it followed the hash seed): by
    # rule and head, the firings that hold in every completion first, then by their conditions
    firings.sort(key=lambda f: (f.rule, f.head, not f.certain, f.conditions))
    config = ctl.configuration.solve
    config.enum_mode, config.models = "auto", 1
    return Trace(frozenset(atoms_certain), frozenset(atoms_possible), tuple(firings), (ctl, base))


def fired_rules(policy: Policy, inputs: Inputs, *, every_completion: bool = False) -> frozenset[int]:
    """The indices (into ``policy.rules``) of the rules that fire for a case: in some
    completion of its unknowns, or with `every_completion` in all of them.

    >>> from pyisp.core.atoms import case_inputs; from pyisp.core.case import Case
    >>> policy = Policy()
    >>> case = Case.load("facts/teacher-counselling-disclosure.yaml")       # doctest: +SKIP
    >>> [policy.rules[i].where for i in sorted(fired_rules(policy, case_inputs(dict(case.data))))]  # doctest: +SKIP
    """
    found = trace(policy, inputs)
    return frozenset(f.rule for f in found.firings if f.certain or not every_completion)

