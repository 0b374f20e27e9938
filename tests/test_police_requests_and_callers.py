"""Issue 13, defects 2, 3 and 7: the police answering a request against sharing on their own
initiative (3.6.9-3.6.10), a category of 3.6.9 as what allows the answer with its consents
read from consents[] (format 1's yes/no flags upgraded), and caller verification whatever
the channel of the answer (3.7.4)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

import pyisp
from pyisp.core.schema import validate

FACTS = Path(__file__).resolve().parent.parent / "facts"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((FACTS / f"{name}.yaml").read_text(encoding="utf-8"))


def verdict(case: dict[str, Any]) -> str:
    return pyisp.query(case).disclosures[0].verdict


def test_format_1_consent_flags_are_dropped_and_kept_as_a_note() -> None:
    case = load("police-category-4-child-in-need-with-consent")
    case["disclosures"][0]["police_request"]["written_consent_obtained"] = True
    case["disclosures"][0]["police_request"]["necessary_consents_obtained"] = False
    out = validate(case)
    request = out["disclosures"][0]["police_request"]
    assert "written_consent_obtained" not in request and "necessary_consents_obtained" not in request
    assert request["x-format-1-written_consent_obtained"] is True
    assert request["x-format-1-necessary_consents_obtained"] is False


def test_format_2_has_no_consent_flags() -> None:
    case = load("police-category-4-child-in-need-with-consent")
    case["format"] = 2
    case["disclosures"][0]["police_request"]["written_consent_obtained"] = True
    try:
        validate(case)
    except pyisp.CaseError as exc:
        assert "written_consent_obtained" in str(exc)
    else:
        raise AssertionError("format 2 accepted written_consent_obtained")


def test_a_named_police_request_means_the_police_answer_a_request_unless_the_case_says_otherwise() -> None:
    case = load("police-request-outside-categories")
    del case["disclosures"][0]["requested"]
    assert validate(case)["disclosures"][0]["requested"] is True
    case["format"] = 2
    assert validate(case)["disclosures"][0]["requested"] is True
    case["disclosures"][0]["requested"] = False
    assert validate(case)["disclosures"][0]["requested"] is False


def test_the_police_sharing_on_their_own_initiative_are_never_declined_as_a_request() -> None:
    d = pyisp.query(load("police-own-referral")).disclosures[0]
    assert not d.finding("police_request_declined")
    assert d.finding("police_own_initiative")


def test_an_unverified_caller_is_not_answered_by_post_or_secure_email() -> None:
    base = load("channel-phone-unknown-caller")
    for channel in ("post", "secure_electronic", None):
        case = copy.deepcopy(base)
        case["disclosures"][0]["channel"] = channel
        d = pyisp.query(case).disclosures[0]
        assert d.verdict == "must_not_share", channel
        assert not d.finding("channel_would_do"), channel
        assert d.obligation("verify_caller_by_calling_back"), channel
