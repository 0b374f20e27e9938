"""Explanations as text, Markdown or one self-contained HTML file, for a reviewer.

Each disclosure opens with its brief (pyisp/render/brief.py, the same as `pyisp query`
prints: the verdict in a sentence, what decides it with its paragraphs, what to do now,
the questions that would settle it), then what else the open facts may require, what
would settle or change the answer, and, only when asked (`full`), the derivation. The
footer says once what the result rests on (unknowns, presumptions: `brief_footer`).

The derivation marks each condition of a rule by whether it is met: [met], [fails],
[open] (it turns on facts the case leaves open). Its sentences are worded by where a
fact comes from, so a reviewer never meets a double negative:
- stated in the case and so: the sentence, "(stated)";
- stated, and not so: "The case says no: <sentence>" (or the template's own denial);
- not stated, and presumed: "Presumed (the case is silent): <what is presumed>";
- not stated, and left open: "Open question: <the case format's question>";
- a conclusion that does not follow: "Not made out: <sentence>";
- a condition a rule needs to be false, and which holds: "<sentence>, which rules this out".
Routes ruled out by a stated fact about the sender, recipient or proposal take one line,
not expanded; a statement already explained is not repeated.

Given the user's own copy of the guidance (`source`), every format quotes the operative
sentence of each deciding paragraph beside it, and the HTML's appendix gives each cited
paragraph whole; the HTML prints cleanly.
"""

from __future__ import annotations

import html as _html
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import CaseError
from ..explain import NO, UNCHECKED, UNKNOWN, YES, VERDICT_NAMES, Change, Explanation, Statement, Step
from ..core.policy import paragraph_key
from ..core.schema import printable
from ..explain.wording import capital
from .brief import Line, brief_footer, brief_html, brief_markdown_lines, brief_parts, md_escape, text_line

MARK = {YES: "[met]", NO: "[fails]", UNKNOWN: "[open]", UNCHECKED: "[-]"}
STATUS = {"applies": "applies", "may apply": "applies for some of the open facts only",
          "does not apply": "does not apply"}
VERDICT_WORDS = VERDICT_NAMES
LEAD = {"applies": "because", "may apply": "perhaps because", "does not apply": "unmet rule"}
QUESTION = {"verdict": "Why this verdict", "why": "Why", "why_not": "Why not"}
STRENGTH = {"must": "Must", "should": "Should", "may": "May"}
_NEGATIVE = re.compile(r"\b(not|no|never|nobody|none|nothing|cannot|neither|nor)\b|n't\b", re.I)


def _negative(text: str) -> bool:
    return bool(_NEGATIVE.search(text))


def phrase(statement: Statement, negated: bool = False, holds: str | None = None) -> str:
    """The sentence for a statement, worded by its truth and where it comes from (see the
    module docstring). `negated`: the rule needs it not to hold; `holds`: whether the rule's
    condition is met."""
    s = statement
    if negated and s.truth == YES:
        return capital(f"{s.sentence}, which rules this out")
    if s.truth == YES:
        text = s.sentence
        if s.given == "presumed":
            text = f"Presumed (the case is silent): {s.note}"
    elif s.truth == NO:
        if s.given == "presumed":
            text = f"Presumed (the case is silent): {s.note}"
        elif s.denial:
            text = s.denial
        elif s.kind == "input":
            text = f"The case says no: {s.sentence}"
        elif s.kind == "all":
            text = f"Fails in some instance: {s.sentence}"
        elif _negative(s.sentence):
            text = f"Unsupported by the facts: {s.sentence}"
        else:
            text = f"Not made out: {s.sentence}"
    elif s.truth == UNKNOWN:
        if s.kind == "input" and s.question:
            text = f"Open question: {s.question}"
        else:
            text = f"Open (turns on facts the case leaves open): {s.sentence}"
    else:
        text = f"Unchecked: {s.sentence}"
    return capital(text)


def _suffix(statement: Statement) -> str:
    parts = []
    if statement.kind == "input":
        if statement.given == "stated" or (statement.given == "" and statement.truth == YES):
            parts.append("stated")
    if statement.note and statement.given != "presumed":
        parts.append(statement.note)
    return f" ({'; '.join(parts)})" if parts else ""


def _pruned(step: Step) -> Statement | None:
    """The stated fact that rules a route out (a condition about the sender, the
    recipient or the proposal that the case states otherwise): shown in one line."""
    if step.status != "does not apply":
        return None
    for check in step.checks:
        s = check.statement
        if not check.negated and check.holds == NO and s.kind == "input" and s.given == "stated":
            return s
    return None


