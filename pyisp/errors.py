"""pyisp's exceptions: one base class, each subclass keeps where the problem is."""

from __future__ import annotations


class PyispError(Exception):
    """Base class of every error pyisp raises on bad input or a broken policy."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class CaseError(PyispError):
    """A case document is malformed; `where` is the field path (``disclosures[0].purpose``)."""


class ContradictionError(CaseError):
    """A case states facts that cannot all be true."""


class PolicyError(PyispError):
    """A rule file cannot be loaded; `where` is ``file:line``."""


class ScenarioError(PyispError):
    """A scenario file is malformed; `where` is ``file:line: field`` (pyisp/authoring/scenarios.py)."""
