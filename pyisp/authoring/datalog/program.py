"""The flat Datalog form the policy is translated into: terms, atoms, body items and
clauses, plus clingo's arithmetic and order on values, so that the second engine can
evaluate them without calling clingo.

Nothing here knows pyDatalog; pyisp/authoring/datalog/evaluate.py loads these clauses into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Union

from clingo import Function, Number, Symbol, SymbolType


@dataclass(frozen=True)
class Var:
    """A variable of one clause."""

    name: str


@dataclass(frozen=True)
class Const:
    """A ground value (a clingo symbol)."""

    value: Symbol


@dataclass(frozen=True)
class Compound:
    """A function term with variables inside (``not_told(E)``); name "" is a tuple."""

    name: str
    args: tuple["Term", ...]


@dataclass(frozen=True)
class Arith:
    """An arithmetic operation: + - * / \\ ** & ? ^ on two terms, or neg, bnot, abs on one."""

    op: str
    args: tuple["Term", ...]


Term = Union[Var, Const, Compound, Arith]


@dataclass(frozen=True)
class Atom:
    pred: str
    args: tuple[Term, ...]

    @property
    def signature(self) -> str:
        return f"{self.pred}/{len(self.args)}"


@dataclass(frozen=True)
class Literal:
    """A body atom, under ``not`` when negated."""

    atom: Atom
    negated: bool = False


@dataclass(frozen=True)
class Comparison:
    """``left op right`` with op one of = != < <= > >=; ``=`` may bind the side that is a pattern."""

    op: str
    left: Term
    right: Term


BodyItem = Union[Literal, Comparison]


@dataclass(frozen=True)
class Clause:
    """``head :- body`` with the body in evaluation order. `count` marks the clause that
    counts, for each binding of the head's leading arguments, the distinct values of the
    last argument of its single body atom (the head's last argument is the count)."""

    head: Atom
    body: tuple[BodyItem, ...]
    where: str
    count: bool = False


# ------------------------------------------------------------------ terms

def variables(item: object) -> Iterator[str]:
    """The variable names in a term, atom or body item, in order of appearance."""
    if isinstance(item, Var):
        yield item.name
    elif isinstance(item, (Compound, Arith, Atom)):
        for arg in item.args:
            yield from variables(arg)
    elif isinstance(item, Literal):
        yield from variables(item.atom)
    elif isinstance(item, Comparison):
        yield from variables(item.left)
        yield from variables(item.right)


def has_arith(term: Term) -> bool:
    if isinstance(term, Arith):
        return True
    return isinstance(term, Compound) and any(has_arith(a) for a in term.args)


def compound(name: str, args: tuple[Term, ...]) -> Term:
    """A function term: a constant when every argument is ground."""
    if all(isinstance(a, Const) for a in args):
        return Const(Function(name, [a.value for a in args]))  # type: ignore[union-attr]
    return Compound(name, args)


# ------------------------------------------------------------------ clingo's arithmetic

class Undefined(Exception):
    """An operation clingo leaves undefined (on a non-number, division by zero): the rule
    instance does not apply."""


def _wrap(value: int) -> int:
    """clingo's integers are 32-bit and wrap around."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _div(a: int, b: int) -> int:
    if b == 0:
        raise Undefined
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


def _mod(a: int, b: int) -> int:
    if b == 0:
        raise Undefined
    return a - _div(a, b) * b


def _pow(a: int, b: int) -> int:
    if b < 0:
        if a == 0:
            raise Undefined
        return 1 if a == 1 else (1 if b % 2 == 0 else -1) if a == -1 else 0
    return _wrap(pow(a, b, 1 << 32))


BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _div, "\\": _mod, "**": _pow, "&": lambda a, b: a & b, "?": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
}
UNARY = {"neg": lambda a: -a, "bnot": lambda a: ~a, "abs": abs}


def evaluate(term: Term, binding: dict[str, Symbol]) -> Symbol:
    """The value of a term under a binding of its variables, by clingo's rules; raises
    Undefined where clingo would drop the rule instance."""
    if isinstance(term, Const):
        return term.value
    if isinstance(term, Var):
        return binding[term.name]
    if isinstance(term, Compound):
        return Function(term.name, [evaluate(a, binding) for a in term.args])
    values = [evaluate(a, binding) for a in term.args]
    if any(v.type != SymbolType.Number for v in values):
        if term.op == "neg" and values[0].type == SymbolType.Function and values[0].name:
            return Function(values[0].name, values[0].arguments, not values[0].positive)
        raise Undefined
    numbers = [v.number for v in values]
    result = UNARY[term.op](*numbers) if len(numbers) == 1 else BINARY[term.op](*numbers)
    return Number(_wrap(result))


COMPARE = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
NEGATED = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