def _step_line(step: Step, ruled_out: Statement | None = None) -> str:
    paragraphs = ", ".join(step.paragraphs) or "no paragraph"
    if ruled_out is not None:
        return f"{paragraphs}: {step.summary} (ruled out here; it needs: {ruled_out.sentence})"
    more = f"; {step.more} more instance(s) of this rule left out" if step.more else ""
    note = f"; {step.note}" if step.note else ""
    return f"{paragraphs}: {step.summary} ({step.rule}; {STATUS[step.status]}{note}{more})"


# -- after the brief: what may also be needed, what would settle or change it --------------
def _brief(ex: Explanation, source: str | Path | Mapping[str, str] | None) -> list[Line]:
    """The brief of the disclosure (pyisp/render/brief.py) with every thing to do, without the
    search for changes (the explanation gives its own, below); empty without its result."""
    if ex.result is None:
        return []
    return brief_parts(ex.result, ex.disclosure, source, changes=False, todo_shown=None)


def _open_todo(ex: Explanation) -> list[tuple[str, tuple[str, ...]]]:
    """The obligations that depend on facts the case leaves open (the brief counts them)."""
    items = [t for t in ex.todo if not t.certain]
    if not items:
        return []
    return [("Depending on the open facts, also:", ())] + [
        (f"- {STRENGTH[t.strength]}: {t.sentence}", t.paragraphs) for t in items]


def _change_line(change: Change) -> str:
    conditions = " and ".join(change.conditions)
    if change.verdict:  # the verdict says it all
        return f"- If {conditions}: the verdict becomes {VERDICT_WORDS[change.verdict]}."
    return f"- If {conditions}: {change.effect}."


def _changes(ex: Explanation) -> list[tuple[str, tuple[str, ...]]]:
    lines: list[tuple[str, tuple[str, ...]]] = []
    if ex.changes:
        lines.append(("How each answer would settle it:" if ex.verdict == "undetermined" else "What would change it:", ()))
        lines += [(_change_line(c), c.paragraphs) for c in ex.changes]
    if ex.flips:
        lines.append(("What would change it:" if not ex.changes or ex.verdict == "undetermined"
                      else "Also:", ()))
        lines += [(f"- {capital(f.sentence)}", f.paragraphs) for f in ex.flips]
    return lines


def _after_brief(ex: Explanation) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    for part in (_open_todo(ex), _changes(ex)):
        if part:
            out += part + [("", ())]
    return out


def _cite(line: str, paragraphs: Sequence[str]) -> str:
    return f"{line} ({', '.join(paragraphs)})" if paragraphs else line


# -- the derivation ---------------------------------------------------------------------
class _Tree:
    """Walks the derivation once, leaving out what was already shown."""

    def __init__(self, why_not: bool = False) -> None:
        self.shown: set[str] = set()  # the statement lines shown so far
        self.why_not = why_not

    def first(self, line: str) -> bool:
        """Whether this statement line is new (a line already shown is not repeated)."""
        if line in self.shown:
            return False
        self.shown.add(line)
        return True

    def text(self, statement: Statement, holds: str, negated: bool, indent: int, out: list[str],
             link: str = "") -> None:
        pad = "  " * indent
        line = f"{MARK[holds]} {phrase(statement, negated, holds)}{_suffix(statement)}"
        if not self.first(line):
            return
        out.append(pad + line)
        for check in statement.cases:
            self.text(check.statement, check.holds, check.negated, indent + 1, out)
        for step in statement.steps:
            ruled_out = _pruned(step)
            out.append(f"{pad}  {LEAD[step.status]} {_step_line(step, ruled_out)}")
            if ruled_out is not None:
                continue
            for check in step.checks:
                if self.why_not and step.status == "does not apply" and check.holds == YES:
                    continue  # a why-not shows what fails, not what holds
                self.text(check.statement, check.holds, check.negated, indent + 2, out)

    def html(self, statement: Statement, holds: str, negated: bool, out: list[str]) -> None:
        e = _e
        if not self.first(f"{MARK[holds]} {phrase(statement, negated, holds)}{_suffix(statement)}"):
            return
        label = (f'<span class="mark {_CLASS[holds]}">{e(MARK[holds])}</span> '
                 f"{e(phrase(statement, negated, holds))}<span class=\"aside\">{e(_suffix(statement))}</span>")
        children = statement.steps or statement.cases
        if not children:
            out.append(f'<li class="leaf">{label}</li>')
            return
        out.append(f"<li><details><summary>{label}</summary><ul>")
        for check in statement.cases:
            self.html(check.statement, check.holds, check.negated, out)
        for step in statement.steps:
            ruled_out = _pruned(step)
            if ruled_out is not None:
                out.append(f'<li class="step">{LEAD[step.status]} {_links(step.paragraphs)}: {e(step.summary)} '
                           f'<span class="aside">(ruled out here; it needs: {e(ruled_out.sentence)})</span></li>')
                continue
            out.append(f'<li class="step"><details><summary>{LEAD[step.status]} {_links(step.paragraphs)}: '
                       f'{e(step.summary)} <span class="aside">({e(step.rule)}; {e(STATUS[step.status])}'
                       f'{"; " + e(step.note) if step.note else ""}'
                       f'{"; " + str(step.more) + " more instance(s) left out" if step.more else ""})</span>'
                       f"</summary><ul>")
            for check in step.checks:
                if self.why_not and step.status == "does not apply" and check.holds == YES:
                    continue
                self.html(check.statement, check.holds, check.negated, out)
            out.append("</ul></details></li>")
        out.append("</ul></details></li>")


