"""The settings of `pyisp serve`, one value object, built by the command line. Tokens are
never in it: the service reads them from the file or PYISP_TOKENS itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeConfig:
    policy: str | None = None         # the policy directory (None: the one in force)
    register: str | None = None       # where decisions are appended: a file path or a URL ("" for the default)
    tokens_file: str | None = None    # else PYISP_TOKENS
    max_body: int = 4_000_000         # bytes of one request (a case); a batch may have max_batch_body
    max_batch_body: int = 64_000_000
    max_batch_lines: int = 10_000
    solvers: int = 0                  # solver processes, each with its own warm engine (0: one a core)

