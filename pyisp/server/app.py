"""The ASGI application of `pyisp serve`.

Every endpoint but /healthz needs a bearer token of a sufficient role (access.py); a
missing or unknown token is 401, a role too low 403, neither with any detail. A request
body is read up to its limit (413 past it), parsed with the case limits of the hardening
issue (size, depth, values, aliases, counts), and a malformed case is 400 with every
problem's field path. Cases are solved in this worker's solving threads, each holding a
warm engine, never on the event loop; the worker is ready (uvicorn accepts connections)
only once every thread has answered a warm-up case, and a policy that fails then stops the
worker. Each decision of /v1/query, /v1/record and /v1/batch is appended to the register
before the answer is sent: an answer received is a decision recorded. The appends go
through the worker's group commit (pyisp/register/group.py): the solving thread goes on
to the next case while the register's writer makes the decision durable, and decisions
that arrive together share one commit. /v1/query and /v1/record say in a Server-Timing
header where their time went (ms): waiting for a solving thread, answering (parse,
validate, solve, the JSON and the register's entries), making the decisions durable.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from collections import deque
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import query as _query, readings as _readings
from ..core.batch import compact_json
from ..core.case import Case, dumps_json
from ..core.policy import policy_fingerprint, pyisp_version, resolve_policy_dir
from ..core.reading import parse_choices
from ..core.result_schema import result_schema
from ..core.schema import json_schema
from ..errors import CaseError, CaseProblem, PolicyError, PyispError
from ..register import GroupCommit, Register, entries, open_register
from ..register.store import RegisterError
from .access import Token, identify, load_tokens
from .body import parse_body
from .config import ServeConfig
from .openapi import openapi_document

JSON = "application/json"
WARM_CASE = {"format": 2, "id": "warm-up", "child": {"id": "c", "age": 7},
             "information": [{"id": "i", "about": ["c"], "identifiable": False, "relationship": "public_body"}],
             "disclosures": [{"id": "d", "from": {"agency": "childrens_social_care", "role": "social_worker"},
                              "to": {"agency": "other", "role": "other"}, "information": ["i"], "purpose": "other",
                              "within_agency_functions": True, "judgements": {"legitimate_purpose": True}}]}
QUERY_OPTIONS = {"depends", "reading", "no_presume", "strict"}
BATCH_WINDOW = 64  # batch answers solved ahead of the register, at most


class _Stop(Exception):
    """A batch stream ends early (its register cannot be written)."""


def _settle(future: asyncio.Future[Any], outcome: Any) -> None:
    """The outcome of a request's work, unless the request was given up meanwhile."""
    if not future.done():
        future.set_result(outcome)


class _Refused(Exception):
    """A request answered with an error status and a small JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body


def warm(policy: str | None) -> None:
    """Build this thread's engine and answer one case: a broken policy raises here."""
    _query(WARM_CASE, policy=policy)


