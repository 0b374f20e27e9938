"""The solver processes of `pyisp serve`: warm engines in processes of their own, each
answering one job at a time over a pipe (jobs.py says what a job and its reply are).

In the acceptor (uvicorn's one process: the event loop and the register's writer) a
thread per solver sends its solver a job (pickled, over a socketpair that the event loop
never sees: the thread blocks on it), waits for the reply and hands it to the job's
callback, in that thread; so the event loop is woken only by what the callback does with
the reply. A job goes to a free solver at once, the one freed last (so that under a light
load one solver, its caches warm, answers); when none is free it waits, in order, for
the first solver to be free.

A solver is a new interpreter (`python -P -c ...` running `main` below, with the pyisp
the acceptor runs: ~0.5 s to import, ~0.4 s to load and warm the policy), started by its
thread, not forked from the acceptor, which by then has threads and open connections that
a child would inherit. It ignores SIGINT and SIGTERM (the acceptor ends it when it has
finished the jobs in hand: the pipe closed), and ends with its thread or the acceptor: the
kernel's parent-death signal (SIGKILL) and the pipe's end of file. A solver that dies
(killed, crashed) fails the job it had with `SolverGone`, and its thread starts another
and warms it before taking the next job; the other solvers go on meanwhile. A solver found
dead while idle costs no job. While a solver cannot be started, its thread fails the jobs
that wait for a free solver (rather than leave them waiting) and tries again each second.
"""

from __future__ import annotations

import ctypes
import logging
import os
import pickle
import queue
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Literal

from ..errors import PyispError
from .access import TOKENS_ENV
from .jobs import Job, Reply, run, warm

Done = Callable[[Reply | BaseException, float, float], None]  # the reply (or why none), when sent, when received
STARTING = 600  # seconds a solver may take to load and warm the policy
IDLE = 1.0  # seconds between looks at an idle solver (one that has stopped is replaced then)
PAUSE = 30.0  # the longest wait between tries to start a solver that cannot be started (1 s, doubling)
_PR_SET_PDEATHSIG = 1
_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding this pyisp package
_MAIN = "import sys; sys.path.insert(0, sys.argv[1]); from pyisp.server.solvers import main; sys.exit(main(sys.argv[2:]))"
log = logging.getLogger("uvicorn.error")


class SolverGone(Exception):
    """The solver answering a job stopped (killed, crashed) or could not be started: no reply."""


class SolverError(PyispError):
    """A solver could not start (the policy does not load or answer: the policy's error)."""


class Ticket:
    """A job waiting for a solver; `cancel` withdraws it if no solver has taken it yet."""

    __slots__ = ("job", "done", "_lock", "_state")

    def __init__(self, job: Job, done: Done) -> None:
        self.job, self.done = job, done
        self._lock = threading.Lock()
        self._state = "waiting"

    def cancel(self) -> bool:
        """Withdraw the job if no solver has taken it (then True)."""
        return self._leave("withdrawn")

    def take(self) -> bool:
        """Take the job for a solver unless it was withdrawn (then True)."""
        return self._leave("taken")

    def _leave(self, state: str) -> bool:
        with self._lock:
            if self._state == "waiting":
                self._state = state
                return True
            return False


class _Pipe:
    """One end of a solver's socketpair, blocking: objects pickled, each sent in one write
    (its length first), so that the reader is woken once for it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._poll = select.poll()  # not select.select: the acceptor's descriptors may pass 1024
        self._poll.register(sock, select.POLLIN)

    def send(self, thing: Any) -> None:
        data = pickle.dumps(thing, pickle.HIGHEST_PROTOCOL)
        self.sock.sendall(struct.pack("!I", len(data)) + data)

    def recv(self) -> Any:
        """The next object; EOFError when the other end is closed."""
        (size,) = struct.unpack("!I", self._exactly(4))
        return pickle.loads(self._exactly(size))

    def _exactly(self, size: int) -> bytearray:
        data = bytearray(size)
        view, got = memoryview(data), 0
        while got < size:
            more = self.sock.recv_into(view[got:], size - got)
            if not more:
                raise EOFError
            got += more
        return data

    def wait(self, seconds: float) -> bool:
        """Something to read (or the end) within `seconds`."""
        return bool(self._poll.poll(seconds * 1000))

    def ended(self) -> bool:
        """The other end spoke unasked, which a solver never does, or closed: it has stopped."""
        return self.wait(0)

    def close(self) -> None:
        self.sock.close()


class _Slot:
    """One solver's place: the thread that talks to it, the jobs handed to it while it was idle."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.inbox: queue.SimpleQueue[Ticket | None] = queue.SimpleQueue()


