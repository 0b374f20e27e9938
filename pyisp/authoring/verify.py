"""`pyisp verify`: check the properties of policy/properties.lp over every case of a
bounded domain with the solver. A property's violation is the goal: no model means it
holds for every case in the domain; a model is a counterexample, printed as a case file.

Two properties are not violation rules: `one_answer` is checked by the solver on two
copies of the rules (renamed apart) that must agree on every output for the same inputs,
plus a lint (no integrity constraint in the rules); `sound_unknowns` is checked on
generated cases (complete cases drawn from the domain by the solver, with fields then
left out at random), comparing each three-valued answer with its completions.
"""

from __future__ import annotations

import functools
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import clingo
from clingo import ast

from .domain import PATH_TOKEN, Bounds, _set, parse_extra
from ..errors import PolicyError, PyispError
from ..core.policy import HEADER, Policy, default_policy_dir
from .shrink import shrink, violated
from .solving import OUTPUTS, Grounded, ground, renamed
from ..core.upgrade import upgrade
from ..core.vocabulary import VOCABULARY

PROPERTIES_FILE = "properties.lp"
DEFAULT_PEOPLE = (1, 3)
META = ("one_answer", "sound_unknowns")
_NAME = re.compile(r"^%%\s+property\s+(\w+)\s*$")
_CHECKED = re.compile(r"^%%\s+checked by:\s*(.+?)\s*$")


@dataclass(frozen=True)
class Property:
    """One property: its name, statement, paragraphs, and how it is checked."""

    name: str
    statement: str
    paragraphs: tuple[str, ...]
    line: int
    checked_by: str = "solver"


@dataclass
class Outcome:
    """The result of checking one property in one domain."""

    prop: Property
    holds: bool
    bounds: Bounds | None
    inputs: int
    seconds: float
    method: str
    counterexample: dict[str, Any] | None = None
    violations: list[str] = field(default_factory=list)
    result_text: str = ""
    detail: str = ""

    @property
    def line(self) -> str:
        scope = f"cases with {self.bounds.text}" if self.bounds else "the rules"
        if self.method.endswith("generated cases") or "generated" in self.method:
            scope = f"{self.method} drawn from {scope}"
        else:
            scope = f"all {scope}"
        if self.holds:
            return f"{self.prop.name}: holds for {scope} ({self.inputs} inputs) in {self.seconds:.3f} s"
        return f"{self.prop.name}: fails for a case with {self.bounds.text if self.bounds else ''} " \
               f"({self.inputs} inputs) in {self.seconds:.3f} s"

    def to_dict(self) -> dict[str, Any]:
        return {"property": self.prop.name, "statement": self.prop.statement,
                "paragraphs": list(self.prop.paragraphs), "holds": self.holds, "method": self.method,
                "domain": self.bounds.to_dict() if self.bounds else None, "inputs": self.inputs,
                "seconds": round(self.seconds, 4), "counterexample": self.counterexample,
                "violations": self.violations, "detail": self.detail}


