"""Run clingo on a case: the three-valued answer (true whatever the unknowns are, true for
some of them, or false for all) and the smallest sets of unknowns that decide a conclusion.

Unknown inputs are free choices; every completion of the case is one answer set. The
cautious consequences hold whatever the unknowns are, the brave ones for some filling
in. Completions in which the rules find a contradiction are left out (``inconsistent``).

Design (for speed; see bench/README.md): the policy is grounded once per shape of case
over a *slot vocabulary*. Every input atom a case could state is an ``#external`` atom
whose entity arguments are slots (``"#people.0"``, ``"#disclosures.1"``, ...) instead of
the case's ids; the vocabulary is generated from the case format (pyisp/schema.py), so a
new input field needs no change here. A query maps the case's ids to slots, sets the
externals (true for a fact, free for an unknown, false otherwise; only the ones that
changed since the last query) and solves. Enumerated unknowns (one value of several)
keep their constraints in the grounding: "at most one value" always, "at least one"
behind a switch atom turned on for the query that leaves the field unknown. Results
name slots; they are mapped back to the case's ids when read (`Answer` from
`Engine.answer`, or pyisp/result.py given the slot names). Each case
shape (number of entities per collection) has its own grounding, made on first use:
a case never has more entities than slots, so nothing is ever truncated.

A `clingo.Control` is not thread-safe: use one `Engine` per thread (pyisp.service does).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Container, Iterable, Mapping, Sequence

import clingo

from .atoms import Inputs, Unknown, case_ids, case_inputs
from ..errors import ContradictionError, PolicyError
from .policy import Policy
from .program import PART, SOLVING, Key, build, case_control, slot, symbol
from .vocabulary import VOCABULARY, Vocabulary

INCONSISTENT = clingo.Function("inconsistent")
CONTRADICTION = "contradiction"
SLOT_MARK = "#"  # the mark of a slot's name (pyisp.core.program.slot)
GROUNDINGS = 32  # groundings kept per engine, one per shape of case (entities per collection)
FRESH_FIRST = 2  # cases of a shape answered in a fresh Control before the shape gets a grounding
PART_SIZE = 1  # disclosures per part of a separable case: 1 beats 4 and 16 (solving grows faster than grounding)
MEMO = 512  # answers kept per engine, by what was asked of which grounding (the same question: the same answer)
GARBAGE = 5000  # blocking rules added by deciding-set searches before the engine regrounds


@dataclass(frozen=True)
class DecidingSet:
    """Values of unknown inputs that together settle a conclusion, whatever the other
    unknowns are. Each item is (unknown, the values any of which will do)."""

    value: bool
    conditions: tuple[tuple[Unknown, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class Presumed:
    """A presumption of the policy applied to an unstated input: its name, the unknown
    field it fills, the value taken, and the verdicts possible if it turned out otherwise
    (`rebutted`: the `verdict/2` atoms that some completion then gives)."""

    name: str
    unknown: Unknown
    value: Any
    rebutted: frozenset[clingo.Symbol]


@dataclass(frozen=True)
class Answer:
    """What holds for every completion of the case (`certain`) and for some (`possible`),
    the presumptions applied, and for each unknown that matters, the conclusions whose
    possibility turns on it (`relevance`)."""

    certain: frozenset[clingo.Symbol]
    possible: frozenset[clingo.Symbol]
    deciding: dict[clingo.Symbol, tuple[DecidingSet, ...]]
    unknowns: tuple[Unknown, ...]
    presumed: tuple[Presumed, ...] = ()
    relevance: dict[Unknown, frozenset[clingo.Symbol]] | None = None
    _index: dict[str, list[clingo.Symbol]] = field(default_factory=dict, compare=False, repr=False)

    def named(self, name: str) -> list[clingo.Symbol]:
        """The atoms of `possible` with this predicate name (indexed on first use, shared
        by the copies of a remembered answer)."""
        if not self._index:
            index: dict[str, list[clingo.Symbol]] = {}
            for symbol in self.possible:
                index.setdefault(symbol.name, []).append(symbol)
            self._index.update(index)
            self._index.setdefault("", [])  # marks the index as built when nothing is possible
        return self._index.get(name, [])


# ------------------------------------------------------------------ the slot vocabulary (pyisp.core.vocabulary)

# ------------------------------------------------------------------ one grounding


class _Grounding:
    """The policy grounded once over a slot vocabulary, reused for every query."""

    def __init__(self, policy: Policy, vocabulary: Vocabulary, counts: dict[str, int]) -> None:
        self.counts = counts
        self.counts_key = tuple(sorted(counts.items()))
        self.ctl = clingo.Control(SOLVING)
        keys, groups = vocabulary.atoms(counts)
        build(self.ctl, policy, keys)
        observer = _Rules()
        self.ctl.register_observer(observer)
        self.ctl.ground([("base", [])])
        observer.closed = True  # the engine's own rules below (one-of groups, blocking) are not the policy's
        atoms = self.ctl.symbolic_atoms
        self.literal: dict[Key, int] = {key: atoms[symbol(key)].literal for key in keys}
        self.switch: dict[int, int] = {}  # atom of a one-of group -> its "at least one" switch
        with self.ctl.backend() as backend:
            for group in groups:
                atoms = [self.literal[k] for k in group]
                if len(atoms) < 2:
                    continue
                backend.add_weight_rule([], 2, [(a, 1) for a in atoms])  # at most one value
                switch = backend.add_atom()
                backend.add_external(switch, clingo.TruthValue.False_)
                backend.add_rule([], [switch] + [-a for a in atoms])  # at least one, when switched on
                for a in atoms:
                    self.switch[a] = switch
        inconsistent = self.ctl.symbolic_atoms[INCONSISTENT]
        self.base: list[int] = [-inconsistent.literal] if inconsistent is not None else []
        self.cones = _Cones(observer, [abs(b) for b in self.base])
        self.state: dict[int, bool | None] = {}
        self.mode = ("auto", 1)
        self.symbols: dict[clingo.Symbol, int | None] = {}
        self._signatures: dict[tuple[str, int], list[tuple[clingo.Symbol, int]]] = {}
        self.garbage = 0
        self.rebut = _add_rebuttals(self.ctl)

    def lookup(self, symbol: clingo.Symbol) -> int | None:
        if symbol not in self.symbols:
            atom = self.ctl.symbolic_atoms[symbol]
            self.symbols[symbol] = atom.literal if atom is not None else None
        return self.symbols[symbol]

    def assign(self, facts: Iterable[int], unknowns: Sequence[Unknown]) -> None:
        """Set the externals for a query: facts true, unknowns free, everything else false."""
        wanted: dict[int, bool | None] = dict.fromkeys(facts, True)
        for unknown in unknowns:
            atoms = unknown.atoms
            for atom in atoms:
                wanted[atom] = None
            if len(atoms) > 1:
                switches = {self.switch.get(a) for a in atoms}
                if len(switches) != 1 or None in switches:
                    raise PolicyError(f"the engine has no one-of group for the unknown field {unknown.path}")
                if unknown.exactly_one:
                    wanted[switches.pop()] = True  # type: ignore[index]
        assign = self.ctl.assign_external
        state = self.state
        for atom in [a for a in state if a not in wanted]:
            assign(atom, False)
            del state[atom]
        for atom, value in wanted.items():
            if state.get(atom, False) is not value:
                assign(atom, value)
                state[atom] = value

    def configure(self, mode: str, models: int) -> None:
        if self.mode != (mode, models):
            config = self.ctl.configuration.solve
            config.enum_mode = mode
            config.models = models
            self.mode = (mode, models)

    def consequences(self, mode: str, assumptions: Sequence[int]) -> frozenset[clingo.Symbol] | None:
        self.configure(mode, 0)
        last: list[Sequence[clingo.Symbol]] = []
        result = self.ctl.solve(assumptions=list(assumptions), on_model=lambda m: last.append(m.symbols(shown=True)))
        return frozenset(last[-1]) if result.satisfiable and last else None

    def holding(self, mode: str, assumptions: Sequence[int], among: Sequence[tuple[clingo.Symbol, int]],
                seen: Callable[[clingo.Model, list[int]], None] | None = None) -> frozenset[clingo.Symbol] | None:
        """The atoms of `among` (symbol, literal) in the brave or cautious consequences (None
        when the assumptions cannot hold): no symbols read from the models but these (and
        what `seen` reads of each model)."""
        self.configure("auto", 0)
        return _holding(self.ctl, among, assumptions, mode == "brave", seen)

    def atoms_of(self, name: str, arity: int) -> list[tuple[clingo.Symbol, int]]:
        """The ground atoms of a predicate with their literals, in the order of their text."""
        return _atoms_of(self.ctl, self._signatures, name, arity)

    def core(self, assumptions: Sequence[int]) -> frozenset[int] | None:
        """None when the assumptions can hold together; else a subset of them that cannot."""
        self.configure("auto", 1)
        return _core(self.ctl, assumptions)

    def values(self, options: list[list[tuple[Any, list[int]]]], assumptions: Sequence[int],
               cores: list[Sequence[int]] | None = None) -> list[Any] | None:
        """The value of every unknown in some completion satisfying the assumptions."""
        self.configure("auto", 1)
        return _completion_values(self.ctl, options, assumptions, cores)

    def block(self, lits: Sequence[Sequence[int]]) -> list[int]:
        """For each list of literals, a fresh atom true exactly when all of them are: assume
        its negation to look for completions that differ (one backend for all: opening one
        costs ~1 ms). Such rules stay in the grounding (harmless: nothing else uses the
        atoms); the engine regrounds after `GARBAGE` of them."""
        atoms = _block(self.ctl, lits)
        self.garbage += len(atoms)
        return atoms


class _Rules:
    """Observes a grounding: each ground rule's head atoms and body literals."""

    def __init__(self) -> None:
        self.rules: list[tuple[Sequence[int], Sequence[int]]] = []
        self.choice = False
        self.closed = False

    def rule(self, choice: bool, head: Sequence[int], body: Sequence[int]) -> None:
        if not self.closed:
            self.choice |= choice
            self.rules.append((head, body))

    def weight_rule(self, choice: bool, head: Sequence[int], lower_bound: int,
                    body: Sequence[tuple[int, int]]) -> None:
        if not self.closed:
            self.choice |= choice
            self.rules.append((head, [lit for lit, _ in body]))


