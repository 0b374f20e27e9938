"""Explanations: why a conclusion holds, why it does not, and what would settle it.

Built from the rules themselves (pyisp/explain/instrument.py records every rule instance that
fires), never written per conclusion. Each statement is labelled by its truth over the
completions of the case: ``yes`` (true whatever the unknowns are: a cautious
consequence), ``no`` (true for none of them: not a brave consequence) or ``unknown``
(true for some). So "the case does not state a refusal" (no) is kept apart from "it is
unknown whether consent was refused" (unknown).

- why: the rule instances that derive the statement, each with its paragraphs and the
  conditions it used (negative ones too), down to the facts of the case; every rule that
  derives it is shown, marked "applies" (in every completion) or "may apply".
- why not: the rules whose head could match, instantiated as far as the case allows,
  with the conditions that fail or are unknown; the closest instances of each rule.
- what would change it: the engine's deciding sets (`Disclosure.depends_on`) in words.

Reading taken: a statement that holds in every completion but by different rules in
different completions is reported as holding, with each rule marked "may apply".
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

import clingo
from clingo import ast
from clingo.symbol import Symbol, SymbolType

from ..core.atoms import Inputs, case_inputs, iter_input_predicates
from ..errors import CaseError
from .instrument import Trace, companions, trace as run_trace
from ..core.policy import OUTPUT_FILE, Policy, paragraph_key
from ..core.result import _term as _parts
from .wording import VAR, Wording, case_names, conclusion_term, load_templates, load_words

YES, NO, UNKNOWN, UNCHECKED = "yes", "no", "unknown", "unchecked"
JOINTLY = "no condition fails in every completion of the case, yet in none do all of them hold"
VERDICTS = ("must_share", "may_share", "must_not_share", "undetermined")
MAX_INSTANCES = 2      # closest instances shown per rule in a why-not
MAX_BINDINGS = 64      # partial instances tried per rule
WHY_NOT_DEPTH = 4      # nested why-nots below a failed condition
MAX_DEPTH = 14         # any statement deeper than this is not expanded
OTHERS_DEPTH = 2       # down to this depth an open question also shows the rules that do not apply


# -- the tree -------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    """Something that holds (`truth` yes), does not (no) or depends on unknowns (unknown),
    with the rule instances behind it (`steps`). `kind`: input, derived, comparison,
    aggregate or all (a condition over several atoms, listed in `cases`)."""

    atom: str
    sentence: str
    truth: str
    kind: str
    field: str | None = None
    denial: str | None = None
    steps: tuple["Step", ...] = ()
    cases: tuple["Check", ...] = ()
    repeated: bool = False
    note: str = ""
    given: str = ""     # an input: "stated", "presumed" (not stated; `note` says what is presumed) or "open"
    question: str = ""  # an open input: the question the case format asks of it

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"atom": self.atom, "sentence": self.sentence, "truth": self.truth, "kind": self.kind}
        if self.field:
            data["field"] = self.field
        if self.given:
            data["given"] = self.given
        if self.steps:
            data["steps"] = [s.to_dict() for s in self.steps]
        if self.cases:
            data["cases"] = [c.to_dict() for c in self.cases]
        if self.repeated:
            data["repeated"] = True
        if self.note:
            data["note"] = self.note
        return data

    def walk(self) -> Iterator["Statement"]:
        yield self
        for step in self.steps:
            for check in step.checks:
                yield from check.statement.walk()
        for check in self.cases:
            yield from check.statement.walk()

    def all_steps(self) -> Iterator["Step"]:
        for statement in self.walk():
            yield from statement.steps


@dataclass(frozen=True)
class Check:
    """One condition of a rule as written (`negated`: under `not`), whether it holds."""

    negated: bool
    holds: str
    statement: Statement

    def to_dict(self) -> dict[str, Any]:
        return {"negated": self.negated, "holds": self.holds, "statement": self.statement.to_dict()}


@dataclass(frozen=True)
class Step:
    """One rule instance: `applies` (in every completion), `may apply` (in some) or
    `does not apply`, with its paragraphs and conditions. `more`: further instances of
    the same rule left out of a why-not."""

    rule: str
    conclusion: str
    paragraphs: tuple[str, ...]
    summary: str
    status: str
    checks: tuple[Check, ...]
    more: int = 0
    note: str = ""

    @property
    def predicate(self) -> str:
        """The name of the predicate the rule concludes (``permitted_by``)."""
        return self.conclusion.split("(", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule, "conclusion": self.conclusion,
                                "paragraphs": list(self.paragraphs), "summary": self.summary,
                                "status": self.status, "conditions": [c.to_dict() for c in self.checks]}
        if self.more:
            data["more_instances"] = self.more
        if self.note:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class Change:
    """A smallest set of facts or judgements that would settle a conclusion, in words."""

    conditions: tuple[str, ...]
    fields: tuple[str, ...]
    effect: str
    verdict: str | None
    paragraphs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"if": list(self.conditions), "fields": list(self.fields), "then": self.effect,
                "verdict": self.verdict, "paragraphs": list(self.paragraphs)}


@dataclass(frozen=True)
class Reason:
    """A deciding reason of a verdict, in words: what decides it, with its paragraphs;
    `certain` when it decides in every completion of the case (else it may decide)."""

    sentence: str
    paragraphs: tuple[str, ...]
    certain: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "paragraphs": list(self.paragraphs), "certain": self.certain}


@dataclass(frozen=True)
class Todo:
    """An obligation in words: how strongly the guidance asks it (must, should, may), with
    its paragraphs; `certain` when it holds whatever the unknown facts are."""

    strength: str
    sentence: str
    paragraphs: tuple[str, ...]
    certain: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"strength": self.strength, "sentence": self.sentence, "paragraphs": list(self.paragraphs),
                "certain": self.certain}


class _Lazy:
    """A value computed on first use, once, under the explainer's lock (thread-safe)."""

    def __init__(self, make: Any, lock: Any) -> None:
        self.make, self.lock, self.value, self.done = make, lock, None, False

    def get(self) -> Any:
        if not self.done:
            with self.lock:
                if not self.done:
                    self.value = self.make()
                    self.done = True
        return self.value


