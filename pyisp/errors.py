"""pyisp's exceptions: one base class, each subclass keeps where the problem is."""

from __future__ import annotations

import re
from dataclasses import dataclass


class PyispError(Exception):
    """Base class of every error pyisp raises on bad input or a broken policy."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class CaseError(PyispError):
    """A case document is malformed; `where` is the field path (``disclosures[0].purpose``).

    `errors` lists every problem found in the case (validation collects them, up to a cap),
    each as a CaseProblem (path, message, suggestion); the first is this error's own message."""

    def __init__(self, message: str, *, where: str | None = None,
                 errors: "list[CaseProblem] | None" = None) -> None:
        super().__init__(message, where=where)
        self._errors = list(errors) if errors else None

    @property
    def errors(self) -> "list[CaseProblem]":
        return list(self._errors) if self._errors else [CaseProblem.of(self)]


@dataclass(frozen=True)
class CaseProblem:
    """One problem of a case: the field path, what is wrong, and a suggested fix (or None)."""

    path: str
    message: str
    suggestion: str | None = None

    @classmethod
    def of(cls, error: PyispError) -> "CaseProblem":
        found = _SUGGESTION.search(error.message)
        return cls(error.where or "(case)", error.message, found.group(1) if found else None)

    def to_dict(self) -> dict[str, str | None]:
        return {"path": self.path, "message": self.message, "suggestion": self.suggestion}


_SUGGESTION = re.compile(r"\(did you mean '([^']*)'\?\)")


class ContradictionError(CaseError):
    """A case states facts that cannot all be true."""


class PolicyError(PyispError):
    """A rule file cannot be loaded; `where` is ``file:line``."""


class UsageError(PyispError):
    """Options that cannot work together (e.g. a batch output that is its input), found
    before anything is read or written; `where` names the option."""


class OutputError(PyispError):
    """An output file cannot be written (not writable, disk full); what was written before
    stays, so a run can be resumed."""


class ScenarioError(PyispError):
    """A scenario file is malformed; `where` is ``file:line: field`` (pyisp/authoring/scenarios.py)."""