class Service:
    """The state of one worker: settings, tokens, register, solving threads."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.policy = str(resolve_policy_dir(config.policy))
        self.tokens = load_tokens(config.tokens_file)
        self.register: Register = open_register(config.register or None)
        self.commits = GroupCommit(self.register)
        self.pool = ThreadPoolExecutor(max_workers=config.threads, thread_name_prefix="pyisp-solve")
        self.ready = False

    def start(self) -> None:
        """Warm every solving thread (all at once, so that each thread gets one)."""
        barrier = threading.Barrier(self.config.threads)

        def one() -> None:
            warm(self.policy)
            barrier.wait(timeout=600)

        for future in [self.pool.submit(one) for _ in range(self.config.threads)]:
            future.result()
        self.ready = True

    async def solve(self, job: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, job)

    def answer(self, text: str, where: str, params: dict[str, Any]) -> Any:
        """Parse, validate and answer one case (in a solving thread)."""
        case = Case.from_dict(parse_body(text, where))
        return _query(case, policy=self.policy, **params)

    async def record(self, made: list[dict[str, Any]]) -> None:
        """Append a case's register entries; returns once they are durable (a RegisterError if
        they could not be written)."""
        if made:
            await asyncio.wrap_future(self.commits.submit(made))

    async def decide(self, job: Callable[[], tuple[str, list[dict[str, Any]]]]) -> Response:
        """Run `job` (answer a case: its response text and register entries) in a solving
        thread, which hands the entries to the register's writer itself; answer once they are
        durable, with the time of each step in Server-Timing. The event loop wakes once per
        request, when the decision is recorded (or `job` or the append failed). A request
        given up (its client gone) is not recorded: its case is withdrawn if not yet solved,
        its entries are not handed over once solved, and its append is withdrawn if the
        writer has not taken it yet (one taken is written: a decision nobody heard of, as
        when the client goes during the commit)."""
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[tuple[BaseException | None, tuple[float, float, str]]] = loop.create_future()
        appended: list[Future[list[int]]] = []
        gate = threading.Lock()  # the request given up, or its append handed over: one before the other
        given_up = [False]
        began = time.perf_counter()

        def settle(error: BaseException | None, parts: tuple[float, float, str] = (0.0, 0.0, "")) -> None:
            loop.call_soon_threadsafe(_settle, settled, (error, parts))

        def recorded(done: Future[list[int]], parts: tuple[float, float, str]) -> None:
            if done.cancelled():
                settle(RegisterError("the append was withdrawn"), parts)
            else:
                settle(done.exception(), parts)

        def run() -> None:  # in the solving thread
            started = time.perf_counter()
            try:
                text, made = job()
                parts = (started, time.perf_counter(), text)
                if not made:
                    settle(None, parts)
                    return
                with gate:
                    if given_up[0]:
                        return  # nobody waits for it: not recorded
                    commit = self.commits.submit(made)
                    appended.append(commit)
            except BaseException as exc:  # noqa: BLE001 - answered by the endpoint (a malformed case, ...)
                settle(exc)
                return
            commit.add_done_callback(lambda done: recorded(done, parts))

        work = self.pool.submit(run)
        try:
            error, (started, solved, text) = await settled
        except asyncio.CancelledError:
            work.cancel()
            with gate:
                given_up[0] = True
                for commit in appended:
                    commit.cancel()
            raise
        if error is not None:
            raise error
        timing = (f"wait;dur={1000 * (started - began):.1f}, answer;dur={1000 * (solved - started):.1f}, "
                  f"register;dur={1000 * (time.perf_counter() - solved):.1f}")
        return Response(text.encode("utf-8"), media_type=JSON, headers={"Server-Timing": timing})

    def close(self) -> None:
        """Finish the cases in hand and their appends, then close the register."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.commits.close()
        self.register.close()


# ------------------------------------------------------------------ requests


def _caller(request: Request, role: str) -> Token:
    token = identify(request.app.state.service.tokens, request.headers.get("authorization"))
    if token is None:
        raise _Refused(401, {"error": "unauthorized"})
    if not token.allows(role):
        raise _Refused(403, {"error": "forbidden"})
    return token


async def _body(request: Request, cap: int) -> str:
    """The request body as text, refused past `cap` bytes (before reading it all) or when not UTF-8."""
    declared = request.headers.get("content-length", "")
    too_large = _Refused(413, {"error": f"the request body is larger than {cap} bytes, the server's limit "
                                        "(pyisp serve --max-body / --max-batch-body)"})
    if declared.isdigit() and int(declared) > cap:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise too_large
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(400, _problems(CaseError(f"not UTF-8 text (byte at offset {exc.start})", where="body"))) from None


def _problems(error: PyispError) -> dict[str, Any]:
    problems = error.errors if isinstance(error, CaseError) else [CaseProblem.of(error)]
    return {"error": "the request cannot be answered", "problems": [p.to_dict() for p in problems]}


def _options(request: Request, allowed: set[str]) -> dict[str, Any]:
    """The query-string options of a case: those of `pyisp query` (depends=false,
    reading=NAME=VALUE, no_presume=NAME, strict=true)."""
    params = request.query_params
    problems = [CaseProblem(f"?{name}", "not an option of this endpoint (it takes: "
                                        f"{', '.join(sorted(allowed)) or 'none'})") for name in params if name not in allowed]
    options: dict[str, Any] = {}
    for name in ("depends", "strict"):
        if name in params and name in allowed:
            value = params[name].lower()
            if value not in ("true", "false"):
                problems.append(CaseProblem(f"?{name}", "must be true or false"))
            options["depends_on" if name == "depends" else name] = value == "true"
    if "reading" in allowed:
        try:
            options["readings"] = parse_choices(params.getlist("reading"))
        except PyispError as exc:
            problems.append(CaseProblem("?reading", exc.message))
        options["presumptions"] = dict.fromkeys(params.getlist("no_presume"), False)
    if problems:
        raise _Refused(400, {"error": "the request cannot be answered", "problems": [p.to_dict() for p in problems]})
    return options


