"""Build clingo programs from a policy, and check a policy before it answers anything.

`build` adds a policy's rules and the input atoms a case could state (as ``#external``)
to a Control: the engine's groundings and the checks below share it. `check` grounds
the rules over two slots of every entity (no case facts) under a time and memory budget,
in a child process for a policy that is not the one shipped, and answers:

* whether the rules let a case be answered one disclosure at a time (`separable`);
* a PolicyError when the grounding runs away (the budget is spent: the rule suspected is
  named), when the rules admit no answer without any fact, or when they define no
  `verdict/2` for a disclosure (an empty main.lp must not answer MUST NOT SHARE).

Budgets: PYISP_POLICY_SECONDS (default 60) and PYISP_POLICY_MEGABYTES (default 4000).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import clingo
from clingo import ast

from ..errors import PolicyError, PyispError
from .policy import ast_lock

if TYPE_CHECKING:
    from .atoms import Inputs, Unknown
    from .policy import Policy

Key = tuple[Any, ...]  # (predicate, argument, ...): slots and constants as str, numbers as int
SLOT_MARK = "#"
PART = "disclosures"  # the collection a case is answered one entry at a time along, when it can be
DECISION = ("verdict", 2)
BUDGETS = {"PYISP_POLICY_SECONDS": 60, "PYISP_POLICY_MEGABYTES": 4000}


def slot(collection: str, index: int) -> str:
    """The name of a slot: the `index`-th entity of a collection in a grounding."""
    return f"{SLOT_MARK}{collection}.{index}"


def symbol(key: Key) -> clingo.Symbol:
    """The input atom of a key: slots as strings, numbers as numbers, other values as constants."""
    args = [clingo.Number(a) if isinstance(a, int) else clingo.String(a) if a.startswith(SLOT_MARK)
            else clingo.Function(a) for a in key[1:]]
    return clingo.Function(key[0], args)


def build(ctl: clingo.Control, policy: "Policy", keys: Iterable[Key]) -> None:
    """Add the rules and every input atom of `keys` as `#external` (the grounder must know
    they may become true; atoms given to the backend before grounding are taken as facts)."""
    where = ast.Location(ast.Position("<slots>", 1, 1), ast.Position("<slots>", 1, 1))
    false = ast.SymbolicTerm(where, clingo.Function("false"))
    with ast_lock(), ast.ProgramBuilder(ctl) as builder:
        for statement in policy.statements:
            builder.add(statement)
        for key in keys:
            builder.add(ast.External(where, ast.SymbolicAtom(ast.SymbolicTerm(where, symbol(key))), [], false))


_LOC = ast.Location(ast.Position("<case>", 1, 1), ast.Position("<case>", 1, 1))
INCONSISTENT = clingo.Function("inconsistent")


def fact(symbol: clingo.Symbol) -> Any:
    """`symbol.` as a rule (AST)."""
    return ast.Rule(_LOC, ast.Literal(_LOC, ast.Sign.NoSign, ast.SymbolicAtom(ast.SymbolicTerm(_LOC, symbol))), [])


def choice(unknown: "Unknown") -> Any:
    """`{ a1; ...; an }` for an unknown input (AST), bounded to exactly one (an enumerated
    value) or at most one (a reference that may name nobody of the case) when it has
    several atoms: the one encoding of unknowns, for the engine and the explainer."""
    elements = [ast.ConditionalLiteral(_LOC, ast.Literal(_LOC, ast.Sign.NoSign,
                                                         ast.SymbolicAtom(ast.SymbolicTerm(_LOC, sym))), [])
                for sym in unknown.atoms]
    several = len(elements) > 1
    one = ast.Guard(ast.ComparisonOperator.LessEqual, ast.SymbolicTerm(_LOC, clingo.Number(1)))
    return ast.Rule(_LOC, ast.Aggregate(_LOC, one if several and unknown.exactly_one else None, elements,
                                        one if several else None), [])


# The options of every Control that answers cases (a shape's grounding, a fresh Control per
# case). clasp's `frumpy` configuration (conservative defaults) runs the engine's many short
# solves under assumptions faster than its default for ASP (`tweety`): 200 generated cases
# 7.0 -> 5.8 s of CPU, 103 facts/ cases 2.0 -> 1.8 s, the same answers byte for byte (the
# others measured: jumpy, crafty, trendy, handy slower; frumpy with --eq=0, --restarts=no,
# --deletion=no, --sign-def=pos no faster). The answers do not depend on it: consequences
# are the solver's to settle whatever its search, deciding sets start from the case's own
# first completion, and cores only skip checks.
SOLVING = ["--warn=none", "--configuration=frumpy"]


def case_control(statements: Iterable[Any], inputs: "Inputs") -> tuple[clingo.Control, list[int]]:
    """A fresh Control with the statements, a case's facts and a choice for each unknown,
    grounded; and the assumption every solve makes (no contradiction). Inputs go through
    the grounder as rules: atoms added with the backend before grounding were missed by
    rules that compare their arguments (age(C, A), A >= 16 matched 16 but not 17)."""
    ctl = clingo.Control(SOLVING)
    with ast_lock(), ast.ProgramBuilder(ctl) as builder:
        for statement in statements:
            builder.add(statement)
        for symbol_ in inputs.facts:
            builder.add(fact(symbol_))
        for unknown in inputs.unknowns:
            builder.add(choice(unknown))
    ctl.ground([("base", [])])
    inconsistent = ctl.symbolic_atoms[INCONSISTENT]
    return ctl, ([-inconsistent.literal] if inconsistent is not None else [])


class _Dependencies:
    """Observes a grounding: each ground rule's head and body atoms."""

    def __init__(self) -> None:
        self.rules: list[tuple[Sequence[int], list[int]]] = []

    def rule(self, choice: bool, head: Sequence[int], body: Sequence[int]) -> None:
        self.rules.append((head, [abs(lit) for lit in body]))

    def weight_rule(self, choice: bool, head: Sequence[int], lower_bound: int,
                    body: Sequence[tuple[int, int]]) -> None:
        self.rules.append((head, [abs(lit) for lit, _ in body]))


