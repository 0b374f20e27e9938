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

from datetime import datetime, timezone
from typing import Any

from ..core.result import Disclosure, Result
from ..render.brief import brief_lines


def brief_text(result: Result, disclosure: Disclosure) -> str:
    """The brief explanation stored with a decision (render/brief.py): the verdict in a
    sentence, what decides it, what to do now, and the questions that would settle it. The
    search for changes that would flip a settled verdict is left out: it answers further
    cases, and the register is written on every decision."""
    return "\n".join(brief_lines(result, disclosure, changes=False)) + "\n"


def entries(result: Result, who: str, at: datetime | None = None) -> list[dict[str, Any]]:
    """The entries of a Result's decisions, one per disclosure, in the case's order."""
    when = (at or datetime.now(timezone.utc)).isoformat(timespec="microseconds")
    made = []
    people = _people(result)
    for disclosure in result.disclosures:
        record = None
        if result.record is not None:
            record = result.record.disclosure(disclosure.id).to_dict()
        made.append({"case": result.case_id, "title": result.title, "meta": result.meta, "people": people,
                     "disclosure": disclosure.id, "verdict": disclosure.verdict, "decision": disclosure.to_dict(),
                     "record": record, "brief": brief_text(result, disclosure),
                     "provenance": result.provenance.to_dict() if result.provenance is not None else None,
                     "who": who, "at": when})
    return made


def _people(result: Result) -> list[dict[str, Any]]:
    """The case's people (the child first), id and name: what an export masks as names."""
    data = getattr(result.case, "data", None) or {}
    found = [data.get("child"), *(data.get("children") or []), *(data.get("people") or [])]
    return [{"id": p.get("id"), "name": p.get("name")} for p in found if isinstance(p, dict)]
