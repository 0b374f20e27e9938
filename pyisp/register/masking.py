"""`pyisp log export`: the register's entries as CSV or JSON Lines, masked for an audience
by the rules of masking.yaml (or a file of the same form)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import yaml

from ..errors import PyispError
from .chain import canonical

RULES_FILE = Path(__file__).with_name("masking.yaml")
ACTIONS = ("erase", "pseudonym")
FORMATS = ("jsonl", "csv")
CSV_COLUMNS = ("seq", "at", "who", "case", "disclosure", "verdict", "paragraphs", "findings", "obligations",
               "title", "meta", "record", "brief", "provenance", "hash")


class MaskingError(PyispError):
    """A masking file or audience that cannot be used; `where` names the file or the option."""


def load_rules(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The audiences and their rules, checked: `names` keep, erase or pseudonym, `fields` a
    mapping of path -> erase or pseudonym."""
    source = Path(path) if path else RULES_FILE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MaskingError(f"cannot read the masking rules: {str(exc)[:200]}", where=str(source)) from None
    if not isinstance(data, dict):
        raise MaskingError("the masking rules must map each audience to its rules", where=str(source))
    checked: dict[str, dict[str, Any]] = {}
    for audience, rules in data.items():
        if not isinstance(rules, dict) or set(rules) - {"names", "fields"}:
            raise MaskingError("must hold `names` and `fields` only", where=f"{source}: {audience}")
        names = rules.get("names", "keep")
        if names not in ("keep",) + ACTIONS:
            raise MaskingError(f"{names!r} is not one of keep, {', '.join(ACTIONS)}", where=f"{source}: {audience}.names")
        fields = rules.get("fields") or {}
        if not isinstance(fields, dict):
            raise MaskingError("must map each field path to erase or pseudonym", where=f"{source}: {audience}.fields")
        for field, action in fields.items():
            if action not in ACTIONS:
                raise MaskingError(f"{action!r} is not one of {', '.join(ACTIONS)}",
                                   where=f"{source}: {audience}.fields.{field}")
        checked[str(audience)] = {"names": names, "fields": {str(f): str(a) for f, a in fields.items()}}
    return checked


AUDIENCES = tuple(load_rules())


def mask(entry: Mapping[str, Any], rules: Mapping[str, Any], salt: str = "") -> dict[str, Any]:
    """A copy of an entry with its people's names, then each field rule's values, masked."""
    masked = json.loads(canonical(dict(entry)))
    if rules["names"] != "keep":
        masked = _names(masked, _people(masked.get("people")), rules["names"], salt)
    for path, action in rules["fields"].items():
        masked = _apply(masked, path.split("."), action, salt)
    return masked


def _people(people: Any) -> list[str]:
    found = {str(v) for p in people or [] if isinstance(p, dict) for v in (p.get("id"), p.get("name")) if v}
    return sorted(found, key=len, reverse=True)  # "Ms Jones" before "Jones"


def _names(value: Any, names: list[str], action: str, salt: str) -> Any:
    if not names:
        return value
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")

    def swap(text: str) -> str:
        return pattern.sub(lambda m: "[name]" if action == "erase" else _pseudonym(m.group(1), salt), text)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return swap(item)
        if isinstance(item, list):
            return [walk(i) for i in item]
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        return item

    return walk(value)


def _pseudonym(value: Any, salt: str) -> str:
    text = value if isinstance(value, str) else canonical(value)
    return "p-" + hashlib.sha256(f"{salt}\n{text}".encode("utf-8")).hexdigest()[:12]


def _apply(value: Any, steps: list[str], action: str, salt: str) -> Any:
    if not steps:
        if value is None or action == "erase":
            return None
        return _pseudonym(value, salt)
    step, rest = steps[0], steps[1:]
    if isinstance(value, dict):
        keys = list(value) if step == "*" else [step] if step in value else []
        for key in keys:
            value[key] = _apply(value[key], rest, action, salt)
    elif isinstance(value, list) and step == "*":
        value = [_apply(item, rest, action, salt) for item in value]
    return value


def export(rows: Iterable[Any], fmt: str = "jsonl", audience: str = "auditor", salt: str = "",
           rules_file: str | Path | None = None) -> Iterator[str]:
    """The rows' entries masked for `audience`, as lines of JSON Lines or CSV (with a header)."""
    rules = load_rules(rules_file)
    if audience not in rules:
        raise MaskingError(f"no audience {audience!r} (there are: {', '.join(rules)})", where="--audience")
    if fmt not in FORMATS:
        raise MaskingError(f"{fmt!r} is not one of {', '.join(FORMATS)}", where="--format")
    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
    for row in rows:
        entry = mask({**json.loads(row.entry), "hash": row.hash}, rules[audience], salt)
        if fmt == "jsonl":
            yield canonical(entry) + "\n"
        else:
            decision = entry.get("decision") or {}
            flat = {**entry, "paragraphs": decision.get("deciding_paragraphs"),
                    "findings": _codes(decision.get("findings")), "obligations": _codes(decision.get("obligations"))}
            yield _csv_line([_cell(flat.get(c)) for c in CSV_COLUMNS])


def _codes(conclusions: Any) -> Any:
    if not isinstance(conclusions, list):
        return conclusions
    return [c.get("code") if isinstance(c, dict) else c for c in conclusions]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    return value if isinstance(value, str) else canonical(value)


def _csv_line(cells: Iterable[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()