@dataclass(frozen=True)
class Explanation:
    """The explanation of one conclusion (or of the verdict) for one disclosure: the
    summary (`reasons`), what to do now (`todo`), what would settle or change it
    (`changes`, `flips`) and, built only when read, the derivation (`statements`)."""

    case_id: str
    title: str
    disclosure: str
    description: str
    verdict: str
    question: str
    target: str
    answer: str
    derivation: Any = field(default=None, repr=False, compare=False)  # a _Lazy of the statements
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()
    provenance: Any = field(default=None, compare=False)  # the result's Provenance: the footer of the text
    reasons: tuple[Reason, ...] = ()
    todo: tuple[Todo, ...] = ()
    flips: tuple[Reason, ...] = ()
    result: Any = field(default=None, repr=False, compare=False)  # the Result explained: the brief opens the text

    @property
    def statements(self) -> tuple[Statement, ...]:
        """The derivation: why (or why not) the conclusion holds, rule by rule."""
        if self.derivation is None:
            return ()
        return self.derivation.get() if isinstance(self.derivation, _Lazy) else self.derivation

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The paragraphs of the summary, what to do and what would change it."""
        found = {p for item in self.reasons + self.flips for p in item.paragraphs}
        found |= {p for item in self.todo for p in item.paragraphs}
        found |= {p for change in self.changes for p in change.paragraphs}
        return tuple(sorted(found, key=paragraph_key))

    @property
    def all_paragraphs(self) -> tuple[str, ...]:
        """Every paragraph cited, the derivation's included."""
        found = set(self.paragraphs) | {p for s in self.statements for step in s.all_steps() for p in step.paragraphs}
        return tuple(sorted(found, key=paragraph_key))

    @property
    def deciding_paragraphs(self) -> tuple[str, ...]:
        return tuple(sorted({p for r in self.reasons for p in r.paragraphs}, key=paragraph_key))

    @property
    def rules(self) -> tuple[str, ...]:
        """Every rule (file:line) on the explanation's paths, in order of first use."""
        seen: dict[str, None] = {}
        for statement in self.statements:
            for step in statement.all_steps():
                seen.setdefault(step.rule, None)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "title": self.title, "disclosure": self.disclosure,
                "description": self.description, "verdict": self.verdict, "question": self.question,
                "target": self.target, "answer": self.answer,
                "reasons": [r.to_dict() for r in self.reasons], "todo": [t.to_dict() for t in self.todo],
                "flips": [f.to_dict() for f in self.flips],
                "statements": [s.to_dict() for s in self.statements],
                "changes": [c.to_dict() for c in self.changes], "notes": list(self.notes),
                "paragraphs": list(self.all_paragraphs)}

    def to_text(self, full: bool = False) -> str:
        from ..render.explanation import text

        return text(self, full=full)

    def to_markdown(self, full: bool = False) -> str:
        from ..render.explanation import markdown

        return markdown(self, full=full)

    def to_html(self, source: str | None = None, full: bool = False) -> str:
        from ..render.explanation import html

        return html([self], source, full=full)


# -- patterns: terms with __var("X") for variables ------------------------------------------
def _var(name: str) -> Symbol:
    return clingo.Function(VAR, [clingo.String(name)])


_BINARY = {ast.BinaryOperator.Plus: "+", ast.BinaryOperator.Minus: "-", ast.BinaryOperator.Multiplication: "*",
           ast.BinaryOperator.Division: "/", ast.BinaryOperator.Modulo: "\\"}


def _term(node: Any) -> Symbol:
    """An AST term as a pattern symbol (variables as __var, arithmetic as __op)."""
    kind = node.ast_type
    if kind == ast.ASTType.SymbolicTerm:
        return node.symbol
    if kind == ast.ASTType.Variable:
        return _var(node.name)
    if kind == ast.ASTType.Function:
        return clingo.Function(node.name, [_term(a) for a in node.arguments])
    if kind == ast.ASTType.UnaryOperation:
        inner = _term(node.argument)
        if inner.type == SymbolType.Number and node.operator_type == ast.UnaryOperator.Minus:
            return clingo.Number(-inner.number)
        return clingo.Function("__op", [clingo.String("-"), clingo.Number(0), inner])
    if kind == ast.ASTType.BinaryOperation:
        return clingo.Function("__op", [clingo.String(_BINARY.get(node.operator_type, "?")),
                                        _term(node.left), _term(node.right)])
    if kind == ast.ASTType.Interval:
        return clingo.Function("__op", [clingo.String(".."), _term(node.left), _term(node.right)])
    return clingo.Function("__op", [clingo.String(str(node))])


# The walks below read the same pattern and atom symbols many times per explanation: each
# symbol's functor and arguments come from core.result's table of terms (its `_term`, here
# `_parts`: read from clingo once; `name` is None unless the symbol is a function).


def _var_name(variable: Symbol) -> str:
    return _parts(_parts(variable).args[0]).string or ""


def _is_var(symbol: Symbol) -> bool:
    return _parts(symbol).name == VAR


@lru_cache(maxsize=65536)
def _ground(pattern: Symbol) -> bool:
    term = _parts(pattern)
    if term.name is not None:
        return term.name not in (VAR, "__op") and all(_ground(a) for a in term.args)
    return True