def _derivation_text(ex: Explanation) -> list[str]:
    out: list[str] = []
    tree = _Tree(ex.question == "why_not")
    for statement in ex.statements:
        tree.text(statement, statement.truth, False, 0, out)
        out.append("")
    return out


# -- text -------------------------------------------------------------------------------
def _header(ex: Explanation) -> list[str]:
    return [f"Case {ex.case_id}" + (f": {ex.title}" if ex.title else ""),
            f'Disclosure "{ex.disclosure}"' + (f": {ex.description}" if ex.description else ""), ""]


def text(ex: Explanation, full: bool = False, source: str | Path | Mapping[str, str] | None = None,
         footer: bool = True) -> str:
    """Plain text: the brief first (pyisp/render/brief.py), what else may be needed and what
    would settle or change it, the derivation (indented by depth) with `full` or for a why /
    why-not question; `footer`: end with what the result rests on (unknowns, presumptions)."""
    out = _header(ex)
    if ex.question == "verdict":
        brief = _brief(ex, source)
        out += [text_line(line) for line in brief] or [f"{ex.disclosure}: {VERDICT_WORDS[ex.verdict]}", ex.answer]
        out += [""] + [_cite(line, paragraphs) for line, paragraphs in _after_brief(ex)]
        if full:
            out += ["The derivation:", ""] + _derivation_text(ex)
        else:
            out += ["(The full derivation: pyisp explain --full.)", ""]
    else:
        out += [f"{VERDICT_WORDS[ex.verdict]}. {QUESTION[ex.question]} {ex.target}? {ex.answer}", ""]
        out += _derivation_text(ex)
    out += list(ex.notes)
    out.append(f"Paragraphs cited: {', '.join(_cited(ex, full)) or 'none'}")
    if footer and ex.result is not None:
        out += brief_footer(ex.result, None)
    out += _footer(ex)
    return "\n".join(printable(line) for line in out).rstrip() + "\n"  # case text cannot start a line


def _cited(ex: Explanation, full: bool) -> tuple[str, ...]:
    return ex.all_paragraphs if full or ex.question != "verdict" else ex.paragraphs


def _footer(ex: Explanation) -> list[str]:
    """The provenance line at the end: pyisp version, rules fingerprint, readings, presumptions."""
    provenance = getattr(ex, "provenance", None)
    return [f"Answered by {provenance.text}"] if provenance is not None else []


