"""Traceability: every numbered paragraph of chapter 3 with the rules that encode it, or
the reason it is context only (policy/traceability.yaml). The rules of an encoded
paragraph are found from the citations in policy/*.lp, never listed by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import yaml

from ..errors import PolicyError
from ..core.policy import Policy, paragraph_key

MAP_FILE = "traceability.yaml"
STATUSES = ("encoded", "context")


@dataclass(frozen=True)
class TraceRow:
    """One paragraph: encoded (with the rules citing it) or context (with a reason)."""

    paragraph: str
    status: str
    rules: tuple[str, ...]
    summaries: tuple[str, ...]
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"paragraph": self.paragraph, "status": self.status, "rules": list(self.rules),
                "summaries": list(self.summaries), "note": self.note}


def load_map(policy: Policy) -> dict[str, dict[str, str]]:
    """The classification of policy/traceability.yaml, checked for shape."""
    path = policy.directory / MAP_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read the traceability map: {exc.strerror}", where=str(path)) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}", where=str(path)) from None
    entries = (data or {}).get("paragraphs") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise PolicyError("expected a mapping 'paragraphs:' of paragraph numbers", where=str(path))
    for number, entry in entries.items():
        where = f"{path}: {number}"
        if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
            raise PolicyError(f"status must be one of {', '.join(STATUSES)}", where=where)
        if entry["status"] == "context" and not str(entry.get("reason", "")).strip():
            raise PolicyError("a context paragraph needs a one-line reason", where=where)
    return {str(k): v for k, v in entries.items()}


def trace(policy: Policy) -> tuple[TraceRow, ...]:
    """The matrix: a row per paragraph of the map, in the chapter's order."""
    entries = load_map(policy)
    citing: dict[str, list[Any]] = {}
    for rule in policy.cited_rules:
        for number in rule.paragraphs:
            citing.setdefault(number, []).append(rule)
    rows = []
    for number in sorted(entries, key=paragraph_key):
        entry = entries[number]
        rules = citing.get(number, [])
        summaries = tuple(dict.fromkeys(r.summary for r in rules))
        note = str(entry.get("reason") or entry.get("note") or "")
        rows.append(TraceRow(number, entry["status"], tuple(r.where for r in rules), summaries, note))
    return tuple(rows)


def trace_text(rows: tuple[TraceRow, ...]) -> str:
    """One line per paragraph: status, how many rules, and the rules or the reason."""
    return _table(rows, [], _text_row)


def trace_markdown(rows: tuple[TraceRow, ...]) -> str:
    """A Markdown table for legal reviewers: paragraph, status, the rules (file:line) and what they say."""
    return _table(rows, ["| Paragraph | Status | Rules | What the rules say, or why it is context |",
                         "|---|---|---|---|"], _markdown_row)


def _table(rows: tuple[TraceRow, ...], header: list[str], line: Callable[[TraceRow], str]) -> str:
    return "\n".join([*header, *(line(row) for row in rows), "", _summary(rows)]) + "\n"


def _text_row(row: TraceRow) -> str:
    if row.status != "encoded":
        return f"{row.paragraph:<8} context  {row.note}"
    files = ", ".join(dict.fromkeys(r.split(":")[0] for r in row.rules))
    extra = f"  ({row.note})" if row.note else ""
    return f"{row.paragraph:<8} encoded  {len(row.rules):>3} rule(s) in {files}{extra}"


def _markdown_row(row: TraceRow) -> str:
    if row.status != "encoded":
        return f"| {row.paragraph} | context | | {_cell(row.note)} |"
    said = "; ".join(row.summaries) + (f" *Note: {row.note}*" if row.note else "")
    return f"| {row.paragraph} | encoded | {', '.join(f'`{r}`' for r in row.rules)} | {_cell(said)} |"


def trace_json(rows: tuple[TraceRow, ...]) -> str:
    return json.dumps([r.to_dict() for r in rows], indent=2, sort_keys=True, ensure_ascii=False)


def _summary(rows: tuple[TraceRow, ...]) -> str:
    encoded = sum(1 for r in rows if r.status == "encoded")
    return f"{len(rows)} paragraphs: {encoded} encoded, {len(rows) - encoded} context"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
