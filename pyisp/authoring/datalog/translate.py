"""Translate the policy's rules, as clingo parsed them (``Policy.statements``), into flat
Datalog clauses that pyDatalog can evaluate: an automatic translation, never a copy.

The fragment: normal rules, integrity constraints, stratified negation (``not`` on atoms
and comparisons), comparisons and arithmetic, conditional literals in bodies, ``#count``
aggregates, pools and intervals, ``#const``, ``#show``. Conditional literals and counts
are rewritten into auxiliary predicates under negation; negated atoms with anonymous
variables become projections. Each clause's body is put in an order in which every
comparison and every negated literal comes after the literals that bind its variables
(pyDatalog silently fails otherwise), and the whole program must be stratified
(pyDatalog does not check). A rule outside the fragment stops the translation with its
file and line, unless its predicate is exempt (pyisp/authoring/datalog/exemptions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from clingo import Number, Symbol, SymbolType, ast

from ...errors import PolicyError
from ...core.policy import Policy
from .exemptions import EXEMPTIONS
from .program import (FLIPPED, NEGATED, Arith, Atom, BodyItem, Clause, Comparison, Compound, Const, Literal, Term,
                      Undefined, Var, compound, evaluate, has_arith, variables)

SHOW = "show#"          # a #show term
VIOLATED = "violated#"  # an integrity constraint whose body holds

COMPARISONS = {
    ast.ComparisonOperator.Equal: "=", ast.ComparisonOperator.NotEqual: "!=",
    ast.ComparisonOperator.LessThan: "<", ast.ComparisonOperator.LessEqual: "<=",
    ast.ComparisonOperator.GreaterThan: ">", ast.ComparisonOperator.GreaterEqual: ">=",
}
BINARY = {
    ast.BinaryOperator.Plus: "+", ast.BinaryOperator.Minus: "-", ast.BinaryOperator.Multiplication: "*",
    ast.BinaryOperator.Division: "/", ast.BinaryOperator.Modulo: "\\", ast.BinaryOperator.Power: "**",
    ast.BinaryOperator.And: "&", ast.BinaryOperator.Or: "?", ast.BinaryOperator.XOr: "^",
}
UNARY = {ast.UnaryOperator.Minus: "neg", ast.UnaryOperator.Negation: "bnot", ast.UnaryOperator.Absolute: "abs"}


class TranslationError(PolicyError):
    """A rule outside the fragment pyDatalog can evaluate, or a program it would get wrong."""


@dataclass(frozen=True)
class Exemption:
    """A predicate whose rules are not translated: clingo's value for it is given to
    pyDatalog as facts, so everything built on it is still checked."""

    signature: str
    reason: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Translation:
    """The translated program: clauses, which atoms are output, and what was left out."""

    clauses: tuple[Clause, ...]
    shown: frozenset[str] | None          # signatures shown; None: every atom (no #show)
    constraints: dict[str, str]           # violated#N -> file:line
    predicates: frozenset[str]            # every signature used
    exemptions: tuple[Exemption, ...]
    ignored: tuple[str, ...] = field(default=())  # statements that clingo ignores too

    def describe(self) -> str:
        """One line per exemption, for the command's output."""
        if not self.exemptions:
            return "exemptions: none (every rule translated)"
        lines = [f"exemptions: {len(self.exemptions)}"]
        for e in self.exemptions:
            lines.append(f"  {e.signature} ({', '.join(e.rules)}): {e.reason}")
        return "\n".join(lines)


def translate(policy: Policy, exemptions: dict[str, str] | None = None) -> Translation:
    """The Datalog form of a parsed policy; raises TranslationError naming file:line."""
    return _Translator(policy, EXEMPTIONS if exemptions is None else exemptions).run()


