"""The record of a decision (3.3.9, 3.3.29, 3.5.21, 3.6.4, 3.6.14, 3.7.1-3.7.9): items filled
from the case and the rules, and those still to supply; the draft in plain English a
professional pastes into a case file, with pyisp's recommendation apart from their decision."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import pyisp
from pyisp._cli import app
from pyisp.render.record import render_record

FACTS = Path(__file__).resolve().parent.parent / "facts"
FACT_FILES = sorted(FACTS.glob("*.yaml"))
runner = CliRunner()


@lru_cache(maxsize=None)
def answered(name: str) -> pyisp.Result:
    return pyisp.query_file(FACTS / f"{name}.yaml", depends_on=False)


@lru_cache(maxsize=None)
def draft(name: str, fmt: str = "text") -> str:
    return render_record(answered(name), fmt)


def record(name: str) -> "object":
    return answered(name).record.disclosures[0]


def section(text: str, title: str) -> list[str]:
    """The lines of one section of a text draft (its title in capitals, up to the blank line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title.upper()))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


def line_of(lines: list[str], label: str) -> str:
    found = [line for line in lines if line.strip().startswith(label)]
    assert found, f"no line starting {label!r} in:\n" + "\n".join(lines)
    return found[0]


# -- the record as data (result.record, `pyisp record --json`) ---------------------------

def test_record_with_consent_fills_from_case_and_rules_and_lists_what_is_missing() -> None:
    entry = record("record-with-consent")
    assert entry.verdict == "may_share" and "3.3.4" in entry.paragraphs  # the recommendation, kept apart
    assert entry.item("consent").values == ("sought_and_obtained",)
    assert "3.7.2" in entry.item("consent").paragraphs
    assert entry.item("date").values == ("2026-11-25",) and entry.item("date").source == "case"
    assert entry.item("shared_with").values == ("childrens_social_care",)
    assert entry.item("reasons").values == ("decided_by(consent)", "permitted_by(consent)")
    assert entry.item("consent_of(father)").values == ("answer(given)", "form(written)")
    assert "3.7.9" in entry.item("written_consent_filed").paragraphs
    # the decision is the professional's: required, never filled with pyisp's verdict
    assert {i.name for i in entry.to_supply} == {"decision", "risk_level", "written_consent_filed"}
    names = {i.name for i in entry.items}
    assert "reasons_without_consent" not in names and "subject_informed" not in names


def test_record_without_consent_needs_the_reasons_and_whether_the_subject_was_told() -> None:
    entry = record("record-without-consent")
    assert entry.verdict == "must_share"
    assert entry.item("decision").to_supply
    assert entry.item("consent").values == ("not_sought",)
    reasons = entry.item("reasons_without_consent")
    assert "consent_should_not_be_sought(increase_risk_to_child)" in reasons.values
    assert {"3.3.29", "3.7.3"} <= set(reasons.paragraphs)
    assert entry.item("consent_of(stepfather)").values == ("not_to_be_sought(increase_risk_to_child)",)
    assert entry.item("subject_informed").values == ("no",) and entry.item("subject_informed").stated == "no"
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


# -- the draft, hand-written expectations ------------------------------------------------

def test_draft_gives_each_persons_consent_when_a_competent_child_refuses_and_her_father_agrees() -> None:
    text = draft("competent-child-refuses-parent-agrees")
    consent = section(text, "Consent")
    assert "Sought and refused" in line_of(consent, "Consent (obtained, refused or not sought)")
    mia = line_of(consent, "Mia (13)")
    assert "asked, and refused consent" in mia and "3.3.15" in mia
    father = line_of(consent, "Mr Novak (parent)")  # 3.3.19: her refusal is the one to consider
    assert "asked, and gave consent" in father and "explicit, in writing" in father
    assert "does not count" in father