class _Cones:
    """The ground dependencies of a grounding, to skip solves whose answer is known: the
    atoms a set of atoms depends on (its cone, through rules whose head meets it, with all
    their atoms). With no choice rule and no recursion through negation, a completion has
    exactly one answer set, and an input outside the cone of a conclusion and of every
    constraint (and `inconsistent`) can take any value without changing whether the
    conclusion holds nor which completions survive (the splitting set theorem). Otherwise
    (`exact` False) no cone is used."""

    def __init__(self, observer: _Rules, roots: Sequence[int]) -> None:
        self.uses: dict[int, list[int]] = {}  # atom -> the rules with it in the head
        self.rules = [(tuple(head), tuple(abs(lit) for lit in body)) for head, body in observer.rules]
        constraints = []
        for index, (head, _) in enumerate(self.rules):
            if not head:
                constraints.append(index)
            for atom in head:
                self.uses.setdefault(atom, []).append(index)
        self.exact = not observer.choice and _stratified(observer.rules)
        self.constrained = self._cone(list(roots), constraints) if self.exact else frozenset()
        self._cache: dict[frozenset[int], frozenset[int]] = {}

    def _cone(self, atoms: list[int], rules: list[int]) -> frozenset[int]:
        seen: set[int] = set(atoms)
        stack = list(atoms)
        done: set[int] = set()
        pending = list(rules)
        while stack or pending:
            while pending:
                index = pending.pop()
                if index in done:
                    continue
                done.add(index)
                head, body = self.rules[index]
                for atom in (*head, *body):
                    if atom not in seen:
                        seen.add(atom)
                        stack.append(atom)
            if stack:
                pending.extend(self.uses.get(stack.pop(), ()))
        return frozenset(seen)

    def cone(self, literals: Iterable[int]) -> frozenset[int] | None:
        """The atoms the given atoms and the constraints depend on (None: not exact)."""
        if not self.exact:
            return None
        key = frozenset(abs(lit) for lit in literals)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            found = self._cache[key] = self._cone(list(key), []) | self.constrained
        return found


def _stratified(rules: Sequence[tuple[Sequence[int], Sequence[int]]]) -> bool:
    """No cycle of the ground dependency graph goes through a negative body literal."""
    edges: dict[int, list[tuple[int, bool]]] = {}
    for head, body in rules:
        for atom in head:
            edges.setdefault(atom, []).extend((abs(lit), lit < 0) for lit in body)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    component: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, position = work[-1]
            out = edges.get(node, ())
            if position < len(out):
                work[-1] = (node, position + 1)
                child = out[position][0]
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = node
                    if member == node:
                        break
    return not any(negative and component.get(atom) == component.get(child) is not None
                   for atom, out in edges.items() for child, negative in out)


