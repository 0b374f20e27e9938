"""`pyisp serve` (issue 19) against a live server on 127.0.0.1: the same JSON as `pyisp query
--json` byte for byte, tokens and roles, limits and malformed bodies, batch streaming,
solving off the event loop, the register behind it, a broken policy refused at start."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml
from casekit import FACTS
from servekit import BIN, TOKENS, Server, auth, free_port, write_tokens
from typer.testing import CliRunner

from pyisp._cli import app
from pyisp.core.policy import default_policy_dir
from pyisp.register import open_register

pytestmark = pytest.mark.xdist_group("test_serve")  # one worker: its server, register or database is shared by the file

runner = CliRunner()
CASES = sorted(FACTS.glob("*.yaml"))
TEACHER = FACTS / "teacher-counselling-disclosure.yaml"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("serve")
    live = Server(directory, str(directory / "register.sqlite3")).wait_ready()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def _post(client: httpx.Client, path: str, body: bytes | str, who: str = "asker", **params: Any) -> httpx.Response:
    return client.post(path, content=body, headers=auth(who), params=params)


def _cli_json(path: Path, *options: str) -> bytes:
    outcome = runner.invoke(app, ["query", "--json", *options, str(path)])
    assert outcome.exit_code == 0, outcome.output
    return outcome.stdout_bytes


def test_success_query_answers_every_example_case_with_the_bytes_of_query_json(client: httpx.Client) -> None:
    """Over facts/ (without the search for deciding unknowns, to keep the test short), and
    one case with it: each answer is exactly what `pyisp query --json` prints."""
    def served(path: Path, params: dict[str, str]) -> bytes:
        response = _post(client, "/v1/query", path.read_bytes(), **params)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        return response.content

    with ThreadPoolExecutor(1) as pool:  # the server solves the next case while the test answers this one
        for path in CASES:
            answer = pool.submit(served, path, {"depends": "false"})
            assert answer.result() == _cli_json(path, "--no-depends"), path.name
        for path in [TEACHER]:
            answer = pool.submit(served, path, {})
            assert answer.result() == _cli_json(path), path.name


def test_success_readings_and_presumptions_options_are_those_of_the_cli(client: httpx.Client) -> None:
    response = _post(client, "/v1/query", TEACHER.read_bytes(), depends="false", strict="true")
    assert response.content == _cli_json(TEACHER, "--no-depends", "--strict")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token-at-all-xyz"},
                                     {"Authorization": "Basic " + TOKENS["boss"][1]},
                                     {"Authorization": "Bearer"}])
def test_fail_no_token_or_a_wrong_one_is_401_without_detail(client: httpx.Client, headers: dict[str, str]) -> None:
    for method, path in (("POST", "/v1/query"), ("GET", "/v1/version"), ("GET", "/v1/register/verify"),
                         ("GET", "/openapi.json")):
        response = client.request(method, path, headers=headers, content=TEACHER.read_bytes())
        assert (response.status_code, response.json()) == (401, {"error": "unauthorized"})
        assert response.headers["www-authenticate"] == "Bearer"


def test_fail_a_role_too_low_is_403_without_detail(client: httpx.Client) -> None:
    assert client.get("/v1/register/cases/x", headers=auth("asker")).status_code == 403
    for who in ("asker", "reader"):
        for path in ("/v1/register/verify", "/v1/register/export"):
            response = client.get(path, headers=auth(who))
            assert (response.status_code, response.json()) == (403, {"error": "forbidden"})
    assert client.get("/v1/register/cases/x", headers=auth("reader")).status_code == 200
    assert client.get("/v1/register/verify", headers=auth("boss")).status_code == 200


def test_fail_a_malformed_case_is_400_with_every_field_path(client: httpx.Client) -> None:
    response = _post(client, "/v1/query", json.dumps({"child": {"age": "x"}, "consents": 1, "disclosures": 3}))
    assert response.status_code == 400
    paths = [p["path"] for p in response.json()["problems"]]
    assert {"child.age", "child.id", "consents", "disclosures"} <= set(paths), paths


@pytest.mark.parametrize("body, where", [
    (b"\xff\xfe binary", "body"),
    ("[" * 700 + "]" * 700, "body:1"),
    ("id: x\nchild: {id: c, id: d}\n", "body:2"),
    ("a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n", "body:5"),
])
def test_fail_unreadable_bodies_are_400_naming_where(client: httpx.Client, body: bytes | str, where: str) -> None:
    response = _post(client, "/v1/query", body)
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == where
    assert len(response.content) < 2000  # nothing expanded or echoed whole


def test_fail_a_body_over_the_limit_is_413_before_it_is_read(client: httpx.Client) -> None:
    response = _post(client, "/v1/query", b"x" * 4_000_001)
    assert response.status_code == 413 and "4000000 bytes" in response.json()["error"]


def test_fail_an_unknown_option_or_reading_is_400_naming_it(client: httpx.Client) -> None:
    response = _post(client, "/v1/query", TEACHER.read_bytes(), depend="false")
    assert response.status_code == 400 and response.json()["problems"][0]["path"] == "?depend"
    response = _post(client, "/v1/query", TEACHER.read_bytes(), reading="no_such_reading=x", depends="false")
    assert response.status_code == 400 and "no_such_reading" in response.json()["problems"][0]["message"]


def test_success_batch_streams_one_line_per_case_and_survives_a_poison_line(client: httpx.Client) -> None:
    good = [json.dumps(json.loads(json.dumps(yaml.safe_load(p.read_text())))) for p in CASES[:3]]
    body = "\n".join([good[0], '{"id": "bad", "consents": 1}', "[" * 900 + "]" * 900, good[1], good[2]]) + "\n"
    lines = []
    with client.stream("POST", "/v1/batch", content=body, headers=auth("asker"), params={"depends": "false"}) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in answer.iter_lines() if line]
    assert [item["line"] for item in lines] == [1, 2, 3, 4, 5]
    assert [item.get("id") for item in lines] == [CASES[0].stem, None, None, CASES[1].stem, CASES[2].stem]
    assert lines[1]["problems"][0]["path"] and lines[2]["problems"]
    expected = json.loads(_cli_json(CASES[1], "--no-depends"))
    assert {k: v for k, v in lines[3].items() if k not in ("line", "id")} == expected


def test_success_solving_is_off_the_event_loop(client: httpx.Client, server: Server) -> None:
    """While a long batch is being solved, the server still answers other requests at once."""
    body = "\n".join(json.dumps(yaml.safe_load(p.read_text())) for p in CASES[:40])
    started, stop, finished = threading.Event(), threading.Event(), threading.Event()

    def long_batch() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as other:
            with other.stream("POST", "/v1/batch", content=body, headers=auth("asker")) as answer:
                for _ in answer.iter_lines():
                    started.set()
                    if stop.is_set():
                        return  # hang up: the server stops after the case in hand
        finished.set()

    worker = threading.Thread(target=long_batch)
    worker.start()
    assert started.wait(60)
    waits = []
    for _ in range(5):
        start = time.monotonic()
        assert client.get("/v1/version", headers=auth("asker")).status_code == 200
        assert client.get("/healthz").json() == {"status": "ok"}
        waits.append(time.monotonic() - start)
    assert not finished.is_set(), "the batch ended too soon to show anything"
    stop.set()
    worker.join(60)
    assert max(waits) < 0.5, waits


def test_success_explain_schema_readings_version_openapi(client: httpx.Client) -> None:
    explained = _post(client, "/v1/explain", TEACHER.read_bytes(), disclosure="to-social-care")
    assert explained.status_code == 200
    assert [e["disclosure"] for e in explained.json()["explanations"]] == ["to-social-care"]
    text = _post(client, "/v1/explain", TEACHER.read_bytes(), format="text")
    assert text.headers["content-type"].startswith("text/plain") and "to-social-care" in text.text
    schema = client.get("/v1/schema", headers=auth("asker"))
    assert schema.content == runner.invoke(app, ["schema"]).stdout_bytes
    readings = client.get("/v1/readings", headers=auth("asker"))
    assert readings.content == runner.invoke(app, ["readings", "--json"]).stdout_bytes
    version = client.get("/v1/version", headers=auth("asker")).json()
    assert version["pyisp"] and len(version["policy_sha256"]) == 64
    document = client.get("/openapi.json", headers=auth("asker")).json()
    assert {"/v1/query", "/v1/explain", "/v1/record", "/v1/batch", "/v1/schema", "/v1/readings", "/v1/version",
            "/healthz"} <= set(document["paths"])
    assert document["components"]["schemas"]["Case"]["properties"]["disclosures"]


def test_success_every_decision_is_in_the_register_with_who_asked(client: httpx.Client) -> None:
    case = TEACHER.read_bytes()
    assert _post(client, "/v1/query", case, depends="false").status_code == 200
    recorded = _post(client, "/v1/record", case, who="reader")
    assert recorded.status_code == 200
    assert recorded.content == runner.invoke(app, ["record", "--json", str(TEACHER)]).stdout_bytes
    rows = client.get(f"/v1/register/cases/{TEACHER.stem}", headers=auth("reader")).json()
    assert rows[-1]["who"] == "reader" and rows[-1]["disclosure"] == "to-social-care"
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert "asker" in {r["who"] for r in rows}
    verified = client.get("/v1/register/verify", headers=auth("boss")).json()
    assert verified["ok"] and verified["rows"] >= 2
    export = client.get("/v1/register/export", headers=auth("boss"), params={"audience": "auditor"})
    assert export.status_code == 200 and "Ms Jones" not in export.text and '"verdict"' in export.text


def test_success_tokens_never_reach_the_log(client: httpx.Client, server: Server) -> None:
    client.get("/v1/version", headers={"Authorization": "Bearer a-wrong-token-0123456789"})
    log = server.log.read_text()
    assert "GET /v1/version" in log  # the access log is on
    assert f"Uvicorn running on http://127.0.0.1:{server.port}" in log  # this machine only, by default
    for _, token in TOKENS.values():
        assert token not in log
    assert "a-wrong-token" not in log


def test_fail_a_register_that_cannot_be_written_is_503_and_ends_a_batch_saying_so(tmp_path: Path) -> None:
    """No answer without its decision recorded: the worker's register made read-only under it
    (the app in this process, without uvicorn)."""
    import asyncio

    from pyisp.server.app import create_app
    from pyisp.server.config import ServeConfig

    app = create_app(ServeConfig(register=str(tmp_path / "r.sqlite3"), tokens_file=str(write_tokens(tmp_path))))
    service = app.state.service
    body = "\n".join(json.dumps(yaml.safe_load(p.read_text())) for p in CASES[:3])

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        await asyncio.get_running_loop().run_in_executor(None, service.start)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pyisp",
                                     headers=auth("asker"), params={"depends": "false"}) as http:
            answered = await http.post("/v1/query", content=TEACHER.read_bytes())
            service.register._conn.execute("PRAGMA query_only = 1")
            return answered, await http.post("/v1/query", content=TEACHER.read_bytes()), await http.post(
                "/v1/batch", content=body)

    try:
        answered, refused, batch = asyncio.run(scenario())
    finally:
        service.close()
    assert answered.status_code == 200
    assert re.fullmatch(r"wait;dur=[\d.]+, answer;dur=[\d.]+, register;dur=[\d.]+", answered.headers["server-timing"])
    assert refused.status_code == 503 and "not recorded" in refused.json()["error"]
    assert [json.loads(line) for line in batch.text.splitlines()] == [
        {"line": 1, "error": "the register cannot be written: the decision of this line was not recorded, and "
                             "the batch stops here"}]
    stored = open_register(tmp_path / "r.sqlite3")
    assert [r.case_id for r in stored.rows()] == [TEACHER.stem]  # the one answered, nothing else
    stored.close()


@pytest.mark.parametrize("added, named", [("this is not a rule(.", "verdict.lp"),
                                          (":- age(C, 7).", "admit no answer")], ids=["unparsed", "answers-nothing"])
def test_fail_a_broken_policy_refuses_to_start(tmp_path: Path, added: str, named: str) -> None:
    """Rules that do not parse, or parse but cannot answer the solvers' warm-up case: exit 2
    with the message, no traceback, nothing made on disk."""
    broken = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), broken)
    with (broken / "verdict.lp").open("a") as handle:
        handle.write(f"\n{added}\n")
    started = subprocess.run([str(BIN / "pyisp"), "serve", "--policy", str(broken), "--port", str(free_port())],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path,
                             env={"PATH": "/usr/bin:/bin", "PYISP_TOKENS": "x:query:" + "t" * 20})
    assert started.returncode == 2, started.stderr
    assert named in started.stderr and "Traceback" not in started.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy"]  # no register made for it


def test_fail_serve_without_tokens_refuses_to_start(tmp_path: Path) -> None:
    started = subprocess.run([str(BIN / "pyisp"), "serve", "--port", str(free_port())], capture_output=True,
                             text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert started.returncode == 2 and "no tokens" in started.stderr and "Traceback" not in started.stderr


def test_fail_a_port_in_use_is_a_clean_error(server: Server, tmp_path: Path) -> None:
    started = subprocess.run([str(BIN / "pyisp"), "serve", "--port", str(server.port)], capture_output=True,
                             text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "PYISP_TOKENS": "x:query:" + "t" * 20},
                             cwd=tmp_path)
    assert started.returncode == 2 and "Traceback" not in started.stderr
    assert f"127.0.0.1:{server.port}: cannot listen there" in started.stderr


def test_success_a_plain_json_body_reads_as_query_reads_it() -> None:
    """The server reads a plain JSON body with the json module (pyisp/server/body.py): over the
    cases of facts/ as JSON in several layouts, and those texts mutated at random (escapes,
    tabs, line breaks of YAML's own, keys given twice, floats, long numbers, comments, deep
    nesting), the very values or the very error of `pyisp query`'s reading."""
    import random

    from pyisp.core.case import parse_document
    from pyisp.errors import CaseError
    from pyisp.server import body

    def typed(value: Any) -> Any:  # True is not 1 here
        if isinstance(value, dict):
            return [(typed(k), typed(v)) for k, v in value.items()]
        if isinstance(value, list):
            return ["list", *(typed(v) for v in value)]
        return (type(value).__name__, value)

    def outcome(read: Any, text: str) -> Any:
        try:
            return typed(read(text, "body"))
        except CaseError as exc:
            return str(exc), exc.where

    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in CASES[::4]]
    texts = [json.dumps(d, default=str, **layout) for d in docs  # type: ignore[arg-type]
             for layout in ({}, {"indent": 2}, {"separators": (",", ":")}, {"ensure_ascii": False})]
    pieces = ['"', ":", ",", "{", "}", "[", "]", " ", "\n", "\t", "\r", "\\", "\\n", "\\u00e9", "1", "-0", "1.5", "1e5",
              "NaN", "true", "null", "\x85", "\u2028", "\ufeff", "\x00", "\x7f", "é", "😀", '"a": 1, "a": 2', "#", "&a",
              "*a", "!!str", "%", "---", '"x" :', "\n:", "9" * 120, "01", '"yes"', "yes", "~"]
    chosen = random.Random(19)
    mutated = []
    for _ in range(3000):
        text = chosen.choice(texts)
        for _ in range(chosen.randint(1, 3)):
            at = chosen.randrange(len(text) + 1)
            text = (text[:at] + chosen.choice(pieces) + text[at:] if chosen.random() < 0.5
                    else text[:at] + text[at + chosen.randint(1, 3):])
        mutated.append(text)
    edges = ['{"a":' * 150 + "1" + "}" * 150, '{"a": ' + "[" * 99 + "]" * 99 + "}", '{"' + "k" * 1100 + '": 1}',
             '{"a": 1} {"b": 2}', "", "{}", '"x"', "5", '{"a": [' + ",".join(["1"] * 100_001) + "]}"]
    fast = 0
    for text in texts + mutated + edges:
        assert outcome(body.parse_body, text) == outcome(parse_document, text), repr(text[:300])
        try:
            fast += body.parse_body(text, "body") is not None and not body._ELSEWHERE.search(text)
        except CaseError:
            pass
    assert fast > 500  # the quick reading is taken, not only the fallback


