"""The record of each decision (3.3.9, 3.3.29, 3.5.21, 3.6.4, 3.6.14, 3.7.1-3.7.9): the items
the rules say it must contain (`record_item/2`), filled from what the rules decide
(`record_entry/3`) and from what the case states (`disclosures[].record`), and the items
still to supply.

The rules decide which items a record needs and what they can fill; this module only lays
them out. pyisp's verdict is kept apart as a recommendation (`DisclosureRecord.verdict` and
`paragraphs`): the `decision` item is the professional's, always left for them to write.
The draft in plain English is rendered by pyisp/render/record.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import clingo

from .engine import SLOT_MARK, Answer
from .policy import Policy, paragraph_key, symbol_key
from .result import _NAMED, _FINDING, DEPENDS, YES, Provenance, Result, _term, symbol_text

ITEM = "record_item"
ENTRY = "record_entry"
LABELS = {
    "decision": "The professional's decision",
    "reasons": "Reasons for the decision",
    "date": "Date",
    "recorded_by": "Recorded by",
    "risk_level": "Level of risk of harm at the time",
    "nature": "Fact, opinion, hypothesis or a mixture",
    "consent": "Consent (obtained, refused or not sought)",
    "consent_of": "Consent of {}",
    "requested_by": "Who made the request",
    "data_requested": "Information requested",
    "reason_for_request": "Reason for the request",
    "context": "Context in which it was shared",
    "data_shared": "Information shared",
    "shared_with": "Shared with",
    "purpose": "Purpose",
    "reasons_without_consent": "Reasons for going ahead without consent",
    "subject_informed": "Was the child or parent told afterwards",
    "reason_not_informed": "Reasons for not informing them",
    "consent_basis": "Basis on which consent was obtained",
    "written_consent_filed": "Written consent filed with the record",
    "security_reassurance": "Recipient's reassurance about secure handling (fax)",
    "decision_not_to_disclose_justified": "The doctor's decision not to disclose, and its justification",
    "colleague_consulted": "The experienced colleague consulted, and their view",
    "confirmed_on_form": "Confirmed in writing on {} (date)",
}


@dataclass(frozen=True)
class RecordItem:
    """One item of a record: whether the rules require it (`yes`, or `depends` on unknown
    facts), the paragraphs asking for it, and its values (from the rules, then the case's
    own text, `stated`). `terms` are the rules' values as terms (slots named by the case's
    ids) with the paragraphs of each, for rendering; they are not part of `to_dict()`."""

    name: str
    label: str
    status: str
    paragraphs: tuple[str, ...]
    values: tuple[str, ...]
    source: str | None
    stated: str | None = None
    terms: tuple[tuple[clingo.Symbol, tuple[str, ...]], ...] = field(default=(), compare=False, repr=False)

    @property
    def to_supply(self) -> bool:
        return not self.values

    @property
    def functor(self) -> str:
        """The item's kind: `consent_of` for `consent_of(mother)`."""
        return self.name.split("(", 1)[0]

    @property
    def argument(self) -> str | None:
        """The person or form an item names (`mother` for `consent_of(mother)`), if any."""
        return self.name[len(self.functor) + 1:-1] if "(" in self.name else None

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.name, "label": self.label, "status": self.status, "paragraphs": list(self.paragraphs),
                "values": list(self.values), "source": self.source, "stated": self.stated,
                "to_supply": self.to_supply}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RecordItem":
        return cls(data["item"], data["label"], data["status"], tuple(data["paragraphs"]), tuple(data["values"]),
                   data.get("source"), data.get("stated"))


@dataclass(frozen=True)
class DisclosureRecord:
    """The record of the decision about one proposed disclosure, with pyisp's recommendation
    (its verdict and deciding paragraphs) beside, never as, the professional's decision."""

    disclosure: str
    verdict: str
    items: tuple[RecordItem, ...]
    paragraphs: tuple[str, ...] = ()

    def item(self, name: str) -> RecordItem:
        for entry in self.items:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def items_of(self, functor: str) -> tuple[RecordItem, ...]:
        """The items of one kind (`consent_of`: one per person)."""
        return tuple(i for i in self.items if i.functor == functor)

    @property
    def to_supply(self) -> tuple[RecordItem, ...]:
        return tuple(i for i in self.items if i.to_supply)

    def to_dict(self) -> dict[str, Any]:
        return {"disclosure": self.disclosure, "verdict": self.verdict, "paragraphs": list(self.paragraphs),
                "items": [i.to_dict() for i in self.items], "to_supply": [i.name for i in self.to_supply]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DisclosureRecord":
        return cls(data["disclosure"], data["verdict"], tuple(RecordItem.from_dict(i) for i in data["items"]),
                   tuple(data.get("paragraphs", ())))


@dataclass(frozen=True)
class Record:
    """The records of a case's decisions, one per proposed disclosure."""

    case_id: str
    disclosures: tuple[DisclosureRecord, ...]
    provenance: Provenance | None = None  # what made the decisions: pyisp version, rules, readings, ...

    def disclosure(self, disclosure_id: str) -> DisclosureRecord:
        for entry in self.disclosures:
            if entry.disclosure == disclosure_id:
                return entry
        raise KeyError(disclosure_id)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"case": self.case_id, "records": [d.to_dict() for d in self.disclosures]}
        if self.provenance is not None:
            data["provenance"] = self.provenance.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Record":
        provenance = data.get("provenance")
        return cls(data["case"], tuple(DisclosureRecord.from_dict(d) for d in data["records"]),
                   Provenance.from_dict(provenance) if provenance is not None else None)


