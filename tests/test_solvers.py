"""The solver processes of `pyisp serve` (pyisp/server/solvers.py, jobs.py), without HTTP:
jobs sent as data are answered as data (the bytes of `pyisp query --json`, the register
entries, an error built in the solver), a job withdrawn before a solver takes it is never
run, a job waits for the first free solver, and closing answers the jobs waiting first."""

from __future__ import annotations

import json
import shutil
import threading
from typing import Any

import pytest
import yaml
from casekit import FACTS
from typer.testing import CliRunner

from pyisp._cli import app
from pyisp.core.policy import resolve_policy_dir
from pyisp.server.solvers import SolverError, SolverGone, Solvers

pytestmark = pytest.mark.xdist_group("test_solvers")

TEACHER = FACTS / "teacher-counselling-disclosure.yaml"  # one disclosure
TWO = FACTS / "pupil-trusts-head-of-year-only.yaml"  # two disclosures


class Answers:
    """The `done` callbacks of jobs: each reply kept by name, an event set when it comes."""

    def __init__(self) -> None:
        self.got: dict[str, Any] = {}
        self.events: dict[str, threading.Event] = {}
        self.order: list[str] = []
        self.lock = threading.Lock()

    def done(self, name: str) -> Any:
        self.events[name] = threading.Event()

        def settle(outcome: Any, sent: float, received: float) -> None:
            assert received >= sent
            with self.lock:
                self.got[name] = outcome
                self.order.append(name)
            self.events[name].set()

        return settle

    def wait(self, name: str) -> Any:
        assert self.events[name].wait(60), name
        return self.got[name]


@pytest.fixture(scope="module")
def solvers() -> Any:
    running = Solvers(str(resolve_policy_dir(None)), 1)
    running.start()
    yield running
    running.close()


def test_success_a_query_job_is_answered_with_the_bytes_of_query_json_and_its_entries(solvers: Solvers) -> None:
    answers = Answers()
    text = TWO.read_text(encoding="utf-8")
    solvers.run(("query", text, {"depends_on": False}, "alice"), answers.done("q"))
    status, body, entries = answers.wait("q")
    expected = CliRunner().invoke(app, ["query", "--json", "--no-depends", str(TWO)]).stdout
    assert (status, body) == (200, expected)
    stored = [json.loads(e.text(1)) for e in entries]  # prepared for the chain in the solver
    assert [(e["disclosure"], e["who"], e["case"], e["seq"]) for e in stored] == [
        (d["id"], "alice", TWO.stem, 1) for d in json.loads(expected)["disclosures"]]
    assert [e.columns[1:] for e in entries] == [("alice", TWO.stem, e["disclosure"], e["verdict"]) for e in stored]


def test_fail_a_malformed_case_is_answered_400_with_its_field_paths_and_nothing_to_record(solvers: Solvers) -> None:
    answers = Answers()
    solvers.run(("query", json.dumps({"child": {"age": "x"}}), {}, "alice"), answers.done("bad"))
    solvers.run(("record", "child: [", {}, "alice"), answers.done("yaml"))
    status, body, entries = answers.wait("bad")
    assert status == 400 and entries == []
    assert {"child.age", "child.id"} <= {p["path"] for p in body["problems"]}
    status, body, entries = answers.wait("yaml")
    assert status == 400 and entries == [] and body["problems"][0]["path"].startswith("body")


def test_success_a_job_withdrawn_while_it_waits_is_never_run_and_jobs_wait_in_order(solvers: Solvers) -> None:
    """One solver: the first job is being solved while the next three wait; the third is
    withdrawn before the solver is free. The others are answered, in the order sent."""
    answers = Answers()
    case = yaml.safe_load(TEACHER.read_text(encoding="utf-8"))
    tickets = {name: solvers.run(("query", json.dumps({**case, "id": name}), {"depends_on": False}, "bob"),
                                 answers.done(name)) for name in ("first", "second", "gone", "last")}
    assert tickets["gone"].cancel()
    assert answers.wait("last")[0] == 200
    assert answers.order == ["first", "second", "last"]
    assert not tickets["first"].cancel()  # taken: too late to withdraw
    assert "gone" not in answers.got


def test_success_closing_answers_the_jobs_waiting_then_refuses_new_ones() -> None:
    running = Solvers(str(resolve_policy_dir(None)), 1)
    running.start()
    answers = Answers()
    text = TEACHER.read_text(encoding="utf-8")
    for name in ("a", "b", "c"):
        running.run(("query", text, {"depends_on": False}, "carol"), answers.done(name))
    running.close()
    assert [answers.wait(name)[0] for name in ("a", "b", "c")] == [200, 200, 200]
    running.run(("query", text, {}, "carol"), answers.done("late"))
    assert isinstance(answers.wait("late"), SolverGone)


