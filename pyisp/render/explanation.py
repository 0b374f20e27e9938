"""Explanations as text, Markdown or one self-contained HTML file.

Every condition reads as a sentence, marked by whether it holds: [yes], [no], [?] (it
depends on facts the case leaves unknown). A false input reads "the case does not state
that ...", a false conclusion "it is not established that ...", an unknown one "it is
unknown whether ...". The HTML quotes cited paragraphs only from a source file the user
gives (their own copy of the guidance); otherwise its appendix lists the numbers.
"""

from __future__ import annotations

import html as _html
import re
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import CaseError
from ..explain import NO, UNCHECKED, UNKNOWN, YES, Change, Explanation, Statement, Step
from ..core.policy import paragraph_key
from ..core.schema import printable
from ..explain.wording import capital

MARK = {YES: "[yes]", NO: "[no]", UNKNOWN: "[?]", UNCHECKED: "[-]"}
STATUS = {"applies": "applies", "may apply": "applies only for some of the unknown facts",
          "does not apply": "does not apply"}
VERDICT_WORDS = {"must_share": "MUST SHARE", "may_share": "MAY SHARE", "must_not_share": "MUST NOT SHARE",
                 "undetermined": "UNDETERMINED"}
LEAD = {"applies": "because", "may apply": "perhaps because", "does not apply": "not by"}
QUESTION = {"verdict": "Why this verdict", "why": "Why", "why_not": "Why not"}


def phrase(statement: Statement, negated: bool = False) -> str:
    """The sentence for a statement, worded by its truth (see the module docstring)."""
    s = statement
    if s.truth == YES:
        text = s.sentence
        if negated:
            text += " (the rule needs this not to be so)"
    elif s.truth == NO:
        if s.denial:
            text = s.denial
        elif s.kind == "input":
            text = f"the case does not state that {s.sentence}"
        elif s.kind == "comparison":
            text = f"it is not so that {s.sentence}"
        else:
            text = f"it is not established that {s.sentence}"
    elif s.truth == UNKNOWN:
        text = f"it is unknown whether {s.sentence}"
    else:
        text = f"not checked: {s.sentence}"
    return capital(text)


def _suffix(statement: Statement) -> str:
    parts = []
    if statement.kind == "input":
        if statement.field:
            parts.append(f"unknown: case field {statement.field}")
        elif statement.truth == YES:
            parts.append("stated in the case")
    if statement.repeated:
        parts.append("explained above")
    if statement.note:
        parts.append(statement.note)
    return f" ({'; '.join(parts)})" if parts else ""


def _step_line(step: Step) -> str:
    paragraphs = ", ".join(step.paragraphs) or "no paragraph"
    more = f"; {step.more} more instance(s) of this rule not shown" if step.more else ""
    note = f"; {step.note}" if step.note else ""
    return f"{paragraphs}: {step.summary} ({step.rule}; {STATUS[step.status]}{note}{more})"