class _Query:
    """One query: the solver holding the case (a `_Grounding` or a `_Run`), its unknowns
    and their options as solver literals, and the assumptions every solve makes (`base`:
    no contradiction, and the presumptions applied)."""

    def __init__(self, solver: Any, unknowns: tuple[Unknown, ...], options: list[list[tuple[Any, list[int]]]],
                 base: Sequence[int]) -> None:
        self.g = solver
        self.unknowns = unknowns
        self.options = options
        self.base = list(base)
        self.atoms = [frozenset(abs(lit) for _, lits in choices for lit in lits) for choices in options]

    def independent(self, literals: Iterable[int]) -> list[bool]:
        """For each unknown, whether it is outside the cone of the literals and of every
        constraint: its value cannot change them nor rule out a completion (all False
        when the solver has no exact cones)."""
        cones = getattr(self.g, "cones", None)
        cone = cones.cone(literals) if cones is not None else None
        if cone is None:
            return [False] * len(self.options)
        return [cone.isdisjoint(atoms) for atoms in self.atoms]


def _options(unknowns: Sequence[Unknown]) -> list[list[tuple[Any, list[int]]]]:
    """Each unknown's options as lists of solver literals (unknowns whose atoms are literals)."""
    return [[(value, [lit if truth else -lit for lit, truth in option]) for value, option in u.options]
            for u in unknowns]


def _first_completion(solver: Any, options: list[list[tuple[Any, list[int]]]],
                      assumptions: Sequence[int], free: Sequence[bool] = ()) -> list[Any] | None:
    """The first completion satisfying the assumptions, in the order of the unknowns and of
    their options: fixed by the case, not by the solver's search (the same on any grounding).
    An unknown marked `free` (outside the cone of the assumptions and of every constraint,
    `_Query.independent`) takes its first option without asking: any value of it completes."""
    current = solver.values(options, assumptions)
    if current is None:
        return None
    chosen = list(assumptions)
    retry = 0  # from here on, first ask whether every unknown left can take its first option
    for index, choices in enumerate(options):
        if free and free[index]:
            current[index] = choices[0][0]
            chosen += choices[0][1]
            continue
        if index >= retry and current[index] != choices[0][0]:
            firsts = [(later, options[later][0][1]) for later in range(index, len(options))]
            cores: list[Sequence[int]] = []
            found = solver.values(options, chosen + [lit for _, lits in firsts for lit in lits], cores)
            if found is not None:
                current = found  # the first option of each: the first completion, in one solve
            else:  # ask one by one up to the last unknown whose first option the conflict names
                core = set(cores[0]) if cores else set()
                retry = max((later + 1 for later, lits in firsts if core.intersection(lits)), default=len(options))
        for value, lits in choices:
            if value == current[index]:
                break
            found = solver.values(options, chosen + lits)
            if found is not None:
                current = found
                break
        chosen += next(lits for value, lits in choices if value == current[index])
    return current


REBUT = "pyisp_rebut__"  # the engine's own atoms for asking every presumption's rebuttal in one solve


@dataclass(frozen=True)
class _Rebuttals:
    """The engine's rules for reading every applied presumption's rebuttal in one solve
    (`_add_rebuttals`): the switch, for each presumed value (the input atom and true or
    false) the external that puts it in play, and the atoms (verdict, presumed value,
    literal) true in a completion with that verdict in which the presumed value is the only
    one in play that fails."""

    switch: clingo.Symbol
    in_play: dict[tuple[clingo.Symbol, bool], clingo.Symbol]
    pairs: list[tuple[clingo.Symbol, tuple[clingo.Symbol, bool], int]]


def _add_rebuttals(ctl: clingo.Control) -> _Rebuttals | None:
    """Rules, behind a switch, that leave only the completions in which exactly one of the
    presumed values put in play fails, and pair each verdict with the presumed value that
    fails: one brave read of the pairs gives what `_verdicts` gives for each presumption in
    turn (the verdicts some completion gives when that presumption fails and the others
    hold). None when the policy has no presumptions or verdicts."""
    atoms = ctl.symbolic_atoms
    presumed = sorted({(s.arguments[1], s.arguments[2].name == "true")
                       for s in (a.symbol for a in atoms.by_signature(PRESUMPTION, 3))
                       if s.arguments[1].type == s.arguments[2].type == clingo.SymbolType.Function
                       and s.arguments[2].name in ("true", "false")}, key=str)  # others: one solve each
    verdicts = sorted((a.symbol for a in atoms.by_signature("verdict", 2)), key=str)
    if not presumed or not verdicts:
        return None
    text = [f"#external {REBUT}."]
    for index, (atom, value) in enumerate(presumed):
        text.append(f"#external {REBUT}_in_play({index}).")
        text.append(f"{REBUT}_fails({index}) :- {REBUT}_in_play({index}), {'not ' if value else ''}{atom}.")
    text.append(f":- {REBUT}, #count{{K : {REBUT}_fails(K)}} != 1.")
    for index, verdict in enumerate(verdicts):
        text.append(f"{REBUT}({index}, K) :- {REBUT}, {verdict}, {REBUT}_fails(K).")
    ctl.add(REBUT, [], "\n".join(text))
    ctl.ground([(REBUT, [])])
    atoms = ctl.symbolic_atoms
    switch = atoms[clingo.Function(REBUT)]
    if switch is None:
        return None
    in_play = {key: clingo.Function(f"{REBUT}_in_play", [clingo.Number(index)]) for index, key in enumerate(presumed)}
    pairs = [(verdicts[a.symbol.arguments[0].number], presumed[a.symbol.arguments[1].number], a.literal)
             for a in atoms.by_signature(REBUT, 2)]
    return _Rebuttals(switch.symbol, in_play, pairs)


