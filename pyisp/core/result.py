"""Results: what the engine's answer means for each proposed disclosure, as frozen
dataclasses with `to_dict()`.

The verdict is the rules' own (`verdict/2`, policy/verdict.lp): the one verdict that every
completion of the case gives, or `undetermined` with the verdicts still possible. Each
disclosure lists the presumptions its verdict rests on (with the verdicts possible if one
turned out otherwise) and the unstated facts whose answer would change something.

Late binding: core imports nothing above it at module level (tests/test_layers.py). The one
way up is `Result.explain()` (with the cached `_explainer` it reuses), which imports the
explain layer (pyisp/explain/) inside the method, when an explanation is asked for.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Mapping

import clingo

from .engine import SLOT_MARK, Answer, DecidingSet
from .policy import Policy, paragraph_key, symbol_key

class Verdict(StrEnum):
    """A disclosure's verdict; equal to its string (`Verdict.MUST_SHARE == "must_share"`)."""

    MUST_SHARE = "must_share"
    MAY_SHARE = "may_share"
    MUST_NOT_SHARE = "must_not_share"
    UNDETERMINED = "undetermined"


class Status(StrEnum):
    """A three-valued answer: holds (`yes`), does not (`no`), or depends on unknowns; equal to its string."""

    YES = "yes"
    NO = "no"
    DEPENDS = "depends"


class RefusalKind(StrEnum):
    """Which kind of refusal a MUST NOT SHARE is (policy/verdict.lp, verdict_kind/2): a bar
    no route passes, a step to take first, no route at all, or a refused channel."""

    BARRED = "barred"
    NOT_YET = "not_yet"
    NO_ROUTE = "no_route"
    NOT_BY_THIS_CHANNEL = "not_by_this_channel"


YES, NO, DEPENDS = Status.YES, Status.NO, Status.DEPENDS
VERDICTS = tuple(Verdict)


def _verdict(value: Any) -> Any:
    if type(value) is Verdict:
        return value
    return Verdict(value) if isinstance(value, str) and value in Verdict._value2member_map_ else value


def _status_of(value: Any) -> Any:
    if type(value) is Status:
        return value
    return Status(value) if isinstance(value, str) and value in Status._value2member_map_ else value


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # frozen dataclasses: only in __post_init__


def symbol_text(symbol: clingo.Symbol) -> str:
    """A symbol as people read it: strings without quotes, terms as name(args) (read once: _term)."""
    return _term(symbol).text


# Each atom's and term's parts read once (clingo symbols are unique: equal symbols are one
# term): reading them again through clingo's C interface costs far more than a look-up.
# Pure functions of the symbol, kept for every case; cleared past TERMS_KEPT. Keyed by
# policy.symbol_key (the symbol's own number in clingo).
TERMS_KEPT = 100_000
_ident = symbol_key


class _Term:
    """A term's parts: functor name (None unless a function), arguments, text as people
    read it (symbol_text), the slot names in it (in order, once each), and a string's value."""

    __slots__ = ("name", "args", "text", "slots", "string")

    def __init__(self, name: str | None, args: tuple[clingo.Symbol, ...], text: str, slots: tuple[str, ...],
                 string: str | None) -> None:
        self.name, self.args, self.text, self.slots, self.string = name, args, text, slots, string


_TERMS: dict[Any, _Term] = {}  # _ident(symbol) -> its parts
_NAMED: dict[tuple[Any, tuple[str, ...]], tuple[clingo.Symbol, str]] = {}  # pyisp.core.record, by symbol_key
_FINDING: dict[Any, clingo.Symbol | None] = {}  # pyisp.core.record, by symbol_key


def _term(symbol: clingo.Symbol) -> _Term:
    """The parts of a symbol, read once."""
    ident = _ident(symbol)
    term = _TERMS.get(ident)
    if term is None:
        kind = symbol.type
        if kind == clingo.SymbolType.String:
            text = symbol.string
            term = _Term(None, (), text, (text,) if text.startswith(SLOT_MARK) else (), text)
        elif kind == clingo.SymbolType.Function:
            args = tuple(symbol.arguments)
            if args:
                parts = [_term(a) for a in args]
                name = symbol.name
                term = _Term(name, args, f"{name}({', '.join(p.text for p in parts)})",
                             tuple(dict.fromkeys(slot for p in parts for slot in p.slots)), None)
            else:
                term = _Term(symbol.name, (), str(symbol), (), None)
        else:
            term = _Term(None, (), str(symbol), (), None)
        if len(_TERMS) >= TERMS_KEPT:
            _TERMS.clear()
            _NAMED.clear()
            _FINDING.clear()
        _TERMS[ident] = term
    return term


