"""The case format walked once: every input atom a case can state, as templates over its
entities (path, predicate, the domain of each argument, one-of fields), and the input atoms
of a number of slots per collection. Read from the ``x-atom`` annotations of
pyisp/core/schema.py; used by the engine's groundings and the policy checks
(pyisp/core/program.py)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import PolicyError
from .program import Key, slot
from .schema import CASE


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


def _templates(spec: dict[str, Any], entity: str | None, key: str, path: str,
               out: list[Template], entities: dict[str, str]) -> None:
    """Walk the case format, collecting the input atom templates (the schema's x-atom)."""
    if spec.get("x-entity"):
        entity = spec.get("x-collection") or key  # 'children' entries share the child's collection
        entities[spec["x-atom"][0]] = entity
    kind = spec.get("type")
    if kind == "object":
        for template_key in ("x-atom", "x-marker"):
            if template_key in spec:
                name, *tokens = spec[template_key]
                out.append(Template(name, tuple(_domain(t, spec, entity, path) for t in tokens), None))
        for sub_key, sub in spec["properties"].items():
            here = f"{path}.{sub_key}" if path else sub_key
            if sub.get("type") == "object":
                _templates(sub, entity, sub_key, here, out, entities)
            elif sub.get("type") == "array" and sub["items"].get("type") == "object":
                _templates(sub["items"], entity, sub_key, here, out, entities)
            elif "x-atom" in sub:
                values = sub["items"] if sub.get("type") == "array" else sub
                name, *tokens = sub["x-atom"]
                args = tuple(_domain(t, values, entity, here) for t in tokens)
                one_of = next((i for i, t in enumerate(tokens) if t in ("$value", "$yesno")), None)
                out.append(Template(name, args, one_of if sub.get("type") != "array" else None))


class Vocabulary:
    """Every input atom of the case format over a number of slots per collection."""

    def __init__(self, spec: dict[str, Any] = CASE) -> None:
        self.templates: list[Template] = []
        self.entities: dict[str, str] = {}  # predicate naming an entity -> its collection
        _templates(spec, None, "", "", self.templates, self.entities)
        self.collections = tuple(dict.fromkeys(["child", *self.entities.values()]))

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




VOCABULARY = Vocabulary()  # the case format's, read once at import (the schema is a constant)