def _rebutted(solver: Any, base: Sequence[int],
              presumed: Sequence[tuple[str, int, Any, int]]) -> list[frozenset[clingo.Symbol]]:
    """For each applied presumption (its assumed literal last), the verdicts some completion
    gives when it fails and the others hold: in one solve (`_add_rebuttals`), else one
    solve each."""
    if not presumed:
        return []
    rebut: _Rebuttals | None = getattr(solver, "rebut", None)
    keys: list[tuple[clingo.Symbol, bool] | None] = [None] * len(presumed)
    if rebut is not None:
        by_literal = {}
        for key in rebut.in_play:
            lit = solver.lookup(key[0])
            if lit is not None:
                by_literal[lit if key[1] else -lit] = key
        keys = [by_literal.get(lit) for *_, lit in presumed]
    if rebut is None or None in keys:
        return [_verdicts(solver, [b for b in base if b != lit] + [-lit]) for *_, lit in presumed]
    wanted = set(keys)
    among = [(clingo.Number(index), lit) for index, (_, key, lit) in enumerate(rebut.pairs) if key in wanted]
    lits = {lit for *_, lit in presumed}
    switches = [rebut.switch] + [rebut.in_play[key] for key in wanted]  # externals, false but here
    assign = solver.ctl.assign_external
    try:
        for switch in switches:
            assign(switch, True)
        found = solver.holding("brave", [b for b in base if b not in lits], among) or frozenset()
    finally:
        for switch in switches:
            assign(switch, False)
    by_key: dict[Any, set[clingo.Symbol]] = {}
    for index in found:
        verdict, key, _ = rebut.pairs[index.number]
        by_key.setdefault(key, set()).add(verdict)
    return [frozenset(by_key.get(key, ())) for key in keys]


# ------------------------------------------------------------------ a fresh Control per case


class _Run:
    """One case grounded on its own in a fresh Control (the foundation's way): used by
    pyisp/crosscheck.py, which wants a second, independent path to the answer."""

    def __init__(self, policy: Policy, inputs: Inputs) -> None:
        self.ctl, self.base = case_control(policy.statements, inputs)
        self.unknowns = inputs.unknowns
        self.options: list[list[tuple[Any, list[int]]]] = []
        for unknown in inputs.unknowns:
            lits = {sym: self.ctl.symbolic_atoms[sym].literal for sym in unknown.atoms}
            self.options.append([(value, [lits[s] if truth else -lits[s] for s, truth in option])
                                 for value, option in unknown.options])
        self._signatures: dict[tuple[str, int], list[tuple[clingo.Symbol, int]]] = {}
        self.rebut = _add_rebuttals(self.ctl)

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

    def lookup(self, symbol: clingo.Symbol) -> int | None:
        return self.literal(symbol)

    def holding(self, mode: str, assumptions: Sequence[int], among: Sequence[tuple[clingo.Symbol, int]],
                seen: Callable[[clingo.Model, list[int]], None] | None = None) -> frozenset[clingo.Symbol] | None:
        config = self.ctl.configuration.solve
        config.models = 0
        found = _holding(self.ctl, among, assumptions, mode == "brave", seen)
        config.enum_mode = "auto"
        config.models = 1
        return found

    def atoms_of(self, name: str, arity: int) -> list[tuple[clingo.Symbol, int]]:
        return _atoms_of(self.ctl, self._signatures, name, arity)

    def core(self, assumptions: Sequence[int]) -> frozenset[int] | None:
        """None when the assumptions can hold together; else a subset of them that cannot."""
        return _core(self.ctl, assumptions)

    def values(self, options: list[list[tuple[Any, list[int]]]], assumptions: Sequence[int],
               cores: list[Sequence[int]] | None = None) -> list[Any] | None:
        """The value of every unknown in some completion satisfying the assumptions."""
        return _completion_values(self.ctl, options, assumptions, cores)

    def block(self, lits: Sequence[Sequence[int]]) -> list[int]:
        """For each list of literals, a fresh atom true exactly when all of them are."""
        return _block(self.ctl, lits)

    def witness(self, assumptions: Sequence[int]) -> list[Any] | None:
        """The value of every unknown in one completion satisfying the assumptions."""
        return _completion_values(self.ctl, self.options, assumptions)


try:  # clingo's own C binding: Model.is_true goes through a generic wrapper that costs ~3 µs a literal
    from clingo._internal import _ffi, _lib  # type: ignore[attr-defined]

    _IS_TRUE = _lib.clingo_model_is_true
except (ImportError, AttributeError):  # another build of clingo: its Model.is_true
    _IS_TRUE = None


def _changing(model: clingo.Model, pairs: list[tuple[clingo.Symbol, int]], brave: bool) -> list[tuple[clingo.Symbol, int]]:
    """The (symbol, literal) pairs whose literal is false in the model (brave) or true
    (cautious): those whose consequence can still change. A model of a brave or cautious
    enumeration reads hundreds of literals, which is most of the Python time of a solve."""
    rep = getattr(model, "_rep", None)
    if _IS_TRUE is None or rep is None:
        is_true = model.is_true
        return [pair for pair in pairs if is_true(pair[1]) is not brave]
    out, call = _ffi.new("bool*"), _IS_TRUE
    kept = []
    for pair in pairs:
        if not call(rep, pair[1], out):
            model.is_true(pair[1])  # raises clingo's error for this literal
        if out[0] is not brave:
            kept.append(pair)
    return kept


def _block(ctl: clingo.Control, lits: Sequence[Sequence[int]]) -> list[int]:
    """For each list of literals, a fresh atom true exactly when all of them are (one backend)."""
    if not lits:
        return []
    atoms = []
    with ctl.backend() as backend:
        for each in lits:
            atom = backend.add_atom()
            backend.add_rule([atom], list(each))
            atoms.append(atom)
    return atoms


def _true_of(model: clingo.Model, lits: Sequence[int]) -> frozenset[int]:
    """The literals true in a model (as `_changing` reads them)."""
    rep = getattr(model, "_rep", None)
    if _IS_TRUE is None or rep is None:
        return frozenset(lit for lit in lits if model.is_true(lit))
    out, call = _ffi.new("bool*"), _IS_TRUE
    found = []
    for lit in lits:
        if not call(rep, lit, out):
            model.is_true(lit)  # raises clingo's error for this literal
        if out[0]:
            found.append(lit)
    return frozenset(found)


def _holding(ctl: clingo.Control, among: Sequence[tuple[clingo.Symbol, int]],
             assumptions: Sequence[int], brave: bool,
             seen: Callable[[clingo.Model, list[int]], None] | None = None) -> frozenset[clingo.Symbol] | None:
    """The atoms of `among` (any literals: shown or not, negative too) true in some
    completion under the assumptions (brave), or in every one (cautious); None when there
    is none. Models are enumerated in clingo's plain mode (the Control set to enumerate
    all), each asked by a clause of this solving step to change one of the atoms still
    open, so the solve stops when they are settled, whatever else the policy shows; each
    model reads only the atoms whose truth can still change. `seen(model, literals)`, when
    given, is shown each model with the literals of `among` it newly settled (brave: now
    true; cautious: now false), to learn from it beyond this read."""
    undecided = list(among)  # brave: not yet true; cautious: still true
    models = [0]

    def read(model: clingo.Model) -> bool:
        left = _changing(model, undecided, brave)
        if seen is not None:
            gone = {lit for _, lit in left}
            seen(model, [lit for _, lit in undecided if lit not in gone])
        undecided[:] = left
        models[0] += 1
        if not undecided:
            return False  # nothing left to change: stop (the later models would agree)
        # the next model must change one of them: one of those not yet true becomes true (brave),
        # or one of those true so far becomes false (cautious)
        model.context.add_clause([lit if brave else -lit for _, lit in undecided])
        return True

    result = ctl.solve(assumptions=list(assumptions), on_model=read)
    if not result.satisfiable or not models[0]:
        return None
    if brave:
        left = {lit for _, lit in undecided}
        return frozenset(s for s, lit in among if lit not in left)
    return frozenset(s for s, _ in undecided)


