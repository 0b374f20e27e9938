"""The brief of a disclosure: what a professional reads first, in plain English.

One sentence for the verdict; the reasons that decide it, each with its paragraphs (and,
given the user's copy of the guidance, the operative sentence of each quoted beside it);
what to do now (obligations grouped must / should / may, then what to record); and what
would change the answer: for an undetermined verdict the questions that decide it, for a
settled one the smallest changes of the stated facts or of the proposal (channel, whose
consent) that flip it, found by answering the changed cases with the same rules.

Every sentence comes from policy/templates.yaml (pyisp/explain/wording.py); no predicate
names, atom codes or field paths reach the text. `brief_parts` gives the lines with what
each is; `brief_lines` (text), `brief_markdown_lines` and `brief_html` draw one disclosure's
brief from them (the explanation opens with it); `brief_text` and `brief_markdown` render
every disclosure of a result, ending with `brief_footer` (what the result rests on).
"""

from __future__ import annotations

import copy
import re
import threading
from html import escape
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import clingo

from ..core.atoms import case_inputs
from ..core.policy import Policy, paragraph_key
from ..core.result import YES, Conclusion, Disclosure, Result, Verdict
from ..core.schema import json_schema, printable
from ..errors import PyispError
from ..explain.wording import Wording, capital, case_names, conclusion_term, load_templates, load_words

MAX_LINES = 25          # a disclosure's brief never runs longer (tests/test_brief.py)
REASONS_SHOWN = 4       # deciding reasons listed
TODO_SHOWN = 6          # lines of things to do (obligations merged where they can be)
QUESTIONS_SHOWN = 4     # questions that decide an undetermined verdict
CHANGES_SHOWN = 3       # changes that would flip a settled verdict
QUOTE_CHARS = 220       # an operative sentence is cut to this length

HEADLINE = {Verdict.MUST_SHARE: "MUST SHARE", Verdict.MAY_SHARE: "MAY SHARE",
            Verdict.MUST_NOT_SHARE: "MUST NOT SHARE", Verdict.UNDETERMINED: "UNDETERMINED"}
KIND_WORDS = {"barred": "barred", "not_yet": "not yet", "no_route": "no route",
              "not_by_this_channel": "not by this channel"}
VERDICT_WORDS = {"must_share": "must share", "may_share": "may share", "must_not_share": "must not share",
                 "undetermined": "undetermined"}
_MODAL = re.compile(r"\b(must|should|may|will|is required|are required)\b", re.IGNORECASE)


# ------------------------------------------------------------------ sentences for atoms
@lru_cache(maxsize=8)
def _policy_texts(directory: str, fingerprint: str) -> tuple[dict[Any, Any], dict[str, str]]:
    """The templates and words of a policy, read once per version of its rules."""
    return load_templates(directory), load_words(directory)


def _wording(result: Result, disclosure: Disclosure) -> Wording:
    policy = result.policy if result.policy is not None else Policy()
    templates, words = _policy_texts(str(policy.directory), policy.fingerprint)
    data = dict(result.case.data) if result.case is not None else {}
    names = case_names(data)
    names[disclosure.id] = "this disclosure"
    return Wording(templates, names, words)


def _say(result: Result, disclosure: Disclosure, kind: str, item: Conclusion, words: Wording) -> str:
    """A finding or obligation in words (policy/templates.yaml, through the conclusion it reports)."""
    policy = result.policy if result.policy is not None else Policy()
    code = clingo.Function(item.code, [conclusion_term(a, words.names) for a in item.args])
    return words.conclusion(_Reporting(policy), clingo.Function(kind, [clingo.String(disclosure.id), code]))


# what the rules declare and report, read once per version of the rules (a brief reads them
# for every disclosure); bounded, and keyed on the rules' directory and fingerprint
_REMEMBERED = 8192
_declared: dict[tuple[str, str, str], dict[str, str]] = {}
_reported: dict[tuple[str, str, clingo.Symbol], clingo.Symbol | None] = {}
_UNSEEN: Any = object()  # a key not in a table (its value may be None)
_remember_lock = threading.Lock()


def _remember(table: dict[Any, Any], key: Any, value: Any) -> None:
    with _remember_lock:
        if len(table) >= _REMEMBERED:
            table.clear()
        table[key] = value