def test_fail_a_policy_that_does_not_load_stops_the_solvers_with_its_error(tmp_path: Any) -> None:
    broken = tmp_path / "policy"
    shutil.copytree(resolve_policy_dir(None), broken)
    with (broken / "verdict.lp").open("a") as handle:
        handle.write("\nthis is not a rule(.\n")
    with pytest.raises(SolverError, match="verdict.lp"):
        Solvers(str(broken), 2).start()


def test_fail_a_fault_of_the_server_in_a_job_is_a_500_without_detail_and_the_solver_goes_on(solvers: Solvers) -> None:
    from pyisp.server.jobs import FAILED

    answers = Answers()
    solvers.run(("no-such-job", "", {}, "dave"), answers.done("fault"))
    solvers.run(("query", TEACHER.read_text(encoding="utf-8"), {"depends_on": False}, "dave"), answers.done("next"))
    assert answers.wait("fault") == (500, FAILED, [])
    assert "no-such-job" not in json.dumps(FAILED)
    assert answers.wait("next")[0] == 200


def test_fail_rules_that_cannot_answer_a_case_are_a_500_that_says_why_but_not_where_the_rules_are(tmp_path: Any) -> None:
    """A policy whose constraint rules out every answer for a disclosure (a case without one
    still loads): a query, record or batch-line job is a 500 saying the rules cannot answer,
    with their message, and without the server's path to them (a batch writes it as the
    line's answer)."""
    from pyisp.server import jobs

    broken = tmp_path / "secret-place" / "policy"
    shutil.copytree(resolve_policy_dir(None), broken)
    with (broken / "verdict.lp").open("a") as handle:
        handle.write("\n:- disclosure(D).\n")
    text = TEACHER.read_text(encoding="utf-8")
    for job in (("query", text, {"depends_on": False}, "erin"), ("record", text, {}, "erin"),
                ("batch-line", json.dumps(yaml.safe_load(text)), {"line": 3, "params": {}}, "erin")):
        status, body, made = jobs.run(job, str(broken))
        assert (status, made) == (500, []) and body["error"] == "the rules cannot answer this case", job[0]
        assert "constraint" in body["problems"][0]["message"] and body["problems"][0]["path"] == "(rules)"
        assert "secret-place" not in json.dumps(body)


def test_success_the_tokens_of_the_environment_never_reach_a_solver(monkeypatch: Any) -> None:
    monkeypatch.setenv("PYISP_TOKENS", "x:query:" + "s" * 24)
    running = Solvers(str(resolve_policy_dir(None)), 1)
    running.start()
    try:

        children = _children()
        assert children
        for pid in children:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                assert b"PYISP_TOKENS" not in handle.read()
    finally:
        running.close()


def _children() -> set[int]:
    import os

    return {int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == os.getpid()}


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_success_a_solver_that_cannot_be_started_again_leaves_its_jobs_to_the_others(monkeypatch: Any) -> None:
    """One of two solvers stops and cannot be started again (no process can be made): the
    jobs go to the other, none gets 503 while one runs; a solver that cannot start at all
    stops the start with a message."""
    import os
    import signal
    import subprocess as sp
    import time

    from pyisp.server import solvers as module

    monkeypatch.setattr(module, "PAUSE", 0.2)
    before = _children()
    running = Solvers(str(resolve_policy_dir(None)), 2)
    running.start()
    ours = sorted(_children() - before)
    real = sp.Popen
    try:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise OSError(12, "Cannot allocate memory")

        monkeypatch.setattr(module.subprocess, "Popen", refuse)
        assert running.running() == 2 and len(ours) == 2
        os.kill(ours[0], signal.SIGKILL)


        deadline = time.monotonic() + 10  # a stopped idle solver is noticed within a second
        while running.running() != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running.running() == 1  # the one that cannot be started again is not counted
        answers = Answers()
        text = TEACHER.read_text(encoding="utf-8")
        for number in range(30):
            running.run(("query", text, {"depends_on": False}, "a"), answers.done(str(number)))
        outcomes = [answers.wait(str(number)) for number in range(30)]
        assert all(not isinstance(o, BaseException) and o[0] == 200 for o in outcomes), \
            [o for o in outcomes if isinstance(o, BaseException)][:1]
    finally:
        monkeypatch.setattr(module.subprocess, "Popen", real)
        running.close()
    monkeypatch.setattr(module.subprocess, "Popen", refuse)
    with pytest.raises(SolverError, match="cannot be started"):
        Solvers(str(resolve_policy_dir(None)), 1).start()
