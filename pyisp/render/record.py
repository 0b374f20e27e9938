"""The record draft in plain English, ready to paste into a case file: text, Markdown or one
self-contained HTML file (`pyisp record`, `pyisp.record()`).

Per disclosure: what is proposed; pyisp's recommendation (verdict, deciding paragraphs,
reasons), laid out apart from the professional's decision, which is always left blank;
the consent position of each person; what was asked and shared; how it is sent and the
safe-transfer checks; who has been told and who must be; the doctor's and the police's own
items (3.6.4, 3.6.14); the presumptions the answer rests on ("assumed, not stated"); what is
still to supply. Every item the rules require (policy/recording.lp) appears; what the case
states fills it. Sentences come from policy/templates.yaml: a value `f(X..)` of an item reads
as the rules' conclusion `f(D, X..)`, unless it has a sentence of its own (a person's consent:
`answer(given)`, `form(oral)`, `implied_by(S)`); obligations through `Wording.conclusion`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import clingo

from ..core.policy import Policy, default_policy_dir, paragraph_key
from ..core.record import LABELS, DisclosureRecord, Record, RecordItem
from ..core.result import Disclosure, Result
from ..core.schema import TRANSFER, printable
from ..errors import CaseError
from ..explain.wording import Wording, capital, case_names, conclusion_term, load_templates, load_words

FORMATS = ("text", "markdown", "html")
BLANK = "____________________"
TO_SUPPLY = "to supply"
VERDICTS = {"must_share": "Must share", "may_share": "May share (permitted, not required)",
            "must_not_share": "Must not share", "undetermined": "Undetermined: the facts stated do not settle it"}
PRECAUTIONS = {"verified_by_call_back", "fax_number_checked", "fax_number_checked_by_colleague",
               "security_reassurance_recorded", "cover_sheet", "safe_haven_fax", "recipient_standing_by",
               "confidentiality_warning"}  # transfer fields that are precautions taken: boxes to tick
CONSENT_ORDER = ("answer", "form", "implied_by", "not_valid", "cannot_be_reached", "not_to_be_sought", "does_not_count")
SECTIONS = (  # (title, paragraphs, items): the order of a draft
    ("The professional's decision", "3.5.21, 3.7.1, 3.7.9", ("decision", "reasons", "date", "recorded_by")),
    ("Consent", "3.3.12, 3.3.29, 3.7.2, 3.7.3, 3.7.9",
     ("consent", "consent_of", "reasons_without_consent", "consent_basis", "written_consent_filed")),
    ("What was asked for and shared", "3.3.9, 3.5.21, 3.7.1, 3.7.9",
     ("requested_by", "data_requested", "reason_for_request", "context", "data_shared", "shared_with", "purpose",
      "risk_level", "nature")),
    ("How it is sent, and the safe-transfer checks", "3.7.4-3.7.8", ("security_reassurance",)),
    ("Who has been told, and who must be", "3.5.19, 3.5.20, 3.7.3, 3.7.5, 3.7.9",
     ("subject_informed", "reason_not_informed")),
    ("The doctor's and the police's own records", "3.6.4, 3.6.14",
     ("decision_not_to_disclose_justified", "colleague_consulted", "confirmed_on_form")),
)
TRANSFER_CODES = ("verify_caller_by_calling_back", "use_another_channel", "avoid_channel", "use_secure_channel",
                  "fax_precaution", "email_confidentiality_warning", "share_securely")
TOLD_CODES = ("inform_of_sharing", "decide_whether_safe_to_inform", "explain_sharing_without_consent",
              "inform_individual", "keep_consenter_informed")
DUTY_CODES = ("confirm_in_writing", "justify_decision_not_to_disclose", "discuss_with_experienced_colleague",
              "disclose_promptly")


@dataclass(frozen=True)
class Row:
    """One line of a draft: a label and its value (None: still to supply), the paragraphs
    behind it, and whether it is a box to tick (`check`: True ticked, False not)."""

    label: str
    value: str | None
    paragraphs: tuple[str, ...] = ()
    check: bool | None = None
    blank: bool = False  # a field for the professional, drawn as a line to write on
    prompt: str = ""  # what to supply, where the label does not say it
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()  # several values, each with its paragraphs (listed apart)


@dataclass
class Section:
    title: str
    paragraphs: str = ""
    rows: list[Row] = field(default_factory=list)
    note: str = ""


@dataclass
class Draft:
    """The draft of one disclosure's record, in sections."""

    heading: str
    sections: list[Section]
    still_to_supply: list[str]