def _separable(ctl: clingo.Control, observer: _Dependencies) -> bool:
    """In a grounding over two disclosure slots: no atom depends on both disclosures, no
    atom that depends on one fails to name it (nothing shared between disclosures is
    concluded from one), and no constraint depends on a disclosure (it could rule out
    values of an unknown the other disclosures share)."""
    marks = [f'"{slot(PART, i)}"' for i in range(2)]
    named: dict[int, frozenset[int]] = {}
    depends: dict[int, set[int]] = {}
    for atom in ctl.symbolic_atoms:
        text = str(atom.symbol)
        mentioned = frozenset(i for i, mark in enumerate(marks) if mark in text)
        named[atom.literal] = mentioned | named.get(atom.literal, frozenset())
        if mentioned:
            depends.setdefault(atom.literal, set()).update(mentioned)
    changed = True
    while changed:
        changed = False
        for head, body in observer.rules:
            found: set[int] = set()
            for lit in body:
                found |= depends.get(lit, set())
            if not found:
                continue
            if not head:
                return False  # a constraint on a disclosure's atoms
            for atom in head:
                known = depends.setdefault(atom, set())
                if not found <= known:
                    known |= found
                    changed = True
                    if len(known) > 1:
                        return False
    return all(len(found) <= 1 and found <= named.get(atom, found) for atom, found in depends.items())


@dataclass(frozen=True)
class Checked:
    """What `check` found: whether cases can be answered one disclosure at a time."""

    separable: bool


def _inspect(policy: "Policy") -> tuple[str | None, bool]:
    """Ground the policy over two slots of every entity: (a problem or None, separable)."""
    from .vocabulary import VOCABULARY

    counts = {c: 1 if c == "child" else 2 for c in VOCABULARY.collections}
    ctl = clingo.Control(["--warn=none"])
    observer = _Dependencies()
    ctl.register_observer(observer)
    build(ctl, policy, VOCABULARY.atoms(counts)[0])
    ctl.ground([("base", [])])
    if not any(True for _ in ctl.symbolic_atoms.by_signature(*DECISION)):
        return ("the rules conclude no verdict/2 for any disclosure: a policy must decide each disclosure "
                "(policy/verdict.lp)"), False
    if not ctl.solve().satisfiable:
        return ("the rules admit no answer even before any fact of a case is given: a constraint (':- ...') "
                "or a contradiction in the rules"), False
    separable = VOCABULARY.collections[-1:] == (PART,) and _separable(ctl, observer)
    return None, separable


