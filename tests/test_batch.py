"""pyisp batch and pyisp.query_many: one result a line as `query --json` gives it, malformed
cases reported with their line and the run going on, --strict, --resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pyisp.authoring import generate as casegen
import pyisp
from pyisp.core.batch import run_batch
from pyisp.core.case import Case, dumps_json
from pyisp._cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def cases_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "cases.jsonl"
    casegen.write_jsonl(path, 24, seed=3, malformed=0.15)
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_good_line_gives_the_result_of_query_json_and_bad_lines_go_to_the_errors_file(
        cases_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    result = runner.invoke(app, ["batch", str(cases_file), "-o", str(out)])
    inputs = cases_file.read_text(encoding="utf-8").splitlines()
    results = _lines(out)
    errors = _lines(Path(str(out) + ".errors.jsonl"))
    assert result.exit_code == 2 and "malformed case(s)" in result.output
    assert len(results) + len(errors) == len(inputs) and errors
    assert "cases answered" in result.output and "decisions/s" in result.output
    by_id = {r["id"]: r for r in results}
    for number, line in enumerate(inputs, start=1):
        try:
            case = json.loads(line)
            expected = json.loads(dumps_json(pyisp.query(case).to_dict()))
        except (ValueError, pyisp.PyispError):
            assert any(e["where"] == f"line {number}" for e in errors)
            continue
        assert {k: v for k, v in by_id[case["id"]].items() if k not in ("id", "input")} == expected
        assert by_id[case["id"]]["input"]["where"] == f"line {number}"


def test_strict_stops_at_the_first_malformed_case_naming_its_line(cases_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["batch", str(cases_file), "-o", str(tmp_path / "r.jsonl"), "--strict"])
    first_bad = next(e for e in _lines(_errors_of(cases_file, tmp_path)))
    assert result.exit_code == 2
    assert f"{first_bad['where']}" in result.output and "Traceback" not in result.output


def _errors_of(cases_file: Path, tmp_path: Path) -> Path:
    out = tmp_path / "all.jsonl"
    run_batch(cases_file, out)
    return Path(str(out) + ".errors.jsonl")


@pytest.mark.slow
def test_a_killed_run_resumed_ends_with_each_case_once(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    casegen.write_jsonl(cases, 80, seed=4, malformed=0.05)  # test_batch_hardening kills 20,000 lines 20 times
    whole = tmp_path / "whole.jsonl"
    run_batch(cases, whole, depends_on=False)  # what is killed and resumed is the run, not the solving: no depends_on
    out = tmp_path / "killed.jsonl"
    command = [sys.executable, "-m", "pyisp._cli", "batch", str(cases), "-o", str(out), "--no-depends"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 4_000):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    cut = len(out.read_text(encoding="utf-8").splitlines()) if out.exists() else 0
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "half a line')  # as if killed in the middle of a write
    assert 0 < cut < 80
    summary = run_batch(cases, out, resume=True, depends_on=False)
    assert summary.skipped >= cut
    resumed = out.read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["id"] for line in resumed]
    assert len(ids) == len(set(ids))
    assert sorted(resumed) == sorted(whole.read_text(encoding="utf-8").splitlines())
    errors = [json.loads(line)["where"] for line in Path(str(out) + ".errors.jsonl").read_text().splitlines()]
    assert sorted(errors) == sorted(e["where"] for e in _lines(Path(str(whole) + ".errors.jsonl")))


def test_a_directory_of_case_files(tmp_path: Path) -> None:
    facts = Path(__file__).resolve().parent.parent / "facts"
    out = tmp_path / "r.jsonl"
    summary = run_batch(facts, out)
    files = sorted(facts.glob("*.y*ml"))
    assert summary.cases == len(files) and summary.errors == 0
    assert [r["id"] for r in _lines(out)] == [Case.load(p).id for p in files]


@pytest.mark.slow
def test_query_many_yields_results_in_order_and_errors_when_not_strict(cases_file: Path) -> None:
    lines = cases_file.read_text(encoding="utf-8").splitlines()[:20]
    docs = []
    for line in lines:
        try:
            docs.append(json.loads(line))
        except ValueError:
            continue
    got = list(pyisp.query_many(docs, strict=False, jobs=2))
    assert len(got) == len(docs)
    for doc, item in zip(docs, got):
        if isinstance(item, pyisp.PyispError):
            with pytest.raises(pyisp.PyispError):
                pyisp.query(doc)
        else:
            assert item.to_dict() == pyisp.query(doc).to_dict()
            # nothing that only the worker's clingo can read crosses over (a Symbol read
            # outside the process that made it crashed): no input atoms, no record terms
            assert item.inputs is None and item.case is None
            assert all(entry.terms == () for record in item.record.disclosures for entry in record.items)
    with pytest.raises(pyisp.PyispError):
        list(pyisp.query_many([{"child": {"id": "x"}}]))


@pytest.mark.slow
def test_only_verdicts_gives_each_disclosure_the_verdict_of_the_whole_answer(cases_file: Path, tmp_path: Path) -> None:
    """`pyisp batch --only verdicts` (an audit that counts verdicts): each line keeps the case's
    id, its input record and each disclosure's id and verdict, those of `pyisp query` for
    that case (facts/ as a register with new ids, and generated cases, 2 jobs too); the
    malformed lines go to the errors file as before; a resume in the other mode is refused
    naming the line; an unknown value of --only is a usage error."""
    register = tmp_path / "register.jsonl"
    seeds = casegen.seed_cases(scenarios=False)  # facts/ (those that validate)
    register.write_text("".join(json.dumps({**seed, "id": f"referral-{n}"}) + "\n"  # each content three times:
                                for n, seed in enumerate(seeds * 3)), encoding="utf-8")  # lines made from memory
    for source, jobs in ((register, "1"), (cases_file, "1"), (cases_file, "2")):
        out = tmp_path / f"verdicts-{source.stem}-{jobs}.jsonl"
        done = runner.invoke(app, ["batch", str(source), "-o", str(out), "--only", "verdicts", "--jobs", jobs])
        assert done.exit_code in (0, 2) and "decisions/s" in done.output, done.output
        lines = _lines(out)
        assert lines and all(set(line) == {"id", "only", "input", "disclosures"} and line["only"] == "verdicts"
                             for line in lines)
        for line in lines:
            number = int(line["input"]["where"].split()[-1])
            case = json.loads(source.read_text(encoding="utf-8").splitlines()[number - 1])
            whole = pyisp.query(case, depends_on=False)
            assert line["id"] == case["id"]
            assert line["disclosures"] == [{"id": d.id, "verdict": d.verdict} for d in whole.disclosures]
        if source == cases_file:
            assert len(lines) + len(_lines(Path(str(out) + ".errors.jsonl"))) == len(
                source.read_text(encoding="utf-8").splitlines())
    resumed = runner.invoke(app, ["batch", str(register), "-o", str(tmp_path / f"verdicts-{register.stem}-1.jsonl"),
                                  "--resume"])
    assert resumed.exit_code == 2 and "written with --only verdicts" in resumed.output and ":1" in resumed.output
    whole = tmp_path / "whole.jsonl"
    assert runner.invoke(app, ["batch", str(cases_file), "-o", str(whole), "--no-depends"]).exit_code == 2
    other = runner.invoke(app, ["batch", str(cases_file), "-o", str(whole), "--resume", "--only", "verdicts"])
    assert other.exit_code == 2 and "written with the whole answer (no --only)" in other.output
    wrong = runner.invoke(app, ["batch", str(register), "-o", str(tmp_path / "x.jsonl"), "--only", "verdict"])
    assert wrong.exit_code == 2 and "--only verdict: must be one of: verdicts" in wrong.output
    assert "Traceback" not in resumed.output + wrong.output