@dataclass(frozen=True)
class Conclusion:
    """A finding or an obligation: its code, arguments, whether it holds (`yes`) or
    depends on unknowns (`depends`), and the paragraphs it comes from."""

    code: str
    args: tuple[str, ...]
    status: str
    paragraphs: tuple[str, ...]

    def __post_init__(self) -> None:
        _set(self, "status", _status_of(self.status))

    @property
    def label(self) -> str:
        return f"{self.code}({', '.join(self.args)})" if self.args else self.code

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "args": list(self.args), "status": self.status,
                "paragraphs": list(self.paragraphs)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Conclusion":
        return cls(data["code"], tuple(data["args"]), data["status"], tuple(data["paragraphs"]))


Finding = Conclusion
Obligation = Conclusion


@dataclass(frozen=True)
class Condition:
    """An unknown fact or judgement of the case, and the values of it that would do."""

    path: str
    values: tuple[Any, ...]
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "values": list(self.values), "description": self.description}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Condition":
        return cls(data["path"], tuple(data["values"]), data.get("description", ""))

    @property
    def text(self) -> str:
        shown = " or ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in self.values)
        return f"{self.path} = {shown}"


@dataclass(frozen=True)
class Dependency:
    """A smallest set of unknowns that settles `conclusion` (`permitted` or `required`,
    or a finding) to `value`, with the verdict it would then give where known."""

    conclusion: str
    value: str
    conditions: tuple[Condition, ...]
    verdict: str | None = None

    def __post_init__(self) -> None:
        _set(self, "value", _status_of(self.value))
        _set(self, "verdict", _verdict(self.verdict))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"conclusion": self.conclusion, "value": self.value,
                                "conditions": [c.to_dict() for c in self.conditions]}
        if self.verdict:
            data["verdict"] = self.verdict
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Dependency":
        return cls(data["conclusion"], data["value"], tuple(Condition.from_dict(c) for c in data["conditions"]),
                   data.get("verdict"))

    @property
    def text(self) -> str:
        effect = f"{self.conclusion}: {self.value}" + (f" (verdict {self.verdict})" if self.verdict else "")
        return f"if {' and '.join(c.text for c in self.conditions)} then {effect}"


@dataclass(frozen=True)
class Assumption:
    """A presumption of the policy that filled an unstated fact: its name, the field and
    the value taken, why (text, paragraphs), and the verdicts possible for this disclosure
    if it turned out otherwise (`if_not`; empty when that would not change the verdict)."""

    name: str
    path: str
    value: Any
    text: str
    paragraphs: tuple[str, ...]
    if_not: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "if_not", tuple(_verdict(v) for v in self.if_not))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "value": _plain(self.value), "text": self.text,
                "paragraphs": list(self.paragraphs), "if_not": list(self.if_not)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Assumption":
        value = data["value"]
        return cls(data["name"], data["path"], tuple(value) if isinstance(value, list) else value, data["text"],
                   tuple(data["paragraphs"]), tuple(data["if_not"]))


@dataclass(frozen=True)
class Question:
    """An unstated fact or judgement whose answer would change a conclusion about this
    disclosure (`changes`: the verdict, or findings and obligations)."""

    path: str
    text: str
    changes: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "text": self.text, "changes": self.changes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Question":
        return cls(data["path"], data["text"], data["changes"])


