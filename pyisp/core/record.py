"""The record of each decision (3.3.9, 3.5.21, 3.7.1-3.7.9): the items the rules say it
must contain (`record_item/2`), filled from what the rules decide (`record_entry/3`) and
from what the case states (`disclosures[].record`), and the items still to supply.

The rules decide which items a record needs and what they can fill; this module only
lays them out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

import clingo

from .engine import Answer
from .policy import Policy
from .result import DEPENDS, YES, Provenance, Result, symbol_text
from .schema import printable

ITEM = "record_item"
_SLOT = re.compile(r"#[A-Za-z_]+\.\d+")  # a slot name in an atom (pyisp/core/engine.py)
ENTRY = "record_entry"
LABELS = {
    "decision": "Decision",
    "reasons": "Reasons for the decision",
    "date": "Date",
    "recorded_by": "Recorded by",
    "risk_level": "Level of risk of harm at the time",
    "nature": "Fact, opinion, hypothesis or a mixture",
    "consent": "Consent (obtained, refused or not sought)",
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
}


@dataclass(frozen=True)
class RecordItem:
    """One item of a record: whether the rules require it (`yes`, or `depends` on unknown
    facts), the paragraphs asking for it, and its values (from the rules or the case)."""

    name: str
    label: str
    status: str
    paragraphs: tuple[str, ...]
    values: tuple[str, ...]
    source: str | None

    @property
    def to_supply(self) -> bool:
        return not self.values

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.name, "label": self.label, "status": self.status, "paragraphs": list(self.paragraphs),
                "values": list(self.values), "source": self.source, "to_supply": self.to_supply}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RecordItem":
        return cls(data["item"], data["label"], data["status"], tuple(data["paragraphs"]), tuple(data["values"]),
                   data.get("source"))


@dataclass(frozen=True)
class DisclosureRecord:
    """The record of the decision about one proposed disclosure."""

    disclosure: str
    verdict: str
    items: tuple[RecordItem, ...]

    def item(self, name: str) -> RecordItem:
        for entry in self.items:
            if entry.name == name:
                return entry
        raise KeyError(name)

    @property
    def to_supply(self) -> tuple[RecordItem, ...]:
        return tuple(i for i in self.items if i.to_supply)

    def to_dict(self) -> dict[str, Any]:
        return {"disclosure": self.disclosure, "verdict": self.verdict, "items": [i.to_dict() for i in self.items],
                "to_supply": [i.name for i in self.to_supply]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DisclosureRecord":
        return cls(data["disclosure"], data["verdict"], tuple(RecordItem.from_dict(i) for i in data["items"]))


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


def build_record(case: Mapping[str, Any], result: Result, answer: Answer, policy: Policy,
                 names: Mapping[str, str] | None = None) -> Record:
    """Lay out the record of each disclosure from the rules' `record_item`/`record_entry` atoms
    and the texts the case gives under `disclosures[].record`. `names` maps the slots the
    answer's atoms may name (pyisp/core/engine.py) to the case's ids."""
    stated = {d["id"]: dict(d.get("record") or {}) for d in case["disclosures"]}
    slots = {ident: slot for slot, ident in (names or {}).items()}

    def _named(symbol: clingo.Symbol) -> str:
        text = symbol_text(symbol)
        return _SLOT.sub(lambda m: (names or {}).get(m.group(), m.group()), text) if names else text

    records = []
    for disclosure in result.disclosures:
        key = clingo.String(slots.get(disclosure.id, disclosure.id))
        items = []
        item_names = sorted({s.arguments[1].name for s in answer.possible
                        if s.name == ITEM and len(s.arguments) == 2 and s.arguments[0] == key},
                       key=lambda n: list(LABELS).index(n) if n in LABELS else len(LABELS))
        for name in item_names:
            atom = clingo.Function(ITEM, [key, clingo.Function(name)])
            status = YES if atom in answer.certain else DEPENDS
            values: list[str] = []
            source = None
            given = stated[disclosure.id].get(name)
            ruled = sorted(_named(s.arguments[2]) for s in answer.certain
                           if s.name == ENTRY and len(s.arguments) == 3 and s.arguments[0] == key
                           and s.arguments[1].name == name)  # a value that depends on unknowns is still to supply
            if name == "decision":
                values.append(disclosure.verdict)
                source = "rules"
            elif ruled:
                values += ruled
                source = "rules"
            elif given is not None:
                values.append(str(given).lower() if isinstance(given, bool) else str(given))
                source = "case"
            items.append(RecordItem(name, LABELS.get(name, name.replace("_", " ")), status,
                                    policy.paragraphs_for(atom), tuple(values), source))
        records.append(DisclosureRecord(disclosure.id, disclosure.verdict, tuple(items)))
    return Record(result.case_id, tuple(records), result.provenance)


def record_text(record: Record) -> str:
    """The record as text: each item with its value, or marked as still to supply."""
    lines = [f"record of the decisions in case {record.case_id}", ""]
    for entry in record.disclosures:
        lines.append(f"{entry.disclosure} ({entry.verdict.replace('_', ' ')})")
        for item in entry.items:
            when = "" if item.status == YES else "  [if it applies: depends on unknown facts]"
            value = "; ".join(item.values) if item.values else "TO SUPPLY"
            lines.append(f"  {item.label:<62} {value}{when}  ({', '.join(item.paragraphs)})")
        missing = [i.name for i in entry.to_supply]
        lines.append(f"  still to supply: {', '.join(missing) if missing else 'nothing'}")
        lines.append("")
    lines += _provenance_lines(record.provenance)
    return "\n".join(printable(line) for line in lines).rstrip() + "\n"  # case text cannot start a line


def _provenance_lines(provenance: Provenance | None) -> list[str]:
    """The provenance of a record: what made its decisions, one line each."""
    if provenance is None:
        return []
    readings = dict(provenance.readings)
    chosen = ", ".join(f"{n}={readings.get(n, '?')}" for n in provenance.chosen)
    off = [n for n, on in provenance.presumptions if not on]
    return ["provenance",
            f"  pyisp version        {provenance.pyisp}",
            f"  rules (sha256)       {provenance.policy_sha256}",
            f"  case format          {provenance.case_format}",
            f"  readings             {len(readings)}, " + (f"chosen: {chosen}" if chosen else "all at their defaults"),
            f"  presumptions         {len(provenance.presumptions)}, "
            + (f"off: {', '.join(off)}" if off else "all in force")]
