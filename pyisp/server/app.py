"""The ASGI application of `pyisp serve`: the acceptor.

Every endpoint but /healthz needs a bearer token of a sufficient role (access.py); a
missing or unknown token is 401, a role too low 403, neither with any detail. A request
body is read up to its limit (413 past it) here, in the one uvicorn process; the case is
then parsed (with the case limits of the hardening issue: size, depth, values, aliases,
counts), validated and answered by a free solver process (solvers.py, jobs.py), never
on the event loop, and a malformed case is 400 with every problem's field
path. The service is ready (uvicorn accepts connections) only once every solver has
answered a warm-up case; a solver that stops is answered 503 for its job and replaced.
Each decision of /v1/query, /v1/record and /v1/batch is appended to the register before
the answer is sent: an answer received is a decision recorded. The appends go through
this process's one group commit (pyisp/register/group.py): the solver goes on to the next
case while the register's writer makes the decision durable, and decisions that arrive
together share one commit. Answers say in a Server-Timing header where their time went
(ms): waiting for a free solver, answering (the round trip to the solver: parse,
validate, solve, the JSON and the register's entries), making the decisions durable.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from concurrent.futures import Future
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..core.batch import compact_json
from ..core.case import dumps_json
from ..core.policy import policy_fingerprint, pyisp_version, resolve_policy_dir
from ..core.reading import parse_choices
from ..core.result_schema import result_schema
from ..core.schema import json_schema
from ..errors import CaseError, CaseProblem, PyispError
from ..register import GroupCommit, Register, open_register
from ..register.chain import Prepared
from ..register.store import RegisterError
from .access import Token, identify, load_tokens
from .config import ServeConfig
from .jobs import Job, Reply, problems as _problems
from .openapi import openapi_document
from .solvers import Solvers, SolverGone

JSON = "application/json"
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


class Service:
    """The state of the acceptor: settings, tokens, register and its writer, solver processes."""

    def __init__(self, config: ServeConfig, solvers: Solvers | None = None) -> None:
        self.config = config
        self.policy = str(resolve_policy_dir(config.policy))
        self.tokens = load_tokens(config.tokens_file)
        self.solvers = solvers or Solvers(self.policy, solver_count(config))
        self.ready = solvers is not None  # solvers given are started already
        self.register: Register = open_register(config.register or None)
        self.commits = GroupCommit(self.register)

    def start(self) -> None:
        """Start the solver processes and wait until each is warm (done already when they were given)."""
        if not self.ready:
            self.solvers.start()
            self.ready = True

    async def solve(self, job: Job) -> Reply:
        """The reply of a solver to `job` (SolverGone if its solver stopped); the job is
        withdrawn if the request is given up before a solver takes it."""
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[Reply | BaseException] = loop.create_future()

        def done(outcome: Reply | BaseException, sent: float, received: float) -> None:
            loop.call_soon_threadsafe(_settle, settled, outcome)

        ticket = self.solvers.run(job, done)
        try:
            outcome = await settled
        except asyncio.CancelledError:
            ticket.cancel()
            raise
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def record(self, made: list[Prepared]) -> None:
        """Append a case's register entries; returns once they are durable (a RegisterError if
        they could not be written)."""
        if made:
            await asyncio.wrap_future(self.commits.submit(made))

    async def decide(self, job: Job, media_type: str = JSON, request: Request | None = None) -> Response:
        """Have a solver answer `job` (its response text and register entries); the solver's
        thread in this process hands the entries to the register's writer itself; answer once
        they are durable, with the time of each step in Server-Timing. The event loop wakes
        once per request, when the decision is recorded (or the job or the append failed). A
        request given up (its client gone) is not recorded: its job is withdrawn if no solver
        has taken it, its entries are not handed over once solved, and its append is withdrawn
        if the writer has not taken it yet (one taken is written: a decision nobody heard of,
        as when the client goes during the commit). An error reply (a malformed case, ...) is
        answered with its status and body. With `request` (its body read), the client hanging
        up meanwhile gives the request up (uvicorn cancels nothing when a client goes)."""
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[tuple[BaseException | None, tuple[float, float, Reply | None]]] = loop.create_future()
        appended: list[Future[list[int]]] = []
        gate = threading.Lock()  # the request given up, or its append handed over: one before the other
        given_up = [False]
        began = time.perf_counter()

        def settle(error: BaseException | None, parts: tuple[float, float, Reply | None] = (0.0, 0.0, None)) -> None:
            loop.call_soon_threadsafe(_settle, settled, (error, parts))

        def recorded(done: Future[list[int]], parts: tuple[float, float, Reply | None]) -> None:
            if done.cancelled():
                settle(RegisterError("the append was withdrawn"), parts)
            else:
                settle(done.exception(), parts)

        def answered(outcome: Reply | BaseException, sent: float, received: float) -> None:  # in a solver's thread
            if isinstance(outcome, BaseException):
                settle(outcome)
                return
            parts = (sent, received, outcome)
            made = outcome[2]
            try:
                if not made:
                    settle(None, parts)
                    return
                with gate:
                    if given_up[0]:
                        return  # nobody waits for it: not recorded
                    commit = self.commits.submit(made)
                    appended.append(commit)
            except BaseException as exc:  # noqa: BLE001 - the writer closed: answered by the endpoint
                settle(exc)
                return
            commit.add_done_callback(lambda done: recorded(done, parts))

        def give_up() -> None:
            ticket.cancel()
            with gate:
                given_up[0] = True
                for commit in appended:
                    commit.cancel()

        ticket = self.solvers.run(job, answered)
        gone = asyncio.ensure_future(_hung_up(request)) if request is not None else None
        try:
            if gone is not None:
                await asyncio.wait((settled, gone), return_when=asyncio.FIRST_COMPLETED)
                if not settled.done():
                    give_up()
                    return Response(status_code=499)  # nobody reads it
            error, (sent, received, reply) = await settled
        except asyncio.CancelledError:
            give_up()
            raise
        finally:
            if gone is not None:
                gone.cancel()
        if error is not None:
            raise error
        assert reply is not None
        status, payload, _ = reply
        if status != 200:
            return JSONResponse(payload, status_code=status)
        timing = (f"wait;dur={1000 * (sent - began):.1f}, answer;dur={1000 * (received - sent):.1f}, "
                  f"register;dur={1000 * (time.perf_counter() - received):.1f}")
        return Response(payload.encode("utf-8"), media_type=media_type, headers={"Server-Timing": timing})

    def close(self) -> None:
        """Finish the jobs in hand and their appends, then end the solvers and close the register."""
        self.solvers.close()
        self.commits.close()
        self.register.close()


# ------------------------------------------------------------------ requests


async def _hung_up(request: Request) -> None:
    """Returns when the client of a request whose body has been read hangs up (uvicorn's
    receive then waits for that, or for the response to be sent)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


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
            except SolverGone:  # its solver stopped: nothing answered, nothing recorded
                return JSONResponse({"error": "the request was not answered and nothing was recorded: ask again"},
                                    status_code=503)
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
    return await service.decide(("query", text, params, caller.name), request=request)