def test_success_the_service_writes_its_answers_as_json_writes_them() -> None:
    """The server writes its answers with `dumps_json` (that of `pyisp query --json`): the
    json module's text (sorted keys, two-space indent, not ASCII-escaped) over results and
    records of facts/ (with and without what they depend on) and values that only json.dumps
    can write; NaN, which JSON cannot hold, as null; what json refuses, refused."""
    import json
    from enum import Enum, IntEnum

    import pyisp
    from pyisp.core.case import dumps_json

    class Word(str, Enum):
        A = "a\u00e9"

    class Number(IntEnum):
        ONE = 1

    values: list[Any] = []
    for number, path in enumerate(CASES[::6]):
        result = pyisp.query_file(path, depends_on=number % 2 == 0)
        values += [result.to_dict(), result.record.to_dict() if result.record else None]
    values += [{}, [], {"b": [], "a": {}}, ({"x": (1, 2)},), "é\n\x00\"\\\u2028😀", 10 ** 30, -0, True, None,
               {Word.A: [Number.ONE, Word.A]}, {"f": 1.5}, {1: "a"}, {None: 1}, [[[[1]]]]]
    for value in values:
        assert dumps_json(value) == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    assert dumps_json({"n": float("nan")}) == '{\n  "n": null\n}'
    for refused in ({"s": {1, 2}}, {"b": b"x"}, {(1, 2): 1}):
        with pytest.raises(TypeError):
            dumps_json(refused)


