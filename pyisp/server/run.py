"""`pyisp serve`: check everything the service needs (the tokens load, the address is free,
the policy answers a case, the register opens) and start the solver processes, so that a
broken set-up stops here with a message and exit 2; then run uvicorn in this process (the
acceptor), which listens once all that is done."""

from __future__ import annotations

import socket

from ..core.service import checked_policy
from ..errors import PyispError
from .access import load_tokens
from ..core.policy import resolve_policy_dir
from .app import create_app, solver_count
from .solvers import Solvers
from .config import ServeConfig


class ServeError(PyispError):
    """The server cannot listen where it is asked to; `where` is host:port."""


def check(config: ServeConfig, host: str, port: int) -> None:
    """Raise the PyispError that would stop the service before anything is made on disk:
    tokens, address, the rules (parsed and checked). `serve` then starts the solvers (each
    answers a case) and only then opens the register."""
    load_tokens(config.tokens_file)
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except (OSError, OverflowError) as exc:
        raise ServeError(f"cannot listen there: {getattr(exc, 'strerror', None) or exc}", where=f"{host}:{port}") from None
    checked_policy(config.policy)


def serve(config: ServeConfig, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info") -> None:
    import uvicorn

    check(config, host, port)
    solvers = Solvers(str(resolve_policy_dir(config.policy)), solver_count(config))
    solvers.start()  # warm, before the register is opened (a SolverError if one cannot start)
    try:
        app = create_app(config, solvers)  # opens the register (a RegisterError if it cannot be)
    except BaseException:
        solvers.close()
        raise
    # the access log only where its lines would be shown (at warning and above uvicorn would
    # still build each line, for nothing); uvicorn's uvloop and httptools when installed (auto)
    uvicorn.run(app, host=host, port=port,
                log_level=log_level, server_header=False, date_header=False,
                access_log=log_level.lower() in ("trace", "debug", "info"))
