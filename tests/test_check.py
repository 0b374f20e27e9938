"""`pyisp check`: the linter finds each kind of mistake in a broken copy of the rules, with
the file and line, and finds none in the rules shipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pyisp._cli import app
from pyisp.authoring.check import check, check_policy
from pyisp.core.policy import default_policy_dir

runner = CliRunner()


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A copy of the shipped rules to break."""
    copy = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), copy)
    return copy


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in a rule file; the 1-based line where the change is."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    line = text[:text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def _found(rules: Path) -> list[tuple[str, int, str]]:
    return [(Path(f.file).name, f.line, f.code) for f in check_policy(rules)]


def test_success_shipped_rules_are_clean():
    findings = check_policy(default_policy_dir())
    assert findings == [], "\n".join(map(str, findings))


def test_success_cli_check_prints_file_line_code_and_exits_1_on_a_problem(rules):
    before = len(check_policy(rules))
    _edit(rules / "consent.lp", "%% 3.3.11: The elements", "%% 3.3.99: The elements")
    broken = runner.invoke(app, ["check", "--policy", str(rules)])
    assert broken.exit_code == 1
    assert f"{rules}/consent.lp:17: C002 cites 3.3.99, which the chapter does not have (did you mean 3.3.9?)" \
        in broken.output
    assert f"Found {before + 1} problem" in broken.output


def test_fail_when_a_body_reads_a_misspelt_predicate_even_if_defined(rules):
    line = _edit(rules / "decision.lp", "required_by(D, court_order).", "cuort_order(D).")
    (rules / "defined.lp").write_text((rules / "defined.lp").read_text() + "#defined cuort_order/1.\n")
    found = check_policy(rules)
    undefined = [f for f in found if f.code == "P001"]
    assert [(Path(f.file).name, f.line) for f in undefined] == [("decision.lp", line)]
    assert "cuort_order/1 is read here" in undefined[0].message
    assert "did you mean court_order/1?" in undefined[0].message
    assert any(f.code == "P002" and "cuort_order/1" in f.message for f in found)


def test_fail_when_a_rule_cites_no_paragraph_and_has_no_sentence(rules):
    path = rules / "purpose.lp"
    text = path.read_text()
    path.write_text("uncited_rule(D) :- disclosure(D).\n" + text)
    assert ("purpose.lp", 1, "C001") in _found(rules)
    assert ("purpose.lp", 1, "T001") in _found(rules)
    assert ("purpose.lp", 1, "P003") in _found(rules)  # and nothing reads it


def test_fail_when_a_rule_cites_a_paragraph_the_chapter_does_not_have(rules):
    line = _edit(rules / "consent.lp", "%% 3.3.11: The elements", "%% 3.3.99: The elements")
    assert [f for f in _found(rules) if f[2] == "C002"] == [("consent.lp", line, "C002")]


def test_fail_when_rules_of_different_heads_share_one_sentence(rules):
    line = _edit(rules / "consent.lp", "element(why; who; purpose; implications).",
                 "element(why; who; purpose; implications).\nacceptable_form(K) :- consent_form(K, email).\n"
                 "informed(K) :- consent_told(K, why).")
    assert ("consent.lp", line - 1, "C004") in _found(rules)


def test_success_facts_under_a_sentence_are_the_data_of_its_rule(rules):
    _edit(rules / "consent.lp", "element(why; who; purpose; implications).",
          "element(why; who; purpose; implications).\nacceptable_form(K) :- consent_form(K, email).")
    assert not [f for f in _found(rules) if f[2] == "C004"]


def test_fail_when_a_rule_inherits_a_citation_across_a_blank_line(rules):
    line = _edit(rules / "consent.lp", "element(why; who; purpose; implications).",
                 "element(why; who; purpose; implications).\n\nelement(feelings).")
    assert ("consent.lp", line + 2, "C003") in _found(rules)


def test_fail_when_a_predicate_has_no_sentence_in_the_templates(rules):
    path = rules / "templates.yaml"
    text = path.read_text()
    assert 'legitimate_purpose(D): ' in text
    path.write_text("\n".join(line for line in text.splitlines() if not line.startswith("legitimate_purpose(D):")) + "\n")
    found = [f for f in check_policy(rules) if f.code == "T001"]
    assert [Path(f.file).name for f in found] == ["purpose.lp"]
    assert "legitimate_purpose/1 has no sentence" in found[0].message


def test_fail_with_the_line_of_a_missing_period_and_one_error_word(rules):
    line = _edit(rules / "consent.lp", "acceptable_form(K) :- consent_form(K, written).",
                 "acceptable_form(K) :- consent_form(K, written)\n%% a comment\n\n%% another")
    assert _found(rules) == [("consent.lp", line, "E001")]
    other = runner.invoke(app, ["readings", "--policy", str(rules)])
    assert other.exit_code == 2
    assert f"consent.lp:{line}: missing '.'" in other.output
    assert other.output.count("error:") == 1


def test_fail_when_a_scenario_has_a_typo(tmp_path):
    scenario = tmp_path / "typo.yaml"
    scenario.write_text(
        "title: A counsellor should share with consent\n"
        "paragraphs: [\"3.3.99\"]\n"
        "facts: teacher-counselling-disclosure.yaml\n"
        "expect:\n  to-social-care:\n    verdict: may_share\n")
    shutil.copytree(Path(__file__).resolve().parent.parent / "facts", tmp_path / "facts")
    findings = [f for f in check(default_policy_dir(), [scenario]) if f.code == "S001"]
    assert [(Path(f.file).name, f.line, f.code) for f in findings] == [("typo.yaml", 2, "S001")]
    assert "3.3.99" in findings[0].message


def test_success_docs_list_the_codes_the_rules_can_report():
    from pyisp.authoring.scenarios import codes_markdown
    from pyisp.core.policy import Policy

    doc = (Path(__file__).resolve().parent.parent / "docs" / "authoring.md").read_text(encoding="utf-8")
    listed = doc.split("<!-- codes:begin -->", 1)[1].split("<!-- codes:end -->", 1)[0].strip()
    assert listed == codes_markdown(Policy()), "re-paste pyisp.authoring.scenarios.codes_markdown into docs/authoring.md"


@pytest.mark.parametrize("rules_text, words", [
    ("p(0).\np(X+1) :- p(X).", "budget"),
    ("", "verdict/2"),
])
@pytest.mark.slow
def test_fail_when_the_rules_cannot_answer(rules, monkeypatch, rules_text, words):
    monkeypatch.setenv("PYISP_POLICY_SECONDS", "5")
    if rules_text:
        with (rules / "main.lp").open("a", encoding="utf-8") as handle:
            handle.write("\n%% 3.1.1: A rule that never stops growing.\n" + rules_text + "\n")
    else:
        (rules / "verdict.lp").write_text("%%% nothing decides a verdict\n", encoding="utf-8")
    found = [f for f in check_policy(rules) if f.code == "R001"]
    assert len(found) == 1 and words in found[0].message, found
