"""The contract for policy authors and embedders (issue 17): one policy in force, resolved
the same way by every command and named on stderr with its fingerprint; provenance in every
result (JSON, record, explanation); a JSON Schema of a result that every facts/ case's
result meets; results loaded back with from_dict; verdicts and statuses as StrEnum; every
problem of a malformed case in CaseError.errors."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
from casekit import FACTS, base_case, changed
from typer.testing import CliRunner

import pyisp
from pyisp._cli import app
from pyisp.core.case import dumps_json
from pyisp.core.policy import default_policy_dir, policy_fingerprint, resolve_policy_dir
from pyisp.core.result import Result, Status, Verdict
from pyisp.core.result_schema import result_schema

runner = CliRunner()
CASE = str(FACTS / "teacher-counselling-disclosure.yaml")
FACT_FILES = sorted(FACTS.glob("*.yaml"))
SHIPPED = policy_fingerprint(default_policy_dir())


@lru_cache(maxsize=None)
def _answered(path: Path) -> Result:
    return pyisp.query_file(path)


@pytest.fixture
def edited_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout-like directory whose ./policy is the shipped rules with one rule file edited."""
    shutil.copytree(default_policy_dir(), tmp_path / "policy")
    with (tmp_path / "policy" / "readings.lp").open("a", encoding="utf-8") as out:
        out.write("\n% an author's edit\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYISP_POLICY", raising=False)
    return tmp_path / "policy"


# -- 1. one policy in force, always shown ----------------------------------------------