def _match(pattern: Symbol, symbol: Symbol, binding: dict[str, Symbol]) -> bool:
    """Match a pattern against a ground symbol, extending `binding` (changed in place)."""
    name, arguments = _parts(pattern).name, _parts(pattern).args
    if name is None:
        return pattern == symbol
    if name == VAR:
        variable = _var_name(pattern)
        if variable == "_":
            return True
        if variable in binding:
            return binding[variable] == symbol
        binding[variable] = symbol
        return True
    if name == "__op":
        return True
    its = _parts(symbol)
    return (its.name == name and len(its.args) == len(arguments)
            and all(_match(p, s, binding) for p, s in zip(arguments, its.args)))


def _unify(pattern: Symbol, target: Symbol, binding: dict[str, Symbol]) -> bool:
    """Match a rule's head pattern against a target that may itself hold variables."""
    if _is_var(target):
        return True
    if _is_var(pattern):
        return _match(pattern, target, binding) if _ground(target) else True
    mine, its = _parts(pattern), _parts(target)
    if mine.name is not None and its.name is not None and mine.name != "__op":
        return (mine.name == its.name and len(mine.args) == len(its.args)
                and all(_unify(p, t, binding) for p, t in zip(mine.args, its.args)))
    return _match(pattern, target, binding)