# ------------------------------------------------------------------ phrasing

class _Phrases:
    """Sentences for the rules' terms, with the case's names; the disclosure itself is 'this sharing'."""

    def __init__(self, result: Result) -> None:
        self.policy: Policy = result.policy or Policy(default_policy_dir())
        case = dict(result.case.data) if result.case is not None else {}
        self.case = case
        names = case_names(case)
        for item in case.get("information") or []:
            text = str(item.get("description") or "").strip().rstrip(".")
            if text:
                names[item["id"]] = text
        self.names = names
        self.words = load_words(self.policy.directory)
        self.templates = load_templates(self.policy.directory)

    def wording(self, disclosure: str) -> Wording:
        return Wording(self.templates, {**self.names, disclosure: "this sharing"}, self.words)

    def word(self, value: Any) -> str:
        """A constant or id of the case as words: children's social care, the mother (parent)."""
        text = str(value)
        return self.names.get(text) or self.words.get(text) or text.replace("_", " ")

    def term(self, disclosure: str, term: clingo.Symbol) -> str:
        """A value of a record item in words (policy/templates.yaml): a term `f(X..)` with a
        sentence of its own (a consent's `answer(given)`, `implied_by(S)`) as that sentence, else
        as the rules' conclusion `f(D, X..)`; a constant as its words, else as the conclusion `f(D)`."""
        wording = self.wording(disclosure)
        if term.type == clingo.SymbolType.Function:
            if term.arguments and wording.has(term.name, len(term.arguments)):
                return wording.sentence(term)
            if not term.arguments and term.name in self.words:
                return self.words[term.name]
            if wording.has(term.name, len(term.arguments) + 1):
                return wording.sentence(clingo.Function(term.name, [clingo.String(disclosure), *term.arguments]))
            if not term.arguments and wording.has(term.name, 0):
                return wording.sentence(term)
        return wording.argument(term)

    def conclusion(self, disclosure: str, code: str, args: tuple[str, ...]) -> str:
        """An obligation as a sentence (policy/templates.yaml, through the conclusion it reports)."""
        terms = [conclusion_term(a, self.names) for a in args]
        atom = clingo.Function("obligation", [clingo.String(disclosure), clingo.Function(code, terms)])
        return _form(self.wording(disclosure).conclusion(self.policy, atom))


# ------------------------------------------------------------------ the draft, format-free

def _values(phrases: _Phrases, disclosure: str, item: RecordItem) -> list[tuple[str, tuple[str, ...]]]:
    """The values of an item as sentences with their paragraphs: the rules', then the case's text."""
    if item.terms:
        found = [(capital(phrases.term(disclosure, t)), p) for t, p in item.terms]
    else:
        found = [(v, ()) for v in item.values if v != item.stated]
    if item.stated is not None and item.stated.lower() not in {text.lower() for text, _ in found}:
        found.append((item.stated, ()))
    return found


def _item_rows(phrases: _Phrases, disclosure: str, item: RecordItem) -> list[Row]:
    label = item.label
    if item.argument is not None and "{}" in LABELS.get(item.functor, ""):
        label = LABELS[item.functor].format(_form(phrases.word(item.argument)))
    label = label + (" (if it applies: depends on facts not stated)" if item.status != "yes" else "")
    found = _values(phrases, disclosure, item)
    if not found:
        return [Row(label, None, item.paragraphs)]
    if len(found) == 1:
        return [Row(label, found[0][0], _sorted(item.paragraphs + found[0][1]))]
    return [Row(label, "; ".join(text for text, _ in found),
                _sorted(item.paragraphs + tuple(p for _, ps in found for p in ps)),
                parts=tuple((text, ps) for text, ps in found))]


