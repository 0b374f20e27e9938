"""`pyisp serve`: check everything a worker needs (the policy answers a case, the tokens
load, the register opens) in this process, so that a broken set-up stops here with a
message and exit 2, then start uvicorn with the settings in the environment."""

from __future__ import annotations

import os

from ..register import open_register
from .access import load_tokens
from .app import warm
from .config import ENV, ServeConfig


def check(config: ServeConfig) -> None:
    """Raise the PyispError that would stop a worker: policy, tokens, register."""
    load_tokens(config.tokens_file)
    warm(config.policy)
    open_register(config.register or None).close()


def serve(config: ServeConfig, host: str = "127.0.0.1", port: int = 8080, workers: int = 1,
          log_level: str = "info") -> None:
    import uvicorn

    check(config)
    os.environ[ENV] = config.to_env()
    uvicorn.run("pyisp.server.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, server_header=False, date_header=False)
