"""Plain-text rendering of `pyisp verify`, `pyisp diff` and `pyisp mutate` results."""

from __future__ import annotations

import re
from typing import Any, Sequence

import yaml

from .diff import DiffReport, side_by_side
from .verify import Outcome


def case_yaml(doc: dict[str, Any]) -> str:
    """A case document as YAML, ready for `pyisp query` (innermost mappings and lists on one line)."""
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110, default_flow_style=None)


_DISCLOSURE_LINE = re.compile(r"^[^\s:]+: [A-Z]")


def _changed_lines(old: str, new: str) -> tuple[str, str]:
    """The two answers cut to each disclosure's verdict line and the lines that differ."""
    a, b = old.splitlines(), new.splitlines()
    keep_a = [line for line in a if _DISCLOSURE_LINE.match(line) or line not in b]
    keep_b = [line for line in b if _DISCLOSURE_LINE.match(line) or line not in a]
    return "\n".join(keep_a), "\n".join(keep_b)


def outcomes_text(outcomes: Sequence[Outcome]) -> str:
    """One line per property and domain; then each counterexample with its answer."""
    lines = [o.line + (f" ({o.detail})" if o.holds and o.detail else "") for o in outcomes]
    for o in outcomes:
        if o.holds:
            continue
        lines += ["", f"--- {o.prop.name} ({', '.join(o.prop.paragraphs)}): {o.prop.statement}"]
        if o.detail:
            lines.append(o.detail)
        if o.violations:
            lines.append("violated: " + ", ".join(o.violations))
        if o.counterexample:
            lines += ["counterexample, every fact it does not need left out (save as a .yaml file and run "
                      "`pyisp query` on it):", "",
                      case_yaml(o.counterexample).rstrip()]
        if o.result_text:
            lines += ["", "its answer (pyisp query on the case for the whole of it):"]
            lines += [line for line in o.result_text.splitlines() if _DISCLOSURE_LINE.match(line)]
    failed = sum(1 for o in outcomes if not o.holds)
    lines += ["", f"{len(outcomes) - failed} of {len(outcomes)} checks hold" + (f", {failed} fail" if failed else "")]
    return "\n".join(lines)


def diff_text(reports: Sequence[DiffReport]) -> str:
    """Each differing output with its case and both answers side by side, or the all-clear."""
    lines: list[str] = []
    for report in reports:
        if not report.differences:
            lines.append(f"no case with {report.bounds.text} tells them apart "
                         f"({report.inputs} inputs, {report.seconds:.2f} s)")
            continue
        lines.append(f"{len(report.differences)} output(s) differ on cases with {report.bounds.text} "
                     f"({report.inputs} inputs, {report.seconds:.2f} s):")
        lines += [f"  {d.output}: {'; '.join(d.atoms)}" for d in report.differences]
        lines.append("a case for each, every fact the difference does not need left out, with both answers "
                     "(OLD | NEW, * marks a changed line):")
        for d in report.differences:
            old, new = _changed_lines(d.old_text, d.new_text)
            lines += ["", f"=== {d.output}: " + "; ".join(d.atoms), "", case_yaml(d.case).rstrip(), "",
                      side_by_side(old, new)]
    return "\n".join(lines)