def _consent_row(phrases: _Phrases, disclosure: str, item: RecordItem) -> Row:
    """One person's consent position: asked? the answer, its form and basis, or why not asked."""
    person = capital(phrases.word(item.argument or ""))
    status = "" if item.status == "yes" else " (if their consent counts: depends on facts not stated)"
    parts: list[str] = []
    paragraphs = list(item.paragraphs)
    kinds = {t.name: t for t, _ in item.terms}
    wording = phrases.wording(disclosure)
    for term, cited in sorted(item.terms, key=lambda tc: CONSENT_ORDER.index(tc[0].name)
                              if tc[0].name in CONSENT_ORDER else len(CONSENT_ORDER)):
        paragraphs += cited
        if term.name == "form" and "implied_by" in kinds:
            continue  # "implied, signalled by ..." says it
        parts.append(wording.sentence(term))  # policy/templates.yaml: answer(given), form(oral), ...
    if "answer" in kinds and kinds["answer"].arguments[0].name == "given" and "form" not in kinds:
        parts.append("form (written, oral or implied): " + TO_SUPPLY)
    if not parts:
        return Row(person + status, None, _sorted(tuple(paragraphs)),
                   prompt="was this person asked? their answer and its form, or why they were not asked")
    if not any(k in kinds for k in ("answer", "not_to_be_sought", "cannot_be_reached")):
        parts.append("whether asked, and the answer: " + TO_SUPPLY)
    return Row(person + status, "; ".join(dict.fromkeys(parts)), _sorted(tuple(paragraphs)))


def _form(text: str) -> str:
    """A form's name as printed on it: form 87d -> form 87D."""
    return re.sub(r"\bform (\d+)([a-z])\b", lambda m: f"form {m.group(1)}{m.group(2).upper()}", text)


def _sorted(paragraphs: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(paragraphs), key=paragraph_key))


def _proposal(phrases: _Phrases, stated: Mapping[str, Any]) -> Section:
    word = phrases.word
    rows = []
    if stated.get("description"):
        rows.append(Row("Proposal", str(stated["description"])))
    info = [capital(phrases.names.get(i, i)) for i in stated.get("information") or []]
    rows.append(Row("Information", "; ".join(info) if info else None))

    def party(side: Mapping[str, Any] | None) -> str | None:
        if not side:
            return None
        return capital(word(side.get("agency", ""))) + (f" ({word(side['role'])})" if side.get("role") else "")

    rows.append(Row("From", party(stated.get("from"))))
    rows.append(Row("To", party(stated.get("to"))))
    rows.append(Row("Why (purpose)", capital(word(stated["purpose"])) if stated.get("purpose") else None))
    channel = stated.get("channel")
    rows.append(Row("How it would be sent", capital(word(channel)) if channel else "Not yet proposed"))
    if "requested" in stated:
        rows.append(Row("Answers a request for information", "yes" if stated["requested"] else "no"))
    if stated.get("urgent") is not None:
        rows.append(Row("Urgent", "yes" if stated["urgent"] else "no"))
    return Section("What is proposed", "", rows)


def _recommendation(phrases: _Phrases, disclosure: Disclosure, entry: DisclosureRecord) -> Section:
    verdict = VERDICTS.get(disclosure.verdict, disclosure.verdict)
    if disclosure.verdict == "undetermined" and disclosure.possible_verdicts:
        verdict += " (possible: " + " or ".join(VERDICTS[v].split(" (")[0].lower() for v in disclosure.possible_verdicts) + ")"
    rows = [Row("Recommendation", verdict),
            Row("Deciding paragraphs" if disclosure.verdict != "undetermined" else "Paragraphs in play",
                ", ".join(entry.paragraphs or disclosure.paragraphs) or "none named")]
    try:
        reasons = entry.item("reasons")
    except KeyError:
        reasons = None
    if reasons is not None:
        ordered = sorted(reasons.terms, key=lambda tp: tp[0].name != "decided_by")
        for term, cited in ordered:
            label = "What decides it" if term.name == "decided_by" else "pyisp's reason"
            text = capital(phrases.term(entry.disclosure, term))
            if term.name == "decided_by" and ": " in text:
                text = capital(text.split(": ", 1)[1])  # "what decides this sharing: X" under "What decides it"
            rows.append(Row(label, text, cited))
    return Section("pyisp's recommendation (a recommendation, not the decision)", "",
                   rows, "The decision below is the professional's own; pyisp does not make it.")