@dataclass(frozen=True)
class Disclosure:
    """The answer for one proposed disclosure.

    `kind` says which kind of refusal a MUST NOT SHARE is (`barred`, `not_yet`, `no_route`,
    `not_by_this_channel`; None for other verdicts), and `deciding_paragraphs` the paragraphs
    of what decides the verdict (the duty that requires, the routes that permit, the bars
    that forbid; for an undetermined verdict, of all that may decide it). Both are the
    rules' own (`verdict_kind/2`, `decided_by/2`, policy/verdict.lp and decision.lp)."""

    id: str
    verdict: str
    permitted: str
    required: str
    deciding_paragraphs: tuple[str, ...]
    findings: tuple[Conclusion, ...]
    obligations: tuple[Conclusion, ...]
    depends_on: tuple[Dependency, ...]
    possible_verdicts: tuple[str, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    questions: tuple[Question, ...] = ()
    kind: str | None = None

    def __post_init__(self) -> None:
        _set(self, "verdict", _verdict(self.verdict))
        _set(self, "permitted", _status_of(self.permitted))
        _set(self, "required", _status_of(self.required))
        _set(self, "possible_verdicts", tuple(_verdict(v) for v in self.possible_verdicts))
        if self.kind is not None and self.kind in RefusalKind._value2member_map_:
            _set(self, "kind", RefusalKind(self.kind))

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The paragraphs a verdict cites: its deciding paragraphs."""
        return self.deciding_paragraphs

    def finding(self, code: str) -> list[Conclusion]:
        """The findings with this code (any arguments)."""
        return [f for f in self.findings if f.code == code]

    def obligation(self, code: str) -> list[Conclusion]:
        """The obligations with this code (any arguments)."""
        return [o for o in self.obligations if o.code == code]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "verdict": self.verdict, "kind": self.kind,
                "possible_verdicts": list(self.possible_verdicts),
                "permitted": self.permitted, "required": self.required,
                "deciding_paragraphs": list(self.deciding_paragraphs),
                "findings": [f.to_dict() for f in self.findings],
                "obligations": [o.to_dict() for o in self.obligations],
                "depends_on": [d.to_dict() for d in self.depends_on],
                "assumptions": [a.to_dict() for a in self.assumptions],
                "questions": [q.to_dict() for q in self.questions]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Disclosure":
        return cls(data["id"], data["verdict"], data["permitted"], data["required"],
                   tuple(data["deciding_paragraphs"]),
                   tuple(Conclusion.from_dict(f) for f in data["findings"]),
                   tuple(Conclusion.from_dict(o) for o in data["obligations"]),
                   tuple(Dependency.from_dict(d) for d in data["depends_on"]),
                   tuple(data.get("possible_verdicts", ())),
                   tuple(Assumption.from_dict(a) for a in data.get("assumptions", ())),
                   tuple(Question.from_dict(q) for q in data.get("questions", ())),
                   data.get("kind"))


@dataclass(frozen=True)
class Provenance:
    """What answered a result, so that a stored decision can be traced to its rules: the
    pyisp version, the policy's fingerprint (sha256 over its rule files, pyisp/core/policy.py),
    every reading with the alternative taken (`chosen`: those the caller chose), each
    presumption in force or not, and the case format version."""

    pyisp: str
    policy_sha256: str
    readings: tuple[tuple[str, str], ...] = ()
    presumptions: tuple[tuple[str, bool], ...] = ()
    case_format: int | None = None
    chosen: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        """The fingerprint's first 8 hex digits, as shown to people."""
        return self.policy_sha256[:8]

    def to_dict(self) -> dict[str, Any]:
        return {"pyisp": self.pyisp, "policy_sha256": self.policy_sha256, "readings": dict(self.readings),
                "readings_chosen": list(self.chosen), "presumptions": dict(self.presumptions),
                "case_format": self.case_format}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Provenance":
        return cls(data["pyisp"], data["policy_sha256"], tuple(data.get("readings", {}).items()),
                   tuple(data.get("presumptions", {}).items()), data.get("case_format"),
                   tuple(data.get("readings_chosen", ())))

    @property
    def text(self) -> str:
        """One line: version, rules, case format, readings and presumptions in force."""
        chosen = dict(self.readings)
        taken = ", ".join(f"{n}={chosen.get(n, '?')}" for n in self.chosen)
        readings = (f"{len(self.readings)} readings, chosen: {taken}" if self.chosen
                    else f"{len(self.readings)} readings at their defaults")
        off = [n for n, on in self.presumptions if not on]
        presumed = (f"presumptions off: {', '.join(off)}" if off
                    else f"{len(self.presumptions)} presumptions in force")
        fmt = f", case format {self.case_format}" if self.case_format is not None else ""
        return f"pyisp {self.pyisp}, rules sha256 {self.short}{fmt}; {readings}; {presumed}"


@dataclass(frozen=True)
class Result:
    """The answer for a whole case."""

    case_id: str
    title: str
    disclosures: tuple[Disclosure, ...]
    unknowns: tuple[str, ...] = field(default=())
    presumptions: tuple[Assumption, ...] = field(default=())  # every presumption applied to the case
    meta: Any = field(default=None, compare=False)  # the case's free metadata, untouched
    case: Any = field(default=None, repr=False, compare=False)    # the Case, kept for explain()
    policy: Any = field(default=None, repr=False, compare=False)  # the Policy that answered it
    inputs: Any = field(default=None, repr=False, compare=False)  # the exact input atoms it was answered on
    record: Any = field(default=None, repr=False, compare=False)  # the Record of its decisions (pyisp/record.py)
    provenance: Provenance | None = field(default=None, compare=False)  # what answered it (version, rules, ...)

    def disclosure(self, disclosure_id: str) -> Disclosure:
        for item in self.disclosures:
            if item.id == disclosure_id:
                return item
        raise KeyError(disclosure_id)

    def explain(self, disclosure_id: str, conclusion: str | None = None, why_not: str | None = None) -> Any:
        """Why the verdict (or `conclusion`) holds, or why `why_not` does not, as a tree with
        `to_dict()`, `to_text()`, `to_markdown()`, `to_html()`. Computed only when asked.

        Thread-safe: the cached explainer keeps per-question state (the atoms already
        explained, reset by each explain), so one result's explanations run one at a time."""
        from ..explain import explain_result

        with self._explain_lock():
            return explain_result(self, disclosure_id, conclusion, why_not, self._explainer)[0]

    def _explain_lock(self) -> Any:
        """The lock of this result's explainer, made on first use (dict.setdefault is atomic)."""
        lock = self.__dict__.get("_lock")
        return lock if lock is not None else self.__dict__.setdefault("_lock", threading.RLock())

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock", None)  # a lock is not pickled (results go between batch processes)
        return state

    @cached_property
    def _explainer(self) -> Any:
        """One instrumented run of the case, made on the first explain() and reused."""
        from ..explain import explainer_for

        return explainer_for(self)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"case": self.case_id, "title": self.title,
                "disclosures": [d.to_dict() for d in self.disclosures], "unknowns": list(self.unknowns),
                "presumptions": [a.to_dict() for a in self.presumptions]}
        if self.meta is not None:
            data["meta"] = self.meta
        if self.record is not None:
            data["record"] = self.record.to_dict()
        if self.provenance is not None:
            data["provenance"] = self.provenance.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Result":
        """A stored result (`to_dict()`, e.g. read back from JSON), without the case and
        policy behind it: `from_dict(r.to_dict()).to_dict() == r.to_dict()`. A loaded
        result cannot be explained (explain() needs the case and the rules)."""
        from .record import Record

        return cls(data["case"], data["title"], tuple(Disclosure.from_dict(d) for d in data["disclosures"]),
                   tuple(data.get("unknowns", ())),
                   tuple(Assumption.from_dict(a) for a in data.get("presumptions", ())),
                   meta=data.get("meta"),
                   record=Record.from_dict(data["record"]) if data.get("record") is not None else None,
                   provenance=Provenance.from_dict(data["provenance"]) if data.get("provenance") is not None else None)