def _atoms_of(ctl: clingo.Control, cache: dict[tuple[str, int], list[tuple[clingo.Symbol, int]]],
              name: str, arity: int) -> list[tuple[clingo.Symbol, int]]:
    if (name, arity) not in cache:
        cache[(name, arity)] = sorted(((a.symbol, a.literal) for a in ctl.symbolic_atoms.by_signature(name, arity)),
                                      key=lambda pair: str(pair[0]))
    return cache[(name, arity)]


def _completion_values(ctl: clingo.Control, options: list[list[tuple[Any, list[int]]]],
                       assumptions: Sequence[int], cores: list[Sequence[int]] | None = None) -> list[Any] | None:
    """Solve once under the assumptions; the value each unknown takes in the model found
    (None when there is none; then the conflicting assumptions are added to `cores`)."""
    values: list[Any] = []

    def read(model: clingo.Model) -> None:
        for choices in options:
            for value, lits in choices:
                if all(model.is_true(lit) for lit in lits):
                    values.append(value)
                    break

    result = ctl.solve(assumptions=list(assumptions), on_model=read,
                       on_core=cores.append if cores is not None else None)
    return values if result.satisfiable else None


# ------------------------------------------------------------------ the engine


class Engine:
    """Answers cases with one parsed policy, grounded once. One query at a time: use one
    Engine per thread."""

    def __init__(self, policy: Policy | None = None, fresh_first: int = FRESH_FIRST, memo: int = MEMO) -> None:
        self.policy = policy or Policy()
        self.fresh_first = fresh_first
        self.memo = memo
        self._memo: OrderedDict[tuple[Any, ...], tuple[Answer, tuple[Unknown, ...]]] = OrderedDict()
        self.vocabulary = VOCABULARY
        self._groundings: OrderedDict[tuple[int, ...], _Grounding] = OrderedDict()
        self._seen: dict[tuple[int, ...], int] = {}

    # -- the groundings ----------------------------------------------------------------
    def _shape(self, counts: Mapping[str, int]) -> tuple[int, ...]:
        return tuple(max(1, counts.get(c, 0)) for c in self.vocabulary.collections)

    def grounding(self, counts: Mapping[str, int]) -> _Grounding:
        """The grounding with exactly `counts` slots per collection (at least one each).

        Solving time grows with the grounding (a consent slot joins every disclosure slot
        over 11 purposes x 14 agencies), so each shape of case gets its own grounding,
        made on first use (~30-60 ms) and kept (the `GROUNDINGS` most recently used)."""
        shape = self._shape(counts)
        grounding = self._groundings.get(shape)
        if grounding is None or grounding.garbage >= GARBAGE:
            grounding = _Grounding(self.policy, self.vocabulary, dict(zip(self.vocabulary.collections, shape)))
            self._groundings[shape] = grounding
            while len(self._groundings) > GROUNDINGS:
                self._groundings.popitem(last=False)
        self._groundings.move_to_end(shape)
        return grounding

    def _fresh(self, counts: Mapping[str, int]) -> bool:
        """Whether to answer in a fresh Control: the first `FRESH_FIRST` cases of a shape are
        (grounding the slot vocabulary costs several cases' worth, and an engine may be
        used only once, as pyisp/mutate.py does)."""
        shape = self._shape(counts)
        if shape in self._groundings:
            return False
        seen = self._seen.get(shape, 0)
        if seen >= self.fresh_first:
            return False
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[shape] = seen + 1
        return True

    def _answer_fresh(self, inputs: Inputs, decide: Iterable[clingo.Symbol], max_sets: int,
                      off: Container[str]) -> Answer:
        run = _Run(self.policy, inputs)
        return self._solve(run, inputs.unknowns, run.options, decide, max_sets, off)

    # -- public: inputs as clingo symbols ----------------------------------------------
    def answer(self, inputs: Inputs, decide: Iterable[clingo.Symbol] | None = None,
               max_sets: int = 2, off: Container[str] = ()) -> Answer:
        """The three-valued answer, under the policy's presumptions except those named in
        `off`; for each atom of `decide` that depends on the unknowns, up to `max_sets`
        smallest deciding sets for each of its two values. Symbols name the case's ids, in
        and out."""
        slots: dict[str, str] = {}
        counts: dict[str, int] = {}
        for fact in inputs.facts:
            coll = self.vocabulary.entities.get(fact.name)
            if coll is not None and len(fact.arguments) == 1 and fact.arguments[0].string not in slots:
                slots[fact.arguments[0].string] = slot(coll, counts.get(coll, 0))
                counts[coll] = counts.get(coll, 0) + 1
        if self._fresh(counts):
            return self._answer_fresh(inputs, decide or (), max_sets, off)
        grounding = self.grounding(counts)
        try:
            facts = [grounding.literal[_key(s, slots)] for s in inputs.facts]
            unknowns = tuple(Unknown(u.path, tuple((v, tuple((grounding.literal[_key(s, slots)], t) for s, t in lits))
                                                   for v, lits in u.options), u.description, u.question) for u in inputs.unknowns)
        except KeyError:  # an atom outside the case format (a fact added beside the case's)
            return self._answer_fresh(inputs, decide or (), max_sets, off)
        names = {v: k for k, v in slots.items()}
        to_slots = {clingo.String(k): clingo.String(v) for k, v in slots.items()}
        decide_slots = {_rename(s, to_slots): s for s in decide or ()}
        grounding.assign(facts, unknowns)
        answer = self._solve(grounding, unknowns, _options(unknowns), decide_slots, max_sets, off)
        back = {clingo.String(k): clingo.String(v) for k, v in names.items()}
        originals = dict(zip(unknowns, inputs.unknowns))

        def ids(symbols: Iterable[clingo.Symbol]) -> frozenset[clingo.Symbol]:
            return frozenset(_rename(s, back) for s in symbols)

        return Answer(ids(answer.certain), ids(answer.possible),
                      {decide_slots[k]: tuple(DecidingSet(d.value, tuple((originals[u], v) for u, v in d.conditions))
                                              for d in sets) for k, sets in answer.deciding.items()},
                      tuple(originals[u] for u in answer.unknowns),
                      tuple(Presumed(p.name, originals[p.unknown], p.value, ids(p.rebutted)) for p in answer.presumed),
                      None if answer.relevance is None else
                      {originals[u]: ids(atoms) for u, atoms in answer.relevance.items()})

    # -- fast path: a validated case dict ----------------------------------------------
    def answer_parts(self, case: dict[str, Any],
                     decide: Callable[[Mapping[str, str], Sequence[str]], Iterable[clingo.Symbol]] | None,
                     max_sets: int = 2, off: Container[str] = ()) -> list[tuple[list[str], Answer, dict[str, str]]]:
        """Answer a validated case one disclosure at a time when the rules allow it (no
        rule joins two disclosures: `separable`), else whole: the time grows with the
        number of disclosures, not with its square. For each part: the ids of its
        disclosures, its answer (atoms naming slots) and the map from slots to the case's
        ids, as `answer_case`. `decide(slots, ids)` gives the atoms to find deciding sets for
        the disclosures `ids`."""
        disclosures = case["disclosures"]
        if len(disclosures) < 2 or not self.policy.checked.separable:
            ids = [d["id"] for d in disclosures]
            answer, names = self.answer_case(case, (lambda slots: decide(slots, ids)) if decide else None, max_sets, off)
            return [(ids, answer, names)]
        parts = []
        size = PART_SIZE
        for start in range(0, len(disclosures), size):
            positions = range(start, min(start + size, len(disclosures)))
            ids = [disclosures[i]["id"] for i in positions]
            answer, names = self.answer_case(case, (lambda slots, ids=ids: decide(slots, ids)) if decide else None,
                                             max_sets, off, only={PART: positions})
            parts.append((ids, answer, names))
        return parts

    def answer_case(self, case: dict[str, Any], decide: Callable[[Mapping[str, str]], Iterable[clingo.Symbol]] | None,
                    max_sets: int = 2, off: Container[str] = (),
                    only: Mapping[str, Sequence[int]] | None = None) -> tuple[Answer, dict[str, str]]:
        """Answer a validated case (with `only`, the part of it that keeps the entries of a
        collection at those positions, see pyisp.core.atoms.case_inputs). Returns the
        answer, whose atoms name slots, and the map from each slot to the case's id (empty
        when the atoms name the ids themselves). `decide(slots)` gives the atoms to find
        deciding sets for."""
        ids = case_ids(case, only)
        counts = {coll: len(members) for coll, members in ids.items()}
        if self._fresh(counts):
            identity = {ident: ident for members in ids.values() for ident in members}
            return self._answer_fresh(case_inputs(case, only=only), decide(identity) if decide else (), max_sets,
                                      off), {}
        slots = {ident: slot(coll, i) for coll, members in ids.items() for i, ident in enumerate(members)}
        grounding = self.grounding(counts)
        literal = grounding.literal

        def make(template: list[str], ctx: dict[str, Any], value: Any, spec: dict[str, Any] | None) -> int:
            key = [template[0]]
            for token in template[1:]:
                if token == "$id":
                    key.append(slots[ctx["id"]])
                elif token == "$child":
                    key.append(slots[ctx["child"]])
                elif token in ("$value", "$item"):
                    key.append(slots[value] if spec and "x-ref" in spec else value)
                elif token == "$yesno":
                    key.append("yes" if value else "no")
                else:
                    key.append(token)
            return literal[tuple(key)]

        inputs = case_inputs(case, make, only)
        wanted = tuple(decide(slots)) if decide else ()
        key = (grounding.counts_key, frozenset(inputs.facts), tuple(u.options for u in inputs.unknowns), wanted,
               max_sets, off if isinstance(off, frozenset) else frozenset(off))
        known = self._memo.get(key)
        if known is not None:
            self._memo.move_to_end(key)
            return _renamed(*known, inputs.unknowns), {v: k for k, v in slots.items()}
        grounding.assign(inputs.facts, inputs.unknowns)
        answer = self._solve(grounding, inputs.unknowns, _options(inputs.unknowns), wanted, max_sets, off)
        if self.memo:
            self._memo[key] = (answer, inputs.unknowns)
            while len(self._memo) > self.memo:
                self._memo.popitem(last=False)
        return answer, {v: k for k, v in slots.items()}

    # -- solving -----------------------------------------------------------------------
    def _solve(self, solver: Any, unknowns: tuple[Unknown, ...], options: list[list[tuple[Any, list[int]]]],
               decide: Iterable[clingo.Symbol], max_sets: int, off: Container[str] = ()) -> Answer:
        base = list(solver.base)
        presumed: list[tuple[str, int, Any, int]] = []
        originals = unknowns
        if unknowns:
            strict = solver.holding("cautious", base, solver.atoms_of(PRESUMPTION, 3))
            if strict is None:
                raise _contradiction(solver, str(self.policy.directory))
            presumed, kept, options = _presume(solver, strict, options, off)
            base += [lit for _, _, _, lit in presumed]
            unknowns = tuple(unknowns[i] for i in kept)
        if not unknowns:
            certain = solver.consequences("auto", base)
            possible = certain
        else:
            possible = solver.consequences("brave", base)
            certain = solver.consequences("cautious", base) if possible is not None else None
        if possible is None or certain is None:
            raise _contradiction(solver, str(self.policy.directory))
        applied = tuple(Presumed(name, originals[index], value, rebutted)
                        for (name, index, value, _), rebutted in zip(presumed, _rebutted(solver, base, presumed)))
        deciding: dict[clingo.Symbol, tuple[DecidingSet, ...]] = {}
        relevance: dict[Unknown, frozenset[clingo.Symbol]] | None = None
        decide = list(decide)
        if unknowns:
            query = _Query(solver, unknowns, options, base)
            for symbol in decide:
                if symbol in possible and symbol not in certain:
                    lit = solver.lookup(symbol)
                    if lit is not None:
                        deciding[symbol] = tuple(_deciding_sets(query, lit, True, max_sets)) + tuple(
                            _deciding_sets(query, lit, False, max_sets))
            if decide:
                relevance = _relevance(query, possible - certain)
        return Answer(certain, possible, deciding, unknowns, applied, relevance)


