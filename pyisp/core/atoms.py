"""Turn a validated case into the policy's input atoms: facts for what it states, and an
`Unknown` for every input it leaves out, so that nothing unstated is taken as false.

Driven entirely by the ``x-atom`` annotations of pyisp/core/schema.py; no policy here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

from clingo import Function, Number, String, Symbol

from .schema import CASE, children_of
from .vocabulary import fields

Literal = tuple[Symbol, bool]


@dataclass(frozen=True)
class Unknown:
    """An input the case leaves out: its field path and, for each value it could take,
    the input atoms (with their truth) that value stands for."""

    path: str
    options: tuple[tuple[Any, tuple[Literal, ...]], ...]
    description: str = ""
    question: str = field(default="", compare=False)

    @property
    def atoms(self) -> tuple[Symbol, ...]:
        seen: dict[Symbol, None] = {}
        for _, lits in self.options:
            for sym, _truth in lits:
                seen[sym] = None
        return tuple(seen)

    @property
    def exactly_one(self) -> bool:
        """True when exactly one of the atoms holds in every option (an enumerated value)."""
        return all(sum(1 for _, truth in lits if truth) == 1 for _, lits in self.options)


@dataclass(frozen=True)
class Inputs:
    """The atoms of one case: known facts and unknown inputs."""

    facts: tuple[Symbol, ...]
    unknowns: tuple[Unknown, ...]

    def with_values(self, values: Mapping[str, Any]) -> "Inputs":
        """These inputs with some unknowns taken as given values (by field path): a value
        becomes the facts of its option; a tuple of values narrows the unknown to them.
        Used to answer or explain a case under the presumptions a result applied."""
        facts = list(self.facts)
        unknowns = []
        for unknown in self.unknowns:
            if unknown.path not in values:
                unknowns.append(unknown)
                continue
            value = values[unknown.path]
            kept = tuple(o for o in unknown.options if (o[0] in value if isinstance(value, tuple) else o[0] == value))
            if len(kept) > 1:
                unknowns.append(Unknown(unknown.path, kept, unknown.description, unknown.question))
            elif kept:
                facts += [atom for atom, truth in kept[0][1] if truth]
        return Inputs(tuple(facts), tuple(unknowns))


def _term(token: Any, ctx: dict[str, Any], value: Any, spec: dict[str, Any]) -> Symbol:
    if token == "$id":
        return String(ctx["id"])
    if token == "$child":
        return String(ctx["child"])
    if token in ("$value", "$item"):
        if isinstance(value, bool):
            raise TypeError("boolean values use $yesno")
        if isinstance(value, int):
            return Number(value)
        return String(value) if "x-ref" in spec else Function(value)
    if token == "$yesno":
        return Function("yes" if value else "no")
    return Function(token)


def _atom(template: list[str], ctx: dict[str, Any], value: Any = None, spec: dict[str, Any] | None = None) -> Symbol:
    name, *args = template
    return Function(name, [_term(a, ctx, value, spec or {}) for a in args])


AtomMaker = Callable[[list[str], dict[str, Any], Any, "dict[str, Any] | None"], Any]


_ALTERNATIVES: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}
ALTERNATIVES_KEPT = 256  # object specs: the case format has a few dozen, each variant of it (domain.py) as many again


def _alternatives(spec: dict[str, Any]) -> dict[str, str]:
    """For an object spec: field -> the field that replaces it when present (x-instead).
    Kept per spec (the spec itself held with it, so its id is not reused), at most
    ALTERNATIVES_KEPT of them."""
    cached = _ALTERNATIVES.get(id(spec))
    if cached is None or cached[0] is not spec:
        if len(_ALTERNATIVES) >= ALTERNATIVES_KEPT:
            _ALTERNATIVES.clear()
        cached = (spec, {other["x-instead"]: name for name, other in spec["properties"].items()
                         if other.get("x-instead") is not None})
        _ALTERNATIVES[id(spec)] = cached
    return cached[1]


_SKIP, _OBJECT, _ENTRIES, _LEAF = range(4)
_Step = tuple[str, dict[str, Any], Any, Any, Any, int, bool, Any]
_STEPS: dict[int, tuple[dict[str, Any], list[_Step]]] = {}


def _steps(spec: dict[str, Any]) -> list[_Step]:
    """For an object spec, what walk() reads of each field that states atoms, read once per
    spec (kept as _alternatives): its key and spec, the field it is an alternative to
    (x-instead), the field that replaces it, its gate (x-when), how it is walked, whether a
    part left out states nothing (x-unstated none, or an entity), and for a leaf its plan."""
    cached = _STEPS.get(id(spec))
    if cached is None or cached[0] is not spec:
        replaced_by = _alternatives(spec)
        steps = []
        for key, sub in spec["properties"].items():
            kind = sub.get("type")
            how = (_OBJECT if kind == "object" else
                   _ENTRIES if kind == "array" and sub["items"].get("type") == "object" else
                   _LEAF if "x-atom" in sub else _SKIP)
            if how == _SKIP:
                continue  # a field that states no atom
            steps.append((key, sub, sub.get("x-instead"), replaced_by.get(key),
                          sub["x-when"] if "x-when" in sub else None, how,
                          bool(sub.get("x-unstated") == "none" or sub.get("x-entity")),
                          _leaf_plan(sub) if how == _LEAF else None))
        if len(_STEPS) >= ALTERNATIVES_KEPT:
            _STEPS.clear()
        cached = (spec, steps)
        _STEPS[id(spec)] = cached
    return cached[1]


class _Collector:
    def __init__(self, child_id: str | None, ids: dict[str, list[str]], make: AtomMaker | None = None,
                 only: Mapping[str, Sequence[int]] | None = None) -> None:
        self.only = only or {}
        self.facts: list[Any] = []
        self.unknowns: list[Unknown] = []
        self.child = child_id
        self.ids = ids
        self.make: AtomMaker = make or _atom

    def walk(self, value: dict[str, Any], spec: dict[str, Any], path: str, ctx: dict[str, Any]) -> None:
        if spec.get("x-entity"):
            ctx = {**ctx, "id": value["id"], "entity": value}
        make = self.make
        if "x-atom" in spec and spec.get("type") == "object":
            self.facts.append(make(spec["x-atom"], ctx, None, None))
        if "x-marker" in spec:
            self.facts.append(make(spec["x-marker"], ctx, None, None))
        for key, sub, instead, replacing, when, how, unstated_none, plan in _steps(spec):
            item = value.get(key)
            if instead is not None and item is None:
                continue  # an alternative form the case did not use
            if replacing is not None and value.get(replacing) is not None:
                continue  # replaced by its alternative form
            here = f"{path}.{key}" if path else key
            here_ctx = ctx
            if when is not None:
                here_ctx = {**ctx, "closed": bool(ctx.get("closed")) or not applies(when, ctx.get("entity") or {})}
            if how == _OBJECT:
                if item is None and unstated_none:
                    continue  # a part stated only when it applies (a limited understanding), or 'child' beside 'children'
                self.walk(item or {}, sub, here, here_ctx)
            elif how == _ENTRIES:
                entries = item or []
                for i in (self.only[here] if here in self.only else range(len(entries))):
                    self.walk(entries[i], sub["items"], f"{here}[{i}]", here_ctx)
            else:
                self.leaf(item, sub, plan, here, here_ctx)

    def leaf(self, value: Any, spec: dict[str, Any], plan: tuple[Any, ...], path: str, ctx: dict[str, Any]) -> None:
        template, kind, description, unstated_none, about_child, yesno, question = plan
        make = self.make
        if value is None and (unstated_none or ctx.get("closed")):
            return
        if about_child and ctx.get("child") is None:
            return  # a field about the one child, in a case with several (stated per child instead)
        if kind == "array":
            items = spec["items"]
            if value is not None:
                self.facts.extend(make(template, ctx, v, items) for v in value)
                return
            asked = _question(question, ctx)  # asked only of what the case leaves out
            for option in items.get("enum") or self._refs(items):
                sym = make(template, ctx, option, items)
                self.unknowns.append(_unknown(f"{path}[{option}]", ((True, ((sym, True),)), (False, ((sym, False),))),
                                              description, asked.replace("this purpose", str(option))
                                              .replace("this recipient", str(option)).replace("{item}", str(option))))
            return
        if kind == "boolean" and not yesno:
            sym = make(template, ctx, None, None)
            if value is None:
                self.unknowns.append(_unknown(path, ((True, ((sym, True),)), (False, ((sym, False),))), description,
                                              _question(question, ctx)))
            elif value:
                self.facts.append(sym)
            return
        if value is not None:
            if value not in spec.get("x-ref-extra", ()):
                self.facts.append(make(template, ctx, value, spec))
            return
        if kind == "boolean":
            values: list[Any] = [True, False]
        elif kind == "integer":
            bounds = (ctx.get("entity") or {}).get(spec.get("x-range", ""), None) or {}
            values = list(range(bounds.get("min", spec["minimum"]), bounds.get("max", spec["maximum"]) + 1))
        elif "enum" in spec:
            values = list(spec["enum"])
        else:
            values = self._refs(spec)
        atoms = {v: make(template, ctx, v, spec) for v in values}
        options = [(v, tuple((atoms[w], w == v) for w in values)) for v in values]
        for extra in spec.get("x-ref-extra", ()):
            options.append((extra, tuple((atoms[w], False) for w in values)))
        self.unknowns.append(_unknown(path, tuple(options), description, _question(question, ctx)))

    def _refs(self, spec: dict[str, Any]) -> list[str]:
        return [ident for coll in spec["x-ref"] for ident in self.ids[coll]]


def _question(text: str, ctx: dict[str, Any]) -> str:
    """The question a professional is asked for a field (its ``x-question``), with the case's names."""
    if not text:
        return ""
    entity = ctx.get("entity") or {}
    key = (text, entity.get("id", ""), entity.get("person", "the person"))
    asked = _QUESTIONS.get(key)
    if asked is None:
        if len(_QUESTIONS) >= QUESTIONS_KEPT:
            _QUESTIONS.clear()
        asked = _QUESTIONS[key] = text.format_map({"id": key[1], "person": key[2],
                                                   "item": "{item}"})  # each value of a list, filled in by leaf()
    return asked


