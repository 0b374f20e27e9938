"""What a solver process of `pyisp serve` does with one job: plain data in, plain data out.

A job is a tuple `(kind, text, options, who)`: kind `query`, `record`, `explain`,
`batch-line` or `readings`; the request's body (or one line of a batch); its options as
the acceptor read them from the query string (for a batch line, also its number); the
caller's token name, which the register records as who asked. The reply is a tuple
`(status, payload, entries)`: 200 with the response's text and the register entries of
its decisions (prepared for the chain here, pyisp/register/chain.py, so that the
acceptor's writer only numbers, hashes and inserts them; none for explain and readings), or an error status with the JSON
body of the refusal (400 with every problem's field path, 500 when the rules cannot
answer), as the endpoint answered it when it solved in a thread. A batch line's problems
are its answer (status 200, no entries), as the stream writes them.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import query as _query, readings as _readings
from ..core.batch import compact_json
from ..core.case import Case, dumps_json
from ..errors import CaseError, CaseProblem, PolicyError, PyispError
from ..register import entries
from ..register.chain import Prepared, prepare
from .body import parse_body

Job = tuple[str, str, dict[str, Any], str]
Reply = tuple[int, Any, list[Prepared]]

WARM_CASE = {"format": 2, "id": "warm-up", "child": {"id": "c", "age": 7},
             "information": [{"id": "i", "about": ["c"], "identifiable": False, "relationship": "public_body"}],
             "disclosures": [{"id": "d", "from": {"agency": "childrens_social_care", "role": "social_worker"},
                              "to": {"agency": "other", "role": "other"}, "information": ["i"], "purpose": "other",
                              "within_agency_functions": True, "judgements": {"legitimate_purpose": True}}]}
FAILED = {"error": "the request cannot be answered: the server failed on it"}


def warm(policy: str | None) -> None:
    """Build this process's engine and answer one case: a broken policy raises here."""
    _query(WARM_CASE, policy=policy)


def problems(error: PyispError) -> dict[str, Any]:
    """The body of a refusal: every problem with its field path."""
    found = error.errors if isinstance(error, CaseError) else [CaseProblem.of(error)]
    return {"error": "the request cannot be answered", "problems": [p.to_dict() for p in found]}


def _answer(text: str, where: str, policy: str, options: dict[str, Any]) -> Any:
    """Parse, validate and answer one case."""
    return _query(Case.from_dict(parse_body(text, where)), policy=policy, **options)


def _explain(text: str, policy: str, options: dict[str, Any]) -> str:
    from ..explain import explain_result
    from ..render.explanation import render

    result = _answer(text, "body", policy, {})
    return render(explain_result(result, options.get("disclosure"), options.get("why"), options.get("why_not")),
                  options["format"])


def _batch_line(text: str, policy: str, options: dict[str, Any], who: str) -> Reply:
    number = options["line"]
    try:
        result = _answer(text, f"line {number}", policy, options["params"])
    except PolicyError:
        raise  # the rules cannot answer it: a 500 (run), which the stream writes as this line's answer
    except PyispError as exc:
        return 200, compact_json({"line": number, **problems(exc)}) + "\n", []
    answer = result.to_dict()
    return 200, compact_json({"line": number, "id": result.case_id, **answer}) + "\n", _prepared(result, who, answer)


def _prepared(result: Any, who: str, answer: dict[str, Any] | None = None) -> list[Prepared]:
    return [prepare(entry) for entry in entries(result, who, answer=answer)]


def run(job: Job, policy: str) -> Reply:
    """The reply to one job; never raises (an error of the server itself is a 500 with no detail,
    its traceback in the log)."""
    kind, text, options, who = job
    try:
        if kind == "query":
            result = _answer(text, "body", policy, options)
            answer = result.to_dict()
            return 200, dumps_json(answer) + "\n", _prepared(result, who, answer)
        if kind == "record":
            result = _answer(text, "body", policy, {**options, "depends_on": False})
            return 200, dumps_json(result.record.to_dict()) + "\n", _prepared(result, who)
        if kind == "explain":
            return 200, _explain(text, policy, options), []
        if kind == "batch-line":
            return _batch_line(text, policy, options, who)
        if kind == "readings":
            return 200, dumps_json([r.to_dict() for r in _readings(policy)]) + "\n", []
        raise ValueError(f"no such job: {kind!r}")
    except PolicyError as exc:  # the rules could not answer this case (a budget, a broken rule): what went
        # wrong is said, not where the server keeps its rules (that is logged)
        logging.getLogger("uvicorn.error").error("pyisp serve: the rules cannot answer a %s job: %s", kind, exc)
        return 500, {"error": "the rules cannot answer this case",
                     "problems": [CaseProblem("(rules)", exc.message).to_dict()]}, []
    except PyispError as exc:  # a malformed case, a reading the policy lacks, a presumption unknown, ...
        return 400, problems(exc), []
    except Exception:  # noqa: BLE001 - a fault of the server: logged here, answered without detail
        logging.getLogger("uvicorn.error").exception("pyisp serve: a %s job failed", kind)
        return 500, FAILED, []