def _renamed(answer: Answer, asked: tuple[Unknown, ...], unknowns: tuple[Unknown, ...]) -> Answer:
    """A remembered answer, given for `asked`, for a query asking the same of the same
    grounding with `unknowns`: the same inputs in the same order, but with this case's
    paths and questions."""
    if len(asked) == len(unknowns) and all(a is b for a, b in zip(asked, unknowns)):
        return answer
    by_id = {id(old): new for old, new in zip(asked, unknowns)}

    def names(u: Unknown) -> Unknown:
        return by_id[id(u)]

    return Answer(answer.certain, answer.possible,
                  {k: tuple(DecidingSet(d.value, tuple((names(u), v) for u, v in d.conditions)) for d in sets)
                   for k, sets in answer.deciding.items()},
                  tuple(names(u) for u in answer.unknowns),
                  tuple(Presumed(p.name, names(p.unknown), p.value, p.rebutted) for p in answer.presumed),
                  None if answer.relevance is None else {names(u): atoms for u, atoms in answer.relevance.items()},
                  answer._index)


PRESUMPTION = "presumption_applies"
CONCLUSIONS = ("verdict", "obligation")  # what a professional must decide or do; findings only explain


def _presume(solver: Any, strict: frozenset[clingo.Symbol], options: list[list[tuple[Any, list[int]]]],
             off: Container[str]) -> tuple[list[tuple[str, int, Any, int]], list[int], list[list[tuple[Any, list[int]]]]]:
    """The presumptions of the policy (`presumption_applies/3`, read from what holds
    whatever the unknowns are) that fill an unstated input and are not switched off: for
    each, (name, index of the unknown, value taken, the literal assumed). Returns them, the
    indices of the unknowns still open and the options left to every unknown."""
    owner: dict[int, int] = {}
    for index, choices in enumerate(options):
        for _, lits in choices:
            for lit in lits:
                owner.setdefault(abs(lit), index)
    applied: list[tuple[str, int, Any, int]] = []
    narrowed = [list(choices) for choices in options]
    for presumed in (s for s, _ in solver.atoms_of(PRESUMPTION, 3) if s in strict):
        name, atom, value = presumed.arguments
        if name.name in off:
            continue
        lit = solver.lookup(atom)
        index = owner.get(lit) if lit is not None else None
        if index is None:
            continue  # the case states it: a stated fact always wins
        assumed = lit if value.name == "true" else -lit
        choices = [(v, lits) for v, lits in narrowed[index] if assumed in lits]
        if not choices:
            continue  # another presumption already excludes this value
        narrowed[index] = choices
        applied.append((name.name, index, _option_value(choices), assumed))
    kept = [i for i, choices in enumerate(narrowed) if len(choices) > 1]
    return applied, kept, [narrowed[i] for i in kept]