def endpoint(role: str) -> Callable[[Callable[[Request, Token], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """An endpoint that needs `role`; turns refusals and pyisp's errors into their status."""
    def wrap(handler: Callable[[Request, Token], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                return await handler(request, _caller(request, role))
            except _Refused as refused:
                headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
                return JSONResponse(refused.body, status_code=refused.status, headers=headers)
            except RegisterError:  # nothing was recorded, so nothing is answered
                return JSONResponse({"error": "the register cannot be written: the decision was not recorded, "
                                              "ask again later"}, status_code=503)
            except PolicyError as exc:  # the rules could not answer this case (a budget, a broken rule)
                return JSONResponse({**_problems(exc), "error": "the rules cannot answer this case"}, status_code=500)
            except PyispError as exc:  # a malformed case, a reading the policy lacks, a presumption unknown, ...
                return JSONResponse(_problems(exc), status_code=400)
        run.__doc__ = handler.__doc__
        return run
    return wrap


def _text(text: str, media_type: str = JSON) -> Response:
    return Response(text.encode("utf-8"), media_type=media_type)


@endpoint("query")
async def query(request: Request, caller: Token) -> Response:
    """Answer a case (the body, JSON or YAML): the JSON of `pyisp query --json`, byte for byte."""
    service: Service = request.app.state.service
    text, params = await _body(request, service.config.max_body), _options(request, QUERY_OPTIONS)

    def job() -> tuple[str, list[dict[str, Any]]]:
        result = service.answer(text, "body", params)
        answer = result.to_dict()
        return dumps_json(answer) + "\n", entries(result, caller.name, answer=answer)

    return await service.decide(job)


@endpoint("query")
async def record(request: Request, caller: Token) -> Response:
    """The record of each decision of a case: the JSON of `pyisp record --json`."""
    service: Service = request.app.state.service
    text, params = await _body(request, service.config.max_body), _options(request, {"reading"})

    def job() -> tuple[str, list[dict[str, Any]]]:
        result = service.answer(text, "body", {**params, "depends_on": False})
        return dumps_json(result.record.to_dict()) + "\n", entries(result, caller.name)

    return await service.decide(job)


@endpoint("query")
async def explain(request: Request, caller: Token) -> Response:
    """Explain a case: why each verdict (?disclosure=, ?why=, ?why_not=, ?format=json|text|markdown|html)."""
    service: Service = request.app.state.service
    text = await _body(request, service.config.max_body)
    params = request.query_params
    _options(request, {"disclosure", "why", "why_not", "format"})
    fmt = params.get("format", "json")
    types = {"json": JSON, "text": "text/plain; charset=utf-8", "markdown": "text/markdown; charset=utf-8",
             "html": "text/html; charset=utf-8"}
    if fmt not in types:
        raise _Refused(400, {"error": "the request cannot be answered", "problems": [
            CaseProblem("?format", f"must be one of {', '.join(types)}").to_dict()]})

    def job() -> str:
        from ..explain import explain_result
        from ..render.explanation import render

        result = service.answer(text, "body", {})
        return render(explain_result(result, params.get("disclosure"), params.get("why"), params.get("why_not")), fmt)

    return _text(await service.solve(job), types[fmt])


@endpoint("query")
async def batch(request: Request, caller: Token) -> Response:
    """Answer many cases, one JSON a line in the body; the answers streamed back one a line,
    in order: `{"line": n, "id": ..., **result}` or `{"line": n, "error": ..., "problems": [...]}`."""
    service: Service = request.app.state.service
    text, params = await _body(request, service.config.max_batch_body), _options(request, QUERY_OPTIONS)
    lines = text.splitlines()
    if len(lines) > service.config.max_batch_lines:
        raise _Refused(413, {"error": f"more than {service.config.max_batch_lines} lines, the server's limit "
                                      "(pyisp serve --max-batch-lines)"})

    def one(number: int, line: str) -> tuple[str, list[dict[str, Any]]]:
        try:
            result = service.answer(line, f"line {number}", params)
        except PyispError as exc:
            return compact_json({"line": number, **_problems(exc)}) + "\n", []
        answer = result.to_dict()
        return (compact_json({"line": number, "id": result.case_id, **answer}) + "\n",
                entries(result, caller.name, answer=answer))

    async def stream() -> AsyncIterator[str]:
        """Each answer once its decisions are durable; the next cases are solved meanwhile (up
        to BATCH_WINDOW answers waiting on the register). A failed append ends the stream
        with a line saying so (the cases after it are neither answered nor recorded)."""
        waiting: deque[tuple[int, str, asyncio.Future[None]]] = deque()

        async def flush(all_of_them: bool) -> AsyncIterator[str]:
            while waiting and (all_of_them or len(waiting) > BATCH_WINDOW or waiting[0][2].done()):
                number, text, recorded = waiting.popleft()
                try:
                    await recorded
                except RegisterError:
                    for _, _, later in waiting:
                        later.cancel()
                    waiting.clear()
                    yield compact_json({"line": number, "error": "the register cannot be written: the decision "
                                        "of this line was not recorded, and the batch stops here"}) + "\n"
                    raise _Stop from None
                yield text

        try:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    text, made = await service.solve(partial(one, number, line))
                    waiting.append((number, text, asyncio.ensure_future(service.record(made))))
                    async for out in flush(False):
                        yield out
            async for out in flush(True):
                yield out
        except _Stop:
            return

    return StreamingResponse(stream(), media_type="application/x-ndjson")


@endpoint("query")
async def schema(request: Request, caller: Token) -> Response:
    """The case format as a JSON Schema (?result=true: a result's)."""
    _options(request, {"result"})
    return _text(dumps_json(result_schema() if request.query_params.get("result") == "true" else json_schema()) + "\n")


@endpoint("query")
async def readings(request: Request, caller: Token) -> Response:
    """The readings of the policy: `pyisp readings --json`."""
    service: Service = request.app.state.service
    found = await service.solve(lambda: _readings(service.policy))
    return _text(dumps_json([r.to_dict() for r in found]) + "\n")


@endpoint("query")
async def version(request: Request, caller: Token) -> Response:
    """pyisp's version and the policy's fingerprint."""
    service: Service = request.app.state.service
    return _text(dumps_json({"pyisp": pyisp_version(), "policy_sha256": policy_fingerprint(service.policy)}) + "\n")


@endpoint("read")
async def case_log(request: Request, caller: Token) -> Response:
    """A case's decisions in the register, in order (role read)."""
    service: Service = request.app.state.service
    case = request.path_params["case"]
    rows = await service.solve(lambda: list(service.register.rows(case)))
    return _text(dumps_json([{"seq": r.seq, **json.loads(r.entry), "hash": r.hash} for r in rows]) + "\n")


@endpoint("admin")
async def log_verify(request: Request, caller: Token) -> Response:
    """Check the register's chain: every edited, deleted or reordered row (role admin)."""
    from ..register import verify

    service: Service = request.app.state.service
    reg = service.register
    def check() -> tuple[tuple[int, str], list[Any]]:
        rows, head = reg.snapshot()
        return head, verify(rows, head)

    head, problems = await service.solve(check)
    return _text(dumps_json({"ok": not problems, "rows": head[0],
                             "problems": [{"row": p.seq, "message": p.message} for p in problems]}) + "\n")


@endpoint("admin")
async def log_export(request: Request, caller: Token) -> Response:
    """The register masked for an audience (?audience=auditor|statistics|full, ?format=jsonl|csv; role admin)."""
    from ..register import export

    service: Service = request.app.state.service
    _options(request, {"audience", "format"})
    fmt, audience = request.query_params.get("format", "jsonl"), request.query_params.get("audience", "auditor")
    reg = service.register
    text = await service.solve(lambda: "".join(export(reg.rows(), fmt, audience)))
    return _text(text, "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson")


@endpoint("query")
async def openapi(request: Request, caller: Token) -> Response:
    """The OpenAPI document of this service."""
    return _text(dumps_json(openapi_document(ROUTES)) + "\n")


async def healthz(request: Request) -> Response:
    """Ready: the engines are warm (no token needed; says nothing else)."""
    ready = request.app.state.service.ready
    return JSONResponse({"status": "ok" if ready else "starting"}, status_code=200 if ready else 503)


ROUTES = [
    Route("/v1/query", query, methods=["POST"]),
    Route("/v1/explain", explain, methods=["POST"]),
    Route("/v1/record", record, methods=["POST"]),
    Route("/v1/batch", batch, methods=["POST"]),
    Route("/v1/schema", schema, methods=["GET"]),
    Route("/v1/readings", readings, methods=["GET"]),
    Route("/v1/version", version, methods=["GET"]),
    Route("/v1/register/cases/{case}", case_log, methods=["GET"]),
    Route("/v1/register/verify", log_verify, methods=["GET"]),
    Route("/v1/register/export", log_export, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]


def create_app(config: ServeConfig) -> Starlette:
    """The application for one worker process: warmed up before it accepts a connection."""
    service = Service(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.get_running_loop().run_in_executor(None, service.start)
        yield
        service.close()  # an append in hand finishes first

    app = Starlette(routes=ROUTES, lifespan=lifespan)
    app.state.service = service
    return app


def app_from_env() -> Starlette:
    """uvicorn's factory in each worker process: the settings from PYISP_SERVE_CONFIG."""
    return create_app(ServeConfig.from_env())
