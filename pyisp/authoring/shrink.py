"""Shrinking counterexamples: the case the solver found states every field; leave out
(make unknown) every fact the difference or violation does not need, so what remains
is the few facts that matter.

Delta debugging over the case's leaf fields: try leaving out large groups of fields
first, then smaller ones, keeping a removal whenever the property of interest still
holds (`persists`) of the smaller case, within a budget of tries and seconds.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any, Callable, Sequence

import clingo

from ..core.atoms import case_inputs
from ..core.case import Case
from ..errors import PyispError

MAX_TRIES = 200
MAX_SECONDS = 20.0
KEEP_KEYS = {"id", "title"}


def leaf_paths(doc: Any, prefix: str = "") -> list[str]:
    """Every stated leaf field of a case (not ids, not lists of references)."""
    paths: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in KEEP_KEYS and isinstance(value, str):
                continue
            here = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                paths += leaf_paths(value, here)
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                for i, item in enumerate(value):
                    paths += leaf_paths(item, f"{here}[{i}]")
            else:
                paths.append(here)
    return paths


def _parts(path: str) -> list[str | int]:
    return [int(i) if i else name for name, i in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path)]


def without(doc: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """A copy of the case with those fields left out (empty mappings left out too)."""
    out = copy.deepcopy(doc)
    for path in paths:
        parts = _parts(path)
        node: Any = out
        for part in parts[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return _prune(out)


def _prune(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _prune(v) for k, v in node.items() if not (isinstance(v, dict) and not _prune(v))}
    if isinstance(node, list):
        return [_prune(v) for v in node]
    return node


def shrink(doc: dict[str, Any], persists: Callable[[dict[str, Any]], bool],
           max_tries: int = MAX_TRIES, max_seconds: float = MAX_SECONDS) -> dict[str, Any]:
    """The case with as many fields left out as the budget finds while `persists` holds
    (a case that fails validation or cannot be answered does not persist)."""
    start = time.perf_counter()
    tries = 0

    def holds(candidate: dict[str, Any]) -> bool:
        nonlocal tries
        tries += 1
        try:
            return bool(persists(candidate))
        except PyispError:
            return False

    current = doc
    paths = leaf_paths(current)
    chunk = max(1, len(paths) // 2)
    while paths and tries < max_tries and time.perf_counter() - start < max_seconds:
        removed_any = False
        i = 0
        while i < len(paths) and tries < max_tries and time.perf_counter() - start < max_seconds:
            group = paths[i:i + chunk]
            candidate = without(current, group)
            if holds(candidate):
                current = candidate
                paths = paths[:i] + paths[i + chunk:]
                removed_any = True
            else:
                i += chunk
        if chunk == 1 and not removed_any:
            break
        chunk = max(1, chunk // 2)
    return current


# ------------------------------------------------------------------ what must persist

def _statuses(result: Any, key: str) -> dict[tuple[str, str], str]:
    """The settled statuses of one output (`permitted`, `required`, `finding CODE`,
    `obligation CODE`) for each disclosure; absent conclusions count as `no`."""
    out: dict[tuple[str, str], str] = {}
    for disclosure in result.disclosures:
        if key in ("permitted", "required"):
            out[(disclosure.id, key)] = str(getattr(disclosure, key))
            continue
        kind, _, code = key.partition(" ")
        items = disclosure.findings if kind == "finding" else disclosure.obligations
        for item in items:
            if item.code == code:
                out[(disclosure.id, item.label)] = str(item.status)
    return out


def differs(doc: dict[str, Any], key: str, old_dir: Any, new_dir: Any) -> bool:
    """Whether the two rule sets give a settled, different answer for the output `key`
    on this case (one says yes where the other says no)."""
    from ..core.service import answer_case

    old = _statuses(answer_case(doc, policy=old_dir, depends_on=False), key)
    new = _statuses(answer_case(doc, policy=new_dir, depends_on=False), key)
    for item in set(old) | set(new):
        a, b = old.get(item, "no"), new.get(item, "no")
        if a != b and "depends" not in (a, b):
            return True
    return False


def violated(doc: dict[str, Any], statements: Sequence[Any], property_rules: Sequence[Any], name: str) -> bool:
    """Whether property `name` is violated in every completion of the case (its unknowns
    filled in every way the case format allows)."""
    from clingo import ast

    case = Case.from_dict(doc)
    inputs = case_inputs(dict(case.data))
    lines = [f"{fact}." for fact in inputs.facts]
    for k, unknown in enumerate(inputs.unknowns):
        options = [f"pyisp_option({k}, {i})" for i in range(len(unknown.options))]
        lines.append("1 { " + "; ".join(options) + " } 1.")
        for i, (_value, literals) in enumerate(unknown.options):
            lines += [f"{atom} :- pyisp_option({k}, {i})." for atom, truth in literals if truth]
    lines.append(f"pyisp_violated :- violation({name}, _).")
    lines.append(":- contradiction(_, _).")  # completions where the facts cannot all hold are no case
    ctl = clingo.Control(["--warn=none"])
    with ast.ProgramBuilder(ctl) as builder:
        for statement in (*statements, *property_rules):
            builder.add(statement)
        ast.parse_string("\n".join(lines), builder.add)
    ctl.ground([("base", [])])
    atom = ctl.symbolic_atoms[clingo.Function("pyisp_violated")]
    if atom is None:
        return False
    found = ctl.solve(assumptions=[-atom.literal])  # a completion without the violation?
    return bool(found.unsatisfiable)