def _obligation_rows(phrases: _Phrases, disclosure: Disclosure, codes: tuple[str, ...]) -> list[Row]:
    rows = []
    for item in disclosure.obligations:
        if item.code in codes:
            when = "" if item.status == "yes" else " (if it applies)"
            rows.append(Row("To do" + when, capital(phrases.conclusion(disclosure.id, item.code, item.args)),
                            item.paragraphs))
    return rows


def _transfer_checks(stated: Mapping[str, Any]) -> list[Row]:
    """The safe-transfer facts the case states, as ticked or unticked boxes (the case format's own words)."""
    fields = TRANSFER.get("properties", {})
    rows = []
    for name, value in (stated.get("transfer") or {}).items():
        spec = fields.get(name, {})
        text = str(spec.get("description") or name.replace("_", " "))
        paragraphs = tuple(p.strip() for p in re.split(r"[,;]", text[text.rfind("(") + 1:text.rfind(")")])
                           if p.strip()[:1].isdigit()) if "(" in text else ()
        text = text[:text.rfind("(")].strip().rstrip(",") if "(" in text else text
        if isinstance(value, bool):
            rows.append(Row(text.rstrip("."), "yes" if value else "no", paragraphs,
                            check=value if name in PRECAUTIONS else None))
        else:
            rows.append(Row(text.rstrip(".").split(":")[0], str(value).replace("_", " "), paragraphs))
    return rows


def build_drafts(result: Result) -> list[Draft]:
    """The draft of each disclosure's record, from the result, its record and its case."""
    record: Record | None = result.record
    if record is None or result.case is None:  # a stored result (Result.from_dict) keeps neither its case nor the terms
        raise CaseError("a stored result cannot be drafted: the draft needs the case; answer it again with pyisp.query")
    phrases = _Phrases(result)
    stated_by_id = {d["id"]: d for d in phrases.case.get("disclosures") or []}
    drafts = []
    for entry in record.disclosures:
        disclosure = result.disclosure(entry.disclosure)
        stated = stated_by_id.get(entry.disclosure, {})
        sections = [_proposal(phrases, stated), _recommendation(phrases, disclosure, entry)]
        placed: set[str] = set()
        for title, cited, names in SECTIONS:
            section = Section(title, cited)
            for name in names:
                for item in entry.items_of(name):
                    placed.add(item.name)
                    if name == "decision":
                        section.rows.append(Row(item.label, None, item.paragraphs, blank=True))
                    elif name == "reasons":
                        text = item.stated
                        section.rows.append(Row(item.label, text, item.paragraphs, blank=text is None))
                    elif name == "consent_of":
                        section.rows.append(_consent_row(phrases, entry.disclosure, item))
                    else:
                        section.rows += _item_rows(phrases, entry.disclosure, item)
            if title.startswith("How it is sent"):
                section.rows += _transfer_checks(stated)
                section.rows += _obligation_rows(phrases, disclosure, TRANSFER_CODES)
            elif title.startswith("Who has been told"):
                if stated.get("informing_would_put_child_at_risk") is not None:
                    section.rows.append(Row("Telling the child or parent would put the child at risk",
                                            "yes" if stated["informing_would_put_child_at_risk"] else "no"))
                section.rows += _obligation_rows(phrases, disclosure, TOLD_CODES)
            elif title.startswith("The doctor"):
                section.rows += _obligation_rows(phrases, disclosure, DUTY_CODES)
            elif title.startswith("The professional's decision"):
                section.rows.append(Row("Decided by", None, blank=True))
            if section.rows:
                sections.append(section)
        others = [i for i in entry.items if i.name not in placed]
        if others:
            sections.append(Section("Other items the record needs", "",
                                    [r for i in others for r in _item_rows(phrases, entry.disclosure, i)]))
        assumed = Section("Assumed, not stated", "", [], "Facts the case leaves out that pyisp took as so; "
                          "check each, and say so in the record if one is not so.")
        for item in disclosure.assumptions:
            if_not = " or ".join(VERDICTS[v].split(" (")[0].lower().split(":")[0] for v in item.if_not)
            assumed.rows.append(Row("Assumed", capital(item.text).rstrip(".") + (f" (if not: {if_not})" if if_not else ""),
                                    item.paragraphs))
        if assumed.rows:
            sections.append(assumed)
        missing = [r.label for s in sections for r in s.rows if r.value is None and not r.blank]
        missing = list(dict.fromkeys(missing))
        to = (stated.get("to") or {}).get("agency")
        heading = f"Sharing \"{entry.disclosure}\"" + (f" with {phrases.word(to)}" if to else "")
        drafts.append(Draft(heading, sections, missing))
    return drafts