def test_draft_of_the_police_answering_without_consent_says_why_consent_was_not_sought() -> None:
    text = draft("record-without-consent")
    consent = section(text, "Consent")
    assert "Not sought" in line_of(consent, "Consent (obtained, refused or not sought)")
    stepfather = line_of(consent, "Stepfather (other adult)")
    assert "not to be sought: asking would increase the risk to the child" in stepfather and "3.4.2" in stepfather
    assert "should not be sought: asking would increase the risk" in line_of(consent, "Reasons for going ahead")
    told = section(text, "Who has been told")
    assert line_of(told, "Was the child or parent told afterwards").split(": ", 1)[1].startswith("No ")
    assert "(to supply)" in line_of(told, "Reasons for not informing them")  # 3.7.5: shared by phone
    decision = section(text, "The professional's decision")
    assert line_of(decision, "The professional's decision:").split(": ", 1)[1].startswith("_____")
    assert line_of(decision, "Date").endswith("2026-11-25 (3.7.1, 3.7.9)")
    assert "DC Smith" in line_of(decision, "Recorded by")
    recommendation = section(text, "pyisp's recommendation")
    assert line_of(recommendation, "Recommendation").endswith("Must share")
    assert any("reasonable cause to suspect significant harm" in line for line in recommendation)


def test_draft_of_an_urgent_oral_police_answer_asks_for_the_87d_confirmation() -> None:
    own = section(draft("police-category-1-urgent-oral"), "The doctor's and the police's own records")
    assert "(to supply) (3.6.14)" in line_of(own, "Confirmed in writing on form 87D (date)")
    assert any("confirmed in writing on form 87D" in line for line in own)
    assert not any("87D" in line for line in draft("police-category-3-initial-assessment").splitlines())


def test_draft_of_a_doctor_not_disclosing_records_the_justification_and_the_colleague() -> None:
    text = draft("doctor-gmc-29-not-best-interests")
    assert line_of(section(text, "pyisp's recommendation"), "Recommendation").endswith("Must not share")
    own = section(text, "The doctor's and the police's own records")
    assert "(to supply) (3.6.4)" in line_of(own, "The doctor's decision not to disclose, and its justification")
    assert "(to supply)" in line_of(own, "The experienced colleague consulted")
    assert "asked, and refused consent" in line_of(section(text, "Consent"), "Mother (parent)")
    assert line_of(section(text, "The professional's decision"), "The professional's decision:") \
        .split(": ", 1)[1].startswith("_____")


def test_draft_of_implied_consent_gives_what_signalled_it_as_the_basis() -> None:
    consent = section(draft("gp-referral-implied-consent"), "Consent")
    assert "implied, signalled by agreeing to the referral" in line_of(consent, "Jo (16)")
    assert "Implied, signalled by agreeing to the referral" in line_of(consent, "Basis on which consent")


def test_draft_of_a_fax_ticks_the_precautions_the_case_states() -> None:
    sent = section(draft("channel-fax-precautions-taken"), "How it is sent")
    assert "[x] The fax number was checked very carefully (3.7.6)" in [line.strip() for line in sent]
    assert "[ ] The recipient stands by the machine and confirms receipt (3.7.7)" in [line.strip() for line in sent]
    assert "Given and recorded" in line_of(sent, "Recipient's reassurance about secure handling")


# -- the draft, over every facts/ case ---------------------------------------------------