def test_success_a_request_whose_client_hangs_up_while_it_waits_is_not_recorded(tmp_path: Path) -> None:
    """One solver busy with 8 cases it has not seen; a ninth client gives up after 50 ms and
    hangs up: its decision is never recorded (nobody heard it), the 8 others are."""
    from pyisp.authoring import generate as casegen

    register = str(tmp_path / "register.sqlite3")
    live = Server(tmp_path, register, "--solvers", "1").wait_ready(120)
    try:
        seeds = casegen.seed_cases(scenarios=False)
        busy = [{**seeds[n], "id": f"busy-{n}"} for n in range(8)]
        codes: list[int] = []

        def ask(case: dict[str, Any]) -> None:
            with httpx.Client(base_url=live.url, timeout=120) as client:
                codes.append(client.post("/v1/query", content=json.dumps(case), headers=auth("asker")).status_code)

        threads = [threading.Thread(target=ask, args=(case,)) for case in busy]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        with pytest.raises(httpx.TimeoutException):
            httpx.post(live.url + "/v1/query", content=json.dumps({**seeds[9], "id": "gave-up"}),
                       headers=auth("asker"), timeout=0.05)
        for thread in threads:
            thread.join()
        time.sleep(1)
    finally:
        live.stop()
    assert sorted(codes) == [200] * 8
    stored = open_register(register)
    try:
        cases = {row.case_id for row in stored.rows()}
    finally:
        stored.close()
    assert "gave-up" not in cases and {f"busy-{n}" for n in range(8)} <= cases


