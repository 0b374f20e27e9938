"""Glue between the public API and the parts: load a case, build its inputs, run the
engine, read the result. Engines are cached per policy directory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import clingo

from .atoms import Inputs, case_inputs
from .case import Case, as_case
from .engine import Answer, Engine
from .policy import Policy, resolve_policy_dir
from .pool import POOL
from .presumption import switched_off
from .reading import reading_facts, readings as policy_readings
from .presumption import presumptions as policy_presumptions
from .upgrade import FORMAT
from .record import Record, build_record
from .policy import pyisp_version
from .result import Provenance, Result, build_result


ENGINES = 8  # engines kept per thread (one per policy directory and version of its rules), least recently used dropped


def _stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """The rule files' names, sizes and modification times: a cheap sign that the rules changed."""
    stamp = []
    for path in sorted(directory.glob("*.lp")):
        stat = path.stat()
        stamp.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(stamp)


@lru_cache(maxsize=ENGINES)
def _policy(directory: str, stamp: tuple[tuple[str, int, int], ...]) -> Policy:
    """The rules of a directory as they are now, parsed once per version of the files
    (`stamp`) and checked before they answer (pyisp.core.program.check)."""
    policy = Policy(directory)
    if not policy.shipped:
        policy.checked  # noqa: B018 - rules that run away, admit no answer or decide nothing are refused here
    return policy


_local = threading.local()


def engine_for(directory: str | Path | None = None) -> Engine:
    """The engine of a policy directory (None: the policy in force, resolve_policy_dir):
    parsed once per process and version of the rule files. Each thread keeps the `ENGINES`
    most recently used, keyed by directory and the rules' fingerprint (edited rules get a
    new engine); a thread's first is the warmest engine of the process's pool that no
    thread is using (pyisp.core.pool: engines are lent to one thread at a time for each
    query, a clingo Control is not thread-safe), so a new thread does not ground its own."""
    where = resolve_policy_dir(directory).resolve()
    policy = _policy(str(where), _stamp(where))
    engines: OrderedDict[tuple[str, str], Engine] = _local.__dict__.setdefault("engines", OrderedDict())
    key = (str(where), policy.fingerprint)
    engine = engines.get(key)
    if engine is None:
        engine = engines[key] = POOL.engine(key, policy)
        while len(engines) > ENGINES:
            engines.popitem(last=False)
    engines.move_to_end(key)
    return engine


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
        def decide(slots: Mapping[str, str], part: Sequence[str]) -> list[clingo.Symbol]:
            return [clingo.Function(name, [clingo.String(slots[i])]) for i in part for name in ("permitted", "required")]

        parts = engine.answer_parts(data, decide if depends_on else None, off=off)
        if len(parts) > 1:
            result, record = _joined(the_case, data, parts, engine.policy)
            result = replace(result, meta=data.get("meta"), provenance=provenance(engine.policy, readings, off, data))
            return replace(result, case=the_case, policy=engine.policy, record=replace(record, provenance=result.provenance))
        _, answer, names = parts[0]
    result = replace(build_result(the_case.id, the_case.title, ids, answer, engine.policy, names),
                     meta=data.get("meta"), provenance=provenance(engine.policy, readings, off, data))
    record = build_record(data, result, answer, engine.policy, names)
    return replace(result, case=the_case, policy=engine.policy, record=record, **extra)  # kept for Result.explain
    # (without readings no `inputs`: explain() rebuilds them from the case, the very atoms answered here)


def _joined(the_case: Case, data: dict[str, Any], parts: list[tuple[list[str], Answer, dict[str, str]]],
            policy: Policy) -> tuple[Result, Record]:
    """The result and record of a case answered one disclosure at a time (Engine.answer_parts):
    each part read on its own, then put together in the case's order. The parts share
    every unknown outside the disclosures (they come first, in the same order in every
    part) and every presumption applied to them."""
    results, records = [], []
    by_id = {d["id"]: d for d in data["disclosures"]}
    for ids, answer, names in parts:
        result = build_result(the_case.id, the_case.title, ids, answer, policy, names)
        part = {**data, "disclosures": [by_id[i] for i in ids]}
        results.append(result)
        records.append(build_record(part, result, answer, policy, names))
    unknowns = tuple(dict.fromkeys(path for result in results for path in result.unknowns))
    presumed = tuple(sorted(dict.fromkeys(a for result in results for a in result.presumptions),
                            key=lambda a: (a.name, a.path)))
    result = replace(results[0], disclosures=tuple(d for r in results for d in r.disclosures), unknowns=unknowns,
                     presumptions=presumed)
    return result, replace(records[0], disclosures=tuple(r for record in records for r in record.disclosures))


def provenance(policy: Policy, chosen: Mapping[str, str] | None, off: frozenset[str],
               case: Mapping[str, Any]) -> Provenance:
    """What answers a case: pyisp's version, the rules' fingerprint, every reading with the
    alternative taken, every presumption in force or not, and the case format version."""
    chosen = dict(chosen or {})
    taken = tuple((r.name, chosen.get(r.name, r.default)) for r in policy_readings(policy))
    presumed = tuple((p.name, p.name not in off) for p in policy_presumptions(policy))
    return Provenance(pyisp_version(), policy.fingerprint, taken, presumed, case.get("format", FORMAT),
                      tuple(name for name, _ in taken if name in chosen))
