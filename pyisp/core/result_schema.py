"""The contract of the output: a JSON Schema of a result, as `Result.to_dict()` (and
`pyisp query --json`) writes it. Written by hand as data; tests/test_contract.py checks
every facts/ case's result against it, so a change of `to_dict()` must change it too.
"""

from __future__ import annotations

import copy
from typing import Any

from .result import RefusalKind, Status, Verdict

_STRINGS = {"type": "array", "items": {"type": "string"}}
_PARAGRAPHS = {"type": "array", "items": {"type": "string", "pattern": r"^\d+\.\d+(\.\d+)?$"},
               "description": "Paragraph numbers of chapter 3."}
_VERDICT = {"type": "string", "enum": [v.value for v in Verdict]}
_STATUS = {"type": "string", "enum": [s.value for s in Status]}
_VALUE = {"description": "A value of the case format: a string, number, boolean or list of them."}


def _object(properties: dict[str, Any], required: list[str] | None = None, description: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "object", "properties": properties,
                            "required": list(properties) if required is None else required,
                            "additionalProperties": False}
    if description:
        spec["description"] = description
    return spec


_CONCLUSION = _object({
    "code": {"type": "string"}, "args": _STRINGS, "status": {**_STATUS, "enum": ["yes", "depends"]},
    "paragraphs": _PARAGRAPHS,
}, description="A finding or obligation: `yes` holds, `depends` on unknown facts.")

_CONDITION = _object({
    "path": {"type": "string", "description": "The field of the case (disclosures[0].purpose, ...)."},
    "values": {"type": "array", "items": _VALUE},
    "description": {"type": "string"},
})

_DEPENDENCY = _object({
    "conclusion": {"type": "string", "enum": ["permitted", "required"]},
    "value": {**_STATUS, "enum": ["yes", "no"]},
    "conditions": {"type": "array", "items": _CONDITION},
    "verdict": _VERDICT,
}, required=["conclusion", "value", "conditions"],
    description="A smallest set of unknowns that settles `conclusion` to `value`.")

_ASSUMPTION = _object({
    "name": {"type": "string"}, "path": {"type": "string"}, "value": _VALUE, "text": {"type": "string"},
    "paragraphs": _PARAGRAPHS, "if_not": {"type": "array", "items": _VERDICT},
}, description="A presumption that filled an unstated fact.")

_QUESTION = _object({
    "path": {"type": "string"}, "text": {"type": "string"},
    "changes": {"type": "string", "enum": ["verdict", "obligations"]},
})

_DISCLOSURE = _object({
    "id": {"type": "string"}, "verdict": _VERDICT,
    "kind": {"type": ["string", "null"], "enum": [k.value for k in RefusalKind] + [None],
             "description": "Which kind of refusal a must_not_share is (barred, not_yet, no_route, "
                            "not_by_this_channel); null for other verdicts."},
    "possible_verdicts": {"type": "array", "items": _VERDICT},
    "permitted": _STATUS, "required": _STATUS,
    "deciding_paragraphs": {**_PARAGRAPHS, "description": "The paragraphs of what decides the verdict: the duty "
                            "that requires, the routes that permit, or the bars that forbid."},
    "findings": {"type": "array", "items": _CONCLUSION}, "obligations": {"type": "array", "items": _CONCLUSION},
    "depends_on": {"type": "array", "items": _DEPENDENCY}, "assumptions": {"type": "array", "items": _ASSUMPTION},
    "questions": {"type": "array", "items": _QUESTION},
})

_PROVENANCE = _object({
    "pyisp": {"type": "string", "description": "pyisp's version."},
    "policy_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                      "description": "sha256 over the rule files' names and contents, in sorted order."},
    "readings": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "Every reading with the alternative taken."},
    "readings_chosen": {**_STRINGS, "description": "The readings the caller chose (the rest at their defaults)."},
    "presumptions": {"type": "object", "additionalProperties": {"type": "boolean"},
                     "description": "Every presumption: in force (true) or switched off."},
    "case_format": {"type": ["integer", "null"]},
}, description="What answered the case.")

_RECORD_ITEM = _object({
    "item": {"type": "string"}, "label": {"type": "string"}, "status": {**_STATUS, "enum": ["yes", "depends"]},
    "paragraphs": _PARAGRAPHS, "values": _STRINGS,
    "source": {"type": ["string", "null"], "enum": ["rules", "case", None]},
    "stated": {"type": ["string", "null"], "description": "What the case itself states for the item, if anything."},
    "to_supply": {"type": "boolean"},
})

_RECORD = _object({
    "case": {"type": "string"},
    "records": {"type": "array", "items": _object({
        "disclosure": {"type": "string"},
        "verdict": {**_VERDICT, "description": "pyisp's recommendation, not the professional's decision."},
        "paragraphs": {**_PARAGRAPHS, "description": "The paragraphs deciding the recommendation."},
        "items": {"type": "array", "items": _RECORD_ITEM}, "to_supply": _STRINGS})},
    "provenance": _PROVENANCE,
}, required=["case", "records"], description="The record of each decision (pyisp record).")

RESULT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pyisp result",
    "description": "The answer for a case, as Result.to_dict() and `pyisp query --json` give it.",
    **_object({
        "case": {"type": "string"}, "title": {"type": "string"},
        "disclosures": {"type": "array", "items": _DISCLOSURE},
        "unknowns": _STRINGS,
        "presumptions": {"type": "array", "items": _ASSUMPTION, "description": "Every presumption applied."},
        "meta": {"description": "The case's free metadata, untouched."},
        "record": _RECORD,
        "provenance": _PROVENANCE,
    }, required=["case", "title", "disclosures", "unknowns", "presumptions"]),
}


def result_schema() -> dict[str, Any]:
    """The JSON Schema of a result (a copy: callers may change it)."""
    return copy.deepcopy(RESULT)
