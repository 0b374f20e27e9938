"""The `pyisp` command: query as text and stable JSON, the schema."""

from __future__ import annotations

import json

from casekit import FACTS
from typer.testing import CliRunner

from pyisp._cli import app

runner = CliRunner()
CASE = str(FACTS / "teacher-counselling-disclosure.yaml")


def test_success_query_prints_the_brief_in_sentences():
    outcome = runner.invoke(app, ["query", CASE])
    assert outcome.exit_code == 0
    assert "to-social-care: UNDETERMINED" in outcome.output
    assert "Is the public interest in to-social-care sufficient to justify sharing without consent" in outcome.output
    assert "confidential(drug-misuse)" not in outcome.output and "disclosures[0]" not in outcome.output


def test_success_query_codes_prints_findings_obligations_and_what_it_depends_on():
    outcome = runner.invoke(app, ["query", CASE, "--codes"])
    assert outcome.exit_code == 0
    assert "to-social-care: UNDETERMINED" in outcome.output
    assert "confidential(drug-misuse)" in outcome.output and "3.3.2, 3.3.3" in outcome.output
    assert "if disclosures[0].judgements.public_interest_sufficient = true then permitted: yes" in outcome.output


def test_fail_query_with_an_unknown_format_exits_2_naming_the_option():
    outcome = runner.invoke(app, ["query", CASE, "--format", "pdf"])
    assert outcome.exit_code == 2 and "--format" in outcome.output


def test_success_query_json_is_stable_and_complete():
    first = runner.invoke(app, ["query", "--json", CASE])
    second = runner.invoke(app, ["query", "--json", CASE])
    assert first.exit_code == 0 and first.output == second.output
    data = json.loads(first.stdout)
    disclosure = data["disclosures"][0]
    assert disclosure["verdict"] == "undetermined"
    assert {"permitted", "required", "findings", "obligations", "depends_on", "deciding_paragraphs", "kind"} <= set(disclosure)
    assert all(item["paragraphs"] for item in disclosure["findings"] + disclosure["obligations"])


def test_success_query_exits_0_whatever_the_verdict():
    for path in sorted(FACTS.glob("*.yaml")):
        assert runner.invoke(app, ["query", str(path), "--no-changes"]).exit_code == 0, path.name


def test_success_schema_is_a_json_schema_of_the_case_format():
    outcome = runner.invoke(app, ["schema"])
    schema = json.loads(outcome.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "disclosures" in schema["required"]
    assert schema["properties"]["child"]["properties"]["age"]["maximum"] == 17


def test_success_help_shows_one_line_per_command_and_no_type_on_flags():
    main = runner.invoke(app, ["--help"], terminal_width=80)
    assert main.exit_code == 0
    commands = main.output.split("Commands:", 1)[1].strip().splitlines()
    names = [line.split()[0] for line in commands]
    assert {"query", "check", "test", "verify", "diff", "mutate", "explain"} <= set(names)
    for line in commands:
        assert len(line.split(None, 1)) == 2 and not line.rstrip().endswith("..."), line
    for name in names:
        text = runner.invoke(app, [name, "--help"], terminal_width=80).output
        assert "<bool>" not in text and "list[str]" not in text and "list[int]" not in text, name
