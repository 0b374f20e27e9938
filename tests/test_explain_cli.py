"""`pyisp explain`: formats, questions, errors, and the self-contained HTML page."""

from __future__ import annotations

import json
import re

from casekit import FACTS, guidance_file
from typer.testing import CliRunner

from pyisp._cli import app
from pyisp.render.explanation import source_paragraphs

runner = CliRunner()
COUNSELLING = str(FACTS / "teacher-counselling-disclosure.yaml")
TWO_DISCLOSURES = str(FACTS / "failure-to-thrive-parents-refuse.yaml")


def test_success_explain_prints_the_summary_then_what_to_do_then_what_would_settle_it_and_the_tree_on_request():
    outcome = runner.invoke(app, ["explain", COUNSELLING])
    assert outcome.exit_code == 0, outcome.output
    text = outcome.output
    assert text.index("to-social-care: UNDETERMINED   deciding paragraphs: ") < text.index("What may decide it") < text.index(
        "- The public interest test is met (3.3.5, 3.5.16)") < text.index("What to do now:") < text.index(
        "What would settle it:")
    assert "because 3.3.5, 3.5.16:" not in text and "pyisp explain --full" in text
    full = runner.invoke(app, ["explain", COUNSELLING, "--full"]).output
    assert full.startswith(text.split("(The full derivation")[0])  # the same summary first
    assert full.index("What would settle it:") < full.index("The derivation:") < full.index("because 3.3.5, 3.5.16:")


def test_success_why_not_answers_the_question_asked_not_the_whole_tree():
    full = runner.invoke(app, ["explain", COUNSELLING, "--full"]).stdout
    outcome = runner.invoke(app, ["explain", COUNSELLING, "--why-not", "consent_obtained"])
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.stdout.splitlines()
    assert lines[3] == "UNDETERMINED. Why not consent_obtained? It does not hold."
    assert "What to do now:" not in outcome.output and len(lines) < len(full.splitlines()) / 2
    # the refusal that rules consent out is named, with its rule's paragraphs
    assert any("Amy (14) has refused or withdrawn consent" in line and "which rules this out" in line
               for line in lines)


def test_success_why_not_and_json_formats():
    outcome = runner.invoke(app, ["explain", COUNSELLING, "--why-not", "consent_obtained", "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    only = data["explanations"][0]
    assert only["question"] == "why_not" and only["statements"][0]["truth"] == "no"
    markdown = runner.invoke(app, ["explain", COUNSELLING, "--why", "confidential(drug-misuse)", "--format", "markdown"])
    assert markdown.exit_code == 0 and markdown.stdout.startswith("# Case teacher-counselling-disclosure")


def test_fail_a_misspelt_conclusion_exits_2_with_a_hint():
    outcome = runner.invoke(app, ["explain", COUNSELLING, "--why", "permited"])
    assert outcome.exit_code == 2
    assert "no conclusion named 'permited'" in outcome.output and "did you mean permitted" in outcome.output


def test_fail_an_unknown_disclosure_or_format_exits_2():
    outcome = runner.invoke(app, ["explain", COUNSELLING, "--disclosure", "to-police"])
    assert outcome.exit_code == 2 and "to-social-care" in outcome.output
    outcome = runner.invoke(app, ["explain", COUNSELLING, "--format", "pdf"])
    assert outcome.exit_code == 2 and "text, markdown, html, json" in outcome.output


def _html(*args: str) -> str:
    outcome = runner.invoke(app, ["explain", *args, "--format", "html"])
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


def test_success_html_has_a_section_per_disclosure_verdict_first_and_every_paragraph_linked():
    page = _html(TWO_DISCLOSURES, "--full")
    sections = re.findall(r'<section id="disclosure-([^"]+)">(.*?)</section>', page, re.S)
    assert [s[0] for s in sections] == ["to-paediatrician", "to-social-care"]
    for _ident, body in sections:  # verdict, what decides it, what to do; the derivation collapsed, last
        assert body.index('class="verdict') < body.index('class="deciding') < body.index('class="todo') \
            < body.index('<details class="derivation"><summary>')
        assert "<details open" not in body
    assert "<details" not in _html(TWO_DISCLOSURES)  # the derivation only with --full
    targets = set(re.findall(r'href="#(para-[\d-]+)"', page))
    anchors = set(re.findall(r'id="(para-[\d-]+)"', page))
    assert targets and targets <= anchors
    assert "<script" not in page and "http" not in page  # self-contained, works offline
    assert "Give the guidance with --source FILE" in page


def test_success_html_appendix_quotes_each_cited_paragraph_from_the_users_source(tmp_path):
    source = tmp_path / "guidance.txt"
    source.write_text("3.3\nHeading\n\n3.3.5\nOur stand-in text for five.\n\n3.3.22 Stand-in for twenty-two.\n")
    assert source_paragraphs(source) == {"3.3.5": "Our stand-in text for five.",
                                         "3.3.22": "Stand-in for twenty-two."}
    page = _html(COUNSELLING, "--source", str(source))
    assert 'id="para-3-3-5">3.3.5</dt>\n<dd><blockquote>Our stand-in text for five.</blockquote>' in page
    # and beside the deciding reason that cites it, at the top of the disclosure
    assert '<li class="quote"><blockquote>3.3.5: &quot;Our stand-in text for five.&quot;</blockquote></li>' in page
    assert page.index('class="quote"') < page.index('class="todo')
    assert "not found in the source file" in page  # cited but absent from this stand-in
    real = guidance_file()
    if real is not None:  # the user's own copy: every cited paragraph is found in it
        page = _html(COUNSELLING, "--source", str(real))
        quoted = source_paragraphs(real)
        assert "not found in the source file" not in page
        assert quoted["3.3.5"][:40] in page
        # the reader stops at a section heading: 3.3.5 ends with its own sentence
        assert quoted["3.3.5"].endswith("preclude the sharing of confidential information.")
        assert all(not text.endswith(("Public interest and proportionality", "Consent", "Record keeping"))
                   for text in quoted.values())


def test_success_the_paragraph_reader_leaves_out_headings_but_keeps_list_items(tmp_path):
    source = tmp_path / "guidance.txt"
    source.write_text("3.3.8\nCircumstances are:\n\n· When there is evidence;\n\n3.3.9\nRecord it.\nConsent\n\n"
                      "If confidential, has consent been obtained? \n\n3.3.17\nCan the child:\n- \n"
                      "Weigh up one aspect against another? \n\n3.3.28\nTell them.\n· Who might use it.\n"
                      "When not to seek consent \n\n3.3.29\nLast.\n")
    assert source_paragraphs(source) == {
        "3.3.8": "Circumstances are: · When there is evidence;", "3.3.9": "Record it.",
        "3.3.17": "Can the child: - Weigh up one aspect against another?", "3.3.28": "Tell them. · Who might use it.",
        "3.3.29": "Last."}


def test_fail_an_unreadable_source_exits_2_naming_it(tmp_path):
    outcome = runner.invoke(app, ["explain", COUNSELLING, "--format", "html", "--source", str(tmp_path / "none.txt")])
    assert outcome.exit_code == 2 and "none.txt" in outcome.output
