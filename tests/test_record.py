"""The record of a decision (3.3.9, 3.3.29, 3.5.21, 3.7.1-3.7.9): items filled from the
case and the rules, and those still to supply; with and without consent."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import pyisp
from pyisp._cli import app

FACTS = Path(__file__).resolve().parent.parent / "facts"


def record(name: str) -> "object":
    return pyisp.query_file(FACTS / f"{name}.yaml").record.disclosures[0]


def test_record_with_consent_fills_from_case_and_rules_and_lists_what_is_missing() -> None:
    entry = record("record-with-consent")
    assert entry.verdict == "may_share"
    assert entry.item("consent").values == ("sought_and_obtained",)
    assert "3.7.2" in entry.item("consent").paragraphs
    assert entry.item("date").values == ("2026-11-25",) and entry.item("date").source == "case"
    assert entry.item("shared_with").values == ("childrens_social_care",)
    assert entry.item("reasons").values == ("consent",)
    assert "3.7.9" in entry.item("written_consent_filed").paragraphs
    assert {i.name for i in entry.to_supply} == {"risk_level", "written_consent_filed"}
    names = {i.name for i in entry.items}
    assert "reasons_without_consent" not in names and "subject_informed" not in names


def test_record_without_consent_needs_the_reasons_and_whether_the_subject_was_told() -> None:
    entry = record("record-without-consent")
    assert entry.verdict == "must_share"
    assert entry.item("consent").values == ("not_sought",)
    reasons = entry.item("reasons_without_consent")
    assert "consent_should_not_be_sought(increase_risk_to_child)" in reasons.values
    assert {"3.3.29", "3.7.3"} <= set(reasons.paragraphs)
    assert entry.item("subject_informed").values == ("no",)
    assert "3.7.5" in entry.item("reason_not_informed").paragraphs  # shared by phone, subject not told
    assert entry.item("reason_not_informed").to_supply
    assert {"requested_by", "data_requested", "reason_for_request", "context", "nature"} <= {
        i.name for i in entry.to_supply}


def test_a_decision_not_to_share_is_recorded_too_without_what_was_shared() -> None:
    entry = record("police-request-outside-categories")
    assert entry.verdict == "must_not_share"
    names = {i.name for i in entry.items}
    assert {"decision", "reasons", "date", "recorded_by"} <= names
    assert "data_shared" not in names and "shared_with" not in names
    assert "police_request_declined(outside_categories)" in entry.item("reasons").values


def test_pyisp_record_prints_the_record_as_text_and_json() -> None:
    runner = CliRunner()
    case = str(FACTS / "record-without-consent.yaml")
    text = runner.invoke(app, ["record", case])
    assert text.exit_code == 0
    assert "TO SUPPLY" in text.output and "still to supply:" in text.output and "DC Smith" in text.output
    data = json.loads(runner.invoke(app, ["record", case, "--json"]).stdout)
    assert data["records"][0]["disclosure"] == "police-answer"
    assert "reason_not_informed" in data["records"][0]["to_supply"]
    missing = runner.invoke(app, ["record", str(FACTS / "no-such-case.yaml")])
    assert missing.exit_code == 2
