"""A bounded domain of cases for the solver: every case with up to N people, a few pieces
of information, consent records and disclosures, as choice rules over the whole input
vocabulary. A model is one complete case; `case_document` turns it back into a case file.

Built from the case format alone (pyisp/core/schema.py through pyisp/core/atoms.py): a skeleton
case with every field left out gives one `Unknown` per input; the entities themselves
(a person, a piece of information, ...) and the references between them (`about`,
`discloses`, `consent_by`) become choices too, constrained so that every model is a case
the format accepts. No policy here: the rules are added by the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import clingo
from clingo import ast

from ..core.atoms import Unknown, _atom
from ..core.schema import CASE
from ..core.vocabulary import VOCABULARY

DOMAIN_LP = Path(__file__).with_name("domain.lp")

# collection -> (id prefix, fewest a case may have)
COLLECTIONS = {"people": ("p", 0), "information": ("i", 1), "consents": ("k", 0), "disclosures": ("d", 1)}
CHILD_ID = "c"
_OWNER = re.compile(r"^(people|information|consents|disclosures)\[(\d+)\]")
# a token of an Unknown's path: a field's name, a list position ([0]) or a list item ([amy])
PATH_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[([^\]]+)\]")


@dataclass(frozen=True)
class Bounds:
    """How big the cases of a domain may be."""

    people: int
    information: int
    consents: int
    disclosures: int

    @classmethod
    def for_people(cls, people: int) -> "Bounds":
        """The domain used for `--people N`: the child and up to N adults, two pieces of
        information, a consent record for each of them, two disclosures (one when N < 2)."""
        return cls(people, 2 if people >= 1 else 1, people + 1, 2 if people >= 2 else 1)

    @property
    def text(self) -> str:
        return (f"up to {self.people} people ({self.information} pieces of information, "
                f"{self.consents} consent records, {self.disclosures} disclosures)")

    def to_dict(self) -> dict[str, int]:
        return {"people": self.people, "information": self.information, "consents": self.consents,
                "disclosures": self.disclosures}


@dataclass(frozen=True)
class Field:
    """One unknown input of the domain, present only when `when` holds (the entity it
    belongs to exists; for the criteria of understanding, the form that was used)."""

    unknown: Unknown
    when: tuple[tuple[clingo.Symbol, bool], ...]


def _open(spec: Any) -> Any:
    """The case format with every part open to choice: no ``x-when`` gate (a field stated
    where its gate is closed still counts), and a field whose absence means "no proposal"
    (``x-unstated: none``, such as a channel) gets that absence as one more option."""
    if isinstance(spec, list):
        return [_open(item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    out = {key: _open(value) for key, value in spec.items() if key != "x-when"}
    if out.get("x-unstated") == "none" and "x-atom" in out:
        out.pop("x-unstated")
        out["x-optional-ref"] = True
    return out


OPEN_CASE = _open(CASE)


def _inputs(case: dict[str, Any]) -> Any:
    """`atoms.case_inputs` over the open format: one Unknown per input of the skeleton."""
    from ..core import atoms

    return atoms.case_inputs(case, spec=OPEN_CASE)


def _skeleton(bounds: Bounds, criteria: bool) -> dict[str, Any]:
    child: dict[str, Any] = {"id": CHILD_ID}
    if criteria:
        child["understanding_criteria"] = {}
    case: dict[str, Any] = {"child": child}
    for coll, (prefix, _) in COLLECTIONS.items():
        count = getattr(bounds, coll)
        case[coll] = [{"id": f"{prefix}{n + 1}"} for n in range(count)]
    return case


class Domain:
    """The choice program of a bounded domain, added to a Control through its backend."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        plain = _inputs(_skeleton(bounds, criteria=False))
        by_criteria = _inputs(_skeleton(bounds, criteria=True))
        self.entities: dict[str, clingo.Symbol] = {}   # id -> entity atom
        self.paths: dict[str, str] = {}                # id -> path of the entity ("people[0]")
        self.required: list[clingo.Symbol] = []
        self.optional: list[list[clingo.Symbol]] = []  # per collection, in slot order
        for coll, (prefix, least) in COLLECTIONS.items():
            spec = CASE["properties"][coll]["items"]
            slots = []
            for n in range(getattr(bounds, coll)):
                ident = f"{prefix}{n + 1}"
                symbol = _atom(spec["x-atom"], {"id": ident})
                self.entities[ident] = symbol
                self.paths[ident] = f"{coll}[{n}]"
                (self.required if n < least else slots).append(symbol)
            self.optional.append(slots)
        self.required.append(_atom(CASE["properties"]["child"]["x-atom"], {"id": CHILD_ID}))
        marker_spec = CASE["properties"]["child"]["properties"]["understanding_criteria"]
        self.marker = _atom(marker_spec["x-marker"], {"id": CHILD_ID, "child": CHILD_ID})
        criteria_path = "child.understanding_criteria."
        instead_path = "child." + marker_spec["x-instead"]
        fields = []
        for unknown in plain.unknowns:
            when = self._owner(unknown.path)
            if unknown.path == instead_path:
                when += ((self.marker, False),)
            fields.append(Field(unknown, when))
        fields += [Field(u, ((self.marker, True),)) for u in by_criteria.unknowns if u.path.startswith(criteria_path)]
        self.fields: tuple[Field, ...] = tuple(fields)
        self._statements: list[Any] | None = None

    def _owner(self, path: str) -> tuple[tuple[clingo.Symbol, bool], ...]:
        match = _OWNER.match(path)
        if not match:
            return ()
        prefix = COLLECTIONS[match.group(1)][0]
        symbol = self.entities[f"{prefix}{int(match.group(2)) + 1}"]
        return () if symbol in self.required else ((symbol, True),)

    @property
    def input_count(self) -> int:
        """How many input atoms the solver chooses (entities, the form of understanding, fields)."""
        atoms = {a for f in self.fields for a in f.unknown.atoms}
        return len(atoms) + sum(len(s) for s in self.optional) + 1

    def statements(self) -> list[Any]:
        if self._statements is None:
            self._statements = self._build()
        return self._statements

    def _build(self) -> list[Any]:
        """The domain as ground clingo.ast statements: choice rules for every input atom and
        constraints that keep each model a case the format accepts (the rules in domain.lp
        are added too). Built as AST, not through the backend: the grounder then sees
        every input atom when it instantiates the rules."""
        out: list[Any] = []
        for symbol in self.required:
            out.append(_rule(_head(symbol), []))
        choices = [s for slots in self.optional for s in slots] + [self.marker]
        out.append(_choice(choices))
        for slots in self.optional:  # symmetry: slot n+1 only when slot n is used
            for earlier, later in zip(slots, slots[1:]):
                out.append(_constraint([(later, True), (earlier, False)]))
        id_of = {clingo.String(i): s for i, s in self.entities.items() if s not in self.required}
        lists: dict[tuple[str, tuple[Any, ...]], list[clingo.Symbol]] = {}
        for item in self.fields:
            unknown, when = item.unknown, list(item.when)
            atoms = list(unknown.atoms)
            out.append(_choice(atoms))
            for symbol in atoms:
                for c, truth in when:  # a field of an absent entity (or form) is never stated
                    out.append(_constraint([(symbol, True), (c, not truth)]))
                for arg in symbol.arguments:  # a reference names an entity that exists
                    target = id_of.get(arg)
                    if target is not None and (target, True) not in item.when:
                        out.append(_constraint([(symbol, True), (target, False)]))
            if len(atoms) > 1:
                out.append(_at_most_one(atoms))
                if unknown.exactly_one:
                    out.append(_constraint(when + [(a, False) for a in atoms]))
                elif any(value is None for value, _ in unknown.options):
                    out.append(_rule(_head(_unstated(unknown)), when + [(a, False) for a in atoms]))
            list_path = re.sub(r"\[[^\]\d][^\]]*\]$", "", unknown.path)
            if list_path != unknown.path and VOCABULARY.spec_at(list_path).get("minItems"):
                lists.setdefault((list_path, tuple(item.when)), []).extend(atoms)
        for (_, when), atoms in lists.items():  # a list the format requires to be non-empty
            out.append(_constraint(list(when) + [(a, False) for a in atoms]))
        ast.parse_files([str(DOMAIN_LP)], out.append)
        return out

    def preferences(self, ctl: clingo.Control) -> None:
        """After grounding: prefer cases that state every field, then the smallest case."""
        def lits(symbols: list[clingo.Symbol]) -> list[tuple[int, int]]:
            found = [ctl.symbolic_atoms[s] for s in symbols]
            return [(a.literal, 1) for a in found if a is not None]

        unstated = lits([_unstated(f.unknown) for f in self.fields])
        entities = lits([s for slots in self.optional for s in slots])
        with ctl.backend() as backend:
            if unstated:
                backend.add_minimize(2, unstated)
            if entities:
                backend.add_minimize(1, entities)

    def case_document(self, model: clingo.Model | set[clingo.Symbol], title: str = "") -> dict[str, Any]:
        """The case file for one model of the domain: every field stated (a reference to
        someone outside the case, which the format cannot state, is left out)."""
        true = model.symbols(atoms=True) if isinstance(model, clingo.Model) else model
        holds = set(true)
        doc: dict[str, Any] = {"id": "counterexample"}
        if title:
            doc["title"] = title
        doc["child"] = {"id": CHILD_ID}
        for coll in COLLECTIONS:
            items = [{"id": ident} for ident, path in self.paths.items()
                     if path.startswith(coll + "[") and self.entities[ident] in holds]
            if items:
                doc[coll] = items
        if self.marker in holds:
            doc["child"]["understanding_criteria"] = {}
        for item in self.fields:
            if not all((s in holds) == truth for s, truth in item.when):
                continue
            for value, option in item.unknown.options:
                if all((s in holds) == truth for s, truth in option):
                    _set(doc, item.unknown.path, value)
                    break
        return doc