_QUESTIONS: dict[tuple[str, Any, Any], str] = {}
QUESTIONS_KEPT = 4096  # questions with the names of the cases asked lately (emptied when full)


def _unknown(path: str, options: tuple[tuple[Any, tuple[Literal, ...]], ...], description: str,
             question: str) -> Unknown:
    """`Unknown(path, options, description, question)`, made without the frozen dataclass's
    __init__ (one object.__setattr__ a field: a case makes dozens of Unknowns)."""
    made = object.__new__(Unknown)
    made.__dict__.update(path=path, options=options, description=description, question=question)
    return made


def _leaf_plan(spec: dict[str, Any]) -> tuple[list[str], Any, str, bool, bool, bool, str]:
    """For a leaf spec, what leaf() reads of it (read once per spec, with its object's steps):
    its atom template, type, description, whether it states nothing when left out
    (x-unstated none), whether it is about the one child, whether it is a yes/no atom, and
    its question."""
    template = spec["x-atom"]
    return (template, spec.get("type"), spec.get("description", ""), spec.get("x-unstated") == "none",
            "$child" in template, "$yesno" in template, spec.get("x-question") or "")


def applies(gates: list[dict[str, Any]], entity: dict[str, Any]) -> bool:
    """An ``x-when`` gate: does this part of the case format apply to the entity? Open when
    any gate's field has one of its values (or, with ``same_as``, the value of the other
    field named), or is unstated and the gate says ``unstated: open``."""
    for gate in gates:
        value = _lookup(entity, gate["path"])
        if "same_as" in gate:
            if value is not None and value == _lookup(entity, gate["same_as"]):
                return True
        elif value in gate["in"] or (value is None and gate.get("unstated") == "open"):
            return True
    return False


