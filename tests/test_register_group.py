"""Group commit (pyisp/register/group.py): the appends waiting when the writer is free go in
one transaction; each is acknowledged (its future resolved) only after that commit, with
its own consecutive rows; a failed commit fails every append of its group and writes none."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from casekit import FACTS

import pyisp
from pyisp.register import GroupCommit, entries, open_register, verify
from pyisp.register.store import RegisterError

pytestmark = pytest.mark.xdist_group("test_register_group")

ONE = FACTS / "teacher-counselling-disclosure.yaml"  # one disclosure
TWO = FACTS / "pupil-trusts-head-of-year-only.yaml"  # two disclosures


@pytest.fixture(scope="module")
def made() -> list[list[dict[str, Any]]]:
    one, two = (pyisp.query_file(path, depends_on=False) for path in (ONE, TWO))
    assert (len(one.disclosures), len(two.disclosures)) == (1, 2)
    return [entries(one, "a"), entries(two, "b")]


class Threaded:
    """In place of the solver processes, for `Service.decide`: each job, a function giving a
    reply, run in one thread; the future stands for the ticket (cancel: withdrawn if not taken)."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(max_workers=1)

    def run(self, job: Any, done: Any) -> Any:
        def work() -> None:
            sent = time.perf_counter()
            reply = job()
            done(reply, sent, time.perf_counter())

        return self.pool.submit(work)


class Held:
    """A register whose commits wait for `release`, and that remembers each group's size."""

    def __init__(self, register: Any, fail: bool = False) -> None:
        self.register, self.fail = register, fail
        self.groups: list[int] = []
        self.entered, self.release = threading.Event(), threading.Event()

    def append_groups(self, groups: list[list[dict[str, Any]]]) -> list[list[int]]:
        self.groups.append(len(groups))
        self.entered.set()
        assert self.release.wait(30)
        if self.fail:
            raise RegisterError("cannot append: disk full", where="test")
        return self.register.append_groups(groups)


def test_success_appends_waiting_together_share_one_commit_each_with_its_own_rows(tmp_path: Any,
                                                                                   made: list[Any]) -> None:
    register = open_register(tmp_path / "r.sqlite3")
    held = Held(register)
    commits = GroupCommit(held)  # type: ignore[arg-type]
    first = commits.submit(made[0])
    assert held.entered.wait(30)  # the writer holds the first append; five more arrive meanwhile
    later = [commits.submit(made[i % 2]) for i in range(5)]
    assert not first.done() and not any(f.done() for f in later)  # nothing acknowledged before its commit
    held.release.set()
    rows = [f.result(30) for f in [first, *later]]
    commits.close()
    assert held.groups == [1, 5]
    assert rows == [[1], [2], [3, 4], [5], [6, 7], [8]]
    assert [r.case_id for r in register.rows()] == ["teacher-counselling-disclosure"] + [
        "teacher-counselling-disclosure", "pupil-trusts-head-of-year-only", "pupil-trusts-head-of-year-only"] * 2 + [
        "teacher-counselling-disclosure"]
    assert verify(register.rows(), register.head()) == []
    register.close()


def test_fail_a_failed_commit_fails_every_append_of_its_group_and_writes_none(tmp_path: Any, made: list[Any]) -> None:
    register = open_register(tmp_path / "r.sqlite3")
    held = Held(register, fail=True)
    commits = GroupCommit(held)  # type: ignore[arg-type]
    futures = [commits.submit(made[0])]
    assert held.entered.wait(30)
    futures += [commits.submit(made[1]) for _ in range(3)]
    held.release.set()
    for future in futures:
        with pytest.raises(RegisterError, match="disk full"):
            future.result(30)
    held.fail = False
    assert commits.submit(made[1]).result(30) == [1, 2]  # the writer goes on after a failure
    commits.close()
    assert register.head()[0] == 2 and verify(register.rows(), register.head()) == []
    register.close()