# -- text ---------------------------------------------------------------------------
def _text_statement(statement: Statement, mark: str, negated: bool, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    out.append(f"{pad}{mark} {phrase(statement, negated)}{_suffix(statement)}")
    for check in statement.cases:
        _text_statement(check.statement, MARK[check.holds], check.negated, indent + 1, out)
    for step in statement.steps:
        out.append(f"{pad}  {LEAD[step.status]} {_step_line(step)}")
        for check in step.checks:
            _text_statement(check.statement, MARK[check.holds], check.negated, indent + 2, out)


def _header(ex: Explanation) -> list[str]:
    lines = [f"Case {ex.case_id}" + (f": {ex.title}" if ex.title else ""),
             f'Disclosure "{ex.disclosure}"' + (f": {ex.description}" if ex.description else ""),
             f"Verdict: {VERDICT_WORDS[ex.verdict]}"]
    if ex.question == "verdict":
        lines.append(ex.answer)
    else:
        lines.append(f"{QUESTION[ex.question]} {ex.target}? {ex.answer}")
    return lines


def _change_line(change: Change, links: bool = False) -> str:
    conditions = " and ".join(change.conditions)
    verdict = f" (verdict: {change.verdict.replace('_', ' ')})" if change.verdict else ""
    fields = ", ".join(change.fields)
    cited = f" ({', '.join(change.paragraphs)})" if change.paragraphs and not links else ""
    return f"If {conditions}{cited}, then {change.effect}{verdict}. [{fields}]"


def _changes_title(ex: Explanation) -> str:
    return "What would settle it" if ex.verdict == "undetermined" else "What could still change it"


def text(ex: Explanation) -> str:
    """Plain text, indented by depth; for the terminal and for golden files."""
    out = _header(ex) + [""]
    for statement in ex.statements:
        _text_statement(statement, MARK[statement.truth], False, 0, out)
        out.append("")
    if ex.changes:
        out.append(f"{_changes_title(ex)}:")
        out += [f"- {_change_line(c)}" for c in ex.changes]
        out.append("")
    out += ex.notes
    out.append(f"Paragraphs cited: {', '.join(ex.paragraphs) or 'none'}")
    out += _footer(ex)
    return "\n".join(printable(line) for line in out).rstrip() + "\n"  # case text cannot start a line


def _footer(ex: Explanation) -> list[str]:
    """The provenance line at the end: pyisp version, rules fingerprint, readings, presumptions."""
    provenance = getattr(ex, "provenance", None)
    return [f"Answered by {provenance.text}"] if provenance is not None else []


# -- Markdown -------------------------------------------------------------------------
def _md_statement(statement: Statement, mark: str, negated: bool, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    out.append(f"{pad}- **{mark}** {_md_escape(phrase(statement, negated))}{_md_escape(_suffix(statement))}")
    for check in statement.cases:
        _md_statement(check.statement, MARK[check.holds], check.negated, indent + 1, out)
    for step in statement.steps:
        paragraphs = ", ".join(step.paragraphs) or "no paragraph"
        more = f"; {step.more} more instance(s) not shown" if step.more else ""
        note = f"; {step.note}" if step.note else ""
        out.append(f"{pad}  - {LEAD[step.status]} *{paragraphs}*: {_md_escape(step.summary)} "
                   f"(`{step.rule}`; {STATUS[step.status]}{_md_escape(note)}{more})")
        for check in step.checks:
            _md_statement(check.statement, MARK[check.holds], check.negated, indent + 2, out)


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def markdown(ex: Explanation) -> str:
    """Markdown with nested lists, for review documents."""
    out = [f"## {_md_escape(ex.disclosure)}: {VERDICT_WORDS[ex.verdict].lower()}", ""]
    out.append(f"Case `{ex.case_id}`" + (f": {_md_escape(ex.title)}" if ex.title else ""))
    if ex.description:
        out += ["", f"Disclosure: {_md_escape(ex.description)}"]
    answer = ex.answer if ex.question == "verdict" else f"{QUESTION[ex.question]} `{ex.target}`? {ex.answer}"
    out += ["", f"**{_md_escape(answer)}**", ""]
    for statement in ex.statements:
        _md_statement(statement, MARK[statement.truth], False, 0, out)
    if ex.changes:
        out += ["", f"### {_changes_title(ex)}", ""]
        out += [f"- {_md_escape(_change_line(c))}" for c in ex.changes]
    if ex.notes:
        out += [""] + [_md_escape(n) for n in ex.notes]
    out += ["", f"Paragraphs cited: {', '.join(ex.paragraphs) or 'none'}"]
    out += [""] + [_md_escape(line) for line in _footer(ex)]
    return "\n".join(printable(line) for line in out).rstrip() + "\n"  # case text cannot start a line


# -- HTML -------------------------------------------------------------------------------
_NUMBER = re.compile(r"^\s*(\d+\.\d+\.\d+)\b\s*(.*)$")
_BREAK = re.compile(r"^\s*(\d+\.\d+|Q\d+)\s*$")


def source_paragraphs(path: str | Path) -> dict[str, str]:
    """The paragraphs of the user's copy of the guidance, by number (3.3.15 -> its text)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CaseError(f"cannot read the source file: {exc.strerror}", where=str(path)) from None
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        match = _NUMBER.match(line)
        if match:
            current = found.setdefault(match.group(1), [])
            if match.group(2):
                current.append(match.group(2))
            continue
        if _BREAK.match(line):
            current = None
            continue
        if current is not None and line.strip():
            current.append(line.strip())
    return {number: " ".join(parts) for number, parts in found.items()}


def _anchor(number: str) -> str:
    return "para-" + number.replace(".", "-")


def _links(paragraphs: Sequence[str]) -> str:
    if not paragraphs:
        return "no paragraph"
    return ", ".join(f'<a href="#{_anchor(p)}">{p}</a>' for p in paragraphs)


_CLASS = {YES: "yes", NO: "no", UNKNOWN: "unknown", UNCHECKED: "unchecked"}


def _e(text: str) -> str:
    """HTML-escaped, control characters escaped too (the page may be printed to a terminal)."""
    return _html.escape(printable(text))


def _html_statement(statement: Statement, holds: str, negated: bool, out: list[str], top: bool = False) -> None:
    e = _e
    label = (f'<span class="mark {_CLASS[holds]}">{e(MARK[holds])}</span> '
             f"{e(phrase(statement, negated))}<span class=\"aside\">{e(_suffix(statement))}</span>")
    children = statement.steps or statement.cases
    if not children:
        out.append(f'<li class="leaf">{label}</li>')
        return
    is_open = " open" if holds != YES or top else ""
    out.append(f"<li><details{is_open}><summary>{label}</summary><ul>")
    for check in statement.cases:
        _html_statement(check.statement, check.holds, check.negated, out)
    for step in statement.steps:
        out.append(f'<li class="step"><details open><summary>{LEAD[step.status]} {_links(step.paragraphs)}: '
                   f'{e(step.summary)} <span class="aside">({e(step.rule)}; {e(STATUS[step.status])}'
                   f'{"; " + e(step.note) if step.note else ""}'
                   f'{"; " + str(step.more) + " more instance(s) not shown" if step.more else ""})</span>'
                   f"</summary><ul>")
        for check in step.checks:
            _html_statement(check.statement, check.holds, check.negated, out)
        out.append("</ul></details></li>")
    out.append("</ul></details></li>")


_STYLE = """
body{font-family:Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.25rem;border-top:2px solid #ccc;padding-top:1rem}
.verdict{font-size:1.2rem;font-weight:bold;padding:.5rem .8rem;border-radius:4px;display:inline-block}
.must_share{background:#dbeafe}.may_share{background:#dcfce7}.must_not_share{background:#fee2e2}
.undetermined{background:#fef9c3}
ul{list-style:none;padding-left:1.2rem;margin:.2rem 0}li{margin:.15rem 0}
summary{cursor:pointer}.step>details>summary{font-style:italic;color:#333}
.mark{font-family:monospace;font-weight:bold}.yes{color:#166534}.no{color:#991b1b}
.unknown{color:#92400e}.unchecked{color:#555}.aside{color:#666;font-size:.9em}
blockquote{margin:.3rem 0 1rem 1rem;color:#333;border-left:3px solid #ccc;padding-left:.6rem}
dt{font-weight:bold}:target{background:#fff3bf}
"""


def html(explanations: Iterable[Explanation], source: str | Path | None = None) -> str:
    """One self-contained HTML page: a section per disclosure, the verdict first,
    collapsible steps, every paragraph number linked to the appendix."""
    e = _e
    items = list(explanations)
    quotes = source_paragraphs(source) if source else {}
    first = items[0] if items else None
    title = f"pyisp explanation: {first.case_id}" if first else "pyisp explanation"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>"]
    if first:
        out.append(f"<h1>Case {e(first.case_id)}</h1>")
        if first.title:
            out.append(f"<p>{e(first.title)}</p>")
    cited: set[str] = set()
    for ex in items:
        cited |= set(ex.paragraphs)
        out.append(f'<section id="disclosure-{e(ex.disclosure)}"><h2>Disclosure “{e(ex.disclosure)}”</h2>')
        out.append(f'<p class="verdict {e(ex.verdict)}">Verdict: {e(VERDICT_WORDS[ex.verdict])}</p>')
        if ex.description:
            out.append(f"<p>{e(ex.description)}</p>")
        answer = ex.answer if ex.question == "verdict" else f"{QUESTION[ex.question]} {ex.target}? {ex.answer}"
        out.append(f"<p><strong>{e(answer)}</strong></p><ul>")
        for statement in ex.statements:
            _html_statement(statement, statement.truth, False, out, top=True)
        out.append("</ul>")
        if ex.changes:
            out.append(f'<h3 id="changes-{e(ex.disclosure)}">{e(_changes_title(ex))}</h3><ul>')
            out += [f"<li>{e(_change_line(c, links=True))} <span class=\"aside\">{_links(c.paragraphs)}</span></li>"
                    for c in ex.changes]
            out.append("</ul>")
        out += [f"<p>{e(n)}</p>" for n in ex.notes]
        out.append(f"<p class=\"aside\">Paragraphs cited: {_links(ex.paragraphs)}</p>")
        out += [f"<p class=\"aside\">{e(line)}</p>" for line in _footer(ex)]
        out.append("</section>")
    out.append('<section id="appendix"><h2>Appendix: paragraphs cited</h2>')
    if not quotes:
        out.append("<p class=\"aside\">Give the guidance with --source FILE to quote each paragraph here.</p>")
    out.append("<dl>")
    for number in sorted(cited, key=paragraph_key):
        out.append(f'<dt id="{_anchor(number)}">{e(number)}</dt>')
        if number in quotes:
            out.append(f"<dd><blockquote>{e(quotes[number])}</blockquote></dd>")
        elif quotes:
            out.append('<dd class="aside">not found in the source file</dd>')
    out.append("</dl></section></body></html>")
    return "\n".join(out) + "\n"





FORMATS = ("text", "markdown", "html", "json")


def render(explanations: Sequence[Explanation], fmt: str = "text", source: str | Path | None = None) -> str:
    """Several explanations (one per disclosure) in one of FORMATS."""
    if fmt == "html":
        return html(explanations, source)
    if fmt == "json":
        from ..core.case import dumps_json

        case = explanations[0].case_id if explanations else ""
        return dumps_json({"case": case, "explanations": [e.to_dict() for e in explanations]}) + "\n"
    if fmt == "markdown":
        first = explanations[0] if explanations else None
        head = [f"# Case {first.case_id}", ""] if first else []
        return "\n".join(head) + "\n".join(markdown(e) for e in explanations)
    if fmt == "text":
        return ("\n" + "-" * 72 + "\n\n").join(text(e) for e in explanations)
    raise CaseError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", where="--format")
