"""Traceability: every numbered paragraph of chapter 3 is encoded (some rule cites it) or
classified as context with a reason; no rule cites a paragraph the chapter lacks, and
every rule outside show.lp cites something."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pyisp._cli import app
from pyisp.errors import PolicyError
from pyisp.core.policy import Policy, default_policy_dir
from pyisp.authoring.trace import load_map, trace

GUIDANCE = "london-cpp-chapter-3-information-sharing.txt"


def chapter_paragraphs() -> list[str]:
    """The numbered paragraphs (3.x.y) of the chapter: read from the user's copy of the
    guidance where this machine has one ($PYISP_GUIDANCE, or shared/guidance above the
    checkout); otherwise the numbers listed in policy/traceability.yaml (a clean clone
    carries no guidance text), which the count and order checks below still hold to."""
    here = Path(__file__).resolve()
    candidates = [Path(os.environ["PYISP_GUIDANCE"])] if os.environ.get("PYISP_GUIDANCE") else []
    candidates += [folder / "shared" / "guidance" / GUIDANCE for folder in here.parents]
    for candidate in candidates:
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            return re.findall(r"^\s*(3\.\d+\.\d+)(?:\s|$)", text, re.M)
    return list(load_map(Policy()))


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy()


def test_every_paragraph_of_the_chapter_is_encoded_or_classified(policy):
    numbers = chapter_paragraphs()
    assert len(numbers) == 90 and numbers[0] == "3.1.1" and numbers[-1] == "3.7.9"
    classified = load_map(policy)
    assert [n for n in numbers if n not in classified] == [], "paragraphs neither encoded nor classified"
    assert [n for n in classified if n not in numbers] == [], "the map names paragraphs the chapter does not have"


def test_encoded_paragraphs_have_rules_and_context_paragraphs_have_none_but_a_reason(policy):
    for row in trace(policy):
        if row.status == "encoded":
            assert row.rules, f"{row.paragraph} is marked encoded but no rule cites it"
        else:
            assert not row.rules, f"{row.paragraph} is marked context but {row.rules[0]} cites it"
            assert row.note.strip(), f"{row.paragraph} needs a reason"


def test_no_rule_cites_a_paragraph_the_chapter_does_not_have(policy):
    numbers = set(chapter_paragraphs())
    wrong = [f"{r.where} cites {p}" for r in policy.cited_rules for p in r.paragraphs if p not in numbers]
    assert wrong == []


def test_every_rule_outside_show_lp_cites_a_paragraph(policy):
    assert [r.where for r in policy.cited_rules if not r.paragraphs] == []


def test_the_chapter_3_6_and_3_7_paragraphs_are_encoded_by_their_files(policy):
    rows = {r.paragraph: r for r in trace(policy)}
    assert any(w.startswith("police.lp:") for w in rows["3.6.10"].rules)
    assert any(w.startswith("professions.lp:") for w in rows["3.6.16"].rules)
    assert any(w.startswith("safe_transfer.lp:") for w in rows["3.7.8"].rules)
    assert any(w.startswith("recording.lp:") for w in rows["3.7.2"].rules)


@pytest.mark.slow
def test_a_map_missing_a_paragraph_or_with_a_bad_status_is_caught(tmp_path):
    broken = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), broken)
    path = broken / "traceability.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('  "3.6.10": {status: encoded}\n', ""), encoding="utf-8")
    missing = [n for n in chapter_paragraphs() if n not in load_map(Policy(broken))]
    assert missing == ["3.6.10"]
    path.write_text(text.replace('"3.5.8": {status: context,', '"3.5.8": {status: maybe,'), encoding="utf-8")
    with pytest.raises(PolicyError, match="3.5.8"):
        load_map(Policy(broken))


def test_pyisp_trace_prints_text_markdown_and_json():
    runner = CliRunner()
    text = runner.invoke(app, ["trace"])
    assert text.exit_code == 0 and "3.6.9    encoded" in text.output and "90 paragraphs:" in text.output
    markdown = runner.invoke(app, ["trace", "--format", "markdown"])
    assert markdown.exit_code == 0 and markdown.stdout.startswith("| Paragraph | Status |")
    rows = json.loads(runner.invoke(app, ["trace", "--format", "json"]).stdout)
    assert len(rows) == 90 and {r["status"] for r in rows} == {"encoded", "context"}
    bad = runner.invoke(app, ["trace", "--format", "pdf"])
    assert bad.exit_code == 2