# -- Markdown -------------------------------------------------------------------------
def markdown(ex: Explanation, full: bool = False, source: str | Path | Mapping[str, str] | None = None,
             footer: bool = True) -> str:
    """Markdown for review documents: the brief, then the derivation as nested lists."""
    brief = brief_markdown_lines(ex.result, ex.disclosure, source, changes=False, todo_shown=None) \
        if ex.result is not None and ex.question == "verdict" else []
    out = [brief[0] if brief else f"## {md_escape(ex.disclosure)}: {VERDICT_WORDS[ex.verdict]}", ""]
    out.append(f"Case `{ex.case_id}`" + (f": {md_escape(ex.title)}" if ex.title else ""))
    if ex.description:
        out += ["", f"Disclosure: {md_escape(ex.description)}"]
    out.append("")
    if ex.question == "verdict":
        if brief:
            out += brief[2:] + [""]
        else:
            out += [f"**{md_escape(ex.answer)}**", ""]
        for line, paragraphs in _after_brief(ex):
            out += [md_escape(_cite(line, paragraphs))] if not line.endswith(":") else [f"**{md_escape(line)}**", ""]
        if full:
            out += ["", "### The derivation", ""] + _md_tree(ex)
    else:
        out += [f"**{md_escape(f'{QUESTION[ex.question]} {ex.target}? {ex.answer}')}**", ""] + _md_tree(ex)
    if ex.notes:
        out += [""] + [md_escape(n) for n in ex.notes]
    out += ["", f"Paragraphs cited: {', '.join(_cited(ex, full)) or 'none'}"]
    if footer and ex.result is not None:
        for line in brief_footer(ex.result, None):
            out += ["", line]
    out += [""] + [md_escape(line) for line in _footer(ex)]
    return "\n".join(printable(line) for line in out).rstrip() + "\n"  # case text cannot start a line


def _md_tree(ex: Explanation) -> list[str]:
    lines = [line for line in _derivation_text(ex) if line]
    out = []
    for line in lines:
        stripped = line.lstrip(" ")
        indent = (len(line) - len(stripped)) // 2
        out.append(f"{'  ' * indent}- {md_escape(stripped)}")
    return out


# -- HTML -------------------------------------------------------------------------------
_NUMBER = re.compile(r"^\s*(\d+\.\d+\.\d+)\b\s*(.*)$")
_BREAK = re.compile(r"^\s*(\d+\.\d+|Q\d+)\s*$")


def _heading(line: str, previous: str) -> bool:
    """A section heading of the guidance between paragraphs ("Public interest and
    proportionality", "What constitutes consent?"): a short line starting with a capital,
    not a list item, not ending a sentence with . ; : or , and not an item under a "-"."""
    text = line.strip()
    return (0 < len(text) < 80 and text[:1].isupper() and not text.endswith((".", ";", ":", ","))
            and not text[:1].isdigit() and not previous.startswith("-"))