def _subst(pattern: Symbol, binding: dict[str, Symbol]) -> Symbol:
    name, arguments = _parts(pattern).name, _parts(pattern).args
    if not arguments:
        return pattern
    if name == VAR:
        return binding.get(_var_name(pattern), pattern)
    args = [_subst(a, binding) for a in arguments]
    if name == "__op" and len(args) == 3 and all(a.type == SymbolType.Number for a in args[1:]):
        left, right, op = args[1].number, args[2].number, args[0].string
        value = {"+": left + right, "-": left - right, "*": left * right,
                 "/": left // right if right else None, "\\": left % right if right else None}.get(op)
        if value is not None:
            return clingo.Number(value)
    if all(a is b or a == b for a, b in zip(args, arguments)):
        return pattern  # nothing bound in it: the same symbol
    return clingo.Function(name, args, pattern.positive)


_COMPARE = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_OPPOSITE = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_COMPARE_WORDS = {"=": "is", "!=": "is not", "<": "is under", "<=": "is at most", ">": "is over", ">=": "is at least"}


# -- the shapes of the rules ----------------------------------------------------------------
@dataclass(frozen=True)
class _Shape:
    rule: int
    head: Symbol
    conditions: tuple[Symbol, ...]


@lru_cache(maxsize=8)
def _shapes(policy: Policy) -> tuple[_Shape, ...]:
    """Every rule (pools unfolded) as patterns: the records its companion rule writes,
    with the variables left open."""
    shapes = []
    for statement in companions(policy):
        for variant in statement.unpool():
            term = _term(variant.head.atom.symbol)
            index, head, conditions = term.arguments
            shapes.append(_Shape(index.number, head, tuple(conditions.arguments)))
    return tuple(shapes)


@dataclass(frozen=True)
class _Index:
    """The rules' shapes of one policy, indexed once: by head; the output rules (show.lp);
    the paragraphs of the rules that read each predicate."""

    shapes: list[_Shape]
    output_shapes: list[_Shape]
    by_head: dict[tuple[str, int], list[_Shape]]
    paragraphs_using: dict[tuple[str, int], set[str]]


@lru_cache(maxsize=8)
def _index(policy: Policy) -> _Index:
    shapes = [s for s in _shapes(policy) if policy.rules[s.rule].file != OUTPUT_FILE]
    output_shapes = [s for s in _shapes(policy) if policy.rules[s.rule].file == OUTPUT_FILE]
    by_head: dict[tuple[str, int], list[_Shape]] = {}
    for shape in shapes:
        if shape.head.type == SymbolType.Function:
            by_head.setdefault((shape.head.name, len(shape.head.arguments)), []).append(shape)
    paragraphs_using: dict[tuple[str, int], set[str]] = {}
    for shape in shapes:  # the paragraphs of the rules that read each predicate
        for record in shape.conditions:
            for atom in _record_atoms(record):
                if atom.type == SymbolType.Function:
                    paragraphs_using.setdefault((atom.name, len(atom.arguments)), set()).update(
                        policy.rules[shape.rule].paragraphs)
    return _Index(shapes, output_shapes, by_head, paragraphs_using)


@lru_cache(maxsize=8)
def _words(policy: Policy) -> dict[str, str]:
    return load_words(policy.directory)


@lru_cache(maxsize=8)
def _templates(policy: Policy) -> dict[tuple[str, int], list[Any]]:
    return load_templates(policy.directory)


# -- building explanations ------------------------------------------------------------------
class Explainer:
    """Explains conclusions for one case: one instrumented run, shared by every question."""

    def __init__(self, policy: Policy, inputs: Inputs | Callable[[], tuple[Inputs, dict[Symbol, Any]]],
                 case: dict[str, Any] | None = None, found: Trace | None = None,
                 presumed: dict[Symbol, Any] | None = None) -> None:
        """`inputs`: the case's input atoms, or a function giving them with the atoms each
        presumption filled (called when first needed: the brief of a settled verdict
        never needs them)."""
        self.policy = policy
        self.case = case or {}
        self._trace = found
        self.lock = threading.RLock()  # one question at a time: `seen` is per question
        self._source = inputs if callable(inputs) else (lambda: (inputs, dict(presumed or {})))
        self._inputs: Inputs | None = None
        self.wording = Wording(_templates(policy), case_names(self.case), _words(policy))
        index = _index(policy)
        self.shapes, self.output_shapes = index.shapes, index.output_shapes
        self.by_head, self.paragraphs_using = index.by_head, index.paragraphs_using
        self.seen: set[Symbol] = set()
        self.always: dict[Symbol, bool] = {}
        self._names: dict[str, list[Symbol]] | None = None  # _constants, made once

    @property
    def inputs(self) -> Inputs:
        if self._inputs is None:
            with self.lock:
                if self._inputs is None:
                    inputs, presumed = self._source()
                    self.presumed: dict[Symbol, Any] = presumed  # input atom -> the presumption that filled it
                    self.inputs_sigs = set(iter_input_predicates()) | {
                        (s.name, len(s.arguments)) for s in inputs.facts}
                    self.facts = frozenset(inputs.facts)
                    self.unknown_of: dict[Symbol, str] = {atom: u.path for u in inputs.unknowns for atom in u.atoms}
                    self.unknown_by_path = {u.path: u for u in inputs.unknowns}
                    self._inputs = inputs
        return self._inputs

    @property
    def trace(self) -> Trace:
        """The instrumented run, made when a derivation is first asked for."""
        if self._trace is None:
            with self.lock:
                if self._trace is None:
                    self._trace = run_trace(self.policy, self.inputs)
        return self._trace

    # -- truth of atoms and patterns --------------------------------------------------
    def matches(self, pattern: Symbol) -> list[Symbol]:
        if _ground(pattern):
            return [pattern] if pattern in self.trace.possible else []
        term = _parts(pattern)
        if term.name is None:
            return []
        out = []
        for symbol in self.trace.by_name.get((term.name, len(term.args)), ()):
            if _match(pattern, symbol, {}):
                out.append(symbol)
        return out

    def truth(self, pattern: Symbol) -> str:
        if _ground(pattern):
            return self.trace.truth(pattern)
        found = self.matches(pattern)
        if any(s in self.trace.certain for s in found):
            return YES
        if not found:
            return NO
        # "some X" can hold in every completion by a different X in each
        if pattern not in self.always:
            self.always[pattern] = self.trace.always_one_of(found)
        return YES if self.always[pattern] else UNKNOWN

    def is_input(self, pattern: Symbol) -> bool:
        self.inputs  # noqa: B018 (made on first use)
        return pattern.type == SymbolType.Function and (pattern.name, len(pattern.arguments)) in self.inputs_sigs

    # -- statements ---------------------------------------------------------------------
    def statement(self, atom: Symbol, depth: int = 0, why_not: int = 0, expand: bool = True) -> Statement:
        truth = self.truth(atom)
        sentence = self.wording.sentence(atom)
        denial = self.wording.denial(atom)
        if self.is_input(atom):
            path = self.unknown_of.get(atom) if _ground(atom) else None
            if path is None and not _ground(atom):
                path = next((self.unknown_of[s] for s in self.matches(atom) if s in self.unknown_of), None)
            if path is not None or truth == UNKNOWN:
                unknown = self.unknown_by_path.get(path or "")
                return Statement(str(atom), sentence, truth, "input", path, denial, given="open",
                                 question=unknown.question if unknown is not None else "")
            presumed = self.presumed.get(atom) if _ground(atom) else None
            if presumed is not None:
                return Statement(str(atom), sentence, truth, "input", presumed.path, denial, given="presumed",
                                 note=f"{presumed.text.rstrip('.')} ({', '.join(presumed.paragraphs)})")
            return Statement(str(atom), sentence, truth, "input", None, denial, given="stated")
        if not _ground(atom):
            found = self.matches(atom)
            if found:
                cases = tuple(Check(False, self.truth(s), self.statement(s, depth + 1, why_not, expand))
                              for s in found)
                others = self.candidates(atom, depth, why_not + 1) if expand and depth <= OTHERS_DEPTH else ()
                return Statement(str(atom), sentence, truth, "derived", denial=denial, cases=cases, steps=others)
        if not expand:
            return Statement(str(atom), sentence, truth, "derived", denial=denial)
        key = atom
        if key in self.seen:
            return Statement(str(atom), sentence, truth, "derived", denial=denial, repeated=True)
        if depth > MAX_DEPTH or why_not > WHY_NOT_DEPTH:
            return Statement(str(atom), sentence, truth, "derived", denial=denial, note="shown no deeper")
        self.seen.add(key)
        if truth == NO:
            steps = self.candidates(atom, depth, why_not + 1)
            note = "" if steps else "no rule of the policy concludes this"
            return Statement(str(atom), sentence, truth, "derived", denial=denial, steps=steps, note=note)
        firings = self.trace.by_head.get(atom, ())
        steps = tuple(self.step_of_firing(f, depth) for f in firings)
        if truth == UNKNOWN and depth <= OTHERS_DEPTH:
            steps += self.candidates(atom, depth, why_not + 1)  # and the rules that could not derive it
        note = ""
        if truth == YES and firings and not any(f.certain for f in firings):
            note = "this holds whatever the unknown facts are, but by different rules depending on them"
        return Statement(str(atom), sentence, truth, "derived", denial=denial, steps=steps, note=note)

    def step_of_firing(self, firing: Any, depth: int) -> Step:
        rule = self.policy.rules[firing.rule]
        shape = self.projection(firing) if depth <= OTHERS_DEPTH else None
        if shape is not None:  # `p(D) :- q(D, _)`: near the top, show every way q could hold
            binding: dict[str, Symbol] = {}
            _unify(shape.head, firing.head, binding)
            checks = (self.check(shape.conditions[0], binding, depth, 0, why=True),)
        else:
            checks = tuple(self.check(c, {}, depth, 0, why=True) for c in firing.conditions)
        return Step(rule.where, str(firing.head), rule.paragraphs, rule.summary,
                    "applies" if firing.certain else "may apply", checks)

    def projection(self, firing: Any) -> _Shape | None:
        """The rule's shape when it only projects one condition (`p(D) :- q(D, _)`)."""
        if firing.certain or not firing.conditions:
            return None
        shapes = [s for s in _shapes(self.policy) if s.rule == firing.rule]
        if len(shapes) == 1 and len(shapes[0].conditions) == 1 and shapes[0].conditions[0].name == "pos":
            return shapes[0]
        return None

    def check(self, record: Symbol, binding: dict[str, Symbol], depth: int, why_not: int, why: bool) -> Check:
        kind, arguments = _parts(record).name, _parts(record).args
        if kind == "neg" and _parts(arguments[0]).name == "":  # a negated comparison: not (a tuple)
            parts = [self.check(c, binding, depth, why_not, why) for c in _parts(arguments[0]).args]
            value = NO if all(p.holds == YES for p in parts) else YES if any(p.holds == NO for p in parts) \
                else UNCHECKED  # a negated comparison
            words = " and ".join(p.statement.sentence for p in parts)
            inner = YES if value == NO else NO if value == YES else UNCHECKED
            denial = " or ".join(p.statement.denial or p.statement.sentence for p in parts) \
                if all(p.statement.denial for p in parts) else None
            return Check(True, value, Statement(str(record), words, inner, "comparison", denial=denial))
        if kind in ("pos", "neg"):
            atom = _subst(arguments[0], binding)
            truth = self.truth(atom)
            negated = kind == "neg"
            holds = truth if not negated else {YES: NO, NO: YES, UNKNOWN: UNKNOWN}[truth]
            # expand what a reviewer needs: in a why, every condition the rule stood on
            # (a negative one by why its atom does not hold); in a why-not, what failed
            # or is unknown
            expand = why or holds != YES
            statement = self.statement(atom, depth + 1, why_not, expand)
            return Check(negated, holds, statement)
        if kind == "cmp":
            left, right = (_subst(arguments[0], binding), _subst(arguments[2], binding))
            op = arguments[1].string
            if _ground(left) and _ground(right):
                holds = YES if _COMPARE[op](left, right) else NO
            else:
                holds = UNCHECKED
            a, b = self.wording.argument(left), self.wording.argument(right)
            words = f"{a} {_COMPARE_WORDS.get(op, op)} {b}"
            opposite = f"{a} {_COMPARE_WORDS[_OPPOSITE[op]]} {b}" if op in _OPPOSITE else None
            return Check(False, holds, Statement(f"{left}{op}{right}", words, holds, "comparison", denial=opposite))
        if kind == "cond":
            return self.conditional(record, binding, depth, why_not, why)
        text = record.arguments[0].string if record.arguments and record.arguments[0].type == SymbolType.String \
            else str(record)
        return Check(False, YES if why else UNCHECKED, Statement(text, text, YES if why else UNCHECKED, "aggregate"))

    def conditional(self, record: Symbol, binding: dict[str, Symbol], depth: int, why_not: int, why: bool) -> Check:
        literal, conditions = record.arguments[0], tuple(record.arguments[1].arguments)
        cases, values = [], []
        rank = {NO: 0, UNKNOWN: 1, UNCHECKED: 1, YES: 2}
        for extended, _missing in self.join(conditions, binding):
            applies = min((rank[self.truth(_subst(c.arguments[0], extended))] for c in conditions
                           if c.name == "pos"), default=rank[YES])
            if applies == rank[NO]:
                continue  # the condition never holds for this instance
            case = self.check(literal, extended, depth, why_not, why)
            cases.append(case)
            # an instance whose condition may not hold cannot make the whole condition fail for sure
            values.append(rank[case.holds] if applies == rank[YES] or case.holds == YES else rank[UNKNOWN])
        holds = {0: NO, 1: UNKNOWN, 2: YES}[min(values, default=rank[YES])]
        inner = _subst(literal.arguments[0], binding)
        where = " and ".join(self.wording.sentence(_subst(c.arguments[0], binding)) for c in conditions
                             if c.name == "pos")
        sentence = f"for each case where {where}: {self.wording.sentence(inner)}"
        return Check(False, holds, Statement(str(record), sentence, holds, "all", cases=tuple(cases)))

    # -- why not ------------------------------------------------------------------------
    def join(self, conditions: Iterable[Symbol], binding: dict[str, Symbol]) -> list[tuple[dict[str, Symbol], int]]:
        """Instances of a rule body as far as the case allows: positive conditions are
        matched against the atoms that can hold; one that cannot is left open (and
        counted) so the closest instances can be shown."""
        partial = [(dict(binding), 0)]
        for record in conditions:
            kind, arguments = _parts(record).name, _parts(record).args
            if kind != "pos":
                continue
            nxt: list[tuple[dict[str, Symbol], int]] = []
            for current, missing in partial:
                pattern = _subst(arguments[0], current)
                if _ground(pattern):
                    nxt.append((current, missing + (pattern not in self.trace.possible)))
                    continue
                found = False
                for symbol in self.matches(pattern):
                    extended = dict(current)
                    if _match(pattern, symbol, extended):
                        nxt.append((extended, missing))
                        found = True
                if not found:
                    nxt.append((current, missing + 1))
            partial = sorted(nxt, key=lambda item: item[1])[:MAX_BINDINGS]
        return partial

    def candidates(self, target: Symbol, depth: int, why_not: int) -> tuple[Step, ...]:
        """The rules that could derive `target`, each with its closest instances."""
        steps: list[Step] = []
        by_rule: dict[int, list[tuple[int, int, str, tuple[Check, ...]]]] = {}
        term = _parts(target)
        key = (term.name, len(term.args)) if term.name is not None else ("", 0)
        for shape in self.by_head.get(key, ()):
            binding: dict[str, Symbol] = {}
            if not _unify(shape.head, target, binding):
                continue
            for extended, _missing in self.join(shape.conditions, binding):
                head = _subst(shape.head, extended)
                if _ground(head) and head in self.trace.possible and self.trace.by_head.get(head) and any(
                        f.rule == shape.rule for f in self.trace.by_head[head]):
                    continue  # this instance fires: it is a derivation, shown as such
                checks = tuple(self.check(c, extended, depth, why_not, why=False) for c in shape.conditions)
                if all(c.holds == YES for c in checks):
                    continue  # holds, so not a reason why not (a different head instance)
                failed = sum(c.holds == NO for c in checks)
                unknown = sum(c.holds in (UNKNOWN, UNCHECKED) for c in checks)
                by_rule.setdefault(shape.rule, []).append((failed, unknown, str(head), checks))
        for index, instances in by_rule.items():
            instances.sort(key=lambda item: (item[0], item[1]))
            rule = self.policy.rules[index]
            unique: dict[tuple[str, ...], tuple[str, tuple[Check, ...]]] = {}
            for _f, _u, head, checks in instances:
                unique.setdefault(tuple(c.statement.atom + c.holds for c in checks), (head, checks))
            kept = list(unique.values())
            for position, (head, checks) in enumerate(kept[:MAX_INSTANCES]):
                # no condition fails for sure, yet the rule never applies: the open ones exclude each other
                note = JOINTLY if not any(c.holds == NO for c in checks) else ""
                steps.append(Step(rule.where, head, rule.paragraphs, rule.summary, "does not apply", checks,
                                  max(0, len(kept) - MAX_INSTANCES) if position == 0 else 0, note))
        return tuple(steps)

    # -- questions ------------------------------------------------------------------------
    def resolve(self, text: str, disclosure: str) -> tuple[list[Symbol], str]:
        """The atoms (or patterns) a conclusion names, and how they combine (`all` or
        `any`): a verdict; a finding or obligation code (the conclusions it reports); a
        predicate, with or without its disclosure argument (missing arguments match any)."""
        d = clingo.String(disclosure)
        text = text.strip()
        if text in VERDICTS:
            atoms = [clingo.Function("permitted", [d]), clingo.Function("required", [d])]
            return (atoms[::-1] if text == "must_share" else atoms), "all"
        name, args = _parse(text)
        given = self._arguments(name, args, d)
        for output in ("finding", "obligation"):
            wanted = clingo.Function(output, [d, clingo.Function(name, given)])
            for shape in self.output_shapes:
                binding: dict[str, Symbol] = {}
                if shape.head.name == output and _unify(shape.head, wanted, binding):
                    reported = [_subst(c.arguments[0], binding) for c in shape.conditions if c.name == "pos"]
                    reported = [a for a in reported if not self.is_input(a)] or reported
                    return reported, "all"
        arities = {(s.head.name, len(s.head.arguments)) for s in self.shapes if s.head.type == SymbolType.Function}
        self.inputs  # noqa: B018 (made on first use)
        arities |= self.inputs_sigs
        known = sorted(arity for n, arity in arities if n == name)
        for arity in known:
            if arity == len(given) + 1 and self._takes_disclosure(name, arity, d):
                return self._targets(clingo.Function(name, [d] + given)), "any"
        for arity in known:
            if arity >= len(given):
                prefix = [d] if arity > len(given) and self._takes_disclosure(name, arity, d) else []
                padding = [_var("_")] * (arity - len(given) - len(prefix))
                return self._targets(clingo.Function(name, prefix + given + padding)), "any"
        names = sorted({n for n, _ in arities} | set(VERDICTS))
        close = get_close_matches(name, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CaseError(f"no conclusion named {text!r}{hint}", where="conclusion")

    def _takes_disclosure(self, name: str, arity: int, disclosure: Symbol) -> bool:
        """Whether the predicate's first argument is a disclosure (the rules call it D)."""
        for shape in self.by_head.get((name, arity), ()):
            first = shape.head.arguments[0]
            if _is_var(first) and _var_name(first) == "D":
                return True
        return any(a.arguments[0] == disclosure for a in itertools.chain(
            self.trace.by_name.get((name, arity), ()), (f for f in self.inputs.facts if f.name == name)))

    def _targets(self, pattern: Symbol) -> list[Symbol]:
        if _ground(pattern):
            return [pattern]
        found = self.matches(pattern)
        return sorted(found) if found else [pattern]

    def _arguments(self, name: str, args: list[str], disclosure: Symbol) -> list[Symbol]:
        """The symbols a conclusion's written arguments stand for. A word can name a case's id
        (a string) and a constant of the rules alike (an information item called `housing`, the
        agency housing): the reading under which the case's run reports that conclusion wins;
        otherwise the first."""
        readings = [self._argument(a) for a in args]
        for combination in itertools.product(*readings):
            for output in ("finding", "obligation"):
                if clingo.Function(output, [disclosure, clingo.Function(name, list(combination))]) in self.trace.possible:
                    return list(combination)
        return [options[0] for options in readings]

    def _argument(self, text: str) -> list[Symbol]:
        """The symbols an argument written as text may stand for, the likeliest first."""
        text = text.strip()
        if text in ("_", "*", ""):
            return [_var("_")]
        if text.startswith('"') and text.endswith('"'):
            return [clingo.String(text[1:-1])]
        if text.lstrip("-").isdigit():
            return [clingo.Number(int(text))]
        found = self._constants().get(text, [])
        return sorted(found, key=lambda s: s.type != SymbolType.String) or [
            clingo.String(text) if not text[:1].islower() or "-" in text else clingo.Function(text)]

    def _constants(self) -> dict[str, list[Symbol]]:
        """The arguments of the run's atoms and the case's facts, in their first order, by
        the text that names them (a string by its contents, any symbol as written); made once."""
        if self._names is None:
            seen: dict[Symbol, None] = {}
            for atom in itertools.chain(self.trace.possible, self.inputs.facts):
                for arg in _parts(atom).args:
                    seen.setdefault(arg, None)
            names: dict[str, list[Symbol]] = {}
            for symbol in seen:
                written = str(symbol)
                names.setdefault(written, []).append(symbol)
                if symbol.type == SymbolType.String and symbol.string != written:
                    names.setdefault(symbol.string, []).append(symbol)
            self._names = names
        return self._names

    def changes(self, disclosure: Any) -> tuple[Change, ...]:
        if not disclosure.depends_on:
            return ()
        by_path = {u.path: u for u in self.inputs.unknowns}
        out = []
        for dep in disclosure.depends_on:
            words, fields, paragraphs = [], [], set()
            for condition in dep.conditions:
                unknown = by_path.get(condition.path)
                fields.append(condition.path)
                if unknown is None:
                    words.append(condition.text)
                    continue
                for atom in unknown.atoms:
                    paragraphs |= self.paragraphs_using.get((atom.name, len(atom.arguments)), set())
                options = dict(unknown.options)
                if unknown.question:
                    said = [_answer_words(v) for v in condition.values if v in options]
                    words.append(f"the answer to \"{unknown.question}\" is {' or '.join(said)}")
                    continue
                said = [self._option_words(options[v]) for v in condition.values if v in options]
                words.append(" or ".join(said) if said else condition.text)
            d = clingo.String(disclosure.id)
            atom = clingo.Function(dep.conclusion, [d])
            effect = self.wording.sentence(atom) if dep.value == YES else (
                self.wording.denial(atom) or f"this does not follow: {self.wording.sentence(atom)}")
            out.append(Change(tuple(words), tuple(fields), effect, dep.verdict,
                              tuple(sorted(paragraphs, key=paragraph_key))))
        return tuple(out)

    def _option_words(self, literals: tuple[tuple[Symbol, bool], ...]) -> str:
        true = [s for s, t in literals if t]
        if true:
            return " and ".join(self.wording.sentence(s) for s in true)
        false = [s for s, _ in literals]
        if len(false) == 1:
            return self.wording.denial(false[0]) or f"the case says no to: {self.wording.sentence(false[0])}"
        return "none of these: " + "; ".join(self.wording.sentence(s) for s in false)

    def explain(self, disclosure: Any, conclusion: str | None = None, why_not: str | None = None,
                case_id: str = "", title: str = "") -> Explanation:
        """The explanation of the verdict (the derivation built when first read), or the
        answer to one question: why `conclusion` holds, why `why_not` does not."""
        if conclusion and why_not:
            raise CaseError("ask either why or why not, not both", where="conclusion")
        d = disclosure.id
        description = ""
        for item in self.case.get("disclosures") or []:
            if item.get("id") == d:
                description = str(item.get("description") or "")
        notes: list[str] = []
        if conclusion is None and why_not is None:
            question, target = "verdict", disclosure.verdict
            atoms = [clingo.Function("required", [clingo.String(d)]), clingo.Function("permitted", [clingo.String(d)])]
            if disclosure.verdict != "must_share":
                atoms.reverse()
            answer = _verdict_answer(disclosure.verdict)
            derivation: Any = _Lazy(lambda: self.statements(atoms), self.lock)
            if disclosure.verdict == "undetermined" and not disclosure.depends_on:
                notes.append("The smallest sets of facts that would settle this were not computed "
                             "(query with depends_on=True).")
            return Explanation(case_id, title, d, description, disclosure.verdict, question, target, answer,
                               derivation, self.changes(disclosure), tuple(notes), reasons=self.reasons(disclosure),
                               todo=self.todo(disclosure), flips=self.flips(disclosure))
        question = "why" if conclusion else "why_not"
        target = (conclusion or why_not or "").strip()
        with self.lock:
            if target in VERDICTS:
                atoms, combine = self.verdict_atoms(target, disclosure, question), "all"
            else:
                atoms, combine = self.resolve(target, d)
            statements = self.statements(atoms)
        answer = _verdict_question(target, disclosure.verdict, question) if target in VERDICTS else \
            _answer(question, statements, combine)
        return Explanation(case_id, title, d, description, disclosure.verdict, question, target, answer,
                           statements)

    def statements(self, atoms: Iterable[Symbol]) -> tuple[Statement, ...]:
        with self.lock:
            self.seen = set()
            return tuple(self.statement(a) for a in atoms)

    def verdict_atoms(self, target: str, disclosure: Any, question: str) -> list[Symbol]:
        """What a question about a verdict is about: why not must share is why it is not
        required; why not may share, why not permitted (or, when it is, why required);
        must not share turns on permitted; undetermined on both."""
        d = [clingo.String(disclosure.id)]
        required, permitted = clingo.Function("required", d), clingo.Function("permitted", d)
        if target == "must_share":
            return [required]
        if target == "must_not_share":
            return [permitted]
        if target == "may_share":
            return [required] if question == "why_not" and disclosure.verdict == "must_share" else [permitted]
        return [permitted, required]

    # -- the summary: deciding reasons, what to do, what would change it ------------------
    def _words_of(self, disclosure_id: str, output: str, item: Any) -> str:
        """A finding or obligation in words (its own template, else the conclusion it reports)."""
        code = clingo.Function(item.code, [conclusion_term(a, self.wording.names) for a in item.args])
        return self.wording.conclusion(self.policy, clingo.Function(output, [clingo.String(disclosure_id), code]))

    def reasons(self, disclosure: Any) -> tuple[Reason, ...]:
        """What decides the verdict: the decided_by findings, in words."""
        out = []
        for item in disclosure.finding("decided_by"):
            words = _DECIDES.sub("", self._words_of(disclosure.id, "finding", item))
            out.append(Reason(words, tuple(item.paragraphs), item.status == "yes"))
        return tuple(out)

    def todo(self, disclosure: Any) -> tuple[Todo, ...]:
        strengths = _strengths(self.policy)
        out = [Todo(strengths.get(item.code, "should"), self._words_of(disclosure.id, "obligation", item),
                    tuple(item.paragraphs), item.status == "yes") for item in disclosure.obligations]
        order = {"must": 0, "should": 1, "may": 2}
        return tuple(sorted(out, key=lambda t: order.get(t.strength, 3)))

    def flips(self, disclosure: Any) -> tuple[Reason, ...]:
        """For a settled verdict, what would change it: each presumption whose opposite would
        change the verdict (the channels that would do are in the brief's verdict sentence)."""
        out: list[Reason] = []
        seen: set[str] = set()
        for item in disclosure.assumptions:
            if item.if_not and item.text not in seen:
                seen.add(item.text)
                verdicts = " or ".join(VERDICT_NAMES[v] for v in item.if_not)
                presumed = item.text.rstrip(".")
                out.append(Reason(f"the case is silent, so pyisp presumes that {presumed[:1].lower()}{presumed[1:]}; "
                                  f"were that otherwise, the verdict would be {verdicts}",
                                  tuple(item.paragraphs), True))
        return tuple(out)


def _answer_words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")


_DECIDES = re.compile(r"^what decides [^:]*: ")
VERDICT_NAMES = {"must_share": "MUST SHARE", "may_share": "MAY SHARE", "must_not_share": "MUST NOT SHARE",
                 "undetermined": "UNDETERMINED"}


@lru_cache(maxsize=8)
def _strengths(policy: Policy) -> dict[str, str]:
    """How strongly the guidance asks each obligation, read from obligation_strength/2."""
    return {str(atom.arguments[0]): str(atom.arguments[1]) for atom, _fact in policy.declared("obligation_strength", 2)}


def _record_atoms(record: Symbol) -> Iterator[Symbol]:
    """The atoms inside a recorded condition (pos, neg, cond)."""
    if record.name in ("pos", "neg") and record.arguments[0].type == SymbolType.Function \
            and record.arguments[0].name:
        yield record.arguments[0]
    elif record.name == "cond":
        yield from _record_atoms(record.arguments[0])
        for inner in record.arguments[1].arguments:
            yield from _record_atoms(inner)


def _parse(text: str) -> tuple[str, list[str]]:
    text = text.strip()
    if "(" not in text:
        return text, []
    if not text.endswith(")"):
        raise CaseError(f"cannot read the conclusion {text!r}: write name or name(arg, ...)", where="conclusion")
    name, inner = text[:-1].split("(", 1)
    args, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            args.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    args.append(current)
    return name.strip(), [a.strip() for a in args]


def _verdict_answer(verdict: str) -> str:
    return {
        "must_share": "The disclosure must be made.",
        "may_share": "The disclosure may be made; nothing requires it.",
        "must_not_share": "The disclosure must not be made as proposed.",
        "undetermined": "The facts stated do not settle it: the answer turns on facts or judgements the case "
                        "leaves open.",
    }[verdict]


_VERDICT_MEANS = {
    "must_share": "must share means the disclosure is required",
    "may_share": "may share means it is permitted and nothing requires it",
    "must_not_share": "must not share means no route permits it as proposed",
    "undetermined": "undetermined means the answer turns on facts the case leaves open",
}


def _verdict_question(target: str, verdict: str, question: str) -> str:
    reached = "it is" if target == verdict else "it is not"
    return (f"The verdict is {VERDICT_NAMES[verdict]}, so {reached} {VERDICT_NAMES[target]} "
            f"({_VERDICT_MEANS[target]}).")


def _answer(question: str, statements: tuple[Statement, ...], combine: str) -> str:
    rank = {NO: 0, UNKNOWN: 1, YES: 2}
    truths = [rank[s.truth] for s in statements]
    truth = min(truths) if combine == "all" else max(truths)
    if truth == rank[YES]:
        return "It holds." if question == "why" else "It does hold, so there is no why-not; here is why it holds."
    if truth == rank[NO]:
        return "It does not hold." if question == "why_not" else "It does not hold; here is why not."
    return "It depends on facts the case leaves unknown: it holds for some of them only."


def explainer_for(result: Any) -> Explainer:
    """A new Explainer for the case a result answered (its instrumented run made when a
    derivation is first asked for)."""
    if getattr(result, "case", None) is None or getattr(result, "policy", None) is None:
        raise CaseError("this result does not keep its case; get it from pyisp.query to explain it")
    data = dict(result.case.data)

    def inputs() -> tuple[Inputs, dict[Symbol, Any]]:
        # the very inputs the result was answered on (with any facts added beside the case's)
        found = result.inputs if getattr(result, "inputs", None) is not None else case_inputs(data)
        # under the presumptions the result applied, so that the explanation agrees with the answer
        applied = {a.path: a for a in getattr(result, "presumptions", ())}
        presumed = {atom: applied[u.path] for u in found.unknowns if u.path in applied for atom in u.atoms}
        return found.with_values({path: a.value for path, a in applied.items()}), presumed

    return Explainer(result.policy, inputs, data)


def explain_result(result: Any, disclosure_id: str | None = None, conclusion: str | None = None,
                   why_not: str | None = None, explainer: Explainer | None = None) -> tuple[Explanation, ...]:
    """Explanations for one disclosure of a result, or for each of them."""
    explainer = explainer or explainer_for(result)
    ids = [d.id for d in result.disclosures]
    if disclosure_id is not None and disclosure_id not in ids:
        raise CaseError(f"no disclosure {disclosure_id!r} in the case (it has: {', '.join(ids)})",
                        where="disclosure")
    chosen = [d for d in result.disclosures if disclosure_id is None or d.id == disclosure_id]
    made = tuple(explainer.explain(d, conclusion, why_not, result.case_id, result.title) for d in chosen)
    return tuple(replace(e, provenance=getattr(result, "provenance", None), result=result) for e in made)