_LOC = ast.Location(ast.Position("<domain>", 1, 1), ast.Position("<domain>", 1, 1))


def _atom_ast(symbol: clingo.Symbol) -> Any:
    return ast.SymbolicAtom(ast.SymbolicTerm(_LOC, symbol))


def _head(symbol: clingo.Symbol) -> Any:
    return ast.Literal(_LOC, ast.Sign.NoSign, _atom_ast(symbol))


def _body(literals: Sequence[tuple[clingo.Symbol, bool]]) -> list[Any]:
    return [ast.Literal(_LOC, ast.Sign.NoSign if truth else ast.Sign.Negation, _atom_ast(s)) for s, truth in literals]


def _rule(head: Any, body: Sequence[tuple[clingo.Symbol, bool]]) -> Any:
    return ast.Rule(_LOC, head, _body(body))


def _constraint(body: Sequence[tuple[clingo.Symbol, bool]]) -> Any:
    return ast.Rule(_LOC, ast.Literal(_LOC, ast.Sign.NoSign, ast.BooleanConstant(0)), _body(body))


def _choice(symbols: Sequence[clingo.Symbol], upper: int | None = None) -> Any:
    elements = [ast.ConditionalLiteral(_LOC, _head(s), []) for s in symbols]
    guard = None if upper is None else ast.Guard(ast.ComparisonOperator.LessEqual,
                                                 ast.SymbolicTerm(_LOC, clingo.Number(upper)))
    return ast.Rule(_LOC, ast.Aggregate(_LOC, None, elements, guard), [])


def _at_most_one(symbols: Sequence[clingo.Symbol]) -> Any:
    return _choice(symbols, upper=1)


def _unstated(unknown: Unknown) -> clingo.Symbol:
    return clingo.Function("pyisp_unstated", [clingo.String(unknown.path)])


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set a field given by an Unknown's path; `list[item]` paths add the item when true."""
    tokens = PATH_TOKEN.findall(path)
    node: Any = doc
    for position, (name, index, item) in enumerate(tokens):
        last = position == len(tokens) - 1
        if name:
            if last:
                if value is not None:
                    node[name] = value
                return
            following = tokens[position + 1]
            default: Any = [] if (following[1] or following[2]) else {}
            node = node.setdefault(name, default)
        elif index:
            node = node[int(index)]
        else:
            if value is True:
                node.append(item)
            return


def parse_extra(path: Path) -> list[Any]:
    """The statements of an extra rule file (properties), parsed once."""
    statements: list[Any] = []
    ast.parse_files([str(path)], statements.append)
    return statements
