"""One register entry per decision (a proposed disclosure of a case): what 3.7.1-3.7.9 ask a
record of a decision to hold, plus what answered it and who asked.

An entry is a plain mapping: `case`, `title`, `meta` (the case's own metadata), `disclosure`
(the disclosure's id), `verdict`, `decision` (the disclosure's JSON, as in `pyisp query
--json`: findings, obligations, deciding paragraphs, what it depends on, presumptions applied),
`record` (the record items, `pyisp record --json`), `brief` (the brief explanation),
`people` (the case's people, id and name, for masking), `provenance` (pyisp version, rules fingerprint, readings and presumptions in force), `who`
(the name of whoever asked, never a token) and `at` (UTC time).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime, timezone
from typing import Any, Mapping

from ..core.result import Disclosure, Result
from ..explain.wording import case_names
from ..render.brief import brief_lines

BRIEFS = 2048  # brief texts kept per process (least recently used dropped)
_briefs: OrderedDict[Hashable, str] = OrderedDict()
_briefs_lock = threading.Lock()


def brief_text(result: Result, disclosure: Disclosure) -> str:
    """The brief explanation stored with a decision (render/brief.py): the verdict in a
    sentence, what decides it, what to do now, and the questions that would settle it. The
    search for changes that would flip a settled verdict is left out: it answers further
    cases, and the register is written on every decision.

    Kept for the next decision that would get the same text (`_brief_key`: the same
    disclosure answer, the same names and proposal in the case, the same rules), as a
    service sees the same kinds of case again and again."""
    key = _brief_key(result, disclosure)
    if key is not None:
        with _briefs_lock:
            text = _briefs.get(key)
            if text is not None:
                _briefs.move_to_end(key)
                return text
    text = "\n".join(brief_lines(result, disclosure, changes=False)) + "\n"
    if key is not None:
        with _briefs_lock:
            _briefs[key] = text
            while len(_briefs) > BRIEFS:
                _briefs.popitem(last=False)
    return text


def _brief_key(result: Result, disclosure: Disclosure) -> Hashable | None:
    """Everything a stored brief (`brief_lines(..., changes=False)`) is drawn from: the
    rules (directory and fingerprint: their sentences, obligation strengths and refusal
    kinds), the disclosure's whole answer, how the case names its ids, and the proposal as
    the case states it (what is shared, with whom, how). None when a part cannot be a key
    (then the brief is drawn anew)."""
    policy = result.policy
    if policy is None or result.case is None:
        return None
    data = result.case.data
    proposal = next((d for d in data.get("disclosures") or [] if isinstance(d, dict) and d.get("id") == disclosure.id),
                    None)
    try:
        key = ((str(policy.directory), policy.fingerprint), disclosure,
               tuple(case_names(dict(data)).items()),
               json.dumps(proposal, sort_keys=True, ensure_ascii=False, default=repr))
        hash(key)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    return key


def entries(result: Result, who: str, at: datetime | None = None,
            answer: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The entries of a Result's decisions, one per disclosure, in the case's order.
    `answer`: the result's `to_dict()` when the caller has it already (the service's
    response): its disclosures, records and provenance are taken from it, not made again."""
    when = (at or datetime.now(timezone.utc)).isoformat(timespec="microseconds")
    made = []
    people = _people(result)
    if answer is not None:
        decisions = answer["disclosures"]
        records = answer["record"]["records"] if answer.get("record") is not None else None
        provenance = answer.get("provenance")
    else:
        decisions = [d.to_dict() for d in result.disclosures]
        records = [r.to_dict() for r in result.record.disclosures] if result.record is not None else None
        provenance = result.provenance.to_dict() if result.provenance is not None else None
    for disclosure, decision in zip(result.disclosures, decisions):
        record = None
        if records is not None:
            record = next(r for r in records if r["disclosure"] == disclosure.id)
        made.append({"case": result.case_id, "title": result.title, "meta": result.meta, "people": people,
                     "disclosure": disclosure.id, "verdict": disclosure.verdict, "decision": decision,
                     "record": record, "brief": brief_text(result, disclosure), "provenance": provenance,
                     "who": who, "at": when})
    return made


def _people(result: Result) -> list[dict[str, Any]]:
    """The case's people (the child first), id and name: what an export masks as names."""
    data = getattr(result.case, "data", None) or {}
    found = [data.get("child"), *(data.get("children") or []), *(data.get("people") or [])]
    return [{"id": p.get("id"), "name": p.get("name")} for p in found if isinstance(p, dict)]
