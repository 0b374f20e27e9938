"""The case format walked once. `fields` is the one walk over a spec: every field with
its path, spec and the entity it describes (schema.py attaches its questions with it).
`Vocabulary` reads from it every input atom a case can state, as templates over its
entities (predicate, the domain of each argument, one-of fields), the input atoms of a
number of slots per collection, the fields that state inputs and the spec at a path.
Read from the ``x-`` annotations of pyisp/core/schema.py; used by the engine's
groundings, the policy checks (pyisp/core/program.py), atoms.py, the case generator,
domain and verify.

`VOCABULARY`, the vocabulary of the case format, is built on first use: schema.py imports
this module while it is being built."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from ..errors import PolicyError
from .program import Key, slot


@dataclass(frozen=True)
class Field:
    """One field of a case format: its path (names joined by dots, no list positions), its
    name, its spec and the collection of the entity it describes (its own collection for
    a field that holds entities, None outside any entity)."""

    path: str
    key: str
    spec: dict[str, Any]
    entity: str | None

    @property
    def node(self) -> dict[str, Any] | None:
        """The object spec the field holds: its own, or its items' for a list of objects."""
        kind = self.spec.get("type")
        if kind == "object":
            return self.spec
        items = self.spec.get("items")
        if kind == "array" and isinstance(items, dict) and items.get("type") == "object":
            return items
        return None

    @property
    def states(self) -> bool:
        """Whether the field itself states an input atom (``x-atom`` or ``x-marker``, on it or its object)."""
        return any(key in spec for spec in (self.spec, self.node or {}) for key in ("x-atom", "x-marker"))


def fields(spec: dict[str, Any], path: str = "", entity: str | None = None) -> Iterator[Field]:
    """Every field below an object spec, in the format's order, each before the fields inside it."""
    for key, sub in spec["properties"].items():
        here = f"{path}.{key}" if path else key
        field = Field(here, key, sub, entity)
        node = field.node
        if node is not None and node.get("x-entity"):
            field = Field(here, key, sub, node.get("x-collection") or key)  # 'children' entries share the child's
        yield field
        if node is not None:
            yield from fields(node, here, field.entity)


@dataclass(frozen=True)
class Template:
    """An input atom of the case format: its predicate, the domain of each argument
    (("slot", collections) or ("value", values)) and whether it is a one-of field."""

    name: str
    args: tuple[tuple[str, tuple[Any, ...]], ...]
    one_of: int | None  # the position of the value, for a field with one value of several


def _domain(token: str, spec: dict[str, Any], entity: str | None, where: str) -> tuple[str, tuple[Any, ...]]:
    if token == "$id":
        return ("slot", (entity,))
    if token == "$child":
        return ("slot", ("child",))
    if token == "$yesno":
        return ("value", ("yes", "no"))
    if token in ("$value", "$item"):
        if "x-ref" in spec:
            return ("slot", tuple(spec["x-ref"]))
        if "enum" in spec:
            return ("value", tuple(spec["enum"]))
        if spec.get("type") == "integer":
            return ("value", tuple(range(spec["minimum"], spec["maximum"] + 1)))
        raise PolicyError("the field has no finite set of values; the engine needs one (enum, x-ref or "
                          "integer bounds)", where=where)
    return ("value", (token,))


def _templates(found: tuple[Field, ...], out: list[Template], entities: dict[str, str]) -> None:
    """The input atom templates of the fields (the schema's x-atom and x-marker)."""
    for field in found:
        node = field.node
        if node is not None:
            if node.get("x-entity"):
                entities[node["x-atom"][0]] = field.entity or ""
            for template_key in ("x-atom", "x-marker"):
                if template_key in node:
                    name, *tokens = node[template_key]
                    out.append(Template(name, tuple(_domain(t, node, field.entity, field.path) for t in tokens), None))
        elif "x-atom" in field.spec:
            sub = field.spec
            values = sub["items"] if sub.get("type") == "array" else sub
            name, *tokens = sub["x-atom"]
            args = tuple(_domain(t, values, field.entity, field.path) for t in tokens)
            one_of = next((i for i, t in enumerate(tokens) if t in ("$value", "$yesno")), None)
            out.append(Template(name, args, one_of if sub.get("type") != "array" else None))


_POSITION = re.compile(r"\[[^\]]*\]")


class Vocabulary:
    """A case format walked once: its fields, and every input atom of it over a number of
    slots per collection."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.fields = tuple(fields(spec))
        self._by_path = {field.path: field for field in self.fields}
        self._inside: dict[str, list[Field]] = {}
        for field in self.fields:
            self._inside.setdefault(field.path.rpartition(".")[0], []).append(field)
        self.templates: list[Template] = []
        self.entities: dict[str, str] = {}  # predicate naming an entity -> its collection
        _templates(self.fields, self.templates, self.entities)
        self.collections = tuple(dict.fromkeys(["child", *self.entities.values()]))
        holding: set[str] = set()  # fields that state an input, or hold fields that do
        for field in self.fields:
            if field.states:
                parts = field.path.split(".")
                holding.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
        self.inputs = frozenset(holding)

    def field(self, path: str) -> Field:
        """The field at a path of a case (list positions and items, ``[0]``, ``[amy]``, passed over)."""
        return self._by_path[_POSITION.sub("", path)]

    def along(self, path: str) -> list[Field]:
        """The fields from the top of the case down to the one at `path`."""
        parts = _POSITION.sub("", path).split(".")
        return [self._by_path[".".join(parts[:n])] for n in range(1, len(parts) + 1)]

    def children(self, path: str) -> list[Field]:
        """The fields directly inside the object at `path` ("" for the case itself)."""
        return self._inside.get(path, [])

    def spec_at(self, path: str) -> dict[str, Any]:
        """The spec at a path of a case: a list's position (``people[0]``) gives its item's,
        a list item named (``about[amy]``) is passed over; "" the case's own."""
        if not path:
            return self.spec
        field = self.field(path)
        if re.search(r"\[\d+\]$", path):
            return field.node or field.spec["items"]
        return field.spec

    def atoms(self, counts: Mapping[str, int]) -> tuple[list[Key], list[list[Key]]]:
        """All ground input atoms, and the groups of atoms of which at most one holds."""
        keys: list[Key] = []
        groups: list[list[Key]] = []
        for template in self.templates:
            domains = []
            for kind, values in template.args:
                domains.append([slot(c, i) for c in values for i in range(counts[c])] if kind == "slot"
                               else list(values))
            position = template.one_of
            if position is not None:
                fixed = [d if i != position else [None] for i, d in enumerate(domains)]
                for binding in itertools.product(*fixed):
                    group = [(template.name, *binding[:position], v, *binding[position + 1:])
                             for v in domains[position]]
                    groups.append(group)
                    keys += group
            else:
                keys += [(template.name, *args) for args in itertools.product(*domains)]
        return list(dict.fromkeys(keys)), groups


def __getattr__(name: str) -> Any:
    """`VOCABULARY`: the case format's vocabulary, built once, on first use (the schema is a constant)."""
    if name == "VOCABULARY":
        from .schema import CASE

        globals()["VOCABULARY"] = found = Vocabulary(CASE)
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