def source_paragraphs(path: str | Path) -> dict[str, str]:
    """The paragraphs of the user's copy of the guidance, by number (3.3.15 -> its text),
    each up to the next paragraph number, section number or heading."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CaseError(f"cannot read the source file: {exc.strerror}", where=str(path)) from None
    except UnicodeDecodeError:
        raise CaseError("the source file is not UTF-8 text", where=str(path)) from None
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    previous = ""
    for line in lines:
        match = _NUMBER.match(line)
        if match:
            current = found.setdefault(match.group(1), [])
            if match.group(2):
                current.append(match.group(2).strip())
            previous = match.group(2).strip()
            continue
        if _BREAK.match(line) or (current is not None and _heading(line, previous)):
            current = None
        elif current is not None and line.strip():
            current.append(line.strip())
        if line.strip():
            previous = line.strip()
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


def _html_block(lines: list[tuple[str, tuple[str, ...]]], cls: str) -> list[str]:
    """Lines after the brief as HTML: a line ending in ':' is a heading, '- ' lines a list."""
    out: list[str] = []
    open_list = False
    for line, paragraphs in lines:
        if line.lstrip().startswith("- "):
            if not open_list:
                out.append(f'<ul class="{cls}">')
                open_list = True
            cited = f' <span class="cite">({_links(paragraphs)})</span>' if paragraphs else ""
            out.append(f"<li>{_e(line.lstrip()[2:])}{cited}</li>")
            continue
        if open_list:
            out.append("</ul>")
            open_list = False
        if line.strip():
            out.append(f'<p class="{cls}-head">{_e(line.strip())}</p>')
    if open_list:
        out.append("</ul>")
    return out


_STYLE = """
body{font-family:Georgia,serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.2rem;border-top:2px solid #ccc;padding-top:.8rem;margin:.8rem 0 .3rem}
.verdict{font-size:1.15rem;font-weight:bold;padding:.4rem .7rem;border-radius:4px;margin:.3rem 0}
.must_share{background:#dbeafe}.may_share{background:#dcfce7}.must_not_share{background:#fee2e2}
.undetermined{background:#fef9c3}
p{margin:.3rem 0}ul{padding-left:1.2rem;margin:.2rem 0}li{margin:.1rem 0}
.brief-head,.todo-head,.changes-head{font-weight:bold;margin-top:.5rem}
li.quote{list-style:none}
.derivation ul{list-style:none}
summary{cursor:pointer}.step>details>summary{font-style:italic;color:#333}
.mark{font-family:monospace;font-weight:bold}.yes{color:#166534}.no{color:#991b1b}
.unknown{color:#92400e}.unchecked{color:#555}.aside,.cite{color:#555;font-size:.9em}
blockquote{margin:.2rem 0 .4rem .8rem;color:#333;border-left:3px solid #ccc;padding-left:.6rem}
blockquote.quote{font-size:.9em}
dt{font-weight:bold}:target{background:#fff3bf}
@media print{
body{max-width:none;margin:0;font-size:11pt;color:#000}
a{color:#000;text-decoration:none}
section{break-inside:auto}section+section{break-before:page}
.verdict{border:1px solid #000}
details.derivation{display:none}
li,blockquote{break-inside:avoid}
}
"""


def html(explanations: Iterable[Explanation], source: str | Path | None = None, full: bool = False) -> str:
    """One self-contained HTML page: a section per disclosure, the verdict and what
    decides it first (with the guidance quoted beside each paragraph when `source` is
    given), then what to do and what would change it; with `full`, the derivation in a
    collapsed section; every paragraph number linked to the appendix."""
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
        cited |= set(_cited(ex, full))
        out.append(f'<section id="disclosure-{e(ex.disclosure)}"><h2>Disclosure “{e(ex.disclosure)}”'
                   + (f": {e(ex.description)}" if ex.description else "") + "</h2>")
        if ex.question == "verdict":
            if ex.result is not None:
                out.append(brief_html(ex.result, ex.disclosure, quotes, changes=False, links=_links, todo_shown=None))
            else:
                out.append(f'<p class="verdict {e(ex.verdict)}">{e(VERDICT_WORDS[ex.verdict])}: {e(ex.answer)}</p>')
            out += _html_block(_open_todo(ex), "todo")
            out += _html_block(_changes(ex), "changes")
            if full:
                out.append('<details class="derivation"><summary>The full derivation</summary><ul>')
                tree = _Tree()
                for statement in ex.statements:
                    tree.html(statement, statement.truth, False, out)
                out.append("</ul></details>")
        else:
            out.append(f'<p class="verdict {e(ex.verdict)}">{e(VERDICT_WORDS[ex.verdict])}</p>')
            out.append(f"<p><strong>{e(f'{QUESTION[ex.question]} {ex.target}? {ex.answer}')}</strong></p>")
            out.append('<ul class="derivation">')
            tree = _Tree(ex.question == "why_not")
            for statement in ex.statements:
                tree.html(statement, statement.truth, False, out)
            out.append("</ul>")
        out += [f"<p>{e(n)}</p>" for n in ex.notes]
        out.append(f"<p class=\"aside\">Paragraphs cited: {_links(_cited(ex, full))}</p>")
        out += [f"<p class=\"aside\">{e(line)}</p>" for line in _footer(ex)]
        out.append("</section>")
    if first is not None and first.result is not None:
        out += [f'<p class="aside">{e(line)}</p>' for line in brief_footer(first.result, None)]
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


def render(explanations: Sequence[Explanation], fmt: str = "text", source: str | Path | None = None,
           full: bool = False) -> str:
    """Several explanations (one per disclosure) in one of FORMATS."""
    if fmt == "html":
        return html(explanations, source, full=full)
    if fmt == "json":
        from ..core.case import dumps_json

        case = explanations[0].case_id if explanations else ""
        return dumps_json({"case": case, "explanations": [e.to_dict() for e in explanations]}) + "\n"
    quotes = source_paragraphs(source) if source else None
    last = len(explanations) - 1  # the footer (what the result rests on) once, at the end
    if fmt == "markdown":
        first = explanations[0] if explanations else None
        head = [f"# Case {first.case_id}", ""] if first else []
        return "\n".join(head) + "\n".join(markdown(e, full, quotes, footer=i == last)
                                           for i, e in enumerate(explanations))
    if fmt == "text":
        return ("\n" + "-" * 72 + "\n\n").join(text(e, full, quotes, footer=i == last)
                                                for i, e in enumerate(explanations))
    raise CaseError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", where="--format")
