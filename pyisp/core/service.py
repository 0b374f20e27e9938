"""Glue between the public API and the parts: load a case, build its inputs, run the
engine, read the result. Engines are cached per policy directory."""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import clingo

from .atoms import Inputs, case_inputs
from .case import Case, as_case
from .engine import Engine
from .policy import Policy, resolve_policy_dir
from .presumption import switched_off
from .reading import reading_facts, readings as policy_readings
from .presumption import presumptions as policy_presumptions
from .upgrade import FORMAT
from .record import build_record
from .policy import pyisp_version
from .result import Provenance, Result, build_result


@lru_cache(maxsize=8)
def _policy(directory: str | None) -> Policy:
    return Policy(directory)


_local = threading.local()


def engine_for(directory: str | Path | None = None) -> Engine:
    """The engine of a policy directory (None: the policy in force, resolve_policy_dir):
    parsed once per process, grounded once per thread (a clingo Control is not thread-safe)."""
    key = str(resolve_policy_dir(directory).resolve())
    engines: dict[str | None, Engine] = _local.__dict__.setdefault("engines", {})
    if key not in engines:
        engines[key] = Engine(_policy(key))
    return engines[key]


def answer_case(case: Case | Mapping[str, Any] | str | Path, *, policy: str | Path | None = None,
                depends_on: bool = True, readings: Mapping[str, str] | None = None,
                presumptions: Mapping[str, bool] | None = None, strict: bool = False) -> Result:
    """Validate, solve and read one case (under the chosen readings, as extra facts, and
    the presumptions in force: all but those mapped to False, none with `strict`)."""
    the_case = as_case(case)
    engine = engine_for(policy)
    data = dict(the_case.data)
    ids = [d["id"] for d in data["disclosures"]]
    chosen = reading_facts(engine.policy, readings)
    off = switched_off(engine.policy, presumptions, strict)
    extra: dict[str, Any] = {}
    if chosen:  # facts beside the case's: answered in a fresh grounding, atoms name the ids
        inputs = case_inputs(data)
        inputs = Inputs(inputs.facts + chosen, inputs.unknowns)
        ids_decide = [clingo.Function(n, [clingo.String(i)]) for i in ids for n in ("permitted", "required")]
        answer, names = engine.answer(inputs, ids_decide if depends_on else None, off=off), {}
        extra["inputs"] = inputs  # explain() must see the reading facts too
    else:
        def decide(slots: Mapping[str, str]) -> list[clingo.Symbol]:
            return [clingo.Function(name, [clingo.String(slots[i])]) for i in ids for name in ("permitted", "required")]

        answer, names = engine.answer_case(data, decide if depends_on else None, off=off)
    result = replace(build_result(the_case.id, the_case.title, ids, answer, engine.policy, names),
                     meta=data.get("meta"), provenance=provenance(engine.policy, readings, off, data))
    record = build_record(data, result, answer, engine.policy, names)
    return replace(result, case=the_case, policy=engine.policy, record=record, **extra)  # kept for Result.explain
    # (without readings no `inputs`: explain() rebuilds them from the case, the very atoms answered here)


def provenance(policy: Policy, chosen: Mapping[str, str] | None, off: frozenset[str],
               case: Mapping[str, Any]) -> Provenance:
    """What answers a case: pyisp's version, the rules' fingerprint, every reading with the
    alternative taken, every presumption in force or not, and the case format version."""
    chosen = dict(chosen or {})
    taken = tuple((r.name, chosen.get(r.name, r.default)) for r in policy_readings(policy))
    presumed = tuple((p.name, p.name not in off) for p in policy_presumptions(policy))
    return Provenance(pyisp_version(), policy.fingerprint, taken, presumed, case.get("format", FORMAT),
                      tuple(name for name, _ in taken if name in chosen))