def verdict_of(permitted: str, required: str) -> str | None:
    """The verdict settled by two three-valued answers, or None when they leave it open
    (required yes: must share; permitted no: must not share; permitted yes and required
    no: may share). The rules' `verdict/2` is the authority; this reads a deciding set."""
    if required == YES:
        return Verdict.MUST_SHARE
    if permitted == NO:
        return Verdict.MUST_NOT_SHARE
    if permitted == YES and required == NO:
        return Verdict.MAY_SHARE
    return None


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _verdicts(symbols: Any, key: clingo.Symbol) -> tuple[str, ...]:
    """The verdicts that the `verdict/2` atoms among `symbols` give this disclosure, in the order of VERDICTS."""
    found = set()
    for s in symbols:
        term = _term(s)
        if term.name == "verdict" and term.args[0] == key:
            found.add(_term(term.args[1]).name)
    return tuple(v for v in VERDICTS if v in found)


def _settled(possible: tuple[str, ...]) -> str:
    """A disclosure's verdict: the one verdict some completion gives, else undetermined."""
    return possible[0] if len(possible) == 1 else Verdict.UNDETERMINED


def read_verdicts(disclosure_ids: list[str], answer: Answer, names: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The verdict of each disclosure, as build_result reads it, without the rest of a Result
    (`pyisp batch --only verdicts`)."""
    slots = {v: k for k, v in names.items()} if names else {}
    verdicts = _named(answer, "verdict")
    return tuple(_settled(_verdicts(verdicts, clingo.String(slots.get(i, i)))) for i in disclosure_ids)


def _named(answer: Answer, name: str) -> list[clingo.Symbol]:
    """The atoms of `answer.possible` with this predicate name, in its order (Answer.named,
    indexed once per answer; an answer of another engine without the index: filtered here)."""
    named = getattr(answer, "named", None)
    if named is not None:
        found: list[clingo.Symbol] = named(name)
        return found
    return [s for s in answer.possible if _term(s).name == name]


def _status(symbol: clingo.Symbol, answer: Answer) -> str:
    if symbol in answer.certain:
        return YES
    return DEPENDS if symbol in answer.possible else NO


_SLOT = re.compile(r"#[A-Za-z_]+\.\d+")
_PARSED: dict[Any, tuple[str, str, str, tuple[str, ...]] | None] = {}  # _ident(symbol) -> ...


def _parse(symbol: clingo.Symbol) -> tuple[str, str, str, tuple[str, ...]] | None:
    """A finding or obligation atom as (name, disclosure, code, args), cached: the engine's
    atoms name slots, so the same few recur from case to case."""
    own = _ident(symbol)
    parsed = _PARSED.get(own, _UNPARSED)
    if parsed is _UNPARSED:
        parsed = None
        atom = _term(symbol)
        if atom.name in ("finding", "obligation") and len(atom.args) == 2:
            disclosure, term = atom.args
            inner = _term(term)
            args = tuple(_term(a).text for a in inner.args)
            code = inner.name if inner.name is not None else inner.text
            parsed = (atom.name, _term(disclosure).text, code, args)
        if len(_PARSED) > 100_000:
            _PARSED.clear()
        _PARSED[own] = parsed
    return parsed  # type: ignore[return-value]


_UNPARSED = object()
_CANONICAL: dict[Any, clingo.Symbol] = {}  # _ident(symbol) -> the symbol with slots renamed


def _canonical(symbol: clingo.Symbol) -> clingo.Symbol:
    """The atom with its slots renamed #0, #1, ... in order of first appearance: it matches
    the same rules (slots equal each other as before and no constant of the policy), so
    its paragraphs are the same, and the policy's cache stays small across case shapes."""
    ident = _ident(symbol)
    known = _CANONICAL.get(ident)
    if known is not None:
        return known
    names: dict[str, clingo.Symbol] = {}

    def rename(term: clingo.Symbol) -> clingo.Symbol:
        if term.type == clingo.SymbolType.String and term.string.startswith(SLOT_MARK):
            return names.setdefault(term.string, clingo.String(f"{SLOT_MARK}{len(names)}"))
        if term.type == clingo.SymbolType.Function and term.arguments:
            return clingo.Function(term.name, [rename(a) for a in term.arguments], term.positive)
        return term

    if len(_CANONICAL) > 100_000:
        _CANONICAL.clear()
    known = _CANONICAL[ident] = rename(symbol)
    return known


def _conclusions(found: list[tuple[clingo.Symbol, str, tuple[str, ...]]], answer: Answer, policy: Policy,
                 names: Mapping[str, str] | None) -> tuple[Conclusion, ...]:
    items = []
    for symbol, code, args in found:
        if names and any(SLOT_MARK in a for a in args):
            args = tuple(_SLOT.sub(lambda m: names[m.group()], a) for a in args)
        items.append(Conclusion(code, args, _status(symbol, answer), policy.paragraphs_for(_canonical(symbol))))
    return tuple(sorted(items, key=lambda c: (c.code, c.args)))


def _dependencies(conclusion: str, sets: tuple[DecidingSet, ...], other: str) -> tuple[Dependency, ...]:
    deps = []
    for deciding in sets:
        value = YES if deciding.value else NO
        if conclusion == "permitted":
            verdict = "must_not_share" if value == NO else ("may_share" if other == NO else None)
        else:
            verdict = "must_share" if value == YES else verdict_of(other, NO)
        conditions = tuple(Condition(u.path, values, u.description) for u, values in deciding.conditions)
        deps.append(Dependency(conclusion, value, conditions, verdict))
    return tuple(deps)


# What a professional can find out or decide now, first: their own judgements, consent and
# the child's understanding, then the concern, then everything else (rarer facts).
_FINDABLE = (".judgements.", "consents[", "child.understanding", "concern.", "seeking_consent_would")


def _findable(dependency: Dependency) -> tuple[int, int]:
    """Sort key of a deciding set: how easily its facts are found out, then how many there are."""
    def rank(path: str) -> int:
        return next((i for i, part in enumerate(_FINDABLE) if part in path), len(_FINDABLE))

    return max((rank(c.path) for c in dependency.conditions), default=0), len(dependency.conditions)


def _assumptions(answer: Answer, key: clingo.Symbol | None, possible: tuple[str, ...],
                 known: Mapping[str, Any]) -> tuple[Assumption, ...]:
    """The presumptions applied; with `key`, only those this disclosure's verdict rests on."""
    items = []
    for presumed in answer.presumed:
        meta = known.get(presumed.name)
        if_not: tuple[str, ...] = ()
        if key is not None:
            if_not = _verdicts(presumed.rebutted, key)
            if set(if_not) <= set(possible) and (len(possible) > 1 or if_not == possible):
                continue  # the verdict does not rest on it: rebutted, no verdict becomes possible that is not now
        items.append(Assumption(presumed.name, presumed.unknown.path, presumed.value, meta.text if meta else "",
                                meta.paragraphs if meta else (), if_not))
    return tuple(sorted(items, key=lambda a: (a.name, a.path)))


def _questions(answer: Answer, key: clingo.Symbol, verdict_open: bool) -> tuple[Question, ...]:
    """The unstated facts whose answer would change a conclusion of this disclosure, those
    that decide the verdict first."""
    if not answer.relevance:
        return ()
    items = []
    for unknown, atoms in answer.relevance.items():
        mine = [a for a in atoms if a.arguments and a.arguments[0] == key]
        if not mine:
            continue
        changes = "verdict" if any(a.name == "verdict" for a in mine) else "obligations"
        items.append(Question(unknown.path, unknown.question or "Not stated: " + unknown.description, changes))
    return tuple(sorted(items, key=lambda q: (q.changes != "verdict", q.path)))


def _deciding_paragraphs(findings: tuple[Conclusion, ...], verdict: str) -> tuple[str, ...]:
    """The paragraphs cited by the rules' `decided_by` findings: those that hold; for an
    undetermined verdict, or a settled one that different reasons decide in different
    completions (one route or another permits), all that may."""
    deciding = [f for f in findings if f.code == "decided_by"]
    held = [f for f in deciding if f.status == YES]
    cited = {p for f in (held if held and verdict != Verdict.UNDETERMINED else deciding) for p in f.paragraphs}
    return tuple(sorted(cited, key=paragraph_key))


def _kind(findings: tuple[Conclusion, ...], verdict: str) -> str | None:
    """The rules' `verdict_kind` of a MUST NOT SHARE (None for other verdicts, or if it depends)."""
    if verdict != Verdict.MUST_NOT_SHARE:
        return None
    kinds = [f.args[0] for f in findings if f.code == "verdict_kind" and f.status == YES]
    return kinds[0] if len(kinds) == 1 else None


def build_result(case_id: str, title: str, disclosure_ids: list[str], answer: Answer, policy: Policy,
                 names: Mapping[str, str] | None = None) -> Result:
    """Read the engine's answer into a Result. `names` maps the slots the answer's atoms
    name (pyisp/engine.py) to the case's ids; without it the atoms name the ids."""
    from .presumption import presumptions

    known = {p.name: p for p in presumptions(policy)} if answer.presumed else {}
    slots = {v: k for k, v in names.items()} if names else {}
    found: dict[tuple[str, str], list[tuple[clingo.Symbol, str, tuple[str, ...]]]] = {}
    for symbol in _named(answer, "finding") + _named(answer, "obligation"):  # those of answer.possible _parse reads
        parsed = _parse(symbol)
        if parsed is not None:
            found.setdefault(parsed[:2], []).append((symbol, parsed[2], parsed[3]))
    disclosures = []
    for ident in disclosure_ids:
        name = slots.get(ident, ident)
        key = clingo.String(name)
        permitted_atom = clingo.Function("permitted", [key])
        required_atom = clingo.Function("required", [key])
        permitted = _status(permitted_atom, answer)
        required = _status(required_atom, answer)
        findings = _conclusions(found.get(("finding", name), []), answer, policy, names)
        obligations = _conclusions(found.get(("obligation", name), []), answer, policy, names)
        possible = _verdicts(_named(answer, "verdict"), key)
        verdict = _settled(possible)
        depends = tuple(sorted(
            _dependencies("permitted", answer.deciding.get(permitted_atom, ()), required)
            + _dependencies("required", answer.deciding.get(required_atom, ()), permitted), key=_findable))
        disclosures.append(Disclosure(ident, verdict, permitted, required, _deciding_paragraphs(findings, verdict),
                                      findings, obligations, depends, possible,
                                      _assumptions(answer, key, possible, known),
                                      _questions(answer, key, verdict == "undetermined"),
                                      _kind(findings, verdict)))
    unknowns = tuple(u.path for u in answer.unknowns)
    return Result(case_id, title, tuple(disclosures), unknowns, _assumptions(answer, None, (), known))
