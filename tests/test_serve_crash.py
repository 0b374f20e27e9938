"""Nothing acknowledged is lost (issue 19): a burst of decisions to `pyisp serve --solvers 2`,
SIGKILL to every process of the server in the middle, a restart on the same register:
every decision the server answered is there, whole (a row per disclosure, none partial),
and the hash chain verifies and goes on. SIGKILL to one solver mid-burst: its request is
503 and not recorded, every other one answered and recorded, and a new solver takes its
place. SIGKILL to the acceptor: the solvers end with it."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml
from casekit import FACTS
from servekit import Server, auth
from typer.testing import CliRunner

from pyisp._cli import app
from pyisp.register import open_register, verify
import pytest

pytestmark = pytest.mark.xdist_group("test_serve_crash")  # one worker: its server, register or database is shared by the file

CASES = {1: yaml.safe_load((FACTS / "social-worker-uses-anonymised-case-in-training.yaml").read_text()),
         2: yaml.safe_load((FACTS / "pupil-trusts-head-of-year-only.yaml").read_text())}
CLIENTS, ACKNOWLEDGED_BEFORE_KILL, MAX_REQUESTS = 6, 20, 400



def _burst(client: Any, progress: dict[str, Any]) -> list[threading.Thread]:
    """CLIENTS threads running `client`, returned once `progress` holds
    ACKNOWLEDGED_BEFORE_KILL answers (or after 60 s): the moment to kill."""
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(progress) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    return threads

def test_success_a_sigkill_mid_burst_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    register = str(tmp_path / "register.sqlite3")
    server = Server(tmp_path, register, "--solvers", "2").wait_ready(timeout=120)
    acknowledged: dict[str, int] = {}  # case id -> disclosures, for each 200 received
    sent: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(MAX_REQUESTS))

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                number = next(counter, None)
                if number is None:
                    return
                size = 1 + number % 2
                case = {**CASES[size], "id": f"burst-{number}"}
                with lock:
                    sent[case["id"]] = size
                try:
                    answer = http.post("/v1/query", content=json.dumps(case), headers=auth("asker"),
                                       params={"depends": "false"})
                except httpx.TransportError:
                    return  # the server is gone: this one was never acknowledged
                if answer.status_code == 200:
                    assert json.loads(answer.content)["case"] == case["id"]
                    with lock:
                        acknowledged[case["id"]] = size

    threads = _burst(client, acknowledged)
    server.kill()  # SIGKILL to the acceptor and both solvers, mid-burst
    stop.set()
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL and len(sent) > len(acknowledged)  # some in flight

    restarted = Server(tmp_path, register, "--workers", "1").wait_ready(timeout=120)  # the old flag: --solvers
    try:
        assert "--workers is deprecated; it now sets --solvers" in restarted.log.read_text()
        assert len(restarted.solvers()) == 1
        stored = open_register(register)
        rows = list(stored.rows())
        per_case = Counter(r.case_id for r in rows)
        missing = [i for i in acknowledged if per_case[i] != acknowledged[i]]
        assert not missing, f"acknowledged but not (wholly) recorded: {missing}"
        partial = [i for i, n in per_case.items() if n != sent[i]]
        assert not partial, f"cases with some of their rows only: {partial}"
        assert verify(stored.rows(), stored.head()) == []
        again = httpx.post(restarted.url + "/v1/query", content=json.dumps({**CASES[2], "id": "after-restart"}),
                           headers=auth("asker"), params={"depends": "false"}, timeout=30)
        assert again.status_code == 200
        outcome = CliRunner().invoke(app, ["log", "verify", "--register", register])
        assert outcome.exit_code == 0, outcome.output
        assert f"{len(rows) + 2} row(s); the chain verifies" in outcome.output
        stored.close()
    finally:
        restarted.stop()


def test_success_a_solver_killed_mid_burst_is_replaced_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    register = str(tmp_path / "register.sqlite3")
    server = Server(tmp_path, register, "--solvers", "2").wait_ready(timeout=120)
    try:
        solvers = server.solvers()
        assert len(solvers) == 2
        statuses: dict[str, int] = {}  # case id -> status, for each answer received
        sent: dict[str, int] = {}
        lock = threading.Lock()
        counter = iter(range(MAX_REQUESTS // 2))

        def client() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                for number in counter:
                    size = 1 + number % 2
                    case = {**CASES[size], "id": f"burst-{number}"}
                    with lock:
                        sent[case["id"]] = size
                    answer = http.post("/v1/query", content=json.dumps(case), headers=auth("asker"),
                                       params={"depends": "false"})
                    if answer.status_code == 200:
                        assert json.loads(answer.content)["case"] == case["id"]
                    else:
                        assert answer.json() == {"error": "the request was not answered and nothing was recorded: "
                                                          "ask again"}
                    with lock:
                        statuses[case["id"]] = answer.status_code

        threads = _burst(client, statuses)
        os.kill(solvers[0], signal.SIGKILL)  # one solver, mid-burst: the other goes on
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)

        assert len(statuses) == len(sent) == MAX_REQUESTS // 2  # every request answered
        assert set(statuses.values()) <= {200, 503}
        refused = [i for i, status in statuses.items() if status == 503]
        log = server.log.read_text()
        stopped = re.findall(rf"solver \d \(pid {solvers[0]}\) stopped \(signal 9\) (during a query job|while idle)", log)
        assert len(stopped) == 1, log[-3000:]
        assert len(refused) == (stopped[0] == "during a query job")  # the one request it had, if it had one
        stored = open_register(register)
        per_case = Counter(r.case_id for r in stored.rows())
        assert {i: per_case[i] for i in statuses if statuses[i] == 200} == {
            i: sent[i] for i in statuses if statuses[i] == 200}  # every answer recorded, whole
        assert all(per_case[i] == 0 for i in refused)  # the one not answered is not recorded
        assert verify(stored.rows(), stored.head()) == []
        stored.close()

        deadline = time.monotonic() + 60  # a new solver in the killed one's place
        while len(server.solvers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        now = server.solvers()
        assert len(now) == 2 and solvers[0] not in now and solvers[1] in now
        with httpx.Client(base_url=server.url, timeout=60) as http:  # both answer (4 at once: each solver gets some)
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(lambda n: http.post(
                    "/v1/query", content=json.dumps({**CASES[2], "id": f"after-{n}"}), headers=auth("asker"),
                    params={"depends": "false"}).status_code, range(8)))
        assert answers == [200] * 8
        assert server.process.poll() is None
    finally:
        server.stop()


def test_success_the_solvers_end_when_the_acceptor_is_killed(tmp_path: Path) -> None:
    server = Server(tmp_path, str(tmp_path / "register.sqlite3"), "--solvers", "2").wait_ready(timeout=120)
    solvers = server.solvers()
    try:
        assert len(solvers) == 2
        os.kill(server.process.pid, signal.SIGKILL)  # the acceptor alone
        server.process.wait(30)
        deadline = time.monotonic() + 30
        while any(_running(pid) for pid in solvers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_running(pid) for pid in solvers)
    finally:
        for pid in solvers:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """The process exists and has not exited (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
