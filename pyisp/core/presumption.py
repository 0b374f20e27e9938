"""Presumptions: facts a case need not state, as policy/presumptions.lp declares them
(`presumption/2` with its text, `presumption_applies/3` rules under a citation line).

Everything here is read from the rules; nothing about a presumption is written in Python.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping


from ..errors import PyispError
from .policy import Policy, paragraph_key


class PresumptionError(PyispError):
    """A presumption name that the policy does not have."""


@dataclass(frozen=True)
class Presumption:
    """A named presumption: what is taken as so unless the case says otherwise, and the
    paragraphs that ground it."""

    name: str
    text: str
    paragraphs: tuple[str, ...]
    where: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "text": self.text, "paragraphs": list(self.paragraphs), "where": self.where}


@lru_cache(maxsize=8)
def _presumptions(policy: Policy) -> tuple[Presumption, ...]:
    found = []
    for symbol, _ in policy.declared("presumption", 2):
        name, text = symbol.arguments
        rules = policy.rules_concluding(("presumption_applies", [name, None, None]))
        paragraphs = sorted({p for r in rules for p in r.paragraphs}, key=paragraph_key)
        first = min(rules, key=lambda r: (r.file, r.line)) if rules else None
        found.append(Presumption(name.name, text.string, tuple(paragraphs), first.where if first else ""))
    return tuple(sorted(found, key=lambda p: (p.where.split(":")[0], int(p.where.split(":")[-1] or 0))))


def presumptions(policy: Policy) -> tuple[Presumption, ...]:
    """Every presumption the policy declares, in the order of policy/presumptions.lp."""
    return _presumptions(policy)


def switched_off(policy: Policy, chosen: Mapping[str, bool] | None, strict: bool = False) -> frozenset[str]:
    """The names of the presumptions not in force: all with `strict`, else those mapped to
    False. Raises PresumptionError naming a presumption the policy does not have."""
    known = {p.name for p in presumptions(policy)}
    if strict:
        return frozenset(known)
    off = set()
    for name, on in (chosen or {}).items():
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PresumptionError(f"no presumption named '{name}'{hint}; `pyisp presumptions` lists them",
                                   where="presumptions")
        if not isinstance(on, bool):
            raise PresumptionError(f"expected true or false, got {on!r}", where=f"presumptions.{name}")
        if not on:
            off.add(name)
    return frozenset(off)
