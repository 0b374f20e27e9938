"""Evaluate a translated policy with pyDatalog, the second engine.

pyDatalog keeps its rules and facts in a ``Logic`` that is not safe to share between
threads, so each thread builds its own from the translation and keeps it; a query
asserts the case's facts, asks for every output atom at once and retracts the facts
again. Values are encoded so that clingo's numbers, strings, constants and function
terms never collide, and comparisons and arithmetic follow clingo's rules.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from clingo import Function, Number, String, Symbol, SymbolType

from ...errors import PyispError
from .program import (COMPARE, Atom, BodyItem, Clause, Comparison, Compound, Const, Literal, Term, Undefined,
                      Var, evaluate, has_arith, variables)
from .translate import SHOW, Translation

INSTALL_HINT = "pip install 'pyisp[crosscheck]'  (or: pip install pyDatalog)"
OUT = "out#"
STATUS = "#status"
INCONSISTENT = "inconsistent"


class MissingEngine(PyispError):
    """pyDatalog is not installed (it is an optional extra)."""


def load_pydatalog() -> tuple[Any, Any, Any, Any]:
    """pyDatalog's engine modules, or MissingEngine saying how to install them."""
    try:
        from pyDatalog import Aggregate, Logic, pyEngine, pyParser
    except ImportError:
        raise MissingEngine(f"pyDatalog is not installed: {INSTALL_HINT}") from None
    return Logic, pyEngine, pyParser, Aggregate


# ------------------------------------------------------------------ values

@dataclass(frozen=True)
class _Text:
    """A clingo string (so that "a" and the constant a stay apart)."""

    value: str


@dataclass(frozen=True)
class _Name:
    """The name at the head of an encoded function term. A bare str there would let a
    term such as f(1) encode as ('f', 1), which is how pyDatalog names its own fresh
    variables: the two would be taken for one another."""

    value: str


@dataclass(frozen=True)
class _Special:
    name: str


class _Missing:
    """The value of an undefined operation: equal to nothing."""


UNDEFINED = _Missing()


def encode(symbol: Symbol) -> Any:
    """A clingo symbol as a pyDatalog value: int, str (constant), _Text, or a tuple
    (_Name(name), *arguments) for a function term, name '' for a tuple, '-name' when negated."""
    kind = symbol.type
    if kind == SymbolType.Number:
        return symbol.number
    if kind == SymbolType.String:
        return _Text(symbol.string)
    if kind == SymbolType.Function:
        if symbol.positive and symbol.name and not symbol.arguments:
            return symbol.name
        name = symbol.name if symbol.positive else "-" + symbol.name
        return (_Name(name), *(encode(a) for a in symbol.arguments))
    return _Special(str(symbol))


def decode(value: Any) -> Symbol:
    """The clingo symbol of a pyDatalog value."""
    if isinstance(value, bool):
        raise TypeError("not a clingo value")
    if isinstance(value, int):
        return Number(value)
    if isinstance(value, str):
        return Function(value)
    if isinstance(value, _Text):
        return String(value.value)
    if isinstance(value, tuple):
        name = value[0].value
        negative = name.startswith("-")
        return Function(name[1:] if negative else name, [decode(v) for v in value[1:]], not negative)
    raise TypeError(f"not a clingo value: {value!r}")


# ------------------------------------------------------------------ answers

@dataclass(frozen=True)
class DatalogAnswer:
    """The output atoms pyDatalog derives for one set of facts, and whether the facts
    contradict each other (``inconsistent``) or break an integrity constraint."""

    atoms: frozenset[Symbol]
    inconsistent: bool
    violated: tuple[str, ...]


class DatalogEngine:
    """A translated policy ready to run in pyDatalog; one pyDatalog logic per thread."""

    def __init__(self, translation: Translation) -> None:
        self.translation = translation
        load_pydatalog()
        self._local = threading.local()

    def answer(self, facts: Iterable[Symbol]) -> DatalogAnswer:
        """Every output atom for these facts (all inputs known)."""
        Logic, pyEngine, _, _ = load_pydatalog()
        logic = getattr(self._local, "logic", None)
        previous = getattr(Logic.tl, "logic", None)
        try:
            if logic is None:
                logic = self._local.logic = self._build(Logic, pyEngine)
            Logic.tl.logic = logic
            asserted = []
            try:
                for symbol in facts:
                    clause = pyEngine.Clause(_ground_literal(pyEngine, symbol), [])
                    pyEngine.assert_(clause)
                    asserted.append(clause)
                rows = pyEngine.Literal(OUT, [pyEngine.Var("O")]).ask() or []
            finally:
                for clause in asserted:
                    pyEngine.retract(clause)
        finally:
            if previous is not None:
                Logic.tl.logic = previous
        atoms, status = set(), []
        for (value,) in rows:
            if isinstance(value, tuple) and value[0] == _Name(STATUS):
                status.append(value[1])
            else:
                atoms.add(decode(value))
        violated = tuple(sorted(self.translation.constraints[s] for s in status if s != INCONSISTENT))
        return DatalogAnswer(frozenset(atoms), INCONSISTENT in status, violated)

    # -- loading the rules into a fresh logic -----------------------------------------
    def _build(self, Logic: Any, pyEngine: Any) -> Any:
        logic = object.__new__(Logic)
        Logic.tl.logic = logic
        pyEngine.clear()
        load_pydatalog()[2].clear()  # the parser's per-thread state (used for counts)
        builder = _Builder(pyEngine, self.translation)
        for signature in sorted(self.translation.predicates):
            name, arity = signature.rsplit("/", 1)
            pyEngine.insert(pyEngine.Pred(name, int(arity)))
        for clause in self.translation.clauses:
            builder.clause(clause)
        builder.outputs()
        return logic


