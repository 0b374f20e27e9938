"""Plain-English sentences for atoms: the templates of policy/templates.yaml with the
arguments filled in from the case ("Amy (14)", "Ms Jones (parent)").

A template key names the atom's arguments, `consent_by(K, P)`; a key may fix an argument
to a constant (`permitted_by(D, consent)`), and then wins over the general key for that
value. A value is the sentence for a true atom, or `{text: ..., negated: ...}` to give the
sentence for a false one as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import clingo
import yaml
from clingo.symbol import Symbol, SymbolType

from ..errors import PolicyError

TEMPLATES_FILE = "templates.yaml"
WORDS = "words"
VAR = "__var"
OPEN = "…"  # an argument a why-not leaves open
_KEY = re.compile(r"^\s*([a-z_]\w*)\s*(?:\((.*)\))?\s*$")
_PLACEHOLDER = re.compile(r"\{([A-Z]\w*)\}")
_TERM = re.compile(r"^[a-z][A-Za-z0-9_]*(\(.*\))?$")  # a constant or a function term of the rules


@dataclass(frozen=True)
class Template:
    """One sentence pattern: the argument names (variables) or constants it is for."""

    name: str
    params: tuple[str, ...]
    yes: str
    no: str | None

    @property
    def specific(self) -> int:
        return sum(1 for p in self.params if not p[:1].isupper())


def load_templates(directory: str | Path) -> dict[tuple[str, int], list[Template]]:
    """Read policy/templates.yaml; a malformed entry is a PolicyError naming the key."""
    path = Path(directory) / TEMPLATES_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}", where=str(path)) from None
    found: dict[tuple[str, int], list[Template]] = {}
    for key, value in data.items():
        if key == WORDS:
            continue
        match = _KEY.match(str(key))
        if not match:
            raise PolicyError(f"a template key must look like name(A, B), not {key!r}", where=str(path))
        params = tuple(p.strip() for p in match.group(2).split(",")) if match.group(2) else ()
        if isinstance(value, str):
            yes, no = value, None
        elif isinstance(value, Mapping) and isinstance(value.get("text"), str):
            yes, no = value["text"], value.get("negated")
        else:
            raise PolicyError(f"template {key} needs a sentence, or text: and negated: sentences", where=str(path))
        for text in (yes, no or ""):
            missing = set(_PLACEHOLDER.findall(text)) - set(params)
            if missing:
                raise PolicyError(f"template {key} uses {', '.join(sorted(missing))}, not among its arguments",
                                  where=str(path))
        found.setdefault((match.group(1), len(params)), []).append(Template(match.group(1), params, yes, no))
    for items in found.values():
        items.sort(key=lambda t: -t.specific)
    return found


def load_words(directory: str | Path) -> dict[str, str]:
    """The `words:` of templates.yaml: how to say a constant (childrens_social_care)."""
    path = Path(directory) / TEMPLATES_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    words = data.get(WORDS) or {}
    if not isinstance(words, Mapping):
        raise PolicyError(f"{WORDS}: must map constants to words", where=str(path))
    return {str(k): str(v) for k, v in words.items()}


def _plain(symbol: Symbol) -> str:
    if symbol.type == SymbolType.String:
        return symbol.string
    if symbol.type == SymbolType.Number:
        return str(symbol.number)
    if symbol.type == SymbolType.Function:
        if symbol.name == VAR:
            return OPEN
        head = symbol.name.replace("_", " ")
        if symbol.arguments:
            inner = ", ".join(_plain(a) for a in symbol.arguments)
            return f"{head} {inner}" if head else inner
        return head
    return str(symbol)


def case_names(case: Mapping[str, Any] | None) -> dict[str, str]:
    """How to call each id of a case in a sentence."""
    if not case:
        return {}
    names: dict[str, str] = {}
    for child in ([case["child"]] if isinstance(case.get("child"), dict) else list(case.get("children") or [])):
        if not isinstance(child, dict) or not child.get("id"):
            continue
        label = child.get("name") or child["id"]
        names[child["id"]] = f"{label} ({child['age']})" if child.get("age") is not None else label
    for person in case.get("people") or []:
        label = person.get("name") or person["id"]
        role = person.get("role")
        names[person["id"]] = f"{label} ({role.replace('_', ' ')})" if role and role != "other" else label
    for item in case.get("information") or []:
        names[item["id"]] = f'the information "{item["id"]}"'
    for item in case.get("consents") or []:
        names[item["id"]] = f'consent record "{item["id"]}"'
    for item in case.get("disclosures") or []:
        names[item["id"]] = f'the disclosure "{item["id"]}"'
    return names


def conclusion_term(text: str, names: Mapping[str, str]) -> Symbol:
    """An argument of a finding or obligation, as a result gives it (text), back as a symbol:
    an id of the case (one of `names`) or any other text as a string, a term of the rules as
    itself (`mother`, `implied_by(behaviour_only)`)."""
    if text in names or not _TERM.match(text):
        return clingo.String(text)
    try:
        return clingo.parse_term(text)
    except (RuntimeError, ValueError):
        return clingo.String(text)


def _fill(text: str, values: Mapping[str, str]) -> str:
    """Put the arguments in; an open argument in brackets, "(…)", is left out."""
    for name, value in values.items():
        if value == OPEN:
            text = re.sub(r"\s*\(\{" + name + r"\}\)", "", text)
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


class Wording:
    """Sentences for atoms of one policy, with the names of one case."""

    def __init__(self, templates: dict[tuple[str, int], list[Template]], names: Mapping[str, str],
                 words: Mapping[str, str] | None = None) -> None:
        self.templates = templates
        self.names = dict(names)
        self.words = dict(words or {})
        self._found: dict[Symbol, tuple[Template, dict[str, str]] | None] = {}

    def has(self, name: str, arity: int) -> bool:
        return (name, arity) in self.templates

    def argument(self, symbol: Symbol) -> str:
        if symbol.type == SymbolType.String and symbol.string in self.names:
            return self.names[symbol.string]
        if symbol.type == SymbolType.Function and not symbol.arguments and symbol.name in self.words:
            return self.words[symbol.name]
        return _plain(symbol)

    def _template(self, atom: Symbol) -> tuple[Template, dict[str, str]] | None:
        if atom not in self._found:
            self._found[atom] = self._lookup(atom)
        return self._found[atom]

    def _lookup(self, atom: Symbol) -> tuple[Template, dict[str, str]] | None:
        if atom.type != SymbolType.Function:
            return None
        for template in self.templates.get((atom.name, len(atom.arguments)), []):
            values: dict[str, str] = {}
            for param, arg in zip(template.params, atom.arguments):
                if param[:1].isupper():
                    values[param] = self.argument(arg)
                elif _plain(arg).replace(" ", "_") != param and str(arg) != param:
                    break
            else:
                return template, values
        return None

    def sentence(self, atom: Symbol) -> str:
        """The sentence saying that the atom holds."""
        found = self._template(atom)
        if found is None:
            return _plain(atom) if atom.type != SymbolType.Function or not atom.arguments else \
                f"{atom.name.replace('_', ' ')}({', '.join(self.argument(a) for a in atom.arguments)})"
        template, values = found
        return _fill(template.yes, values)

    def conclusion(self, policy: Any, atom: Symbol) -> str:
        """The sentence for a finding or obligation, given as the output atom that reports it
        (`obligation("d", seek_consent(mother))`): the template of its code, when the code
        has one of its own (`seek_consent(D, P)`: an obligation worded as what to do), else
        the sentence of the conclusion of the rules it reports (`Policy.reported`)."""
        disclosure, code = atom.arguments[0], atom.arguments[1]
        arguments = list(code.arguments) if code.type == SymbolType.Function else []
        own = clingo.Function(code.name, [disclosure, *arguments]) if code.type == SymbolType.Function else None
        if own is not None and self.has(code.name, len(arguments) + 1):
            return self.sentence(own)
        reported = policy.reported(atom)
        if reported is not None:
            return self.sentence(reported)
        return _plain(code)

    def denial(self, atom: Symbol) -> str | None:
        """The template's own sentence saying that the atom does not hold, if it has one."""
        found = self._template(atom)
        if found is None or not found[0].no:
            return None
        template, values = found
        return _fill(template.no or "", values)


@lru_cache(maxsize=65536)
def capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text

