"""Readings: the points where chapter 3 can be read more than one way, as the rules in
policy/readings.lp name them, and the input facts that choose another alternative.

Everything here is read from the rules (`reading_option/3` facts, the default each
`reading/2` rule gives when nothing is chosen, and the citation line of each block);
nothing about a reading is written in Python.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import clingo

from ..errors import PyispError
from .policy import Policy

CHOSEN = "reading_chosen"


class ReadingError(PyispError):
    """A reading name or alternative that the policy does not have."""


@dataclass(frozen=True)
class Reading:
    """A named ambiguity: its alternatives (value, text), the default, the paragraphs
    involved and the question in the project's words."""

    name: str
    question: str
    paragraphs: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    default: str
    where: str

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.options)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "question": self.question, "paragraphs": list(self.paragraphs),
                "default": self.default, "where": self.where,
                "options": [{"value": v, "text": t} for v, t in self.options]}


@lru_cache(maxsize=8)
def _readings(policy: Policy) -> tuple[Reading, ...]:
    options: dict[str, list[tuple[str, str]]] = {}
    defaults: dict[str, str] = {}
    for symbol, _ in policy.declared("reading_option", 3):
        name, value, text = symbol.arguments
        options.setdefault(name.name, []).append((value.name, text.string))
    for symbol, is_fact in policy.declared("reading", 2):
        if is_fact:
            name, value = symbol.arguments
            defaults[name.name] = value.name
    found = []
    for name, opts in options.items():
        rules = policy.rules_concluding(("reading_option", [clingo.Function(name), None, None]))
        first = min(rules, key=lambda r: (r.file, r.line)) if rules else None
        found.append(Reading(name, first.summary if first else "", first.paragraphs if first else (),
                             tuple(opts), defaults.get(name, ""), first.where if first else ""))
    return tuple(sorted(found, key=lambda r: (r.where.split(":")[0], int(r.where.split(":")[1] or 0))))


def readings(policy: Policy) -> tuple[Reading, ...]:
    """Every reading the policy names, in the order of policy/readings.lp."""
    return _readings(policy)


def reading_facts(policy: Policy, chosen: Mapping[str, str] | None) -> tuple[clingo.Symbol, ...]:
    """The input facts that choose these alternatives; raises ReadingError naming a
    reading or alternative the policy does not have."""
    if not chosen:
        return ()
    known = {r.name: r for r in readings(policy)}
    facts = []
    for name, value in chosen.items():
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ReadingError(f"no reading named '{name}'{hint}; `pyisp readings` lists them", where="readings")
        if value not in known[name].values:
            raise ReadingError(f"'{value}' is not an alternative of reading '{name}': "
                               f"{', '.join(known[name].values)}", where=f"readings.{name}")
        facts.append(clingo.Function(CHOSEN, [clingo.Function(name), clingo.Function(value)]))
    return tuple(facts)


def parse_choices(items: list[str] | None) -> dict[str, str]:
    """`NAME=VALUE` strings (from the command line) as a mapping."""
    chosen: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ReadingError(f"'{item}' is not NAME=VALUE", where="--reading")
        chosen[name.strip()] = value.strip()
    return chosen
