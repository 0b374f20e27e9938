"""Nothing acknowledged is lost (issue 19): a burst of decisions to `pyisp serve --workers 2`,
SIGKILL to every process of the server in the middle, a restart on the same register:
every decision the server answered is there, whole (a row per disclosure, none partial),
and the hash chain verifies and goes on."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

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


def test_success_a_sigkill_mid_burst_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    register = str(tmp_path / "register.sqlite3")
    server = Server(tmp_path, register, "--workers", "2").wait_ready(timeout=120)
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

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # SIGKILL to the supervisor and both workers, mid-burst
    stop.set()
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL and len(sent) > len(acknowledged)  # some in flight

    restarted = Server(tmp_path, register).wait_ready(timeout=120)
    try:
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
