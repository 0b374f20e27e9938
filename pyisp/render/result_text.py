"""Plain-text rendering of results for the terminal."""

from __future__ import annotations

from ..core.presumption import Presumption
from ..core.reading import Reading
from ..core.result import Conclusion, Result
from ..core.schema import printable


QUESTIONS_SHOWN = 10  # the verdict's questions come first, so none of those is ever cut


def _conclusion_line(item: Conclusion) -> str:
    return f"    {item.status:<8} {item.label:<58} {', '.join(item.paragraphs)}"


def result_text(result: Result) -> str:
    """A readable summary: per disclosure the verdict, findings, obligations and what it depends on."""
    lines = [f"case {result.case_id}" + (f": {result.title}" if result.title else ""), ""]
    for disclosure in result.disclosures:
        lines.append(f"{disclosure.id}: {disclosure.verdict.upper().replace('_', ' ')}"
                     f"   (permitted: {disclosure.permitted}, required: {disclosure.required};"
                     f" {', '.join(disclosure.paragraphs)})")
        lines.append("  findings:")
        lines += [_conclusion_line(f) for f in disclosure.findings]
        lines.append("  obligations:")
        lines += [_conclusion_line(o) for o in disclosure.obligations]
        if disclosure.verdict == "undetermined" and disclosure.possible_verdicts:
            lines.append("  possible: " + ", ".join(v.replace("_", " ") for v in disclosure.possible_verdicts))
        if disclosure.depends_on:
            lines.append("  depends on:")
            lines += [f"    {dep.text}" for dep in disclosure.depends_on]
        if disclosure.assumptions:
            lines.append("  assumed, not stated (the verdict rests on it):")
            for line in dict.fromkeys(
                    f"    {item.text} ({', '.join(item.paragraphs)}); if not: "
                    + (" or ".join(v.replace("_", " ") for v in item.if_not) or "no verdict")
                    for item in disclosure.assumptions):
                lines.append(line)
        if disclosure.questions:
            lines.append("  not stated, and would change the answer:")
            lines += [f"    {q.text}" + (" (decides the verdict)" if q.changes == "verdict" else "")
                      for q in disclosure.questions[:QUESTIONS_SHOWN]]
            if len(disclosure.questions) > QUESTIONS_SHOWN:
                lines.append(f"    ... and {len(disclosure.questions) - QUESTIONS_SHOWN} more that change only what "
                             "to do (--json lists them)")
        lines.append("")
    if result.presumptions:
        lines.append("presumed (switch off with --no-presume NAME or --strict): "
                     + ", ".join(sorted({a.name for a in result.presumptions})))
    if result.unknowns:
        lines.append(f"{len(result.unknowns)} other fact(s) not stated, treated as unknown")
    return "\n".join(printable(line) for line in lines).rstrip() + "\n"  # case text cannot start a line


def presumptions_text(found: tuple[Presumption, ...]) -> str:
    """Each presumption: name, paragraphs, what is taken as so."""
    lines = []
    for item in found:
        lines.append(f"{item.name}  ({', '.join(item.paragraphs)})")
        lines.append(f"  {item.text}")
    lines.append("")
    lines.append("Each applies only to a fact the case leaves out; switch one off with --no-presume NAME, all with --strict.")
    return "\n".join(lines) + "\n"


def readings_text(found: tuple[Reading, ...]) -> str:
    """Each reading: name, paragraphs, question, and its alternatives with the default marked."""
    lines = []
    for reading in found:
        lines.append(f"{reading.name}  ({', '.join(reading.paragraphs)})")
        lines.append(f"  {reading.question}")
        for value, text in reading.options:
            mark = "*" if value == reading.default else " "
            lines.append(f"  {mark} {value}: {text}")
        lines.append("")
    lines.append("* the default; choose another with --reading NAME=VALUE")
    return "\n".join(lines) + "\n"
