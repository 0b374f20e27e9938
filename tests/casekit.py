"""Helpers for tests: a fully stated base case and a way to change one fact of it."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pyisp

FACTS = Path(__file__).resolve().parent.parent / "facts"
_GUIDANCE_NAME = "london-cpp-chapter-3-information-sharing.txt"


def guidance_file() -> Path | None:
    """The user's copy of the guidance, if this machine has one (../shared/guidance beside
    the checkout, or $PYISP_GUIDANCE); tests that read it check more when it is there."""
    import os
    root = Path(__file__).resolve().parent.parent
    for candidate in (os.environ.get("PYISP_GUIDANCE"), root.parent / "shared" / "guidance" / _GUIDANCE_NAME,
                      Path("/work/shared/guidance") / _GUIDANCE_NAME):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None

NO_CONCERN = {"significant_harm_evidence": False, "reasonable_cause_to_believe": False,
              "reasonable_cause_to_suspect": False, "risk_of_serious_harm_to_adult": False,
              "serious_crime": False, "unsure": False}
NO_HARM_IN_SEEKING = {"increase_risk_to_child": False, "put_adult_at_risk": False,
                      "prejudice_crime_inquiry": False, "cause_unjustified_delay": False}
TOLD_ALL = {"why": True, "who": True, "purpose": True, "implications": True}


def base_case() -> dict[str, Any]:
    """Every fact stated: a 15-year-old's confidential information, her valid written
    consent to a referral to a health service, no concern of harm."""
    return copy.deepcopy({
        "id": "base",
        "child": {"id": "kim", "name": "Kim", "age": 15, "understanding": True},
        "people": [{"id": "mum", "name": "Ms Lo", "role": "parent", "parental_responsibility": True,
                    "resident_parent": True, "at_risk_of_serious_harm": False}],
        "family": {"parents_separated": False, "in_conflict": False},
        "information": [{"id": "health", "about": ["kim"], "provided_by": "kim", "identifiable": True,
                         "sensitive": True, "in_public_domain": False, "widely_known": False,
                         "given_expecting_sharing": False, "relationship": "formal",
                         "obtained_under_limiting_power": False}],
        "concern": dict(NO_CONCERN),
        "consents": [{"id": "kim-consent", "person": "kim", "answer": "given", "form": "written",
                      "told": dict(TOLD_ALL), "freely_given": True, "purposes": ["service_referral"],
                      "recipients": ["community_health"], "significant_change_since": False}],
        "seeking_consent_would": dict(NO_HARM_IN_SEEKING),
        "disclosures": [{"id": "d", "from": {"agency": "school", "role": "school_nurse"},
                         "to": {"agency": "community_health", "role": "nurse"}, "information": ["health"],
                         "purpose": "service_referral", "within_agency_functions": True,
                         "statutory_duty": False, "court_order": False, "statutory_power": False,
                         "within_statutory_limits": False,
                         "judgements": {"proportionate": True, "public_interest_sufficient": False,
                                        "best_interests_require_sharing": False}}],
    })


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def changed(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `case` with fields set by path: changed(c, **{"child.age": 12}).
    The value `...` (Ellipsis) removes the field, making the fact unknown."""
    case = copy.deepcopy(case)
    for path, value in changes.items():
        steps = [int(i) if i else key for key, i in _STEP.findall(path)]
        target = case
        for step in steps[:-1]:
            target = target[step]
        if value is ...:
            del target[steps[-1]]
        else:
            target[steps[-1]] = value
    return case


def disclosure(case: Any, ident: str | None = None) -> pyisp.Disclosure:
    """The result for one disclosure (the only one when no id is given); `case` is a dict or a file."""
    result = pyisp.query_file(case) if isinstance(case, (str, Path)) else pyisp.query(case)
    return result.disclosure(ident) if ident else result.disclosures[0]


def labels(items: Any, status: str | None = "yes") -> set[str]:
    """The labels of findings or obligations (those that hold, by default)."""
    return {i.label for i in items if status is None or i.status == status}
