"""Glue between the public API and the parts: load a case, build its inputs, run the
engine, read the result. Engines are cached per policy directory."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import clingo

from .atoms import case_inputs
from .case import Case, as_case
from .engine import Engine
from .policy import Policy
from .result import Result, build_result


@lru_cache(maxsize=8)
def _engine(directory: str | None) -> Engine:
    return Engine(Policy(directory))


def engine_for(directory: str | Path | None = None) -> Engine:
    """The cached engine of a policy directory (None: the shipped policy)."""
    return _engine(str(Path(directory).resolve()) if directory else None)


def answer_case(case: Case | Mapping[str, Any] | str | Path, *, policy: str | Path | None = None,
                depends_on: bool = True) -> Result:
    """Validate, solve and read one case."""
    the_case = as_case(case)
    engine = engine_for(policy)
    inputs = case_inputs(dict(the_case.data))
    ids = [d["id"] for d in the_case.data["disclosures"]]
    decide = [clingo.Function(name, [clingo.String(i)]) for i in ids for name in ("permitted", "required")]
    answer = engine.answer(inputs, decide if depends_on else None)
    result = build_result(the_case.id, the_case.title, ids, answer, engine.policy)
    return replace(result, case=the_case, policy=engine.policy, inputs=inputs)  # kept for Result.explain