def _intro(result: Result) -> list[str]:
    case = dict(result.case.data) if result.case is not None else {}
    children = [case["child"]] if isinstance(case.get("child"), dict) else list(case.get("children") or [])
    who = ", ".join((c.get("name") or c.get("id") or "") + (f" ({c['age']})" if c.get("age") is not None else "")
                    for c in children if isinstance(c, dict))
    lines = [f"Case: {result.case_id}" + (f". {result.title}" if result.title else "")]
    if who:
        lines.append(("Children: " if len(children) > 1 else "Child: ") + who)
    lines.append("A draft prepared with pyisp from the facts stated in the case. Check every line before filing it. "
                 f"Lines marked \"{TO_SUPPLY}\" are for you to complete; the decision is yours and is left blank.")
    return lines


def _footer(result: Result) -> list[str]:
    provenance = result.provenance or (result.record.provenance if result.record is not None else None)
    if provenance is None:
        return []
    readings = dict(provenance.readings)
    chosen = ", ".join(f"{n}={readings.get(n, '?')}" for n in provenance.chosen)
    off = [n for n, on in provenance.presumptions if not on]
    return [f"Drafted by pyisp version {provenance.pyisp}; rules sha256 {provenance.policy_sha256}; "
            f"case format {provenance.case_format}; {len(readings)} readings, "
            + (f"chosen: {chosen}" if chosen else "all at their defaults") + f"; {len(provenance.presumptions)} "
            + "presumptions, " + (f"off: {', '.join(off)}" if off else "all in force") + " (provenance)."]


# ------------------------------------------------------------------ formats

def _cite(paragraphs: tuple[str, ...]) -> str:
    return f" ({', '.join(paragraphs)})" if paragraphs else ""


def _plain_value(row: Row) -> str:
    if row.blank:
        return (row.value + " " if row.value else "") + BLANK if not row.value else row.value
    return row.value if row.value is not None else f"{BLANK} ({TO_SUPPLY}{': ' + row.prompt if row.prompt else ''})"


def _text(result: Result, drafts: list[Draft]) -> str:
    lines = ["RECORD OF INFORMATION-SHARING DECISIONS (DRAFT)", *_intro(result), ""]
    for number, draft in enumerate(drafts, 1):
        lines += [f"{number}. {draft.heading}", ""]
        for section in draft.sections:
            lines.append(section.title.upper() + (f" ({section.paragraphs})" if section.paragraphs else ""))
            if section.note:
                lines.append(f"  {section.note}")
            for row in section.rows:
                box = "" if row.check is None else ("[x] " if row.check else "[ ] ")
                value = "" if row.check is not None else f": {_plain_value(row)}"
                lines.append(f"  {box}{row.label}{value}{_cite(row.paragraphs)}")
            lines.append("")
        lines.append("STILL TO SUPPLY: " + ("; ".join(draft.still_to_supply) or "nothing"))
        lines.append("")
    lines += _footer(result)
    return "\n".join(printable(line) for line in lines).rstrip() + "\n"


def _md(text: str) -> str:
    """Case text made inert in Markdown (no markup, no HTML)."""
    out = html.escape(text, quote=False)
    for char in "\\`*_[]#|":
        out = out.replace(char, "\\" + char)
    return out


