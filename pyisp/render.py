"""Plain-text rendering of results for the terminal."""

from __future__ import annotations

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