def read_properties(path: Path) -> list[Property]:
    """The property blocks of a properties file (name, citation line, `checked by`)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PolicyError(f"cannot read the properties: {exc.strerror}", where=str(path)) from None
    found: list[Property] = []
    for number, line in enumerate(lines, start=1):
        match = _NAME.match(line)
        if not match:
            continue
        cite = HEADER.match(lines[number]) if number < len(lines) else None
        if not cite:
            raise PolicyError(f"property '{match.group(1)}' needs a `%% paragraphs: statement` line below it",
                              where=f"{path}:{number + 1}")
        checked = _CHECKED.match(lines[number + 1]) if number + 1 < len(lines) else None
        found.append(Property(match.group(1), cite.group(2), tuple(p.strip() for p in cite.group(1).split(",")),
                              number, "solver" if checked is None else checked.group(1)))
    return found


class Verifier:
    """The properties of one policy directory, checked over bounded domains."""

    def __init__(self, policy_dir: str | Path | None = None, properties: str | Path | None = None,
                 policy: Policy | None = None) -> None:
        self.policy = policy or Policy(policy_dir)
        path = Path(properties) if properties else _properties_path(self.policy.directory)
        self.properties = read_properties(path)
        try:
            self.rules = parse_extra(path)
        except RuntimeError as exc:
            raise PolicyError(f"cannot parse the properties: {exc}", where=str(path)) from None
        self._check_names(path)

    def _check_names(self, path: Path) -> None:
        declared = {p.name for p in self.properties}
        for statement in self.rules:
            if statement.ast_type != ast.ASTType.Rule or statement.head.ast_type != ast.ASTType.Literal:
                continue
            atom = statement.head.atom
            if atom.ast_type == ast.ASTType.SymbolicAtom and atom.symbol.ast_type == ast.ASTType.Function \
                    and atom.symbol.name == "violation":
                name = str(atom.symbol.arguments[0])
                if name not in declared:
                    raise PolicyError(f"violation({name}, ...) belongs to no `%% property {name}` block",
                                      where=f"{path}:{statement.location.begin.line}")

    def select(self, names: Sequence[str] | None) -> list[Property]:
        if not names:
            return list(self.properties)
        known = {p.name: p for p in self.properties}
        missing = [n for n in names if n not in known]
        if missing:
            raise PyispError(f"no property named {', '.join(missing)}; known: {', '.join(known)}",
                             where="--property")
        return [known[n] for n in names]

    def check(self, bounds: Bounds, names: Sequence[str] | None = None, samples: int = 40,
              explain: bool = True) -> list[Outcome]:
        """Check the chosen properties in one domain."""
        chosen = self.select(names)
        outcomes: list[Outcome] = []
        solver = [p for p in chosen if p.name not in META]
        if solver:
            grounded = ground([self.policy.statements, self.rules], bounds)
            for prop in solver:
                outcomes.append(self._solve(grounded, prop, bounds, explain))
        for prop in chosen:
            if prop.name == "one_answer":
                outcomes.append(self._one_answer(prop, bounds))
            elif prop.name == "sound_unknowns":
                outcomes.append(check_soundness(prop, self.policy, bounds, samples))
        order = {p.name: i for i, p in enumerate(chosen)}
        return sorted(outcomes, key=lambda o: order[o.prop.name])

    def _solve(self, grounded: Grounded, prop: Property, bounds: Bounds, explain: bool) -> Outcome:
        violations = [s for s in grounded.atoms("violation", 2) if str(s.arguments[0]) == prop.name]
        goal = grounded.goal([[grounded.literal(s)] for s in violations])
        model, seconds = grounded.search(goal, optimise=explain)
        outcome = Outcome(prop, model is None, bounds, grounded.domain.input_count, seconds, "solver")
        if model is not None:
            outcome.violations = sorted(str(s) for s in model if s.name == "violation"
                                        and str(s.arguments[0]) == prop.name)
            if explain:
                outcome.counterexample = shrink(grounded.domain.case_document(
                    model, title=f"Counterexample to {prop.name}: {prop.statement}"),
                    lambda doc: violated(doc, self.policy.statements, self.rules, prop.name))
                outcome.result_text = _answer_text(outcome.counterexample, self.policy.directory)
        return outcome

    def _one_answer(self, prop: Property, bounds: Bounds) -> Outcome:
        start = time.perf_counter()
        constraints = [s for s in self.policy.statements if s.ast_type == ast.ASTType.Rule
                       and s.head.ast_type == ast.ASTType.Literal
                       and s.head.atom.ast_type == ast.ASTType.BooleanConstant]
        if constraints:
            where = constraints[0].location.begin
            return Outcome(prop, False, bounds, 0, time.perf_counter() - start, "lint",
                           detail=f"an integrity constraint at {where.filename}:{where.line} can leave a "
                                  f"complete case without an answer (use contradiction/2)")
        grounded = ground([self.policy.statements, renamed(self.policy.statements, COPY)], bounds)
        groups = output_groups(grounded, COPY)
        goal = grounded.goal([body for bodies in groups.values() for body in bodies])
        model, seconds = grounded.search(goal, optimise=True)
        outcome = Outcome(prop, model is None, bounds, grounded.domain.input_count,
                          time.perf_counter() - start, "solver, two copies")
        if model is not None:
            outcome.counterexample = grounded.domain.case_document(model, title="Two answers for one case")
        return outcome


COPY = "pyisp_b_"


def output_groups(grounded: Grounded, prefix: str) -> dict[str, list[list[int]]]:
    """For each output (a verdict atom, or a finding or obligation code), the bodies that
    make the two versions disagree on it: old and not new, or new and not old."""
    groups: dict[str, list[list[int]]] = {}
    for name, arity in OUTPUTS:
        symbols = set(grounded.atoms(name, arity))
        symbols |= {clingo.Function(s.name[len(prefix):], s.arguments) for s in grounded.atoms(prefix + name, arity)}
        for symbol in symbols:
            key = output_key(symbol)
            old = grounded.literal(symbol)
            new = grounded.literal(clingo.Function(prefix + name, symbol.arguments))
            bodies = groups.setdefault(key, [])
            if old is not None:
                bodies.append([old] + ([-new] if new is not None else []))
            if new is not None:
                bodies.append([new] + ([-old] if old is not None else []))
    return groups


def output_key(symbol: clingo.Symbol) -> str:
    """How outputs are grouped: `permitted`, `required`, `finding CODE`, `obligation CODE`."""
    if symbol.name in ("finding", "obligation"):
        term = symbol.arguments[1]
        return f"{symbol.name} {term.name if term.type == clingo.SymbolType.Function else term}"
    return symbol.name


def _properties_path(directory: Path) -> Path:
    path = directory / PROPERTIES_FILE
    return path if path.is_file() else default_policy_dir() / PROPERTIES_FILE


def _answer_text(doc: dict[str, Any], policy_dir: Path) -> str:
    from ..render.result_text import result_text
    from ..core.service import answer_case

    try:
        return result_text(answer_case(doc, policy=policy_dir, depends_on=False))
    except PyispError as exc:  # the domain should only produce valid cases: say so if not
        return f"(the case is rejected: {exc})\n"


# ------------------------------------------------------------------ soundness of unknowns

def check_soundness(prop: Property, policy: Policy, bounds: Bounds, samples: int, seed: int = 7) -> Outcome:
    """Generated cases: complete cases drawn from the domain by the solver, then some fields
    left out. A settled verdict or finding must hold in sampled completions; each
    depends_on set, filled in, must settle its conclusion to the value it names."""
    from ..core.service import answer_case

    start = time.perf_counter()
    rng = random.Random(seed)
    grounded = ground([policy.statements], bounds)
    grounded.ctl.configuration.solve.opt_mode = "ignore"
    inputs = sorted({a for f in grounded.domain.fields for a in f.unknown.atoms}, key=str)
    checked = 0
    tally = {"settled": 0, "completions": 0, "deciding sets": 0}
    for _ in range(samples * 3):
        if checked >= samples:
            break
        complete = _random_case(grounded, inputs, rng)
        if complete is None:
            continue
        partial, removed = _leave_out(complete, grounded, rng)
        try:
            # strict: the completions drawn need not respect the presumptions
            result = answer_case(partial, policy=policy.directory, depends_on=True, strict=True)
        except PyispError:
            continue
        checked += 1
        problem = _compare(partial, removed, result, grounded, rng, policy.directory,
                           functools.partial(answer_case, strict=True), tally)
        if problem:
            return Outcome(prop, False, bounds, len(inputs), time.perf_counter() - start,
                           f"{checked} generated cases", counterexample=partial, detail=problem)
    return Outcome(prop, True, bounds, len(inputs), time.perf_counter() - start,
                   f"{checked} generated cases with facts left out", detail=(
                       f"{tally['settled']} settled answers compared in {tally['completions']} completions; "
                       f"{tally['deciding sets']} deciding sets filled in"))


def _random_case(grounded: Grounded, inputs: list[clingo.Symbol], rng: random.Random) -> dict[str, Any] | None:
    for size in (24, 12, 6, 0):
        picked = rng.sample(inputs, min(size, len(inputs)))
        assumptions = [(lit if rng.random() < 0.5 else -lit) for s in picked
                       if (lit := grounded.literal(s)) is not None]
        found: list[set[clingo.Symbol]] = []
        grounded.ctl.solve(assumptions=assumptions, on_model=lambda m, found=found: found.append(set(m.symbols(atoms=True))))
        if found:
            return grounded.domain.case_document(found[0])
    return None


def _leaf_paths(grounded: Grounded, doc: dict[str, Any]) -> list[str]:
    """Fields of the case that may be left out (not required by the format)."""
    paths = set()
    for item in grounded.domain.fields:
        path = re.sub(r"\[[^\]\d][^\]]*\]$", "", item.unknown.path)
        parent, _, key = path.rpartition(".")
        parent_spec = VOCABULARY.spec_at(parent) if parent else {}
        if key in parent_spec.get("required", []) or _get(doc, path) is None or _not_unknown_when_left_out(path):
            continue
        paths.add(path)
    return sorted(paths)


def _not_unknown_when_left_out(path: str) -> bool:
    """Fields whose absence is not an unknown (a proposal not made, a gated part): leaving
    them out would change the case rather than hide a fact."""
    return any("x-when" in field.spec or field.spec.get("x-unstated") == "none" for field in VOCABULARY.along(path))


def _get(doc: Any, path: str) -> Any:
    node = doc
    for name, index, _item in PATH_TOKEN.findall(path):
        try:
            node = node[name] if name else node[int(index)]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _delete(doc: Any, path: str) -> None:
    parent, _, key = path.rpartition(".")
    node = _get(doc, parent) if parent else doc
    if isinstance(node, dict):
        node.pop(key, None)


def _leave_out(complete: dict[str, Any], grounded: Grounded, rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    import copy

    partial = copy.deepcopy(complete)
    paths = _leaf_paths(grounded, complete)
    removed = rng.sample(paths, min(len(paths), rng.randint(2, 12)))
    for path in removed:
        _delete(partial, path)
    # the format's shorthands restate some fields left out (a named police request says there
    # was a request): those are stated, not unknown, so no completion may change them
    partial = upgrade(partial)
    return partial, [path for path in removed if _get(partial, path) is None]


def _status_map(result: Any) -> dict[tuple[str, str], str]:
    out = {}
    for d in result.disclosures:
        out[(d.id, "permitted")] = d.permitted
        out[(d.id, "required")] = d.required
        for c in (*d.findings, *d.obligations):
            out[(d.id, c.label)] = c.status
    return out


def _statuses_of(case: dict[str, Any], answer: Callable[..., Any], policy_dir: Path) -> dict[tuple[str, str], str] | None:
    """The statuses of a filled-in case (`_status_map`), None when it cannot be answered."""
    try:
        return _status_map(answer(case, policy=policy_dir, depends_on=False))
    except PyispError:
        return None


def _compare(partial: dict[str, Any], removed: list[str], result: Any, grounded: Grounded, rng: random.Random,
             policy_dir: Path, answer: Callable[..., Any], tally: dict[str, int]) -> str:
    import copy

    settled = {k: v for k, v in _status_map(result).items() if v in ("yes", "no")}
    for _ in range(4):  # sampled completions of the fields left out
        filled = copy.deepcopy(partial)
        other = _random_case(grounded, sorted({a for f in grounded.domain.fields for a in f.unknown.atoms}, key=str),
                             rng)
        if other is None:
            continue
        for path in removed:
            value = _get(other, path)
            if value is not None and _get(filled, path.rpartition(".")[0] or "") is not None:
                _set_path(filled, path, value)
        completion = _statuses_of(filled, answer, policy_dir)
        if completion is None:
            continue
        tally["completions"] += 1
        tally["settled"] += len(settled)
        possible = _status_map(result)
        for key, value in completion.items():
            if key not in possible and value != "no":
                return (f"{key[1]} of {key[0]} is impossible with {', '.join(removed)} unknown, but "
                        f"'{value}' when they are filled in")
        for key, value in settled.items():
            if completion.get(key, "no") != value:
                return (f"{key[1]} of {key[0]} is '{value}' with {', '.join(removed)} unknown, but "
                        f"'{completion.get(key, 'no')}' when they are filled in")
    for d in result.disclosures:
        for dep in d.depends_on:
            filled = copy.deepcopy(partial)
            if any(c.values[0] is None for c in dep.conditions):
                continue
            for condition in dep.conditions:
                _set(filled, condition.path, condition.values[0])
            got = _statuses_of(filled, answer, policy_dir)
            if got is None:
                continue
            tally["deciding sets"] += 1
            if got.get((d.id, dep.conclusion)) != dep.value:
                return (f"depends_on of {d.id} says {dep.text}, but filled in, {dep.conclusion} is "
                        f"'{got.get((d.id, dep.conclusion))}'")
    return ""


def _set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    parent, _, key = path.rpartition(".")
    node = _get(doc, parent) if parent else doc
    if isinstance(node, dict):
        node[key] = value


def verify(policy: str | Path | None = None, names: Sequence[str] | None = None,
           people: Iterable[int] = DEFAULT_PEOPLE, samples: int = 40) -> list[Outcome]:
    """Check the properties at each domain size (default: 1 and 3 people)."""
    verifier = Verifier(policy)
    outcomes: list[Outcome] = []
    for n in people:
        outcomes += verifier.check(Bounds.for_people(n), names, samples)
    return outcomes