def test_success_close_writes_what_is_waiting_and_a_withdrawn_append_is_not_written(tmp_path: Any,
                                                                                     made: list[Any]) -> None:
    register = open_register(tmp_path / "r.sqlite3")
    held = Held(register)
    commits = GroupCommit(held)  # type: ignore[arg-type]
    first = commits.submit(made[0])
    assert held.entered.wait(30)
    withdrawn, kept = commits.submit(made[1]), commits.submit(made[0])
    assert withdrawn.cancel()  # its request went away before the writer took it
    held.release.set()
    commits.close()
    assert first.result(0) == [1] and kept.result(0) == [2]
    assert [r.case_id for r in register.rows()] == ["teacher-counselling-disclosure"] * 2
    with pytest.raises(RuntimeError):
        commits.submit(made[0])
    register.close()


def test_success_many_threads_at_once_form_one_chain(tmp_path: Any, made: list[Any]) -> None:
    register = open_register(tmp_path / "r.sqlite3")
    commits = GroupCommit(register)
    got: list[list[int]] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        for round_ in range(10):
            rows = commits.submit(made[(index + round_) % 2]).result(60)
            with lock:
                got.append(rows)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    commits.close()
    assert len(got) == 80 and all(r == list(range(r[0], r[0] + len(r))) for r in got)  # each case's rows together
    assert sorted(n for r in got for n in r) == list(range(1, 121))
    assert verify(register.rows(), register.head()) == []
    register.close()


def test_success_a_request_given_up_withdraws_its_append_and_the_others_are_answered(tmp_path: Any,
                                                                                        made: list[Any]) -> None:
    """The service's decide(): the solver's thread hands a case's entries to the writer; a
    request given up (its client gone) before the writer takes them withdraws them, and a
    request that waits is answered once its entries are durable, with Server-Timing."""
    import asyncio

    from pyisp.server.app import Service

    register = open_register(tmp_path / "r.sqlite3")
    held = Held(register)
    service = object.__new__(Service)
    service.solvers, service.commits = Threaded(), GroupCommit(held)  # type: ignore[arg-type]
    first = service.commits.submit(made[0])  # the writer busy with it until released
    assert held.entered.wait(30)

    async def scene() -> Any:
        given_up = asyncio.ensure_future(service.decide(lambda: (200, "gone\n", made[1])))
        while service.commits._waiting.empty():  # its entries handed to the writer
            await asyncio.sleep(0.01)
        given_up.cancel()
        kept = asyncio.ensure_future(service.decide(lambda: (200, "kept\n", made[0])))
        await asyncio.sleep(0.05)
        held.release.set()
        with pytest.raises(asyncio.CancelledError):
            await given_up
        return await asyncio.wait_for(kept, 30)

    response = asyncio.run(scene())
    assert response.body == b"kept\n" and "register;dur=" in response.headers["server-timing"]
    service.commits.close()
    service.solvers.pool.shutdown()
    assert first.result(0) == [1]
    assert [r.case_id for r in register.rows()] == ["teacher-counselling-disclosure"] * 2  # not the given-up case
    register.close()


def test_success_a_request_given_up_while_its_case_is_solved_is_not_recorded(tmp_path: Any, made: list[Any]) -> None:
    """A client gone while its case is being solved: the solved entries are not handed over."""
    import asyncio

    from pyisp.server.app import Service

    register = open_register(tmp_path / "r.sqlite3")
    service = object.__new__(Service)
    service.solvers, service.commits = Threaded(), GroupCommit(register)  # type: ignore[assignment]
    solving = threading.Event()

    def slow() -> tuple[int, str, list[dict[str, Any]]]:
        solving.set()
        time.sleep(0.3)
        return 200, "gone\n", made[1]

    async def scene() -> None:
        given_up = asyncio.ensure_future(service.decide(slow))
        while not solving.is_set():
            await asyncio.sleep(0.01)
        given_up.cancel()
        with pytest.raises(asyncio.CancelledError):
            await given_up
        await asyncio.wait_for(service.decide(lambda: (200, "kept\n", made[0])), 30)  # after the slow one

    asyncio.run(scene())
    service.commits.close()
    service.solvers.pool.shutdown()
    assert [r.case_id for r in register.rows()] == ["teacher-counselling-disclosure"]
    register.close()