class _Translator:
    def __init__(self, policy: Policy, exemptions: dict[str, str]) -> None:
        self.policy = policy
        self.exempt = dict(exemptions)
        self.exempt_rules: dict[str, list[str]] = {sig: [] for sig in self.exempt}
        self.consts: dict[str, Symbol] = {}
        self.clauses: list[Clause] = []
        self.shown: set[str] = set()
        self.any_show = False
        self.constraints: dict[str, str] = {}
        self.declared: set[str] = set()
        self.ignored: list[str] = []
        self.fresh = 0

    # -- driver -------------------------------------------------------------------
    def run(self) -> Translation:
        statements = self.policy.statements
        for node in statements:
            if node.ast_type == ast.ASTType.Definition:
                self.consts[node.name] = self._ground(self.term(node.value, self.where(node)), self.where(node))
        part = "base"
        for node in statements:
            kind = node.ast_type
            if kind == ast.ASTType.Program:
                part = node.name
                continue
            if part != "base":
                self.ignored.append(f"{self.where(node)}: not in #program base (not grounded)")
                continue
            if kind == ast.ASTType.Rule:
                for rule in node.unpool():
                    self.rule(rule)
            elif kind == ast.ASTType.ShowSignature:
                self.any_show = True
                if node.name:
                    self.shown.add(f"{'' if node.positive else '-'}{node.name}/{node.arity}")
            elif kind == ast.ASTType.ShowTerm:
                self.any_show = True
                self.show_term(node)
            elif kind == ast.ASTType.Defined:
                self.declared.add(f"{node.name}/{node.arity}")
            elif kind in (ast.ASTType.Definition, ast.ASTType.Comment):
                continue
            elif kind == ast.ASTType.External:
                self.ignored.append(f"{self.where(node)}: #external (false unless derived; pyisp never assigns one)")
            else:
                raise self.outside(node, _kind_name(kind))
        stale = [sig for sig, rules in self.exempt_rules.items() if not rules]
        if stale:
            raise TranslationError(f"exemption for {stale[0]} matches no rule: remove it from "
                                   "pyisp/authoring/datalog/exemptions.py")
        check_stratified(self.clauses)
        preds = {c.head.signature for c in self.clauses} | self.declared
        for clause in self.clauses:
            preds.update(item.atom.signature for item in clause.body if isinstance(item, Literal))
        preds.update(self.exempt)
        exemptions = tuple(Exemption(sig, reason, tuple(self.exempt_rules[sig])) for sig, reason in self.exempt.items())
        return Translation(tuple(self.clauses), frozenset(self.shown) if self.any_show else None,
                           dict(self.constraints), frozenset(preds), exemptions, tuple(self.ignored))

    def where(self, node: Any) -> str:
        begin = node.location.begin
        try:
            name = str(Path(begin.filename).resolve().relative_to(self.policy.directory.resolve()))
        except ValueError:
            name = begin.filename
        return f"{name}:{begin.line}"

    def outside(self, node: Any, what: str) -> TranslationError:
        return TranslationError(f"{what} is outside the fragment pyDatalog can check: rewrite the rule, or exempt "
                                "its predicate with a reason in pyisp/authoring/datalog/exemptions.py", where=self.where(node))

    def name(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    # -- terms --------------------------------------------------------------------
    def term(self, node: Any, where: str) -> Term:
        kind = node.ast_type
        if kind == ast.ASTType.Variable:
            return Var(self.name("_Anon") if node.name == "_" else node.name)
        if kind == ast.ASTType.SymbolicTerm:
            return self._symbol(node.symbol)
        if kind == ast.ASTType.Function:
            if node.external:
                raise TranslationError("an @-function (script call) is outside the fragment", where=where)
            if not node.arguments and node.name in self.consts:
                return Const(self.consts[node.name])
            return compound(node.name, tuple(self.term(a, where) for a in node.arguments))
        if kind == ast.ASTType.BinaryOperation:
            return Arith(BINARY[node.operator_type], (self.term(node.left, where), self.term(node.right, where)))
        if kind == ast.ASTType.UnaryOperation:
            inner = self.term(node.argument, where)
            op = UNARY[node.operator_type]
            if op == "neg" and isinstance(inner, Const) and inner.value.type == SymbolType.Number:
                return Const(Number(-inner.value.number))
            return Arith(op, (inner,))
        if kind == ast.ASTType.Interval:
            raise TranslationError("an interval whose bounds are not numbers is outside the fragment", where=where)
        raise TranslationError(f"the term '{node}' is outside the fragment", where=where)

    def _symbol(self, symbol: Symbol) -> Const:
        if symbol.type == SymbolType.Function and not symbol.arguments and symbol.name in self.consts:
            return Const(self.consts[symbol.name])
        return Const(symbol)

    def _number(self, node: Any, where: str) -> int | None:
        """The value of an interval bound when it is a ground number (constants folded)."""
        try:
            term = self.term(node, where)
            value = evaluate(term, {}) if not list(variables(term)) else None
        except (TranslationError, Undefined):
            return None
        return value.number if value is not None and value.type == SymbolType.Number else None

    def _ground(self, term: Term, where: str) -> Symbol:
        if not isinstance(term, Const):
            raise TranslationError("a #const must be a ground value", where=where)
        return term.value

    def atom(self, node: Any, where: str) -> Atom:
        symbol = node.symbol
        if symbol.ast_type == ast.ASTType.UnaryOperation:
            raise TranslationError("classical negation (-p) is outside the fragment", where=where)
        term = self.term(symbol, where)
        if isinstance(term, Const) and term.value.type == SymbolType.Function:
            return Atom(term.value.name, tuple(Const(a) for a in term.value.arguments))
        if isinstance(term, Compound) and term.name:
            return Atom(term.name, term.args)
        raise TranslationError(f"'{symbol}' is not an atom", where=where)

    # -- statements ---------------------------------------------------------------
    def rule(self, node: Any) -> None:
        node = _expand_intervals(node, lambda term: self._number(term, self.where(node)))
        if isinstance(node, list):
            for rule in node:
                self.rule(rule)
            return
        where = self.where(node)
        head = node.head
        if head.ast_type == ast.ASTType.Literal and head.atom.ast_type == ast.ASTType.BooleanConstant \
                and not head.atom.value and head.sign == ast.Sign.NoSign:
            name = self.name(VIOLATED)
            self.constraints[name] = where
            head_atom = Atom(name, ())
        elif head.ast_type == ast.ASTType.Literal and head.sign == ast.Sign.NoSign \
                and head.atom.ast_type == ast.ASTType.SymbolicAtom:
            head_atom = self.atom(head.atom, where)
        else:
            signature = _head_signature(head)
            if signature in self.exempt:
                self.exempt_rules[signature].append(where)
                return
            raise self.outside(node, _head_kind(head))
        if head_atom.signature in self.exempt:
            self.exempt_rules[head_atom.signature].append(where)
            return
        self.body(head_atom, node.body, where)

    def show_term(self, node: Any) -> None:
        where = self.where(node)
        for unpooled in node.unpool():
            self.body(Atom(SHOW, (self.term(unpooled.term, where),)), unpooled.body, where)

    def body(self, head: Atom, nodes: Iterable[Any], where: str) -> None:
        plain: list[BodyItem] = []
        conditionals: list[Any] = []
        counts: list[Any] = []
        for node in nodes:
            if node.ast_type == ast.ASTType.ConditionalLiteral:
                conditionals.append(node)
            elif node.ast_type == ast.ASTType.Literal and node.atom.ast_type == ast.ASTType.BodyAggregate:
                counts.append(node)
            else:
                items = self.literal(node, where)
                if items is None:
                    return  # a body literal that is always false: the rule never applies
                plain.extend(items)
        context = _context(plain)
        global_vars = set(variables(head)) | {v for i in plain for v in variables(i)}
        for node in counts:
            for guard in (node.atom.left_guard, node.atom.right_guard):
                if guard is not None:
                    global_vars.update(variables(self.term(guard.term, where)))
        for node in conditionals:
            plain.append(self.conditional(node, context, global_vars, where))
        for node in counts:
            plain.append(self.count(node, context, global_vars, where))
        self.emit(head, plain, where)

    def literal(self, node: Any, where: str) -> list[BodyItem] | None:
        """A body literal as items (empty when always true, None when always false)."""
        if node.ast_type != ast.ASTType.Literal:
            raise TranslationError(f"'{node}' is outside the fragment", where=where)
        atom, sign = node.atom, node.sign
        if sign == ast.Sign.DoubleNegation:
            raise TranslationError("double negation (not not) is outside the fragment", where=where)
        negated = sign == ast.Sign.Negation
        if atom.ast_type == ast.ASTType.SymbolicAtom:
            return [Literal(self.atom(atom, where), negated)]
        if atom.ast_type == ast.ASTType.BooleanConstant:
            return [] if bool(atom.value) != negated else None
        if atom.ast_type == ast.ASTType.Comparison:
            terms = [self.term(atom.term, where)] + [self.term(g.term, where) for g in atom.guards]
            ops = [COMPARISONS[g.comparison] for g in atom.guards]
            if negated:
                if len(ops) > 1:
                    raise TranslationError("a negated chain of comparisons is outside the fragment", where=where)
                ops = [NEGATED[ops[0]]]
            return [Comparison(op, left, right) for op, left, right in zip(ops, terms, terms[1:])]
        raise TranslationError(f"'{node}' is outside the fragment", where=where)

    def conditional(self, node: Any, context: list[BodyItem], global_vars: set[str], where: str) -> Literal:
        """``L : C`` holds when no instance of C lacks L: ``not aux(G)`` with
        ``aux(G) :- context, C, not L``, G the global variables of the literal."""
        inner = self.literal(node.literal, where)
        condition: list[BodyItem] = []
        for item in node.condition:
            items = self.literal(item, where)
            if items is None:
                return Literal(Atom(self.name("false#"), ()), negated=True)  # no instance: holds
            condition.extend(items)
        if inner is None:
            complement: list[BodyItem] = []
        elif not inner:
            return Literal(Atom(self.name("false#"), ()), negated=True)
        elif len(inner) == 1:
            complement = [_complement(inner[0])]
        else:
            raise TranslationError("a chain of comparisons as a conditional literal is outside the fragment",
                                   where=where)
        local: list[str] = []
        for item in (inner or []) + condition:
            local.extend(variables(item))
        keys = tuple(Var(v) for v in dict.fromkeys(local) if v in global_vars)
        aux = Atom(self.name("cond#"), keys)
        self.emit(aux, list(context) + condition + complement, where)
        return Literal(aux, negated=True)

    def count(self, node: Any, context: list[BodyItem], global_vars: set[str], where: str) -> Literal:
        """``#count{T : C} op B``: the distinct tuples T of each element, counted per
        binding of the global variables; zero when there are none."""
        aggregate = node.atom
        if aggregate.function != ast.AggregateFunction.Count:
            raise self.outside(node, "an aggregate other than #count")
        if node.sign == ast.Sign.DoubleNegation:
            raise TranslationError("double negation (not not) is outside the fragment", where=where)
        element_vars: list[str] = []
        elements = []
        for element in aggregate.elements:
            terms = tuple(self.term(t, where) for t in element.terms)
            condition: list[BodyItem] = []
            for item in element.condition:
                items = self.literal(item, where)
                if items is None:
                    break
                condition.extend(items)
            else:
                elements.append((terms, condition))
                for t in terms:
                    element_vars.extend(variables(t))
                for c in condition:
                    element_vars.extend(variables(c))
        keys = tuple(Var(v) for v in dict.fromkeys(element_vars) if v in global_vars)
        members, counted, present = self.name("set#"), self.name("cnt#"), self.name("has#")
        tuple_var = Var(self.name("_T"))
        for terms, condition in elements:
            self.emit(Atom(members, keys + (tuple_var,)), list(context) + condition
                      + [Comparison("=", tuple_var, compound("", terms))], where)
        number = Var(self.name("_N"))
        self.clauses.append(Clause(Atom(counted, keys + (number,)), (Literal(Atom(members, keys + (tuple_var,))),),
                                   where, count=True))
        member_var = Var(self.name("_T"))
        self.emit(Atom(present, keys), [Literal(Atom(members, keys + (member_var,)))], where)
        guards = []
        for guard, left in ((aggregate.left_guard, True), (aggregate.right_guard, False)):
            if guard is not None:
                op = COMPARISONS[guard.comparison]
                guards.append((FLIPPED[op] if left else op, self.term(guard.term, where)))
        guard_vars = [v for _, t in guards for v in variables(t)]
        ok = Atom(self.name("count#"), tuple(dict.fromkeys(keys + tuple(Var(v) for v in guard_vars))))
        self.emit(ok, list(context) + [Literal(Atom(counted, keys + (number,)))]
                  + [Comparison(op, number, bound) for op, bound in guards], where)
        self.emit(ok, list(context) + [Literal(Atom(present, keys), negated=True)]
                  + [Comparison(op, Const(Number(0)), bound) for op, bound in guards], where)
        return Literal(ok, negated=node.sign == ast.Sign.Negation)

    # -- one clause ---------------------------------------------------------------
    def emit(self, head: Atom, body: list[BodyItem], where: str) -> None:
        """Flatten arithmetic, project negated atoms' own variables, order the body so
        that every variable is bound before a comparison or a negation uses it."""
        items: list[BodyItem] = []
        head = Atom(head.pred, tuple(self.flat(a, items) for a in head.args))
        head_items: list[BodyItem] = list(items)
        items = []
        for item in body:
            if isinstance(item, Literal):
                atom = Atom(item.atom.pred, tuple(self.flat(a, items) for a in item.atom.args))
                items.append(Literal(atom, item.negated))
            else:
                items.append(Comparison(item.op, self.flat_side(item.left, items), self.flat_side(item.right, items)))
        items = self.project(head, items + head_items, where)
        self.clauses.append(Clause(head, order(items, head, where), where))

    def flat(self, term: Term, items: list[BodyItem]) -> Term:
        """Replace arithmetic inside an atom's arguments by a variable bound in the body."""
        if isinstance(term, Arith):
            var = Var(self.name("_V"))
            items.append(Comparison("=", var, Arith(term.op, tuple(self.flat_side(a, items) for a in term.args))))
            return var
        if isinstance(term, Compound):
            return Compound(term.name, tuple(self.flat(a, items) for a in term.args))
        return term

    def flat_side(self, term: Term, items: list[BodyItem]) -> Term:
        if isinstance(term, Arith):
            return Arith(term.op, tuple(self.flat_side(a, items) for a in term.args))
        return self.flat(term, items)

    def project(self, head: Atom, items: list[BodyItem], where: str) -> list[BodyItem]:
        result: list[BodyItem] = []
        for index, item in enumerate(items):
            if isinstance(item, Literal) and item.negated:
                elsewhere = set(variables(head))
                for other_index, other in enumerate(items):
                    if other_index != index:
                        elsewhere.update(variables(other))
                own = [v for v in variables(item) if v not in elsewhere]
                if own:
                    keys = tuple(Var(v) for v in dict.fromkeys(variables(item)) if v in elsewhere)
                    aux = Atom(self.name("proj#"), keys)
                    self.clauses.append(Clause(aux, (Literal(item.atom),), where))
                    item = Literal(aux, negated=True)
            result.append(item)
        return result


def _context(plain: list[BodyItem]) -> list[BodyItem]:
    """What binds a rule's global variables, repeated in the auxiliary rules of its
    conditional literals and counts: its positive literals, and the comparisons that can
    be evaluated from them (not those waiting for a count's value)."""
    context: list[BodyItem] = [i for i in plain if isinstance(i, Literal) and not i.negated]
    bound = {v for i in context for v in variables(i)}
    pending = [i for i in plain if isinstance(i, Comparison)]
    progress = True
    while progress:
        progress = False
        for item in list(pending):
            if _ready(item, bound):
                context.append(item)
                bound.update(variables(item))
                pending.remove(item)
                progress = True
    return context


def _complement(item: BodyItem) -> BodyItem:
    if isinstance(item, Literal):
        return Literal(item.atom, not item.negated)
    return Comparison(NEGATED[item.op], item.left, item.right)


def _pattern(term: Term) -> bool:
    return not has_arith(term)


def order(items: list[BodyItem], head: Atom, where: str) -> tuple[BodyItem, ...]:
    """The body in an order pyDatalog evaluates correctly: a comparison or negated literal
    as soon as its variables are bound, otherwise the next positive literal as written.
    Raises when some variable can never be bound (clingo calls that unsafe too)."""
    bound: set[str] = set()
    pending = list(items)
    result: list[BodyItem] = []
    while pending:
        chosen = None
        for item in pending:
            if _ready(item, bound) and not (isinstance(item, Literal) and not item.negated):
                chosen = item
                break
        if chosen is None:
            chosen = next((i for i in pending if isinstance(i, Literal) and not i.negated), None)
        if chosen is None:
            unbound = sorted({v for i in pending for v in variables(i)} - bound)
            raise TranslationError(f"unsafe variable(s) {', '.join(_shown(unbound))}: nothing binds them",
                                   where=where)
        pending.remove(chosen)
        result.append(chosen)
        if isinstance(chosen, Literal) and not chosen.negated or isinstance(chosen, Comparison) and chosen.op == "=":
            bound.update(variables(chosen))
    unbound = sorted(set(variables(head)) - bound)
    if unbound:
        raise TranslationError(f"unsafe variable(s) {', '.join(_shown(unbound))} in the head", where=where)
    return tuple(result)


def _shown(names: list[str]) -> list[str]:
    return ["_" if n.startswith("_Anon") else n for n in names]


def _ready(item: BodyItem, bound: set[str]) -> bool:
    if isinstance(item, Literal):
        return set(variables(item)) <= bound
    left, right = set(variables(item.left)), set(variables(item.right))
    if left | right <= bound:
        return True
    if item.op != "=":
        return False
    return (left <= bound and _pattern(item.right)) or (right <= bound and _pattern(item.left))


def check_stratified(clauses: Iterable[Clause]) -> None:
    """Refuse negation or counting through recursion: pyDatalog would not notice and
    clingo's answer would no longer be the single model of a stratified program."""
    edges: dict[str, set[str]] = {}
    strict: list[tuple[str, str, str]] = []
    for clause in clauses:
        head = clause.head.signature
        edges.setdefault(head, set())
        for item in clause.body:
            if isinstance(item, Literal):
                body = item.atom.signature
                edges[head].add(body)
                edges.setdefault(body, set())
                if item.negated or clause.count:
                    strict.append((head, body, clause.where))
    component = _components(edges)
    for head, body, where in strict:
        if component[head] == component[body]:
            raise TranslationError(f"{head.split('#')[0]} depends on {body} through negation or a count inside "
                                   "a recursive cycle: the program is not stratified", where=where)


def _components(edges: dict[str, set[str]]) -> dict[str, int]:
    """Strongly connected components (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: dict[str, int] = {}
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    result[member] = index[node]
                    if member == node:
                        break
    return result


def _expand_intervals(node: Any, number: Callable[[Any], int | None]) -> Any:
    """Intervals with number bounds become pools (clingo gives them the same meaning in
    heads and bodies); returns the unpooled rules when there were any."""
    changed = False

    class Expand(ast.Transformer):
        def visit_Interval(self, interval: Any) -> Any:  # noqa: N802 (clingo's visitor naming)
            nonlocal changed
            low, high = number(interval.left), number(interval.right)
            if low is not None and high is not None:
                changed = True
                if high < low:
                    return ast.Pool(interval.location, [])
                return ast.Pool(interval.location, [ast.SymbolicTerm(interval.location, Number(n))
                                                    for n in range(low, high + 1)])
            return interval

    expanded = Expand()(node)
    return expanded.unpool() if changed else node


def _head_signature(head: Any) -> str:
    atoms = []

    class Find(ast.Transformer):
        def visit_SymbolicAtom(self, atom: Any) -> Any:  # noqa: N802
            symbol = atom.symbol
            if symbol.ast_type == ast.ASTType.Function:
                atoms.append(f"{symbol.name}/{len(symbol.arguments)}")
            elif symbol.ast_type == ast.ASTType.SymbolicTerm and symbol.symbol.type == SymbolType.Function:
                atoms.append(f"{symbol.symbol.name}/{len(symbol.symbol.arguments)}")
            return atom

    Find()(head)
    return atoms[0] if atoms else ""


def _head_kind(head: Any) -> str:
    kind = head.ast_type
    if kind == ast.ASTType.Aggregate:
        return "a choice rule"
    if kind == ast.ASTType.Disjunction:
        return "a disjunctive head"
    if kind == ast.ASTType.HeadAggregate:
        return "an aggregate in a head"
    if kind == ast.ASTType.Literal and head.sign != ast.Sign.NoSign:
        return "a negated head"
    if kind == ast.ASTType.TheoryAtom:
        return "a theory atom"
    return f"the head '{head}'"


def _kind_name(kind: Any) -> str:
    names = {
        ast.ASTType.Minimize: "an optimisation statement", ast.ASTType.Script: "an embedded script",
        ast.ASTType.Heuristic: "a #heuristic statement", ast.ASTType.Edge: "an #edge statement",
        ast.ASTType.ProjectAtom: "a #project statement", ast.ASTType.ProjectSignature: "a #project statement",
        ast.ASTType.TheoryDefinition: "a #theory definition",
    }
    return names.get(kind, f"the statement {kind}")


__all__ = ["translate", "Translation", "TranslationError", "Exemption", "order", "check_stratified", "SHOW",
           "VIOLATED"]