def test_policy_is_resolved_flag_then_environment_then_local_then_installed(edited_policy: Path,
                                                                            monkeypatch: pytest.MonkeyPatch,
                                                                            tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(edited_policy, other)
    assert resolve_policy_dir(None) == Path("policy")
    monkeypatch.setenv("PYISP_POLICY", str(other))
    assert resolve_policy_dir(None) == other
    assert resolve_policy_dir(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv("PYISP_POLICY")
    (edited_policy / "main.lp").unlink()  # not a pyisp policy any more
    assert resolve_policy_dir(None) == default_policy_dir()


def test_fingerprint_is_of_the_rule_files_names_and_contents(edited_policy: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(default_policy_dir(), copy)
    assert policy_fingerprint(copy) == SHIPPED
    assert policy_fingerprint(edited_policy) != SHIPPED
    digest = hashlib.sha256()
    for path in sorted(copy.glob("*.lp"), key=lambda p: p.name):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    assert digest.hexdigest() == SHIPPED


def test_the_library_answers_with_the_local_policy_and_says_so(edited_policy: Path) -> None:
    result = pyisp.query_file(CASE, depends_on=False)
    assert result.provenance.policy_sha256 == policy_fingerprint(edited_policy) != SHIPPED
    assert pyisp.load_policy().policy.directory.resolve() == edited_policy.resolve()


@pytest.mark.parametrize("args", [["query", CASE, "--json"], ["readings", "--json"], ["presumptions", "--json"],
                                  ["record", CASE, "--json"], ["explain", CASE, "--format", "json"],
                                  ["trace", "--format", "json"]])
def test_every_command_names_the_edited_local_rules_on_stderr_and_keeps_stdout_json(
        edited_policy: Path, args: list[str]) -> None:
    outcome = runner.invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    assert f"rules: ./policy (sha256 {policy_fingerprint(edited_policy)[:8]})" in outcome.stderr
    json.loads(outcome.stdout)


def test_the_environment_variable_and_the_flag_are_named_too(edited_policy: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYISP_POLICY", str(default_policy_dir()))
    outcome = runner.invoke(app, ["readings"])
    assert f"(PYISP_POLICY) (sha256 {SHIPPED[:8]})" in outcome.stderr
    outcome = runner.invoke(app, ["readings", "--policy", str(edited_policy)])
    assert f"(--policy) (sha256 {policy_fingerprint(edited_policy)[:8]})" in outcome.stderr


def test_version_prints_the_package_version_and_the_shipped_rules() -> None:
    version = importlib.metadata.version("pyisp")
    assert pyisp.__version__ == version
    outcome = runner.invoke(app, ["--version"])
    assert outcome.exit_code == 0
    assert outcome.stdout.strip() == f"pyisp {version} (shipped rules sha256 {SHIPPED[:8]})"


# -- 2. provenance in every result -------------------------------------------------------

def test_result_carries_version_fingerprint_readings_presumptions_and_format() -> None:
    names = {r.name: r.default for r in pyisp.readings()}
    chosen = next(iter(names))
    other = next(v for v in next(r for r in pyisp.readings() if r.name == chosen).values if v != names[chosen])
    off = pyisp.presumptions()[0].name
    result = pyisp.query_file(CASE, depends_on=False, readings={chosen: other}, presumptions={off: False})
    data = result.to_dict()["provenance"]
    assert data["pyisp"] == importlib.metadata.version("pyisp")
    assert data["policy_sha256"] == SHIPPED and data["case_format"] == 2
    assert data["readings"] == {**names, chosen: other} and data["readings_chosen"] == [chosen]
    assert data["presumptions"][off] is False
    assert set(data["presumptions"]) == {p.name for p in pyisp.presumptions()}
    assert all(data["presumptions"][p] for p in data["presumptions"] if p != off)
    strict = pyisp.query_file(CASE, depends_on=False, strict=True).provenance
    assert not any(on for _, on in strict.presumptions)


def test_record_and_explanation_end_with_the_provenance() -> None:
    result = _answered(FACTS / "teacher-counselling-disclosure.yaml")
    assert result.record.to_dict()["provenance"] == result.to_dict()["provenance"]
    from pyisp.render.record import render_record

    for fmt in ("text", "markdown", "html"):
        text = render_record(result, fmt)
        assert "provenance" in text and SHIPPED in text and "pyisp version" in text
    explanation = result.explain(result.disclosures[0].id).to_text().rstrip().splitlines()
    assert explanation[-1].startswith("Answered by pyisp ") and f"rules sha256 {SHIPPED[:8]}" in explanation[-1]


# -- 3. a contract for the output --------------------------------------------------------

def test_schema_result_prints_the_result_schema() -> None:
    outcome = runner.invoke(app, ["schema", "--result"])
    assert outcome.exit_code == 0
    schema = json.loads(outcome.stdout)
    assert schema == result_schema() and schema["title"] == "pyisp result"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", FACT_FILES, ids=lambda p: p.stem)
def test_every_facts_result_validates_and_loads_back(path: Path) -> None:
    result = _answered(path)
    data = json.loads(dumps_json(result.to_dict()))
    jsonschema.validate(data, result_schema())
    assert data == json.loads(json.dumps(result.to_dict()))  # json.dumps works on to_dict() as it is
    assert Result.from_dict(data).to_dict() == result.to_dict()
    assert data["record"]["records"] and data["provenance"]["policy_sha256"] == SHIPPED


def test_the_schema_rejects_a_result_that_breaks_it() -> None:
    data = json.loads(dumps_json(_answered(FACTS / "teacher-counselling-disclosure.yaml").to_dict()))
    data["disclosures"][0]["verdict"] = "probably"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, result_schema())


def test_query_json_of_the_command_validates() -> None:
    outcome = runner.invoke(app, ["query", CASE, "--json"])
    jsonschema.validate(json.loads(outcome.stdout), result_schema())


def test_conditions_carry_their_descriptions() -> None:
    result = _answered(FACTS / "teacher-counselling-disclosure.yaml")
    conditions = [c for d in result.disclosures for dep in d.depends_on for c in dep.conditions]
    assert conditions and all(c.to_dict()["description"] == c.description for c in conditions)
    assert any(c.description for c in conditions)


def test_verdicts_and_statuses_are_str_enums_equal_to_their_strings() -> None:
    result = _answered(FACTS / "teacher-counselling-disclosure.yaml")
    disclosure = result.disclosures[0]
    assert isinstance(disclosure.verdict, Verdict) and disclosure.verdict == "undetermined"
    assert isinstance(disclosure.permitted, Status) and isinstance(disclosure.required, Status)
    assert all(isinstance(v, Verdict) for v in disclosure.possible_verdicts)
    assert all(isinstance(f.status, Status) for f in disclosure.findings)
    assert Verdict.MUST_SHARE == "must_share" and f"{Verdict.MAY_SHARE}" == "may_share"
    assert json.dumps({"v": Verdict.MUST_NOT_SHARE}) == '{"v": "must_not_share"}'
    loaded = Result.from_dict(result.to_dict())
    assert isinstance(loaded.disclosures[0].verdict, Verdict)
    assert pyisp.Verdict is Verdict and pyisp.Status is Status


def test_readme_documents_json_dumps_of_to_dict() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "json.dumps(result.to_dict())" in readme and "Result.from_dict" in readme


# -- 4. every problem of a case ----------------------------------------------------------

def test_case_error_lists_every_problem_with_path_message_and_suggestion() -> None:
    case = changed(base_case(), **{"child.agee": 5, "disclosures[0].to.agency": "polce", "consents[0].person": "kym"})
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.query(case)
    error = caught.value
    assert error.where == "child.agee" and "did you mean 'age'" in error.message  # the first, as before
    found = {(p.path, p.suggestion) for p in error.errors}
    assert {("child.agee", "age"), ("disclosures[0].to.agency", "police"), ("consents[0].person", "kim")} <= found
    assert error.errors[0].path == error.where and error.errors[0].message == error.message
    assert all(set(p.to_dict()) == {"path", "message", "suggestion"} for p in error.errors)


def test_case_error_of_one_problem_lists_it() -> None:
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.query(changed(base_case(), **{"child.age": -3}))
    assert [(p.path, p.suggestion) for p in caught.value.errors] == [("child.age", None)]


def test_collecting_stops_at_the_cap() -> None:
    from pyisp.core.schema import MAX_ERRORS

    case = base_case()
    case["child"].update({f"typo{i}": i for i in range(MAX_ERRORS + 20)})
    with pytest.raises(pyisp.CaseError) as caught:
        pyisp.query(case)
    assert len(caught.value.errors) == MAX_ERRORS