class Solvers:
    """`count` solver processes for `policy`; `start` once, `run` from any thread, `close` once."""

    def __init__(self, policy: str, count: int) -> None:
        self.policy, self.count = policy, count
        self._lock = threading.Lock()  # the idle solvers and the jobs waiting
        self._idle: list[_Slot] = []  # the one freed last at the end
        self._waiting: deque[Ticket] = deque()
        self._threads: list[threading.Thread] = []
        self._closing = False
        self._live: set[int] = set()  # the slots whose solver is running

    def start(self) -> None:
        """Start every solver and wait until each has answered its warm-up case; a SolverError
        (and no solver left) when one cannot."""
        started: list[threading.Event] = []
        failures: list[str] = []
        for number in range(self.count):
            ready = threading.Event()
            thread = threading.Thread(target=self._serve, args=(_Slot(number), ready, failures),
                                      name=f"pyisp-solver-{number}", daemon=True)
            thread.start()
            started.append(ready)
            self._threads.append(thread)
        for ready in started:
            ready.wait()
        if failures:
            self.close()
            raise SolverError(failures[0])

    def running(self) -> int:
        """How many solver processes run now (0 while none could be started again)."""
        with self._lock:
            return len(self._live)

    def run(self, job: Job, done: Done) -> Ticket:
        """Hand `job` to a free solver, or queue it for the first one free; `done` is called in
        that solver's thread (at once, with SolverGone, once the solvers are closing)."""
        ticket = Ticket(job, done)
        self._hand(ticket)
        return ticket

    def close(self) -> None:
        """Answer the jobs waiting, then end the solvers."""
        with self._lock:
            self._closing = True
            idle, self._idle = self._idle, []
        for slot in idle:
            slot.inbox.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _hand(self, ticket: Ticket) -> None:
        with self._lock:
            closing = self._closing
            slot = self._idle.pop() if self._idle and not closing else None
            if slot is None and not closing:
                self._waiting.append(ticket)
        if closing:
            ticket.done(SolverGone(), time.perf_counter(), time.perf_counter())
        elif slot is not None:
            slot.inbox.put(ticket)

    def _fail_waiting_if_none_live(self) -> None:
        """With no solver running (none could be started again), the jobs waiting get 503
        rather than waiting for one."""
        with self._lock:
            if self._live:
                return
            waiting, self._waiting = list(self._waiting), deque()
        for ticket in waiting:
            if ticket.take():
                ticket.done(SolverGone(), time.perf_counter(), time.perf_counter())

    def _next(self, slot: _Slot, conn: _Pipe | None) -> Ticket | None | Literal[False]:
        """The next job for this solver: a waiting one, else one handed to it once idle; None
        when closing; False when its solver stopped while idle (or it has none: then only a
        job that waits, if any)."""
        with self._lock:
            if self._waiting:
                return self._waiting.popleft()
            if self._closing:
                return None
            if conn is None:
                return False
            self._idle.append(slot)
        while True:
            try:
                return slot.inbox.get(timeout=IDLE)
            except queue.Empty:
                if not conn.ended():
                    continue
                with self._lock:
                    if slot not in self._idle:
                        continue  # a job is on its way: taken, then given back below
                    self._idle.remove(slot)
                return False

    # -------------------------------------------------------------- in a solver's thread

    def _spawn(self) -> tuple[subprocess.Popen[bytes], _Pipe]:
        """A new solver, warm (a SolverError when it cannot be)."""
        try:
            ours, theirs = socket.socketpair()
        except OSError as exc:  # out of descriptors or memory: as a solver that cannot start
            raise SolverError(f"no pipe to a solver process: {exc.strerror or exc}") from None
        try:  # -P and the path of this pyisp: the solver imports the pyisp the acceptor runs, not one in its cwd
            process = subprocess.Popen(
                [sys.executable, "-P", "-c", _MAIN, _ROOT, str(theirs.fileno()), str(os.getpid()), self.policy],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                env={k: v for k, v in os.environ.items() if k != TOKENS_ENV})  # the tokens stay in the acceptor
        except OSError as exc:
            ours.close()
            raise SolverError(f"a solver process cannot be started: {exc.strerror or exc}") from None
        finally:
            theirs.close()
        conn = _Pipe(ours)
        try:
            state, detail = conn.recv() if conn.wait(STARTING) else ("slow", None)
        except (EOFError, OSError):
            state, detail = "stopped", None
        if state != "ready":
            conn.close()
            code = _end(process, grace=1)
            raise SolverError(str(detail) if state == "failed" else f"a solver process was not warm in {STARTING} s"
                              if state == "slow" else f"a solver process stopped while starting ({_how(code)}; "
                              "its errors are above)")
        return process, conn

    def _serve(self, slot: _Slot, ready: threading.Event, failures: list[str]) -> None:
        """One solver's thread: start it (again when it stops), give it each job it is handed."""
        process: subprocess.Popen[bytes] | None = None
        conn: _Pipe | None = None

        def lost(what: str) -> None:
            nonlocal process, conn
            assert process is not None and conn is not None
            log.error("pyisp serve: solver %d (pid %d) stopped (%s) %s; starting another", slot.number, process.pid,
                      _how(_end(process)), what)
            conn.close()
            process = conn = None
            with self._lock:
                self._live.discard(slot.number)

        pause = 1.0
        try:
            while True:
                if process is None and not self._closing:
                    try:
                        process, conn = self._spawn()
                        pause = 1.0
                        with self._lock:
                            self._live.add(slot.number)
                    except SolverError as exc:
                        if not ready.is_set():  # at start: the server does not start
                            failures.append(exc.message)
                            return
                        log.error("pyisp serve: solver %d cannot be started (%s); trying again in %g s",
                                  slot.number, exc, pause)
                        self._fail_waiting_if_none_live()
                        time.sleep(pause)  # the other solvers take the jobs meanwhile
                        pause = min(pause * 2, PAUSE)
                        continue
                    ready.set()
                ticket = self._next(slot, conn)
                if ticket is None:
                    return
                if ticket is False:
                    if conn is not None:
                        lost("while idle")
                    else:
                        time.sleep(1)  # no solver, no job waiting: try to start one again
                    continue
                if conn is not None and conn.ended():  # stopped while idle, this job on its way
                    lost("while idle")
                    self._hand(ticket)  # to another solver
                    continue
                if not ticket.take():
                    continue  # withdrawn: its request is gone
                if process is None or conn is None:  # none could be started: the job is not left waiting
                    ticket.done(SolverGone(), time.perf_counter(), time.perf_counter())
                    continue
                sent = time.perf_counter()
                try:
                    conn.send(ticket.job)
                    reply: Reply = conn.recv()
                except (EOFError, OSError, pickle.UnpicklingError):
                    lost(f"during a {ticket.job[0]} job")
                    ticket.done(SolverGone(), sent, time.perf_counter())
                    continue
                ticket.done(reply, sent, time.perf_counter())
        finally:
            ready.set()
            with self._lock:
                self._live.discard(slot.number)
            if conn is not None:
                conn.close()  # the solver reads the end of its pipe and exits
            if process is not None:
                _end(process, grace=10)


def _end(process: subprocess.Popen[bytes], grace: float = 0) -> int:
    """Wait `grace` seconds for a solver to exit, then kill it; its exit status."""
    try:
        return process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def _how(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit {code}"


# ------------------------------------------------------------------ the solver process


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when the thread that started it ends (Linux); exit now if that
    has already happened."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe's end of file still ends it
        pass
    if os.getppid() != parent:
        os._exit(0)


def main(argv: list[str]) -> int:
    """A solver: warm up, say so, then answer each job until the pipe closes."""
    fd, parent, policy = int(argv[0]), int(argv[1]), argv[2]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the acceptor ends us
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)
    conn = _Pipe(socket.socket(fileno=fd))
    try:
        warm(policy)
    except PyispError as exc:
        conn.send(("failed", str(exc)))
        return 2
    except Exception as exc:  # noqa: BLE001 - whatever stops the warm-up is the message, not a traceback
        conn.send(("failed", f"the rules could not answer a case ({type(exc).__name__}: {str(exc)[:300]})"))
        return 2
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job: Any = conn.recv()
        except (EOFError, OSError):
            return 0
        reply = run(job, policy)
        try:
            conn.send(reply)
        except OSError:
            return 0