def _option_value(choices: list[tuple[Any, list[int]]]) -> Any:
    """The value an unknown takes once presumed: the one option left, else the options."""
    return choices[0][0] if len(choices) == 1 else tuple(v for v, _ in choices)


def _verdicts(solver: Any, assumptions: Sequence[int]) -> frozenset[clingo.Symbol]:
    """The verdicts some completion gives under the assumptions (empty when none can hold)."""
    return solver.holding("brave", assumptions, solver.atoms_of("verdict", 2)) or frozenset()


def _relevance(query: _Query, open_: frozenset[clingo.Symbol]) -> dict[Unknown, frozenset[clingo.Symbol]]:
    """For each unknown, the open conclusions (verdicts, obligations) that one of its values
    rules out: the unknowns whose answer would change what the professional may or must do."""
    open_ = frozenset(s for s in open_ if s.name in CONCLUSIONS)
    found: dict[Unknown, frozenset[clingo.Symbol]] = {}
    if not open_:
        return found
    among = [(s, query.g.lookup(s)) for s in open_]
    exact = all(lit is not None for _, lit in among)  # else a shown term that is no atom: read whole models
    free = query.independent(lit for _, lit in among) if exact else [False] * len(query.unknowns)
    mirrored = _by_conclusion(query, among, free) if exact else {}
    for index, (unknown, choices, independent) in enumerate(zip(query.unknowns, query.options, free)):
        if independent:
            continue  # no value of it changes an open conclusion
        changed: set[clingo.Symbol] = set()
        if index in mirrored:
            changed = mirrored[index]
        else:
            for _, lits in choices:
                brave = query.g.holding("brave", query.base + lits, among) if exact else \
                    query.g.consequences("brave", query.base + lits)
                if brave is not None:
                    changed |= open_ - brave
        if changed:
            found[unknown] = frozenset(changed)
    return found


def _by_conclusion(query: _Query, among: Sequence[tuple[clingo.Symbol, int]],
                   free: Sequence[bool]) -> dict[int, set[clingo.Symbol]]:
    """`_relevance` asked the other way round, when that takes fewer solves: for each open
    conclusion, one solve tells which input literals some completion that has it has
    (`_holding` reads any literal, an input's negation too). A value that is one input
    literal (yes or no; a one-of field's value, the field's other atoms being false
    whenever it is true) rules a conclusion out when no completion has both. Returns, for
    each unknown (by index) whose every value is one literal, the open conclusions one of
    its possible values rules out."""
    asked = [index for index, independent in enumerate(free)
             if not independent and None not in _singles(query.options[index])]
    conclusions: dict[int, list[clingo.Symbol]] = {}
    for atom, lit in among:
        conclusions.setdefault(lit, []).append(atom)
    if 1 + len(conclusions) >= sum(len(query.options[index]) for index in asked):
        return {}  # one solve per value is no more
    options = sorted({option for index in asked for option in _singles(query.options[index])  # type: ignore[type-var]
                      if option is not None})
    watched = [(clingo.Number(option), option) for option in options]  # the number names the literal
    g = query.g
    # Every model a read finds is a completion (of the query's base assumptions): the input
    # literals true in it are reached by each open conclusion true in it too. Later reads
    # start from what earlier models showed (the literals each model newly showed to its
    # own read: reading every literal of every model cost more than it saved), and a read
    # whose literals are all shown already needs no solve.
    learnt: list[tuple[frozenset[int], frozenset[int]]] = []  # (conclusions true, input literals true) per model
    lits = sorted(conclusions)

    def learn(model: clingo.Model, changed: list[int]) -> None:
        learnt.append((_true_of(model, lits), frozenset(changed)))

    def reach(assumptions: list[int], conclusion: int | None = None) -> frozenset[int] | None:
        """The input literals (of the values asked) true in some completion under the
        assumptions (the base and, if given, the conclusion)."""
        shown = [true for held, true in learnt if conclusion is None or conclusion in held]
        known = frozenset().union(*shown) if shown else frozenset()
        if len(known) == len(options):
            return known
        some = g.holding("brave", assumptions, [w for w in watched if w[1] not in known], learn)
        if some is None:
            return None if not shown else known  # none found now: only when none was shown before either
        return known | frozenset(s.number for s in some)

    def holds(option: int, reached: frozenset[int] | None) -> bool:
        """Whether some completion of those reached has the literal true."""
        return reached is not None and option in reached

    reached = {lit: reach(query.base + [lit], lit) for lit in lits}
    base: list[frozenset[int] | None] = []
    found: dict[int, set[clingo.Symbol]] = {}
    for index in asked:
        changed: set[clingo.Symbol] = set()
        for option in _singles(query.options[index]):
            with_it = [lit for lit, where in reached.items() if holds(option, where)]
            if len(with_it) == len(reached):
                continue  # every open conclusion stays possible
            if not with_it:  # none: is the value possible at all?
                if not base:
                    base.append(reach(list(query.base)))
                if not holds(option, base[0]):
                    continue  # no completion takes this value: it rules nothing out
            changed.update(s for lit, where in reached.items() if not holds(option, where)
                           for s in conclusions[lit])
        found[index] = changed
    return found


