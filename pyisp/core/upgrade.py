"""Case format versions and shorthands: a format-1 document read as format 2, and the
shorthands a practitioner may use, written out in the format the rules read.

Format 2 (``format: 2``) differs from format 1 in one field: who supplied a piece of
information is kept apart from the kind of relationship it was given in, so format 1's
``relationship: police`` becomes ``supplied_by_police: true``; and format 1's yes/no
flags for the consents of the fourth and sixth police categories
(``police_request.written_consent_obtained``, ``necessary_consents_obtained``) are
dropped, kept under an ``x-format-1-`` key as a note: format 2 reads those consents
from ``consents[]`` (3.6.9). A format-1 police disclosure with a ``police_request`` part
answered that request. The shorthands (both formats): a disclosure stating the police request it
answers (a non-empty ``police_request`` part) answers a request (``requested: true`` unless it says
otherwise); a disclosure to several recipients (``to`` as a list) is one disclosure per
recipient; ``provided_by: police`` is information the police supplied; a school year
instead of an age gives the range of ages of that year (for the one child or each of
``children``). Free metadata (``meta`` and keys
starting with ``x-``) passes through untouched. Nothing here decides anything: each
change only restates what the document says.
"""

from __future__ import annotations

import copy
from typing import Any

FORMAT = 2


def upgrade(data: Any) -> Any:
    """The document in format 2 with its shorthands written out (a copy; the input is not changed)."""
    if not isinstance(data, dict):
        return data
    case = _copy(data, {})
    version = case.get("format", 1)
    if version == 1:
        for item in _entries(case, "information"):
            if item.get("relationship") == "police":
                del item["relationship"]
                item.setdefault("supplied_by_police", True)
        for item in _entries(case, "disclosures"):
            _police_request_format_1(item)
        case["format"] = FORMAT
    for item in _entries(case, "disclosures"):
        if isinstance(item.get("police_request"), dict) and item["police_request"]:
            item.setdefault("requested", True)  # the request the police would answer: there was one
    for item in _entries(case, "information"):
        if item.get("provided_by") == "police":
            del item["provided_by"]
            item.setdefault("supplied_by_police", True)
    children = case.get("children") if isinstance(case.get("children"), list) else [case.get("child")]
    for child in children:
        if isinstance(child, dict) and isinstance(child.get("school_year"), int) and not isinstance(child["school_year"], bool):
            year = child.pop("school_year")
            child.setdefault("age_range", {"min": max(0, year + 4), "max": min(17, year + 5)})
    case["disclosures"] = _one_per_recipient(case.get("disclosures"))
    return case


_ATOMIC = frozenset((str, int, float, bool, type(None)))


def _copy(value: Any, memo: dict[int, Any], keep: list[Any] | None = None) -> Any:
    """copy.deepcopy for a parsed document, faster: plain dicts and lists copied here (a
    part shared by two places, or containing itself, stays so, as with deepcopy), texts,
    numbers, booleans and None kept, anything else left to copy.deepcopy (with the same memo).
    What is copied is kept alive while the memo names it by id, in `keep`: memo[id(memo)],
    as copy.deepcopy's _keep_alive does."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if keep is None:
        keep = memo.setdefault(id(memo), [])
    if kind is dict:
        known = memo.get(id(value))
        if known is not None:
            return known
        new: dict[Any, Any] = {}
        memo[id(value)] = new
        keep.append(value)
        for key, item in value.items():
            new[key if type(key) in _ATOMIC else _copy(key, memo, keep)] = (
                item if type(item) in _ATOMIC else _copy(item, memo, keep))
        return new
    if kind is list:
        known = memo.get(id(value))
        if known is not None:
            return known
        items: list[Any] = []
        memo[id(value)] = items
        keep.append(value)
        items.extend([item if type(item) in _ATOMIC else _copy(item, memo, keep) for item in value])
        return items
    return copy.deepcopy(value, memo)


_FORMAT_1_CONSENT_FLAGS = ("written_consent_obtained", "necessary_consents_obtained")


def _police_request_format_1(disclosure: dict[str, Any]) -> None:
    """Format 1's police_request: its consent flags become notes (format 2 reads consents[])."""
    request = disclosure.get("police_request")
    if not isinstance(request, dict):
        return
    for flag in _FORMAT_1_CONSENT_FLAGS:
        if flag in request:
            request[f"x-format-1-{flag}"] = request.pop(flag)


def _entries(case: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = case.get(key)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _one_per_recipient(disclosures: Any) -> Any:
    """A disclosure whose ``to`` lists several recipients becomes one disclosure for each
    (ids ``<id>-to-<agency>``, or ``<id>-<n>`` when two recipients share an agency)."""
    if not isinstance(disclosures, list):
        return disclosures
    out: list[Any] = []
    for item in disclosures:
        recipients = item.get("to") if isinstance(item, dict) else None
        if not isinstance(recipients, list):
            out.append(item)
            continue
        agencies = [r.get("agency") if isinstance(r, dict) else None for r in recipients]
        distinct = len(set(agencies)) == len(agencies) and all(isinstance(a, str) for a in agencies)
        if len(recipients) == 1:
            out.append({**item, "to": recipients[0]})
            continue
        for n, recipient in enumerate(recipients, 1):
            copy_ = {**copy.deepcopy(item), "to": recipient}
            if isinstance(item.get("id"), str):
                copy_["id"] = f"{item['id']}-to-{agencies[n - 1]}" if distinct else f"{item['id']}-{n}"
                copy_.setdefault("x-split-from", item["id"])
            out.append(copy_)
    return out
