"""Every facts/ case rendered as a reader gets it (pyisp query as text and Markdown, pyisp
explain as text, Markdown and HTML, pyisp record as text, Markdown and HTML; not --json,
--codes or --full), and read for what a lawyer would stop at: a word said twice in a row
("by by"), a snake_case name, a term written as code ("name(", "__var"), a field path
("disclosures[0]", "transfer.fax_number_checked"). The case's own ids and words (its title,
descriptions, names) are taken out first: they are the user's, not pyisp's."""

from __future__ import annotations

import html as _html
import re

import pytest
from casekit import FACTS

import pyisp
from pyisp.render.brief import brief_markdown, brief_text
from pyisp.render.explanation import render
from pyisp.render.record import render_record

CASES = sorted(p.stem for p in FACTS.glob("*.yaml"))
WITH_CHANGES = set(CASES[::8])  # the search for changes answers other cases: a sample of them

DOUBLED = re.compile(r"\b([A-Za-z][a-z']*) \1\b", re.I)
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
CODE = re.compile(r"\b[a-z_][A-Za-z0-9_]*\((?![0-9])|__var|\bD\b,|\{[A-Z]\w*\}")
FIELD = re.compile(r"\b[a-z_]+\[\d+\]|\b(child|children|family|concern|disclosures|people|information|consents|"
                   r"judgements|transfer|record|police_request)\.[a-z_]+\b")
LEGAL = {"that that", "had had"}  # doubled on purpose in English


def _visible(page: str) -> str:
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return _html.unescape(re.sub(r"<[^>]+>", "\n", page))


def _own_words(data: dict) -> list[str]:
    """The case's own text and ids, longest first."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(value.strip().rstrip("."))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return sorted((w for w in found if w), key=len, reverse=True)


def problems(text: str, own: list[str]) -> list[str]:
    """The lines of `text` that read as code or stutter, with the case's own words taken out."""
    found = []
    for line in text.splitlines():
        if line.lstrip("<sub>").startswith(("Answered by", "Drafted by")):  # provenance: names rules by hash
            continue
        plain = line
        for words in own:
            plain = plain.replace(words, "ID")
        doubled = [m.group(0) for m in DOUBLED.finditer(plain) if m.group(0).lower() not in LEGAL]
        if doubled or SNAKE.search(plain) or CODE.search(plain) or FIELD.search(plain):
            found.append(line)
    return found


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES)
def test_every_rendered_line_reads_as_english(case):
    result = pyisp.query_file(FACTS / f"{case}.yaml")
    own = _own_words(dict(result.case.data))
    explained = [result.explain(d.id) for d in result.disclosures]
    rendered = {"query": brief_text(result, changes=case in WITH_CHANGES),
                "query --format markdown": brief_markdown(result, changes=False),
                "explain": render(explained, "text"), "explain --format markdown": render(explained, "markdown"),
                "explain --format html": _visible(render(explained, "html")),
                "record": render_record(result, "text"), "record --format markdown": render_record(result, "markdown"),
                "record --format html": _visible(render_record(result, "html"))}
    for command, text in rendered.items():
        assert problems(text, own) == [], command


def test_fail_the_reader_stops_at_what_a_lawyer_would():
    assert problems("this disclosure should not go by email internet (internet_email)", [])
    assert problems("tell them recipients recipients purposes", [])
    assert problems("what decides it: decided_by(consent)", [])
    assert problems("unknown: disclosures[0].judgements.public_interest_sufficient", [])
    assert problems("the fax of {D} has a cover sheet", [])
    assert not problems('Share "drug-misuse" with children\'s social care: you must (3.4.1).', [])
    assert not problems("Sent from caf-to-voluntary_sector", ["caf-to-voluntary_sector"])  # the case's own id
