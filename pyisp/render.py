"""Plain-text rendering of results for the terminal."""

from __future__ import annotations

from .reading import Reading
from .result import Conclusion, Result


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
        if disclosure.depends_on:
            lines.append("  depends on:")
            lines += [f"    {dep.text}" for dep in disclosure.depends_on]
        lines.append("")
    if result.unknowns:
        lines.append(f"{len(result.unknowns)} fact(s) not stated, treated as unknown: " + ", ".join(result.unknowns))
    return "\n".join(lines).rstrip() + "\n"


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
