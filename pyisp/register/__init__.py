"""The decision register (3.3.29, 3.5.21, 3.7.9: every decision to share or not is recorded
with its reasons, where the next person asked can find it): an append-only, hash-chained
log of decisions on SQLite (embedded, the default) or PostgreSQL (by URL).

- `entry.py`: what one decision stores, built from a Result (one entry per disclosure).
- `store.py`: the two backends, appending a case's entries in one transaction.
- `group.py`: group commit, the appends of a server's requests written together.
- `chain.py`: the hash chain and `verify`, naming an edited, deleted or reordered row.
- `masking.py` (+ `masking.yaml`): what each audience of an export may see.
"""

from __future__ import annotations

from .chain import Problem, verify
from .entry import brief_text, entries
from .group import GroupCommit
from .masking import AUDIENCES, export
from .store import DEFAULT_REGISTER, Register, Row, open_register

__all__ = ["Register", "Row", "open_register", "DEFAULT_REGISTER", "entries", "brief_text", "verify", "Problem",
           "export", "AUDIENCES", "record_result", "GroupCommit"]


def record_result(register: Register, result: object, who: str) -> list[int]:
    """Append every decision of a Result (one row per disclosure, all or none); returns their row numbers."""
    return register.append(entries(result, who))