def _child(directory: str, megabytes: int, out: Any) -> None:
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # no such limit here: the time budget still holds
        pass
    try:
        from .policy import Policy

        out.send(("ok", *_inspect(Policy(directory) if isinstance(directory, str) else directory)))
    except MemoryError:
        out.send(("memory", None, False))
    except RuntimeError as exc:  # clingo: out of memory, or a grounding error
        out.send(("memory" if "bad_alloc" in str(exc) or "memory" in str(exc).lower() else "error", str(exc), False))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, never lost
        # what went wrong, without where: the message may reach a service's client
        said = exc.message if isinstance(exc, PyispError) else \
            (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
        out.send(("error", f"{type(exc).__name__}: {said}", False))
    finally:
        out.close()


def budget(name: str) -> int:
    """A budget of BUDGETS: the environment variable of that name, else the default."""
    text = os.environ.get(name, "").strip()
    if not text:
        return BUDGETS[name]
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise PolicyError(f"the environment variable {name} must be a positive whole number, not {text[:40]!r}")
    return value


def check(policy: "Policy", isolated: bool | None = None) -> Checked:
    """Check a policy before it answers (see the module's docstring). `isolated`: in a
    child process under the budgets (default: unless it is the policy shipped)."""
    if isolated is None:
        isolated = not policy.shipped
    if not isolated:
        problem, separable = _inspect(policy)
    else:
        seconds, megabytes = budget("PYISP_POLICY_SECONDS"), budget("PYISP_POLICY_MEGABYTES")
        method = "fork" if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods() \
            else "spawn"
        context = multiprocessing.get_context(method)
        receive, send = context.Pipe(duplex=False)
        # a policy of the files is loaded again in the child; a derived one (with_statements) goes whole
        given = str(policy.directory) if method == "spawn" or not getattr(policy, "_derived", False) else policy
        process = context.Process(target=_child, args=(given, megabytes, send), daemon=True)
        process.start()
        send.close()
        ready = receive.poll(seconds)
        outcome = receive.recv() if ready else None
        process.join(1 if ready else 0)
        if process.is_alive():
            process.kill()
            process.join()
        if outcome is None or outcome[0] == "memory":
            spent = f"{seconds} s (PYISP_POLICY_SECONDS)" if outcome is None else f"{megabytes} MB (PYISP_POLICY_MEGABYTES)"
            suspect = growing_rule(policy)
            raise PolicyError(f"grounding the rules spent the budget of {spent} without finishing"
                              + (f"; the rule suspected, whose instances grow without end: '{suspect.text}'"
                                 if suspect else "") + "; raise the budget if the rules are meant to be this large",
                              where=suspect.where if suspect else str(policy.directory))
        if outcome[0] == "error":
            raise PolicyError(f"the rules cannot be grounded: {outcome[1]}", where=str(policy.directory))
        _, problem, separable = outcome
    if problem:
        raise PolicyError(problem, where=str(policy.directory))
    return Checked(separable)


def growing_rule(policy: "Policy") -> Any:
    """The first rule whose head repeats a predicate of its body with an arithmetic or
    compound term made from the body's variables (`p(X+1) :- p(X).`): the usual cause of a
    grounding without end. None when no rule looks so."""
    for rule in policy.rules:
        head = rule.node.head
        atom = getattr(getattr(head, "atom", None), "symbol", None)
        if atom is None or atom.ast_type != ast.ASTType.Function:
            continue
        body = {getattr(getattr(getattr(lit, "atom", None), "symbol", None), "name", None) for lit in rule.node.body}
        if atom.name in body and any(_grows(arg) for arg in atom.arguments):
            return rule
    return None


def _grows(term: Any) -> bool:
    kind = term.ast_type
    if kind in (ast.ASTType.BinaryOperation, ast.ASTType.UnaryOperation):
        return True
    if kind == ast.ASTType.Function:
        return bool(term.arguments) and any(_grows(a) or a.ast_type == ast.ASTType.Variable for a in term.arguments)
    return False