def _singles(options: list[tuple[Any, list[int]]]) -> list[int | None]:
    """The one literal each option of an unknown amounts to: itself, or the one true atom of
    a one-of field's value (at most one of the field's atoms holds: the others are then
    false); None for an option that is no single literal (none of a one-of field's values)."""
    found: list[int | None] = []
    for _, lits in options:
        positive = [lit for lit in lits if lit > 0]
        found.append(lits[0] if len(lits) == 1 else positive[0] if len(positive) == 1 else None)
    return found


def _core(ctl: clingo.Control, assumptions: Sequence[int]) -> frozenset[int] | None:
    cores: list[Sequence[int]] = []
    result = ctl.solve(assumptions=list(assumptions), on_core=cores.append)
    if result.satisfiable:
        return None
    return frozenset(cores[0]) if cores else frozenset(assumptions)


def _key(symbol: clingo.Symbol, slots: Mapping[str, str]) -> Key:
    args: list[Any] = [symbol.name]
    for arg in symbol.arguments:
        if arg.type == clingo.SymbolType.String:
            args.append(slots.get(arg.string, arg.string))
        elif arg.type == clingo.SymbolType.Number:
            args.append(arg.number)
        else:
            args.append(arg.name)
    return tuple(args)


def _rename(symbol: clingo.Symbol, names: Mapping[clingo.Symbol, clingo.Symbol]) -> clingo.Symbol:
    if symbol.type == clingo.SymbolType.String:
        return names.get(symbol, symbol)
    if symbol.type == clingo.SymbolType.Function and symbol.arguments:
        return clingo.Function(symbol.name, [_rename(a, names) for a in symbol.arguments], symbol.positive)
    return symbol


def _contradiction(solver: Any, rules: str) -> ContradictionError | PolicyError:
    """Why no completion of the case holds: a contradiction the rules name (the case's
    facts), else a constraint of the rules that admits no answer at all (the policy's)."""
    found = solver.consequences("brave", [])
    if found is None:
        return PolicyError("the rules admit no answer for this case, and name no contradiction of its facts: a "
                           "constraint (':- ...') of the policy rules out every completion", where=rules)
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


def _forces(query: _Query, chosen: dict[int, Any], lit: int, value: bool) -> frozenset[int] | None:
    """Whether the chosen values force `lit` to `value`: then the core, the assumptions
    that are enough for it (a subset, from the solver), else None."""
    assumptions = list(query.base) + [-lit if value else lit]
    for index, option_value in chosen.items():
        assumptions += next(lits for v, lits in query.options[index] if v == option_value)
    return query.g.core(assumptions)


def _shrink(query: _Query, chosen: dict[int, Any], lit: int, value: bool) -> dict[int, Any]:
    """The chosen values (which force `lit` to `value`) less each one, in order, without which
    the rest still force it: greedy deletion. Forcing only grows with more values, so when
    the rest still force it without a run of the next values, each of them would go in
    turn: the run goes in one solve (runs double while they go, halve when they do not;
    a single value that cannot go stays)."""
    order = list(chosen)
    core: frozenset[int] | None = None
    position, run = 0, 1
    while position < len(order):
        index = order[position]
        if core is not None and core.isdisjoint(next(ls for v, ls in query.options[index] if v == chosen[index])):
            del chosen[index]  # the last core holds without it: still forced, no need to ask
            position += 1
            continue
        block = order[position:position + run]
        trial = {k: v for k, v in chosen.items() if k not in block}
        found_core = _forces(query, trial, lit, value)
        if found_core is not None:
            chosen, core = trial, found_core
            position += len(block)
            run *= 2
        elif len(block) > 1:
            run = len(block) // 2
        else:
            position += 1  # it stays
    return chosen


def _deciding_sets(query: _Query, lit: int, value: bool, limit: int) -> list[DecidingSet]:
    """Subset-minimal sets of unknown values that force `lit` to `value` (greedy shrinking
    of a witness completion, then every alternative value that works as well)."""
    found: list[DecidingSet] = []
    blockers: list[int] = []
    free = query.independent([lit])  # never in a smallest set: without them the rest still forces it
    for _ in range(limit):
        witness = _first_completion(query.g, query.options, list(query.base) + [lit if value else -lit]
                                    + [-b for b in blockers], free)
        if witness is None:
            break
        chosen = {index: v for index, v in enumerate(witness) if not free[index]}
        chosen = _shrink(query, chosen, lit, value)
        conditions = []
        alternatives: list[list[Any]] = []
        for index, option_value in chosen.items():
            works = [v for v, _ in query.options[index]
                     if v == option_value or _forces(query, {**chosen, index: v}, lit, value) is not None]
            conditions.append((query.unknowns[index], tuple(works)))
            alternatives.append(works)
        found.append(DecidingSet(value, tuple(conditions)))
        indices = list(chosen)
        if len(found) < limit:
            blockers += query.g.block([[option for index, v in zip(indices, combo)
                                        for option in next(ls for ov, ls in query.options[index] if ov == v)]
                                       for combo in itertools.islice(itertools.product(*alternatives), 64)])
    return sorted(found, key=lambda s: len(s.conditions))
