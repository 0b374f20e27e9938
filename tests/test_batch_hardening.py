"""pyisp batch under bad input and faults (issue 16): a poison line is one error entry and the
run goes on; a worker that dies or hangs is replaced; --resume answers exactly the lines not
yet answered as they are now (inserted, edited, fixed, duplicated ids); outputs that are the
input are refused before anything is opened; an unwritable output is a clean error; and a run
killed with SIGKILL at 20 points over 20,000 lines, resumed each time, ends with exactly one
answer or error per line."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pyisp._cli import app
from pyisp.core.batch import Workers, WorkerFailure, run_batch
from pyisp.errors import OutputError, UsageError

runner = CliRunner()
FACTS = Path(__file__).resolve().parent.parent / "facts"
SMALL = ["social-worker-uses-anonymised-case-in-training", "gp-notifies-measles-to-health-protection",
         "teacher-unsure-whether-hunger-is-neglect"]


def _case(name: str, ident: str) -> str:
    data = yaml.safe_load((FACTS / f"{name}.yaml").read_text(encoding="utf-8"))
    return json.dumps({**data, "id": ident}, default=str)


POISON = {
    "not JSON": '{"id": "half',
    "not UTF-8": b'{"id": "caf\xe9"}'.decode("latin-1"),  # written as bytes below
    "deep": "[" * 100_000 + "]" * 100_000,
    "huge integer": '{"id": "n", "format": 2, "child": {"id": "c", "age": ' + "9" * 5000 + "}}",
    "unknown field": '{"id": "u", "format": 2, "colour": "blue"}',
    "a list": "[1, 2, 3]",
    "nothing": "null",
}


def _write(path: Path, lines: list[str | bytes]) -> None:
    with path.open("wb") as handle:
        for line in lines:
            handle.write((line if isinstance(line, bytes) else line.encode("utf-8")) + b"\n")


def _poison(kind: str) -> str | bytes:
    return b'{"id": "caf\xe9"}' if kind == "not UTF-8" else POISON[kind]


def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _answers(out: Path) -> dict[str, dict]:
    """Every record of a run, output and errors, by input place; fails on a place twice."""
    found: dict[str, dict] = {}
    for record in _records(out) + _records(Path(str(out) + ".errors.jsonl")):
        where = record["input"]["where"]
        assert where not in found, f"{where} answered twice"
        found[where] = record
    return found


def _verdicts(record: dict) -> object:
    return record.get("error") or [d["verdict"] for d in record["disclosures"]]


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.slow
def test_every_kind_of_poison_line_is_one_error_entry_and_the_good_lines_are_all_answered(tmp_path, jobs,
                                                                                          monkeypatch):
    monkeypatch.setenv("PYISP_MAX_CASE_BYTES", "200000")
    lines: list[str | bytes] = []
    for number, kind in enumerate(POISON):
        lines += [_case(SMALL[number % 3], f"good-{number}"), _poison(kind)]
    lines.append('{"id": "long", "x": "' + "a" * 300_000 + '"}')
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(source, lines)
    summary = run_batch(source, out, jobs=jobs, depends_on=False)
    answers = _answers(out)
    assert len(answers) == len(lines) and summary.cases == len(POISON) and summary.errors == len(POISON) + 1
    for number in range(len(POISON)):
        good, bad = answers[f"line {2 * number + 1}"], answers[f"line {2 * number + 2}"]
        assert good["id"] == f"good-{number}" and "disclosures" in good
        assert "error" in bad and "Traceback" not in bad["error"]
    assert "not UTF-8" in answers["line 4"]["error"]
    assert "200000 bytes" in answers[f"line {len(lines)}"]["error"]


def _die_on_seven(item: int) -> int:
    if item == 7:
        os._exit(3)
    if item == 9:
        time.sleep(60)
    return item * 10


@pytest.mark.slow
def test_a_worker_that_dies_or_overruns_its_budget_is_replaced_and_the_others_are_answered() -> None:
    with Workers(2, _die_on_seven, None, False, budget=3) as workers:
        answers = workers.map(list(range(12)))
        again = workers.map([1, 2])
    assert [a for i, a in enumerate(answers) if i not in (7, 9)] == [i * 10 for i in range(12) if i not in (7, 9)]
    assert isinstance(answers[7], WorkerFailure) and "stopped" in answers[7].message
    assert isinstance(answers[9], WorkerFailure) and "PYISP_CASE_SECONDS" in answers[9].message
    assert again == [10, 20]


def _run_and_compare(source: Path, out: Path) -> None:
    """Resumed output equals a fresh run of the input as it is now: one answer per line, none stale."""
    fresh = source.with_name("fresh.jsonl")
    run_batch(source, fresh, depends_on=False)
    resumed, expected = _answers(out), _answers(fresh)
    assert resumed.keys() == expected.keys()
    for where, record in expected.items():
        assert resumed[where]["input"] == record["input"] and _verdicts(resumed[where]) == _verdicts(record)


def test_resume_answers_inserted_edited_and_fixed_lines_and_keeps_the_rest(tmp_path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    lines = [_case(SMALL[i % 3], f"c{i}") for i in range(6)] + ['{"id": "broken"']
    _write(source, lines)
    run_batch(source, out, depends_on=False)
    lines.insert(2, _case(SMALL[1], "inserted"))           # every later line moves
    lines[-1] = _case(SMALL[0], "broken-now-fixed")         # the malformed line is fixed
    lines[0] = _case(SMALL[2], "c0")                         # an edited case keeps its id
    lines.append('{"id": "new and broken"')
    _write(source, lines)
    summary = run_batch(source, out, resume=True, depends_on=False)
    assert summary.stale >= 5 and summary.skipped == 1   # only line 2 is unchanged
    _run_and_compare(source, out)


def test_resume_with_the_same_id_on_several_lines_answers_each_line(tmp_path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(source, [_case(SMALL[0], "same")] * 2)
    run_batch(source, out, depends_on=False)
    _write(source, [_case(SMALL[0], "same")] * 2 + [_case(SMALL[1], "same")])
    summary = run_batch(source, out, resume=True, depends_on=False)
    assert summary.skipped == 2 and summary.cases == 1
    assert [r["input"]["where"] for r in _records(out)] == ["line 1", "line 2", "line 3"]


def test_resume_refuses_an_input_that_lost_lines_and_restart_answers_it_whole(tmp_path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(source, [_case(SMALL[i % 3], f"c{i}") for i in range(3)])
    run_batch(source, out, depends_on=False)
    _write(source, [_case(SMALL[0], "c0")])
    before = out.read_bytes()
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--resume", "--no-depends"])
    assert result.exit_code == 2 and "line 2" in result.output and "--restart" in result.output
    assert out.read_bytes() == before
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--restart", "--no-depends"])
    assert result.exit_code == 0 and len(_records(out)) == 1


def test_resume_refuses_an_output_that_pyisp_batch_did_not_write(tmp_path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(source, [_case(SMALL[0], "c0")])
    out.write_text('{"id": "c0", "disclosures": []}\n', encoding="utf-8")
    with pytest.raises(UsageError, match="--restart"):
        run_batch(source, out, resume=True)


@pytest.mark.parametrize("options", [["-o", "{in}"], ["-o", "{tmp}/out.jsonl", "--errors", "{in}"],
                                     ["-o", "{tmp}/out.jsonl", "--errors", "{tmp}/out.jsonl"],
                                     ["-o", "{tmp}/out.jsonl", "--resume", "--restart"]])
def test_outputs_that_are_the_input_or_each_other_are_refused_before_anything_is_opened(tmp_path, options):
    source = tmp_path / "in.jsonl"
    _write(source, [_case(SMALL[0], "c0")])
    before = source.read_bytes()
    args = [o.format(**{"in": source, "tmp": tmp_path}) for o in options]
    result = runner.invoke(app, ["batch", str(source), *args])
    assert result.exit_code == 2 and "\nerror: " in "\n" + result.output and "Traceback" not in result.output
    assert source.read_bytes() == before and not (tmp_path / "out.jsonl").exists()


def test_an_output_case_file_inside_an_input_directory_is_refused(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text((FACTS / f"{SMALL[0]}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(UsageError, match="inside the input directory"):
        run_batch(tmp_path, tmp_path / "results.json")


def test_an_output_that_cannot_be_written_is_a_clean_error(tmp_path) -> None:
    source = tmp_path / "in.jsonl"
    _write(source, [_case(SMALL[0], "c0")])
    locked = tmp_path / "locked"
    locked.mkdir()
    result = runner.invoke(app, ["batch", str(source), "-o", str(locked / "no" / "out.jsonl")])
    assert result.exit_code == 2 and "cannot write" in result.output and "Traceback" not in result.output


def test_a_full_disk_is_a_clean_error(tmp_path) -> None:
    if not Path("/dev/full").exists():
        pytest.fail("this test needs /dev/full (Linux)")
    source = tmp_path / "in.jsonl"
    _write(source, [_case(SMALL[0], "c0")])
    with pytest.raises(OutputError, match="No space left"):
        run_batch(source, Path("/dev/full"), errors=tmp_path / "errors.jsonl", depends_on=False)


@pytest.mark.slow
def test_a_run_killed_at_20_points_over_20000_lines_resumed_each_time_answers_each_line_once(tmp_path) -> None:
    rng = random.Random(16)
    kinds = list(POISON)
    lines: list[str | bytes] = []
    for number in range(20_000):
        if number % 40 == 0:
            lines.append(_case(SMALL[number % 3], f"c{number}"))
        else:
            lines.append(_poison(kinds[number % len(kinds)]) if number % 7 else f'{{"id": "x{number}", "format": 2}}')
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(source, lines)
    command = [sys.executable, "-m", "pyisp._cli", "batch", str(source), "-o", str(out), "--no-depends", "-j", "2",
               "--resume"]
    kills = 0
    for _ in range(20):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 1.5))
        if process.poll() is not None:
            break
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kills += 1
        if rng.random() < 0.5:  # as if killed in the middle of a write
            with out.open("a", encoding="utf-8") as handle:
                handle.write('{"id": "half a li')
    final = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert final.returncode in (0, 2) and "Traceback" not in final.stderr
    assert kills >= 5
    answers = _answers(out)
    assert len(answers) == 20_000
    for number in range(1, len(lines) + 1):
        record = answers[f"line {number}"]
        if (number - 1) % 40 == 0:
            assert record["id"] == f"c{number - 1}" and "disclosures" in record, record
        else:
            assert "error" in record