def _declared_pairs(result: Result, name: str) -> dict[str, str]:
    """`name(A, B)` of the rules as {A: B} (the policy's declared atoms; not to be changed)."""
    policy = result.policy if result.policy is not None else Policy()
    key = (str(policy.directory), policy.fingerprint, name)
    found = _declared.get(key)
    if found is None:
        found = {a.arguments[0].name: a.arguments[1].name for a, _fact in policy.declared(name, 2)}
        _remember(_declared, key, found)
    return found


class _Reporting:
    """A policy as Wording.conclusion asks it: `reported(atom)`, remembered per version of the rules."""

    def __init__(self, policy: Policy) -> None:
        self.policy, self.key = policy, (str(policy.directory), policy.fingerprint)

    def reported(self, atom: clingo.Symbol) -> clingo.Symbol | None:
        key = (*self.key, atom)
        found = _reported.get(key, _UNSEEN)  # one read: another thread may empty the table meanwhile
        if found is not _UNSEEN:
            return found  # type: ignore[no-any-return]
        found = self.policy.reported(atom)
        _remember(_reported, key, found)
        return found


def _reason(result: Result, disclosure: Disclosure, item: Conclusion, words: Wording) -> str:
    """What a `decided_by` finding says, without its "what decides ...:" lead."""
    text = _say(result, disclosure, "finding", item, words)
    return text.split(": ", 1)[1] if text.startswith("what decides") and ": " in text else text


# ------------------------------------------------------------------ the guidance beside it
def operative_sentence(text: str) -> str:
    """The sentence of a paragraph that says what must, should or may be done (else its first), cut short."""
    sentences = [s.strip() for s in re.split(r"(?<=[.;:])\s+(?=[A-Z(])", text) if s.strip()]
    chosen = next((s for s in sentences if _MODAL.search(s)), sentences[0] if sentences else "")
    return chosen if len(chosen) <= QUOTE_CHARS else chosen[:QUOTE_CHARS - 3].rstrip() + "..."


def _source(source: str | Path | Mapping[str, str] | None) -> Mapping[str, str]:
    if source is None or isinstance(source, Mapping):
        return source or {}
    from .explanation import source_paragraphs

    return source_paragraphs(source)


# ------------------------------------------------------------------ what would change the answer
@dataclass(frozen=True)
class Change:
    """A change of the case (of its stated facts or of the proposal) and the verdict it gives."""

    text: str
    verdict: str
    kind: str | None
    proposal: bool


def _spec_at(parts: Sequence[str | int]) -> dict[str, Any]:
    spec: dict[str, Any] = json_schema()
    for part in parts:
        if isinstance(part, int):
            spec = spec.get("items", {})
        else:
            spec = spec.get("properties", {}).get(part, {})
    return spec


def _booleans(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, bool):
        yield path
    elif isinstance(value, Mapping):
        for key, sub in value.items():
            yield from _booleans(sub, path + (key,))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _booleans(sub, path + (i,))