@endpoint("query")
async def record(request: Request, caller: Token) -> Response:
    """The record of each decision of a case: the JSON of `pyisp record --json`."""
    service: Service = request.app.state.service
    text, params = await _body(request, service.config.max_body), _options(request, {"reading"})
    return await service.decide(("record", text, params, caller.name), request=request)


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
    options = {"disclosure": params.get("disclosure"), "why": params.get("why"), "why_not": params.get("why_not"),
               "format": fmt}
    return await service.decide(("explain", text, options, caller.name), types[fmt])


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

    async def stream() -> AsyncIterator[str]:
        """Each answer once its decisions are durable; the lines are solved one after the
        other by the solvers, the next ones meanwhile (up to BATCH_WINDOW answers waiting on
        the register). A failed append ends the stream with a line saying so (the cases after
        it are neither answered nor recorded); a line whose solver stopped is answered with a
        line saying so, and the batch goes on. A client that hangs up ends the stream: the
        appends of the lines not sent are withdrawn where the writer has not taken them."""
        waiting: deque[tuple[int, str, asyncio.Future[None]]] = deque()

        async def flush(all_of_them: bool) -> AsyncIterator[str]:
            while waiting and (all_of_them or len(waiting) > BATCH_WINDOW or waiting[0][2].done()):
                number, text, recorded = waiting.popleft()
                try:
                    await recorded
                except RegisterError:
                    for _, _, later in reversed(waiting):
                        later.cancel()
                    waiting.clear()
                    yield compact_json({"line": number, "error": "the register cannot be written: the decision "
                                        "of this line was not recorded, and the batch stops here"}) + "\n"
                    raise _Stop from None
                yield text

        try:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    try:
                        status, text, made = await service.solve(("batch-line", line, {"line": number,
                                                                                        "params": params}, caller.name))
                        if status != 200:  # a fault of the server on this line (logged by the solver)
                            text, made = compact_json({"line": number, **text}) + "\n", []
                    except SolverGone:
                        text, made = compact_json({"line": number, "error": "this line was not answered and "
                                                   "nothing of it was recorded: send it again"}) + "\n", []
                    waiting.append((number, text, asyncio.ensure_future(service.record(made))))
                    async for out in flush(False):
                        yield out
            async for out in flush(True):
                yield out
        except _Stop:
            return
        finally:  # the client gone (the stream cancelled): the appends of lines it never got are withdrawn,
            # the last first, so that the writer, taking them in order meanwhile, leaves no gap
            for _, _, later in reversed(waiting):
                later.cancel()

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
    return await service.decide(("readings", "", {}, caller.name))


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
    rows = await asyncio.to_thread(lambda: list(service.register.rows(case)))
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

    head, problems = await asyncio.to_thread(check)
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
    text = await asyncio.to_thread(lambda: "".join(export(reg.rows(), fmt, audience)))
    return _text(text, "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson")


@endpoint("query")
async def openapi(request: Request, caller: Token) -> Response:
    """The OpenAPI document of this service."""
    return _text(dumps_json(openapi_document(ROUTES)) + "\n")


async def healthz(request: Request) -> Response:
    """Ready: the solvers are warm and one at least runs (no token needed; says nothing else)."""
    service: Service = request.app.state.service
    if not service.ready:
        return JSONResponse({"status": "starting"}, status_code=503)
    if not service.solvers.running():
        return JSONResponse({"status": "no solver running"}, status_code=503)
    return JSONResponse({"status": "ok"})


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


def solver_count(config: ServeConfig) -> int:
    """`--solvers`, else one per core this process may run on (a container's limit, not the machine's)."""
    if config.solvers:
        return config.solvers
    try:
        return len(os.sched_getaffinity(0)) or 2
    except (AttributeError, OSError):  # no affinity on this system
        return os.cpu_count() or 2


def create_app(config: ServeConfig, solvers: Solvers | None = None) -> Starlette:
    """The application; `app.state.service.start()` starts its solvers (before it serves),
    unless they are given started."""
    service = Service(config, solvers)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        service.close()  # the jobs and appends in hand finish first

    app = Starlette(routes=ROUTES, lifespan=lifespan)
    app.state.service = service
    return app