def test_success_a_batch_whose_client_hangs_up_stops_and_records_only_a_prefix(tmp_path: Path) -> None:
    """A batch of 2,000 cases whose client reads one answer and hangs up: the server stops
    solving and withdraws the appends the writer has not taken (the last first), so the
    register holds far fewer rows than lines, those of the first lines in order (none
    skipped), the chain verifying; the service then answers the next request as usual."""
    from pyisp.register import verify

    register = str(tmp_path / "register.sqlite3")
    seeds = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in CASES[:8]]
    lines = [json.dumps({**seeds[n % len(seeds)], "id": f"line-{n + 1}"}) for n in range(2000)]
    live = Server(tmp_path, register, "--solvers", "1").wait_ready(120)
    try:
        with httpx.Client(base_url=live.url, timeout=120) as client:
            with client.stream("POST", "/v1/batch", content="\n".join(lines) + "\n", headers=auth("asker"),
                               params={"depends": "false"}) as answers:
                first = json.loads(next(answers.iter_lines()))
        assert first["line"] == 1 and first["id"] == "line-1"
        time.sleep(4)  # a server that went on would have answered and recorded all 2,000 by now (~1.5 ms a line)
        after = httpx.post(live.url + "/v1/query", content=lines[0].replace("line-1", "after"),
                           headers=auth("asker"), params={"depends": "false"}, timeout=60)
        assert after.status_code == 200
    finally:
        live.stop()
    stored = open_register(register)
    try:
        rows = list(stored.rows())
        assert verify(rows, stored.head()) == []
    finally:
        stored.close()
    cases = [row.case_id for row in rows if row.case_id != "after"]
    # the batch stopped: beyond the line read, at most the answers that fill the socket's buffers (a few MB, ~15 KB
    # an answer) and those solved ahead of the register (BATCH_WINDOW, 64) were made before the hang-up was seen
    assert 1 <= len(cases) < 1000, len(cases)
    numbers = list(dict.fromkeys(int(case.split("-")[1]) for case in cases))
    assert numbers == list(range(1, len(numbers) + 1))  # a prefix of the lines, in order
    assert rows[-1].case_id == "after"
