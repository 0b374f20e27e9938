"""`pyisp crosscheck`: clingo and pyDatalog agree on the example cases, the scenarios and
generated cases; a changed rule on one side shows up as a disagreement with a case
document that `pyisp query` runs."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pyisp._cli import app
from pyisp.authoring.crosscheck import CrossCheck
from pyisp.core.policy import Policy, default_policy_dir

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.mark.slow
def test_engines_agree_on_facts_scenarios_and_200_generated_cases() -> None:
    result = runner.invoke(app, ["crosscheck", "--cases", "200", "--seed", "1", "--completions", "1",
                                 "--facts", str(ROOT / "facts"), "--scenarios", str(ROOT / "scenarios")])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    match = re.fullmatch(r"crosscheck: (\d+) cases, 0 disagreements", last)
    assert match and int(match.group(1)) >= 200 + len(list((ROOT / "facts").glob("*.yaml")))
    assert "exemptions: none" in result.output
    assert re.search(r"scenarios/: [1-9]\d* scenario\(s\)", result.output), result.output
    assert "cost per case (median): clingo" in result.output


def _changed_policy(tmp_path: Path) -> Path:
    """A copy of the shipped policy where a 16-year-old no longer decides for themselves
    (3.3.15 says 16 or 17 does): the boundary moved by one year."""
    copy = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), copy)
    rules = copy / "whose_consent.lp"
    text = rules.read_text(encoding="utf-8")
    changed = re.sub(r"(can_decide_for_self\(C, aged_16_or_over\) :- .*?A )>= 16", r"\1> 16", text)
    assert changed != text, "the rule this test changes is no longer in whose_consent.lp"
    rules.write_text(changed, encoding="utf-8")
    return copy


@pytest.mark.slow
def test_a_changed_rule_on_the_clingo_side_is_caught(tmp_path: Path) -> None:
    check = CrossCheck(Policy(_changed_policy(tmp_path)), Policy())
    # the steered draws follow the solver's search: seed 0's 120 cases held no 16-year-old once the
    # grounding changed (240 held 5 disagreements); seed 1's hold 6
    report = check.run(cases=120, seed=1, facts=None, scenarios=None)
    assert report.disagreements
    first = report.disagreements[0]
    assert first.document["child"]["age"] == 16
    assert any("aged_16_or_over" in d.atom and d.clingo == "false" and d.datalog == "true"
               for d in first.differences)


@pytest.mark.slow
def test_a_disagreement_prints_a_case_that_pyisp_query_runs_and_exits_1(tmp_path: Path) -> None:
    changed = _changed_policy(tmp_path)
    result = runner.invoke(app, ["crosscheck", "--cases", "120", "--seed", "1", "--facts", str(tmp_path / "none"),
                                 "--scenarios", str(tmp_path / "none"), "--policy", str(changed),
                                 "--against", str(default_policy_dir())])
    assert result.exit_code == 1, result.output
    assert re.search(r"crosscheck: 120 cases, [1-9]\d* disagreements$", result.output.strip())
    lines = result.output.splitlines()
    start = lines.index("  the case (save it as a .yaml file and run `pyisp query` on it):")
    body = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        body.append(line[4:])
    case_file = tmp_path / "disagreement.yaml"
    case_file.write_text("\n".join(body), encoding="utf-8")
    assert yaml.safe_load(case_file.read_text())["child"]["age"] == 16
    query = runner.invoke(app, ["query", str(case_file), "--no-depends"])
    assert query.exit_code == 0, query.output
    assert "aged_16_or_over" in lines[start - 1] or any("aged_16_or_over" in line for line in lines[:start])


def test_without_pydatalog_the_command_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyDatalog", None)
    result = runner.invoke(app, ["crosscheck", "--cases", "1"])
    assert result.exit_code == 2
    assert "pip install 'pyisp[crosscheck]'" in result.output


def test_an_exempt_rule_gets_clingos_value_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    (tmp_path / "main.lp").write_text(
        "{ picked(D) } :- disclosure(D).\n:- disclosure(D), not picked(D).\n"
        "permitted(D) :- picked(D), not court_order(D).\n#show permitted/1.\n", encoding="utf-8")
    check = CrossCheck(Policy(tmp_path), exemptions={"picked/1": "a choice the constraint settles"})
    report = check.run(cases=20, seed=3, facts=None, scenarios=None)
    assert report.cases == 20 and not report.disagreements
    assert "picked/1 (main.lp:1): a choice the constraint settles" in report.translation.describe()
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "main.lp").write_text((tmp_path / "main.lp").read_text().replace("not court_order(D)", "court_order(D)"))
    report = CrossCheck(Policy(changed), Policy(tmp_path), {"picked/1": "as above"}).run(
        cases=20, seed=3, facts=None, scenarios=None)
    assert report.disagreements