def _markdown(result: Result, drafts: list[Draft]) -> str:
    lines = ["# Record of information-sharing decisions (draft)", ""]
    lines += [_md(line) + "  " for line in _intro(result)] + [""]
    for number, draft in enumerate(drafts, 1):
        lines += [f"## {number}. {_md(draft.heading)}", ""]
        for section in draft.sections:
            lines += [f"### {_md(section.title)}" + (f" ({section.paragraphs})" if section.paragraphs else ""), ""]
            if section.note:
                lines += [f"*{_md(section.note)}*", ""]
            for row in section.rows:
                if row.check is not None:
                    lines.append(f"- [{'x' if row.check else ' '}] {_md(row.label)}{_cite(row.paragraphs)}")
                else:
                    prompt = f": {_md(row.prompt)}" if row.prompt else ""
                    value = _md(_plain_value(row)) if row.value is not None else f"{BLANK} *({TO_SUPPLY}{prompt})*" \
                        if not row.blank else BLANK
                    if len(row.parts) > 1:
                        lines.append(f"- **{_md(row.label)}:**")
                        lines += [f"  - {_md(text)}{_cite(ps)}" for text, ps in row.parts]
                        continue
                    lines.append(f"- **{_md(row.label)}:** {value}{_cite(row.paragraphs)}")
            lines.append("")
        lines += ["**Still to supply:** " + (_md("; ".join(draft.still_to_supply)) or "nothing"), ""]
    lines += [f"<sub>{_md(line)}</sub>" for line in _footer(result)]
    return "\n".join(printable(line) for line in lines).rstrip() + "\n"


STYLE = """body{font-family:Georgia,serif;max-width:50em;margin:2em auto;padding:0 1em;color:#111;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:2px solid #333;margin-top:2em}h3{font-size:1.05em;margin:1.2em 0 .3em}
table{border-collapse:collapse;width:100%}td{border:1px solid #bbb;padding:.3em .5em;vertical-align:top}
td.label{width:35%;font-weight:bold}.blank{display:inline-block;min-width:18em;border-bottom:1px solid #000}
.supply{color:#a00;font-style:italic}.cite{color:#555;font-size:.85em}.note{font-style:italic}
.recommendation{background:#f3f3f3}ul{margin:0;padding-left:1.2em}.footer{color:#555;font-size:.8em;margin-top:2em}
@media print{body{margin:0;max-width:none}h2{page-break-before:auto}table{page-break-inside:avoid}}"""


def _html(result: Result, drafts: list[Draft]) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Record of information-sharing decisions: {e(result.case_id)}</title>",
             f"<style>{STYLE}</style></head><body>", "<h1>Record of information-sharing decisions (draft)</h1>"]
    parts += [f"<p>{e(line)}</p>" for line in _intro(result)]
    for number, draft in enumerate(drafts, 1):
        parts.append(f"<h2>{number}. {e(draft.heading)}</h2>")
        for section in draft.sections:
            css = ' class="recommendation"' if section.title.startswith("pyisp") else ""
            parts.append(f"<section{css}><h3>{e(section.title)}"
                         + (f' <span class="cite">({e(section.paragraphs)})</span>' if section.paragraphs else "")
                         + "</h3>")
            if section.note:
                parts.append(f'<p class="note">{e(section.note)}</p>')
            parts.append("<table>")
            for row in section.rows:
                cite = f' <span class="cite">({e(", ".join(row.paragraphs))})</span>' if row.paragraphs else ""
                if row.check is not None:
                    value = ("&#9745; yes" if row.check else "&#9744; no")
                elif row.blank and row.value is None:
                    value = '<span class="blank">&nbsp;</span>'
                elif row.value is None:
                    prompt = f": {e(row.prompt)}" if row.prompt else ""
                    value = f'<span class="blank">&nbsp;</span> <span class="supply">({TO_SUPPLY}{prompt})</span>'
                elif len(row.parts) > 1:
                    value = "<ul>" + "".join(
                        f'<li>{e(text)}' + (f' <span class="cite">({e(", ".join(ps))})</span>' if ps else "") + "</li>"
                        for text, ps in row.parts) + "</ul>"
                    cite = ""
                else:
                    value = e(row.value)
                parts.append(f'<tr><td class="label">{e(row.label)}</td><td>{value}{cite}</td></tr>')
            parts.append("</table></section>")
        parts.append("<p><strong>Still to supply:</strong> " + (e("; ".join(draft.still_to_supply)) or "nothing")
                     + "</p>")
    parts += [f'<p class="footer">{e(line)}</p>' for line in _footer(result)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_record(result: Result, fmt: str = "text") -> str:
    """The record draft of a case's decisions as `text`, `markdown` or `html` (one self-contained file)."""
    if fmt not in FORMATS:
        raise CaseError(f"'{fmt}' is not one of {', '.join(FORMATS)}", where="--format")
    drafts = build_drafts(result)
    return {"text": _text, "markdown": _markdown, "html": _html}[fmt](result, drafts)