def _ground_literal(pyEngine: Any, symbol: Symbol) -> Any:
    return pyEngine.Literal(symbol.name, [pyEngine.Term_of(encode(a)) for a in symbol.arguments])


class _Builder:
    """Turns translated clauses into pyDatalog clauses in the current thread's logic."""

    def __init__(self, pyEngine: Any, translation: Translation) -> None:
        self.e = pyEngine
        self.translation = translation
        self.counts: dict[str, int] = {c.head.pred: len(c.head.args) - 1 for c in translation.clauses if c.count}

    def term(self, term: Term) -> Any:
        e = self.e
        if isinstance(term, Var):
            return e.Var(term.name)
        if isinstance(term, Const):
            return e.Term_of(encode(term.value))
        if isinstance(term, Compound):
            return e.VarTuple([e.Const(_Name(term.name))] + [self.term(a) for a in term.args])
        raise TypeError("arithmetic is evaluated through comparisons")

    def atom(self, atom: Atom, negated: bool = False) -> Any:
        e = self.e
        if atom.pred in self.counts:
            # the value of a count: pyDatalog's function form counted[keys] == N
            keys = len(atom.args) - 1
            name = f"{atom.pred}[{keys}]=="
            lit = e.Literal(name, [e.Const("_pyD_class")] + [self.term(a) for a in atom.args], prearity=keys + 1)
            return lit
        return e.Literal(("~" if negated else "") + atom.pred, [self.term(a) for a in atom.args])

    def call(self, function: Callable[..., Any], names: list[str]) -> Any:
        e = self.e
        return e.Operation(e.Const(None), function, e.VarTuple([e.Var(n) for n in names]))

    def body(self, items: Iterable[BodyItem]) -> list[Any]:
        e = self.e
        result = []
        for item in items:
            if isinstance(item, Literal):
                result.append(self.atom(item.atom, item.negated))
                continue
            names = list(dict.fromkeys(variables(item)))
            if item.op == "=" and not (has_arith(item.left) and has_arith(item.right)):
                pattern, value = (item.left, item.right) if not has_arith(item.left) else (item.right, item.left)
                if not has_arith(value):
                    result.append(e.Literal("==", [self.term(pattern), self.term(value)]))
                else:
                    inputs = list(dict.fromkeys(variables(value)))
                    result.append(e.Literal("==", [self.term(pattern), self.call(_value_of(value, inputs), inputs)]))
                    result.append(e.Literal("!=", [self.term(pattern), e.Const(UNDEFINED)]))
                continue
            result.append(e.Literal("==", [self.call(_comparison(item, names), names), e.Const(True)]))
        return result

    def clause(self, clause: Clause) -> None:
        e = self.e
        if clause.count:
            self.count(clause)
            return
        head = e.Literal(clause.head.pred, [self.term(a) for a in clause.head.args])
        e.assert_(e.Clause(head, self.body(clause.body)))

    def count(self, clause: Clause) -> None:
        """``counted(G, N)``: N distinct values T of ``members(G, T)`` (pyDatalog's len_)."""
        from pyDatalog import Aggregate, pyParser

        keys = [pyParser.Term(a.name) for a in clause.head.args[:-1]]  # type: ignore[union-attr]
        (member,) = clause.body
        counted = pyParser.Term(member.atom.args[-1].name)  # type: ignore[union-attr]
        function = pyParser.Function(clause.head.pred, tuple(keys))
        head = Aggregate.Len(counted).make_literal_for(function, "==")
        self.e.assert_(self.e.Clause(head.lua, self.body(clause.body)))

    def outputs(self) -> None:
        """One predicate holding every output atom, so that one query finds them all."""
        e = self.e
        shown = self.translation.shown
        signatures = shown if shown is not None else {
            s for s in self.translation.predicates if "#" not in s}
        for signature in sorted(signatures):
            name, arity = signature.rsplit("/", 1)
            if name.startswith("-"):
                continue
            args = [e.Var(f"X{i}") for i in range(int(arity))]
            value = e.VarTuple([e.Const(_Name(name))] + args) if args else e.Const(name)
            e.assert_(e.Clause(e.Literal(OUT, [value]), [e.Literal(name, args)]))
        if any(c.head.pred == SHOW for c in self.translation.clauses):
            e.assert_(e.Clause(e.Literal(OUT, [e.Var("T")]), [e.Literal(SHOW, [e.Var("T")])]))
        status = [(INCONSISTENT, INCONSISTENT)] if f"{INCONSISTENT}/0" in self.translation.predicates else []
        status += [(name, name) for name in self.translation.constraints]
        for tag, pred in status:
            e.assert_(e.Clause(e.Literal(OUT, [e.VarTuple([e.Const(_Name(STATUS)), e.Const(tag)])]),
                               [e.Literal(pred, [])]))


def _bind(names: list[str], values: tuple[Any, ...]) -> dict[str, Symbol]:
    return {n: decode(v) for n, v in zip(names, values)}


def _value_of(term: Term, names: list[str]) -> Callable[..., Any]:
    def value(*values: Any) -> Any:
        try:
            return encode(evaluate(term, _bind(names, values)))
        except (Undefined, TypeError):
            return UNDEFINED
    return value


def _comparison(item: Comparison, names: list[str]) -> Callable[..., bool]:
    test = COMPARE[item.op]

    def compare(*values: Any) -> bool:
        try:
            binding = _bind(names, values)
            return bool(test(evaluate(item.left, binding), evaluate(item.right, binding)))
        except (Undefined, TypeError):
            return False
    return compare