CODE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b|\b[a-z_]+\([a-z_#]")


@pytest.mark.parametrize("path", FACT_FILES, ids=lambda p: p.stem)
def test_every_item_appears_and_nothing_the_case_states_is_left_to_supply(path: Path) -> None:
    result = answered(path.stem)
    case = result.case.data  # the case as read (practitioners' shorthands written out)
    text = draft(path.stem)
    parts = text.split("\n1. ", 1)[1].split("\nDrafted by pyisp")[0]
    blocks = re.split(r"\n\d+\. Sharing ", "\n1. " + parts)[1:]
    assert len(blocks) == len(result.record.disclosures)
    for entry, block, stated in zip(result.record.disclosures, blocks, case["disclosures"]):
        lines = block.splitlines()
        for item in entry.items:  # every item the rules require appears, as its label
            label = item.label.split(" (")[0] if item.argument is None else item.label.split(" {}")[0][:24]
            if item.functor == "consent_of":  # a line per person, under the person's name
                everyone = [*(case.get("people") or []), *([case["child"]] if "child" in case else case["children"])]
                label = next(p.get("name") or p["id"] for p in everyone if p["id"] == item.argument)
            assert any(line.strip().lower().startswith(label.lower()) for line in lines), item.name
        for key, value in (stated.get("record") or {}).items():  # what the case states fills its item
            shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
            item = next((i for i in entry.items if i.name == key), None)
            if item is None:
                continue  # stated, but the rules do not ask for it here
            assert not item.to_supply, key
            row = line_of(lines, item.label)
            assert shown.lower() in row.lower() and "(to supply)" not in row, row
        for consent in case.get("consents") or []:  # each answer that covers the disclosure is given per person
            covers = stated.get("purpose") in consent.get("purposes", []) and \
                stated["to"]["agency"] in consent.get("recipients", [])
            name = f"consent_of({consent['person']})"
            if covers and consent.get("answer") and any(i.name == name for i in entry.items):
                assert "answer" in " ".join(entry.item(name).values), name
                assert "whether asked, and the answer: to supply" not in block
        decision = line_of(lines, "The professional's decision:")
        assert decision.split(": ", 1)[1].startswith("_____")  # never pyisp's verdict
        codes = [line for line in lines[1:] if CODE.search(line.split(" (3.")[0])]
        allowed = {str(v) for v in (stated.get("record") or {}).values()} | {stated["id"]}
        assert not [c for c in codes if not any(a in c for a in allowed)], codes


def test_case_text_is_escaped_in_html_and_inert_in_markdown() -> None:
    case = yaml.safe_load((FACTS / "record-with-consent.yaml").read_text(encoding="utf-8"))
    case["child"]["name"] = "<script>alert(1)</script>"
    case["information"][0]["description"] = "Notes <img src=x onerror=alert(2)> & more"
    case["disclosures"][0]["record"]["recorded_by"] = "</td><script>bad()</script>"
    result = pyisp.query(case, depends_on=False)
    page = render_record(result, "html")
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;/td&gt;&lt;script&gt;bad()" in page
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"(src|href)=\"?(https?:|//)", page)  # self-contained: nothing fetched
    markdown = render_record(result, "markdown")
    assert "<script" not in markdown.lower() and "&lt;script&gt;" in markdown


# -- the command and the API -------------------------------------------------------------

def test_pyisp_record_prints_the_draft_as_text_markdown_html_and_the_items_as_json(tmp_path: Path) -> None:
    case = str(FACTS / "record-without-consent.yaml")
    text = runner.invoke(app, ["record", case])
    assert text.exit_code == 0
    assert "(to supply)" in text.stdout and "STILL TO SUPPLY:" in text.stdout and "DC Smith" in text.stdout
    markdown = runner.invoke(app, ["record", case, "--format", "markdown"])
    assert markdown.exit_code == 0 and markdown.stdout.startswith("# Record of information-sharing decisions")
    out = tmp_path / "record.html"
    written = runner.invoke(app, ["record", case, "--format", "html", "-o", str(out)])
    assert written.exit_code == 0 and written.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and "DC Smith" in out.read_text()
    data = json.loads(runner.invoke(app, ["record", case, "--json"]).stdout)
    assert data["records"][0]["disclosure"] == "police-answer"
    assert "reason_not_informed" in data["records"][0]["to_supply"]


def test_pyisp_record_rejects_bad_input_with_exit_2() -> None:
    case = str(FACTS / "record-without-consent.yaml")
    bad = runner.invoke(app, ["record", case, "--format", "pdf"])
    assert bad.exit_code == 2 and "--format" in bad.stderr and "pdf" in bad.stderr
    missing = runner.invoke(app, ["record", str(FACTS / "no-such-case.yaml")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    unwritable = runner.invoke(app, ["record", case, "-o", "/nonexistent-dir/x.md"])
    assert unwritable.exit_code == 2 and "/nonexistent-dir/x.md" in unwritable.stderr


def test_the_api_drafts_from_a_result_or_a_case() -> None:
    result = answered("record-with-consent")
    assert result.record.disclosure("to-social-care").item("date").values == ("2026-11-25",)
    markdown = pyisp.record(result)
    assert markdown.startswith("# Record of information-sharing decisions (draft)")
    assert "Ms Patel, designated safeguarding lead" in markdown
    case = yaml.safe_load((FACTS / "record-with-consent.yaml").read_text(encoding="utf-8"))
    assert pyisp.record(case, format="text") == render_record(result, "text")
    with pytest.raises(pyisp.CaseError, match="needs the case"):  # a stored result lost what the draft reads
        pyisp.record(pyisp.Result.from_dict(result.to_dict()))