def _lookup(entity: dict[str, Any], path: str) -> Any:
    value: Any = entity
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def case_ids(case: dict[str, Any], only: Mapping[str, Sequence[int]] | None = None) -> dict[str, list[str]]:
    """The ids of each collection of a validated case (the children's under ``child``); with
    `only`, of the entries of a collection at the given positions."""
    ids = {"child": [child["id"] for child, _ in children_of(case)]}
    for coll in ("people", "information", "consents", "disclosures"):
        items = case.get(coll) or []
        ids[coll] = [items[i]["id"] for i in only[coll]] if only and coll in only else [item["id"] for item in items]
    return ids


def case_inputs(case: dict[str, Any], make: AtomMaker | None = None,
                only: Mapping[str, Sequence[int]] | None = None, spec: dict[str, Any] = CASE) -> Inputs:
    """The input atoms of a validated case. `make(template, ctx, value, spec)` builds each
    atom (default: a clingo Symbol); the engine passes its own to get solver literals.
    `only` (collection -> positions) keeps a part of the case: the entries of a collection
    at those positions, their field paths as in the whole case. `spec`: a variant of the
    case format (pyisp/authoring/domain.py opens every gate)."""
    child = (case.get("child") or {}).get("id")  # the one child ($child), None with several
    collector = _Collector(child, case_ids(case, only), make, only)
    collector.walk(case, spec, "", {"child": child, "id": None})
    return Inputs(tuple(collector.facts), tuple(collector.unknowns))


def iter_input_predicates(spec: dict[str, Any] = CASE) -> Iterator[tuple[str, int]]:
    """Every (predicate, arity) a case can state, for checking against policy/defined.lp."""
    specs = [spec] + [s for field in fields(spec) for s in (field.spec, field.spec.get("items"))]
    for each in specs:
        for key in ("x-atom", "x-marker"):
            if isinstance(each, dict) and key in each:
                yield each[key][0], len(each[key]) - 1