def _set_at(data: Any, path: Sequence[str | int], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _get_at(data: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        data = data[part]
    return data


# the parts of a case whose stated booleans are tried, most telling first; consent records'
# details (what the person was told) and the child's and family's descriptions are left out
_FACT_PARTS = ("concern", "seeking_consent_would", "people", "information")


# stated facts whose change flips nearly any refusal (a law or an order requiring the sharing):
# tried last, so that the changes a professional can act on come first
_LAST = ("statutory_duty", "court_order")


def _variants(data: Mapping[str, Any], index: int, disclosure: Disclosure,
              words: Wording) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Changed cases, each a deep copy with what it changes in words where the change is
    one of the proposal (None: a stated fact, worded from the atoms it changes): another
    channel, the consent of a person whose consent is missing, then each stated yes/no fact
    flipped (those of the disclosure, the concern, seeking consent, people, information)."""
    proposal = data["disclosures"][index]
    channel = proposal.get("channel")
    if channel is not None:
        for other in _spec_at(("disclosures", 0, "channel")).get("enum", []):
            if other != channel:
                changed = copy.deepcopy(dict(data))
                changed["disclosures"][index]["channel"] = other
                yield f"it went {_channel_words(other, words)}", changed
    people = {a for o in disclosure.obligations if o.code in ("seek_consent", "seek_consent_again") for a in o.args[:1]}
    people |= {f.args[0] for f in disclosure.findings if f.code in ("consent_missing_from", "consent_refused")}
    for person in sorted(people):
        changed = copy.deepcopy(dict(data))
        records = [c for c in changed.get("consents") or [] if c.get("person") == person]
        if records:
            for record in records:
                record["answer"] = "given"
        else:
            changed.setdefault("consents", []).append(_consent(person, proposal))
        yield f"{words.names.get(person, person)} gave informed consent, freely and in writing", changed
    flips = list(_booleans(proposal, ("disclosures", index)))
    for part in _FACT_PARTS:
        if part in data:
            flips += list(_booleans(data[part], (part,)))
    flips.sort(key=lambda path: path[-1] in _LAST)
    for path in flips:
        yield None, _flipped(data, path)


def _consent(person: str, proposal: Mapping[str, Any]) -> dict[str, Any]:
    """A consent given in writing by `person`, informed and freely given, for this proposal."""
    record: dict[str, Any] = {"id": f"{person}-consents", "person": person, "answer": "given", "form": "written",
                              "freely_given": True,
                              "told": {"why": True, "who": True, "purpose": True, "implications": True}}
    if proposal.get("purpose"):
        record["purposes"] = [proposal["purpose"]]
    if (proposal.get("to") or {}).get("agency"):
        record["recipients"] = [proposal["to"]["agency"]]
    return record


def _flipped(data: Mapping[str, Any], path: Sequence[str | int]) -> dict[str, Any]:
    changed = copy.deepcopy(dict(data))
    _set_at(changed, path, not _get_at(changed, path))
    return changed


def _difference(before: Mapping[str, Any], after: Mapping[str, Any], words: Wording) -> str:
    """The change in words: the input atoms it adds (and, where it adds none, those it takes away)."""
    old, new = set(case_inputs(dict(before)).facts), set(case_inputs(dict(after)).facts)
    added, removed = sorted(new - old, key=str), sorted(old - new, key=str)
    parts = [words.sentence(a) for a in added]
    if not parts:
        parts = [words.denial(a) or f"it were not so that {words.sentence(a)}" for a in removed]
    return " and ".join(dict.fromkeys(parts))


def what_would_change(result: Result, disclosure: Disclosure, limit: int = CHANGES_SHOWN) -> tuple[Change, ...]:
    """The smallest changes (one at a time) of the stated facts or of the proposal that give
    this disclosure another verdict, proposal changes first: each changed case is answered
    by the same rules, readings and presumptions. Empty for a result without its case."""
    if result.case is None or disclosure.verdict == Verdict.UNDETERMINED:
        return ()
    from ..core.service import answer_case

    data = dict(result.case.data)
    index = next(i for i, d in enumerate(data["disclosures"]) if d["id"] == disclosure.id)
    options: dict[str, Any] = {}
    if result.provenance is not None:
        taken = dict(result.provenance.readings)
        options["readings"] = {n: taken[n] for n in result.provenance.chosen if n in taken}
        options["presumptions"] = {n: False for n, on in result.provenance.presumptions if not on}
    policy = result.policy.directory if result.policy is not None else None
    words = _wording(result, disclosure)
    found: list[Change] = []
    for said, changed in _variants(data, index, disclosure, words):
        try:
            answer = answer_case(changed, policy=policy, depends_on=False, **options).disclosure(disclosure.id)
        except PyispError:
            continue  # the change contradicts another stated fact
        if answer.verdict != disclosure.verdict:
            text = said or _difference(data, changed, words)
            same = next((c for c in found if c.proposal and said and c.verdict == answer.verdict
                         and c.text.startswith("it went ") and text.startswith("it went ")), None)
            if same is not None:  # channels that give the same verdict, in one line
                found[found.index(same)] = Change(f"{same.text}, or {text[len('it went '):]}", same.verdict,
                                                  same.kind, True)
            elif text:
                found.append(Change(text, answer.verdict, answer.kind, said is not None))
        if len(found) >= limit:
            break
    return tuple(found)


# ------------------------------------------------------------------ the brief
def _recipient(data: Mapping[str, Any] | None, disclosure: Disclosure, words: Wording) -> tuple[str, str]:
    """What is shared and with whom, in words."""
    proposal = next((d for d in (data or {}).get("disclosures", []) if d.get("id") == disclosure.id), {})
    info = [f'"{i}"' for i in proposal.get("information") or []]
    what = " and ".join(info) if info else "the information"
    agency = (proposal.get("to") or {}).get("agency")
    whom = words.words.get(agency, agency.replace("_", " ")) if agency else "the recipient"
    return what, whom


def _channel(data: Mapping[str, Any] | None, disclosure: Disclosure, words: Wording) -> str:
    proposal = next((d for d in (data or {}).get("disclosures", []) if d.get("id") == disclosure.id), {})
    return _channel_words(proposal.get("channel") or "", words)


def _channel_words(channel: str, words: Wording) -> str:
    """A channel as it follows a verb, "by phone" (policy/templates.yaml, words)."""
    return words.words.get(channel, channel.replace("_", " "))


def _either(items: Sequence[str]) -> str:
    """A, B or C."""
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def verdict_sentence(result: Result, disclosure: Disclosure, reasons: Sequence[str], words: Wording) -> str:
    """The verdict in one plain-English sentence."""
    data = result.case.data if result.case is not None else None
    what, whom = _recipient(data, disclosure, words)
    because = f", because {reasons[0]}" if reasons else ""
    verdict, kind = disclosure.verdict, disclosure.kind
    if verdict == Verdict.MUST_SHARE:
        return f"Share {what} with {whom}: you must{because}."
    if verdict == Verdict.MAY_SHARE:
        return f"You may share {what} with {whom}{because}; nothing requires it, so it is your decision."
    if verdict == Verdict.MUST_NOT_SHARE:
        if kind == "barred":
            return f"Do not share {what} with {whom}: it is barred{because}."
        if kind == "not_yet":
            return f"Hold back {what} from {whom} for now{because}, and that comes first."
        if kind == "no_route":
            return f"Do not share {what} with {whom}: nothing allows it{because}."
        if kind == "not_by_this_channel":
            would = [_channel_words(f.args[0], words)
                     for f in disclosure.findings if f.code == "channel_would_do" and f.status == YES]
            instead = f"; it could go {_either(would)} instead" if would else ""
            return (f"Sending {what} to {whom} {_channel(data, disclosure, words) or 'this way'} is ruled out"
                    f"{because}{instead}.")
        return f"Do not share {what} with {whom}{because}."
    possible = _either([VERDICT_WORDS.get(v, v) for v in disclosure.possible_verdicts])
    return (f"The facts given leave open whether to share {what} with {whom}: the answer could be "
            f"{possible or 'any verdict'}; the questions below decide it.")


def _strengths(result: Result) -> dict[str, str]:
    return _declared_pairs(result, "obligation_strength")


def _reason_kinds(result: Result) -> dict[str, str]:
    """The kind of refusal each deciding reason makes (refusal_reason_kind/2, policy/verdict.lp)."""
    return _declared_pairs(result, "refusal_reason_kind")


def _and(items: Sequence[str]) -> str:
    """A, B and C."""
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def _joined(sentences: Sequence[str]) -> str:
    """Sentences that differ in one place only, as one: "tell them A, B and C" (whole words)."""
    if len(sentences) == 1:
        return sentences[0]
    words = [s.split(" ") for s in sentences]
    shortest = min(len(w) for w in words)
    head = 0
    while head < shortest and len({w[head] for w in words}) == 1:
        head += 1
    tail = 0
    while tail < shortest - head and len({w[len(w) - 1 - tail] for w in words}) == 1:
        tail += 1
    middles = [" ".join(w[head:len(w) - tail]) for w in words]
    if not all(middles):
        return "; ".join(sentences)
    return " ".join(words[0][:head] + [_and(middles)] + words[0][len(words[0]) - tail:])


@dataclass(frozen=True)
class Line:
    """One line of a brief: its part (head, sentence, heading, reason, quote, todo, question,
    change, note, assumed), its text, the paragraphs it cites and, for the head and a thing to
    do, its label (the verdict's name; must, should, may or record)."""

    part: str
    text: str
    paragraphs: tuple[str, ...] = ()
    label: str = ""


def _todo(result: Result, disclosure: Disclosure, words: Wording, shown: int | None = TODO_SHOWN) -> list[Line]:
    """What to do now, one line per thing: grouped must / should / may, then what to record
    (one line); obligations that differ in one argument only said once ("tell them A, B and
    C"), and those of one strength citing the same paragraphs put on one line. At most
    `shown` lines (None: all), keeping what must be done and what to record."""
    strength = _strengths(result)
    groups: dict[str, dict[tuple[str, tuple[str, ...]], list[Conclusion]]] = {
        "must": {}, "should": {}, "may": {}, "record": {}}
    later = 0
    for item in disclosure.obligations:
        if item.status != YES:
            later += 1
            continue
        group = "record" if item.code.startswith("record_") else strength.get(item.code, "should")
        groups[group].setdefault((item.code, item.args[:-1]), []).append(item)
    lines: list[Line] = []
    for group, label in (("must", "Must"), ("should", "Should"), ("may", "May"), ("record", "Record")):
        by_paragraphs: dict[tuple[str, ...], list[str]] = {}
        for items in groups[group].values():
            said = _joined([_say(result, disclosure, "obligation", i, words) for i in items])
            cited = tuple(sorted({p for i in items for p in i.paragraphs}, key=paragraph_key))
            by_paragraphs.setdefault(cited, [])
            if said not in by_paragraphs[cited]:
                by_paragraphs[cited].append(said)
        if group == "record" and by_paragraphs:  # what to record: one line
            said = [text for texts in by_paragraphs.values() for text in texts]
            cited = tuple(sorted({p for ps in by_paragraphs for p in ps}, key=paragraph_key))
            by_paragraphs = {cited: said}
        lines += [Line("todo", "; ".join(said), cited, label) for cited, said in by_paragraphs.items()]
    if shown is not None and len(lines) > shown:  # what must be done and what to record stay; the rest as room allows
        room = shown - 1 - sum(1 for line in lines if line.label in ("Must", "Record"))
        kept = [line for line in lines if line.label in ("Must", "Record")
                or (room := room - 1) >= 0]
        lines = kept + [Line("note", f"... and {len(lines) - len(kept)} more (`pyisp explain` lists them all)")]
    if later:
        lines.append(Line("note", f"({later} more {'depends' if later == 1 else 'depend'} on facts not stated.)"))
    return lines


def _sentence_case(text: str) -> str:
    """A reason inside a sentence: its first letter lower-cased, unless it starts an acronym (GMC, NMC)."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() and len(first) > 1 else text[:1].lower() + text[1:]


def brief_parts(result: Result, disclosure: Disclosure | str, source: str | Path | Mapping[str, str] | None = None,
                changes: bool = True, todo_shown: int | None = TODO_SHOWN) -> list[Line]:
    """The brief of one disclosure, line by line with what each line is (every format is
    drawn from these): at most MAX_LINES, by the caps on each part (a few reasons, a few
    things to do, a few questions or changes). `source`: the user's copy of the guidance (a
    path, or paragraphs by number) to quote beside each reason; `changes=False` skips the
    search for changes that would flip a settled verdict (the one part that answers other cases);
    `todo_shown=None` lists every thing to do (the explanation does)."""
    if isinstance(disclosure, str):
        disclosure = result.disclosure(disclosure)
    words = _wording(result, disclosure)
    quotes = _source(source)
    deciding = [f for f in disclosure.findings if f.code == "decided_by"]
    held = [f for f in deciding if f.status == YES]
    shown = held if held and disclosure.verdict != Verdict.UNDETERMINED else deciding
    of_kind = _reason_kinds(result)
    shown = sorted(shown, key=lambda f: of_kind.get(f.args[0] if f.args else "") != disclosure.kind)
    reasons = [(capital(_reason(result, disclosure, f, words)), f.paragraphs) for f in shown]
    kind = f" ({KIND_WORDS.get(disclosure.kind, disclosure.kind)})" if disclosure.kind else ""
    lines = [Line("head", disclosure.id, tuple(disclosure.deciding_paragraphs),
                  f"{HEADLINE.get(disclosure.verdict, disclosure.verdict)}{kind}"),
             Line("sentence", verdict_sentence(result, disclosure, [_sentence_case(r[0]) for r in reasons], words))]
    if reasons:
        lines.append(Line("heading", "What decides it:" if disclosure.verdict != Verdict.UNDETERMINED
                          else "What may decide it:"))
        for text, paragraphs in reasons[:REASONS_SHOWN]:
            lines.append(Line("reason", text, tuple(paragraphs)))
            quoted = [f'{p}: "{operative_sentence(quotes[p])}"' for p in paragraphs if p in quotes]
            if quoted:
                lines.append(Line("quote", " ".join(quoted[:2])))
        if len(reasons) > REASONS_SHOWN:
            lines.append(Line("note", f"... and {len(reasons) - REASONS_SHOWN} more reasons "
                                      "(`pyisp explain` gives them all)"))
    todo = _todo(result, disclosure, words, todo_shown)
    if todo:
        lines.append(Line("heading", "What to do now:"))
        lines += todo
    if disclosure.verdict == Verdict.UNDETERMINED:
        asked = [q for q in disclosure.questions if q.changes == "verdict"]
        if asked:
            lines.append(Line("heading", "What would settle it:"))
            lines += [Line("question", q.text) for q in asked[:QUESTIONS_SHOWN]]
            if len(asked) > QUESTIONS_SHOWN:
                lines.append(Line("note", f"... and {len(asked) - QUESTIONS_SHOWN} more questions"))
    elif changes:
        flips = what_would_change(result, disclosure)
        lines.append(Line("heading", "What would change the answer:" if flips else
                          "What would change the answer: no single change of the proposal or of a stated yes/no fact."))
        for change in flips:
            kind_text = f" ({KIND_WORDS.get(change.kind, change.kind)})" if change.kind else ""
            lines.append(Line("change", f"if {change.text}: {VERDICT_WORDS.get(change.verdict, change.verdict)}"
                                        f"{kind_text}"))
    rests = sorted({a.text.rstrip(".") for a in disclosure.assumptions if a.text})
    if rests:
        lines.append(Line("assumed", "Taken as so, not stated: " + "; ".join(rests[:2])
                          + (" ..." if len(rests) > 2 else "")))
    return lines


def _cited(paragraphs: Sequence[str]) -> str:
    return f" ({', '.join(paragraphs)})" if paragraphs else ""


def text_line(line: Line) -> str:
    if line.part == "head":
        return f"{line.text}: {line.label}   deciding paragraphs: {', '.join(line.paragraphs) or 'none'}"
    if line.part in ("sentence", "heading", "assumed"):
        return f"  {line.text}"
    if line.part == "quote":
        return f"      {line.text}"
    if line.part == "todo":
        return f"    {line.label}: {line.text}{_cited(line.paragraphs)}."
    if line.part == "note":
        return f"    {line.text}"
    return f"    - {line.text}{_cited(line.paragraphs)}"


def brief_lines(result: Result, disclosure: Disclosure | str, source: str | Path | Mapping[str, str] | None = None,
                changes: bool = True) -> list[str]:
    """The brief of one disclosure as lines of text (`brief_parts`, as the terminal shows it)."""
    return [printable(text_line(line)) for line in brief_parts(result, disclosure, source, changes)]


def brief_footer(result: Result, full: str | None = "`pyisp explain`") -> list[str]:
    """What a result's briefs rest on, said once after them in every format: how many facts
    the case leaves unknown, and the presumptions applied with how to switch them off.
    `full`: where the full reasoning is (None: the page says it)."""
    lines = []
    unknown = len(result.unknowns)
    if unknown:
        lines.append(f"{unknown} {'fact is' if unknown == 1 else 'facts are'} not stated and treated as unknown"
                     + (f"; {full} gives the full reasoning, `--codes` the rules' codes." if full else "."))
    applied = sorted({a.text.rstrip(".") for a in result.presumptions if a.text})
    if applied:
        lines.append("Taken as so, not stated (the rules' presumptions, `pyisp presumptions`): "
                     + "; ".join(applied[:3]) + (f"; and {len(applied) - 3} more" if len(applied) > 3 else "")
                     + ". Switch one off with --no-presume NAME, or all with --strict.")
    return [printable(line) for line in lines]


def brief_text(result: Result, source: str | Path | None = None, changes: bool = True) -> str:
    """Every disclosure's brief, as the terminal shows it."""
    quotes = _source(source)
    lines = [f"case {result.case_id}" + (f": {result.title}" if result.title else ""), ""]
    for disclosure in result.disclosures:
        lines += brief_lines(result, disclosure, quotes, changes)
        lines.append("")
    lines += brief_footer(result)
    return "\n".join(printable(line) for line in lines).rstrip() + "\n"


def md_escape(text: str) -> str:
    """Case text made inert in Markdown."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def markdown_line(line: Line) -> str:
    if line.part == "quote":
        return f"  > {md_escape(line.text)}"
    if line.part == "todo":
        return f"- {line.label}: {md_escape(line.text)}{_cited(line.paragraphs)}."
    if line.part == "note":
        return f"- {md_escape(line.text)}"
    return f"- {md_escape(line.text)}{_cited(line.paragraphs)}"


def brief_markdown_lines(result: Result, disclosure: Disclosure | str,
                         source: str | Path | Mapping[str, str] | None = None, changes: bool = True,
                         level: int = 2, todo_shown: int | None = TODO_SHOWN) -> list[str]:
    """One disclosure's brief in Markdown: a heading (of `level`), the sentence, then the lists."""
    parts = brief_parts(result, disclosure, source, changes, todo_shown)
    head, sentence, rest = parts[0], parts[1], parts[2:]
    out = [f"{'#' * level} {md_escape(head.text)}: {head.label}", "",
           f"**{md_escape(sentence.text)}**", "", f"Deciding paragraphs: {', '.join(head.paragraphs) or 'none'}"]
    for line in rest:
        if line.part in ("heading", "assumed"):
            out += ["", f"**{md_escape(line.text)}**" if line.part == "heading" else md_escape(line.text), ""]
        else:
            out.append(markdown_line(line))
    return out


def brief_markdown(result: Result, source: str | Path | None = None, changes: bool = True) -> str:
    """Every disclosure's brief in Markdown."""
    quotes = _source(source)
    out = [f"# {md_escape(result.case_id)}" + (f": {md_escape(result.title)}" if result.title else ""), ""]
    for disclosure in result.disclosures:
        out += brief_markdown_lines(result, disclosure, quotes, changes)
        out.append("")
    for line in brief_footer(result):
        out += [line, ""]
    return "\n".join(out).rstrip() + "\n"


_LIST_CLASS = {"reason": "deciding", "todo": "todo", "question": "changes", "change": "changes"}


def _plain_links(paragraphs: Sequence[str]) -> str:
    return escape(", ".join(paragraphs))


def brief_html(result: Result, disclosure: Disclosure | str, source: str | Path | Mapping[str, str] | None = None,
               changes: bool = True, links: Any = _plain_links, todo_shown: int | None = TODO_SHOWN) -> str:
    """One disclosure's brief as HTML, for a page to put first: the verdict (`.verdict`), the
    sentence, the deciding paragraphs and reasons (`.deciding`), then the lists. `links`
    renders a list of paragraph numbers (the explanation links them to its appendix)."""
    if isinstance(disclosure, str):
        disclosure = result.disclosure(disclosure)
    parts = brief_parts(result, disclosure, source, changes, todo_shown)
    head, sentence, rest = parts[0], parts[1], parts[2:]
    out = [f'<div class="brief"><p class="verdict {escape(disclosure.verdict)}">{escape(head.label)}</p>',
           f"<p><strong>{escape(sentence.text)}</strong></p>",
           f'<p class="deciding">Deciding paragraphs: <span class="cite">{links(head.paragraphs) or "none"}</span></p>']
    open_list = ""
    for line in rest:
        if line.part in ("heading", "assumed"):
            if open_list:
                out.append("</ul>")
                open_list = ""
            out.append(f'<p class="brief-head">{escape(line.text)}</p>' if line.part == "heading"
                       else f'<p class="aside">{escape(line.text)}</p>')
            continue
        kind = _LIST_CLASS.get(line.part, open_list or "list")
        if open_list and kind != open_list:
            out.append("</ul>")
            open_list = ""
        if not open_list:
            open_list = kind
            out.append(f'<ul class="{open_list}">')
        if line.part == "quote":
            out.append(f'<li class="quote"><blockquote>{escape(line.text)}</blockquote></li>')
            continue
        label = f"{escape(line.label)}: " if line.part == "todo" else ""
        cite = f' <span class="cite">({links(line.paragraphs)})</span>' if line.paragraphs else ""
        out.append(f"<li>{label}{escape(line.text)}{cite}</li>")
    if open_list:
        out.append("</ul>")
    out.append("</div>")
    return "\n".join(out) + "\n"
