"""Every facts/ case, explained as a reviewer reads it (text, Markdown, HTML):
- the brief (what shows without --full) holds no predicate name and no field path;
- each disclosure names the paragraphs that decide it;
- no double negative: none of the old phrasings ("It is not so that", "not established
  that", "(the rule needs this not to be so)", "The case does not state that"), no negating
  frame of the renderer ("The case says no:", "Not made out:") put before a sentence that is
  itself negative, and in the brief no "not ... not" in one clause (a list of negatives
  joined by "and not" / "or not" / ", not" is not a double negative);
- in the full derivation no statement line is repeated (a conclusion is explained once).
"""

from __future__ import annotations

import html as _html
import re
from pathlib import Path

import pytest
from casekit import FACTS

import pyisp
from pyisp.core.atoms import iter_input_predicates
from pyisp.core.policy import Policy
from pyisp.render.explanation import MARK, render

POLICY = Policy(Path(__file__).resolve().parent.parent / "policy")
NAMES = {r.head_name for r in POLICY.rules if r.head_name and "_" in r.head_name}
NAMES |= {name for name, _arity in iter_input_predicates() if "_" in name}
PREDICATE = re.compile(r"\b(" + "|".join(sorted(NAMES, key=len, reverse=True)) + r")\b")
FIELD_PATH = re.compile(r"\b[a-z_]+\[\d+\]|\b(child|family|concern|disclosures|people|information|consents|"
                        r"judgements|education|health|police_request)\.[a-z_]+\b")
OLD = ("It is not so that", "not established that", "the rule needs this not to be so",
       "The case does not state that", "it is not the case that")
FRAMES = re.compile(r"(The case says no|Not made out): (.*)$")
NEGATIVE = re.compile(r"\b(not|no|never|nobody|none|nothing|cannot)\b|n't\b", re.I)
COORDINATED = re.compile(r"\b(and|or|nor|but)\s+not\b|,\s*not\b", re.I)
NOT_NOT = re.compile(r"\bnot\b[^.;:?]*\bnot\b", re.I)
CASES = sorted(p.stem for p in FACTS.glob("*.yaml"))


def _visible(page: str) -> list[str]:
    """The text lines of an HTML page as a browser shows them (no style, no tags)."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return [_html.unescape(line) for line in re.sub(r"<[^>]+>", "\n", page).splitlines() if line.strip()]


def _double_negatives(lines: list[str], brief: bool) -> list[str]:
    found = []
    for line in lines:
        if line.startswith("Answered by"):
            continue
        if any(old.lower() in line.lower() for old in OLD):
            found.append(line)
        framed = FRAMES.search(line)
        if framed and NEGATIVE.search(re.sub(r"\s*\([^()]*\)$", "", framed.group(2))):  # not its aside
            found.append(line)
        if brief and NOT_NOT.search(COORDINATED.sub(" ", line.replace("MUST NOT SHARE", "REFUSE"))):  # a verdict's name
            found.append(line)
    return found


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES)
def test_success_the_explanation_reads_as_english_without_double_negatives(case):
    result = pyisp.query_file(FACTS / f"{case}.yaml")
    explanations = [result.explain(d.id) for d in result.disclosures]
    brief = {"text": render(explanations, "text").splitlines(),
             "markdown": render(explanations, "markdown").splitlines(),
             "html": _visible(render(explanations, "html"))}
    for fmt, lines in brief.items():
        lines = [line for line in lines if not line.startswith(("Answered by", "Case ", "# Case", "Case `"))
                 and not (result.title and " ".join(result.title.split()) in line)]  # the case's own words
        assert [line for line in lines if PREDICATE.search(line)] == [], fmt
        assert [line for line in lines if FIELD_PATH.search(line)] == [], fmt
        assert _double_negatives(lines, brief=True) == [], fmt
    for ex in explanations:
        assert ex.deciding_paragraphs, f"{ex.disclosure}: no deciding paragraph"
    full = render(explanations, "text", full=True)
    assert _double_negatives(full.splitlines(), brief=False) == []
    assert _double_negatives(_visible(render(explanations, "html", full=True)), brief=False) == []
    for block in full.split("-" * 72):
        statements = [line.strip() for line in block.splitlines() if line.strip().startswith(tuple(MARK.values()))]
        repeated = {line for line in statements if statements.count(line) > 1}
        assert repeated == set()


def test_fail_the_checks_find_what_they_look_for():
    assert _double_negatives(["[met] The case says no: the information is not confidential"], brief=False)
    assert _double_negatives(["It is not so that object is not object"], brief=False)
    assert _double_negatives(["- The parent does not agree, so it is not shared"], brief=True)
    assert not _double_negatives(["- The information is not public and not widely known"], brief=True)
    assert PREDICATE.search("finding permitted_by(public_interest)")
    assert FIELD_PATH.search("unknown: disclosures[0].judgements.public_interest_sufficient")
    assert not PREDICATE.search("The public interest test is met (3.3.5, 3.5.16)")
