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
from .policy import Policy, paragraph_key
from .result import DEPENDS, YES, Provenance, Result, symbol_text

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


def _cited(policy: Policy, key: clingo.Symbol, entry: clingo.Symbol) -> tuple[str, ...]:
    """The paragraphs behind a value: those of the finding it names (`permitted_by(consent)`:
    the consent route's), else those of the rule that puts it in the record."""
    value = entry.arguments[2]
    if value.type == clingo.SymbolType.Function and value.arguments:
        found = policy.paragraphs_for(clingo.Function("finding", [key, value]))
        if found:
            return found
    return policy.paragraphs_for(entry)


def build_record(case: Mapping[str, Any], result: Result, answer: Answer, policy: Policy,
                 names: Mapping[str, str] | None = None) -> Record:
    """Lay out the record of each disclosure from the rules' `record_item`/`record_entry` atoms
    and the texts the case gives under `disclosures[].record`. `names` maps the slots the
    answer's atoms may name (pyisp/core/engine.py) to the case's ids."""
    stated = {d["id"]: dict(d.get("record") or {}) for d in case["disclosures"]}
    slots = {ident: slot for slot, ident in (names or {}).items()}

    def _named(symbol: clingo.Symbol) -> clingo.Symbol:
        """The term with its slots named by the case's ids."""
        if symbol.type == clingo.SymbolType.String and symbol.string.startswith(SLOT_MARK):
            return clingo.String((names or {}).get(symbol.string, symbol.string))
        if symbol.type == clingo.SymbolType.Function and symbol.arguments:
            return clingo.Function(symbol.name, [_named(a) for a in symbol.arguments], symbol.positive)
        return symbol

    order = list(LABELS)
    needed: dict[clingo.Symbol, set[clingo.Symbol]] = {}  # disclosure -> the items the rules may ask for
    for s in answer.named(ITEM):
        args = s.arguments
        if len(args) == 2:
            needed.setdefault(args[0], set()).add(args[1])
    filled: dict[tuple[clingo.Symbol, clingo.Symbol], list[clingo.Symbol]] = {}  # (disclosure, item) -> entries
    for s in answer.named(ENTRY):
        args = s.arguments
        if len(args) == 3 and s in answer.certain:  # a value that depends on unknowns is still to supply
            filled.setdefault((args[0], args[1]), []).append(s)
    records = []
    for disclosure in result.disclosures:
        key = clingo.String(slots.get(disclosure.id, disclosure.id))
        required = sorted(needed.get(key, ()),
                          key=lambda t: (order.index(t.name) if t.name in order else len(order), symbol_text(_named(t))))
        items = []
        for term in required:
            atom = clingo.Function(ITEM, [key, term])
            shown = _named(term)
            name = symbol_text(shown)
            entries = sorted(filled.get((key, term), ()), key=lambda s: symbol_text(_named(s.arguments[2])))
            terms = tuple((_named(s.arguments[2]), _cited(policy, key, s)) for s in entries)
            values = [symbol_text(t) for t, _ in terms]
            given = stated[disclosure.id].get(term.name) if not term.arguments else None
            text = _stated_text(given) if given is not None else None
            if text is not None and text not in values:
                values.append(text)
            source = "case" if text is not None and not terms else ("rules" if terms else None)
            label = LABELS.get(term.name, term.name.replace("_", " "))
            if "{}" in label:
                label = label.format(", ".join(symbol_text(a) for a in shown.arguments))
            items.append(RecordItem(name, label, YES if atom in answer.certain else DEPENDS,
                                    policy.paragraphs_for(atom), tuple(values), source, text, terms))
        deciding = {p for i in items if i.name == "reasons" for t, ps in i.terms if t.name == "decided_by" for p in ps}
        records.append(DisclosureRecord(disclosure.id, disclosure.verdict, tuple(items),
                                        tuple(sorted(deciding, key=paragraph_key)) or disclosure.paragraphs))
    return Record(result.case_id, tuple(records), result.provenance)