def _stated_text(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def _named_of(symbol: clingo.Symbol, names: Mapping[str, str]) -> tuple[clingo.Symbol, str]:
    """The term with its slots named by the case's ids (`names`: slot -> id), and its text."""
    term = _term(symbol)
    if not term.slots:
        return symbol, term.text
    key = (symbol_key(symbol), tuple(names.get(slot, slot) for slot in term.slots))
    known = _NAMED.get(key)
    if known is None:
        shown = _renamed(symbol, names)
        known = _NAMED[key] = (shown, symbol_text(shown))
    return known


def _renamed(symbol: clingo.Symbol, names: Mapping[str, str]) -> clingo.Symbol:
    if symbol.type == clingo.SymbolType.String and symbol.string.startswith(SLOT_MARK):
        return clingo.String(names.get(symbol.string, symbol.string))
    if symbol.type == clingo.SymbolType.Function and symbol.arguments:
        return clingo.Function(symbol.name, [_renamed(a, names) for a in symbol.arguments], symbol.positive)
    return symbol


_UNSEEN: Any = object()


def _cited(policy: Policy, entry: clingo.Symbol) -> tuple[str, ...]:
    """The paragraphs behind a value: those of the finding it names (`permitted_by(consent)`:
    the consent route's), else those of the rule that puts it in the record."""
    own = symbol_key(entry)
    finding = _FINDING.get(own, _UNSEEN)  # one read: another thread may empty the table meanwhile
    if finding is _UNSEEN:
        key, _, value = _term(entry).args
        finding = _FINDING[own] = (clingo.Function("finding", [key, value]) if _term(value).args else None)
    if finding is not None:
        found = policy.paragraphs_for(finding)
        if found:
            return found
    return policy.paragraphs_for(entry)


_ORDER = {name: i for i, name in enumerate(LABELS)}


def build_record(case: Mapping[str, Any], result: Result, answer: Answer, policy: Policy,
                 names: Mapping[str, str] | None = None) -> Record:
    """Lay out the record of each disclosure from the rules' `record_item`/`record_entry` atoms
    and the texts the case gives under `disclosures[].record`. `names` maps the slots the
    answer's atoms may name (pyisp/core/engine.py) to the case's ids."""
    stated = {d["id"]: dict(d.get("record") or {}) for d in case["disclosures"]}
    names = names or {}
    slots = {ident: slot for slot, ident in names.items()}
    last = len(_ORDER)
    certain = answer.certain
    # keyed by symbol_key (the disclosure's, the item's): clingo symbols hash slowly
    needed: dict[Any, dict[Any, clingo.Symbol]] = {}  # disclosure -> the items the rules may ask for
    items_of: dict[tuple[Any, Any], clingo.Symbol] = {}  # (disclosure, item) -> the atom
    for s in answer.named(ITEM):
        args = _term(s).args
        if len(args) == 2:
            pair = (symbol_key(args[0]), symbol_key(args[1]))
            needed.setdefault(pair[0], {})[pair[1]] = args[1]
            items_of[pair] = s
    filled: dict[tuple[Any, Any], list[clingo.Symbol]] = {}  # (disclosure, item) -> entries
    for s in answer.named(ENTRY):
        args = _term(s).args
        if len(args) == 3 and s in certain:  # a value that depends on unknowns is still to supply
            filled.setdefault((symbol_key(args[0]), symbol_key(args[1])), []).append(s)
    records = []
    for disclosure in result.disclosures:
        key = symbol_key(clingo.String(slots.get(disclosure.id, disclosure.id)))
        required = sorted(needed.get(key, {}).items(),
                          key=lambda t: (_ORDER.get(_term(t[1]).name or "", last), _named_of(t[1], names)[1]))
        items = []
        for item, term in required:
            atom = items_of[key, item]
            parts = _term(term)
            shown, name = _named_of(term, names)
            entries = sorted(filled.get((key, item), ()), key=lambda s: _named_of(_term(s).args[2], names)[1])
            terms = tuple((_named_of(_term(s).args[2], names)[0], _cited(policy, s)) for s in entries)
            values = [_named_of(_term(s).args[2], names)[1] for s in entries]
            functor = parts.name if parts.name is not None else symbol_text(term)
            given = stated[disclosure.id].get(functor) if not parts.args else None
            text = _stated_text(given) if given is not None else None
            if text is not None and text not in values:
                values.append(text)
            source = "case" if text is not None and not terms else ("rules" if terms else None)
            label = LABELS.get(functor, functor.replace("_", " "))
            if "{}" in label:
                label = label.format(", ".join(_named_of(a, names)[1] for a in parts.args))
            items.append(RecordItem(name, label, YES if atom in certain else DEPENDS,
                                    policy.paragraphs_for(atom), tuple(values), source, text, terms))
        deciding = {p for i in items if i.name == "reasons" for t, ps in i.terms
                    if _term(t).name == "decided_by" for p in ps}
        records.append(DisclosureRecord(disclosure.id, disclosure.verdict, tuple(items),
                                        tuple(sorted(deciding, key=paragraph_key)) or disclosure.paragraphs))
    return Record(result.case_id, tuple(records), result.provenance)
