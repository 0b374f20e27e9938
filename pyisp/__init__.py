"""pyisp: the information-sharing chapter of the London Child Protection Procedures as
executable, explainable rules.

A case (the facts a professional knows) goes in; for each proposed disclosure a verdict
(must_share, may_share, must_not_share or undetermined) comes out, with the findings,
obligations and paragraphs behind it, and the unknown facts it depends on.

>>> import pyisp
>>> result = pyisp.query_file("facts/teacher-counselling-disclosure.yaml")  # doctest: +SKIP
>>> [(d.id, d.verdict) for d in result.disclosures]                     # doctest: +SKIP
[('to-social-care', 'must_share')]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .core.case import Case
from .errors import CaseError, CaseProblem, ContradictionError, PolicyError, PyispError
from .explain import Explanation
from .core.policy import pyisp_version
from .core.result import (Assumption, Condition, Conclusion, Dependency, Disclosure, Finding, Obligation, Provenance,
                          Question, RefusalKind, Result, Status, Verdict)
from .core.presumption import Presumption, PresumptionError
from .core.reading import Reading, ReadingError
from .core.schema import json_schema

__all__ = [
    "query", "query_file", "Case", "Result", "Disclosure", "Conclusion", "Finding", "Obligation", "Dependency", "Condition",
    "PyispError", "CaseError", "ContradictionError", "PolicyError", "json_schema", "load_policy",
    "Explanation",
    "query_many", "record",
    "readings", "Reading", "ReadingError",
    "presumptions", "Presumption", "PresumptionError", "Assumption", "Question",
    "Verdict", "RefusalKind", "Status", "Provenance", "CaseProblem",
]
__version__ = pyisp_version()  # the one version: pyproject.toml's, read from the installed package's metadata


def load_policy(directory: str | Path | None = None) -> "Any":
    """The engine for a policy directory (default: the shipped policy), parsed once and cached."""
    from .core.service import engine_for

    return engine_for(directory)


def query(case: Case | Mapping[str, Any], *, policy: str | Path | None = None,
          depends_on: bool = True, readings: Mapping[str, str] | None = None,
          presumptions: Mapping[str, bool] | None = None, strict: bool = False) -> Result:
    """Answer a case: a Case or a dict in the case format (a file: `query_file`).

    A string or a path is a TypeError: `query` never reads a file by accident (a string
    may be a user's text). Raises CaseError (with the field path) for a malformed or
    contradictory case and PolicyError for a broken rule file. `depends_on=False` skips
    the search for the unknowns that would decide an undetermined answer. `readings`
    chooses another alternative of named readings (`{"share_3_4_1": "justification"}`;
    see `readings()`). The policy's presumptions (see `presumptions()`) fill facts the case
    leaves out; `presumptions={"no_statutory_duty": False}` switches one off, `strict=True`
    all of them.
    """
    from .core.service import answer_case

    if not isinstance(case, (Case, Mapping)):
        raise TypeError(f"pyisp.query takes a case, not {type(case).__name__}: pass a Case or a mapping; files go "
                        "through pyisp.query_file(path) or pyisp.Case.load")
    return answer_case(case, policy=policy, depends_on=depends_on, readings=readings,
                       presumptions=presumptions, strict=strict)


def query_file(path: str | Path, *, policy: str | Path | None = None, depends_on: bool = True,
               readings: Mapping[str, str] | None = None, presumptions: Mapping[str, bool] | None = None,
               strict: bool = False) -> Result:
    """Answer the case in a YAML or JSON file (the options of `query`). Raises CaseError
    naming the file when it cannot be read, is not UTF-8, or is over the limits
    (PYISP_MAX_CASE_BYTES and the others of pyisp.core.schema.LIMITS)."""
    return query(Case.load(path), policy=policy, depends_on=depends_on, readings=readings,
                 presumptions=presumptions, strict=strict)


def query_many(cases: Iterable[Case | Mapping[str, Any] | str | Path], *, policy: str | Path | None = None,
               depends_on: bool = True, jobs: int = 1, strict: bool = True) -> Iterator[Result | PyispError]:
    """Answer many cases, yielding each Result as it is ready (in order). `strict=False`
    yields a malformed case's PyispError instead of raising it; `jobs` > 1 answers in
    worker processes. Memory does not grow with the number of cases."""
    from .core.batch import query_many as _query_many

    return _query_many(cases, policy=policy, depends_on=depends_on, jobs=jobs, strict=strict)


def record(case: "Result | Case | Mapping[str, Any]", *, format: str = "markdown", **options: Any) -> str:
    """The record draft of a case's decisions in plain English, ready to paste into a case
    file: `format` is "markdown", "html" (one self-contained file) or "text". `case` is a
    Result of `query`, or a case answered here with `options` (those of `query`). The
    record's items as data are `result.record` (a Record with `to_dict()`)."""
    from .render.record import render_record

    result = case if isinstance(case, Result) else query(case, depends_on=False, **options)
    return render_record(result, format)


def presumptions(policy: str | Path | None = None) -> "tuple[Presumption, ...]":
    """The presumptions the policy declares: facts taken as so unless a case says otherwise."""
    from .core.presumption import presumptions as _presumptions
    from .core.service import engine_for

    return _presumptions(engine_for(policy).policy)


def readings(policy: str | Path | None = None) -> "tuple[Reading, ...]":
    """The readings the policy names where the guidance is ambiguous, with alternatives and defaults."""
    from .core.reading import readings as _readings
    from .core.service import engine_for

    return _readings(engine_for(policy).policy)
