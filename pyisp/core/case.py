"""A case: read from YAML or JSON (or given as a dict), validated against the case format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import CaseError
from .schema import validate


@dataclass(frozen=True)
class Case:
    """A validated case document. Build it with `Case.load(path)` or `Case.from_dict(data)`."""

    data: Mapping[str, Any] = field(repr=False)
    source: str | None = None

    @property
    def id(self) -> str:
        return str(self.data.get("id") or (Path(self.source).stem if self.source else "case"))

    @property
    def title(self) -> str:
        return str(self.data.get("title", ""))

    @classmethod
    def from_dict(cls, data: Any, source: str | None = None) -> "Case":
        """Validate a case given as plain data; raises CaseError naming the field."""
        return cls(validate(data), source)

    @classmethod
    def load(cls, path: str | Path) -> "Case":
        """Read and validate a case file (.yaml, .yml or .json)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CaseError(f"cannot read the file: {exc.strerror}", where=str(path)) from None
        return cls.from_dict(parse_document(text, str(path)), str(path))


def parse_document(text: str, where: str) -> Any:
    """Parse a YAML or JSON document (JSON is YAML), reporting the line of a syntax error."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise CaseError(f"not valid YAML or JSON: {exc.problem}", where=f"{where}{line}") from None
    except yaml.YAMLError as exc:
        raise CaseError(f"not valid YAML or JSON: {exc}", where=where) from None


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that refuses a key given twice in one mapping (it would hide a fact)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def as_case(case: "Case | Mapping[str, Any] | str | Path") -> Case:
    """Accept a Case, a dict or a path, as `pyisp.query` does."""
    if isinstance(case, Case):
        return case
    if isinstance(case, (str, Path)):
        return Case.load(case)
    if isinstance(case, Mapping):
        return Case.from_dict(dict(case))
    raise CaseError(f"a case must be a Case, a mapping or a file path, not {type(case).__name__}")


def upgrade_file(path: str | Path, write: bool = False) -> str:
    """A case file in the current format (validated), as YAML; written back with `write`."""
    from .upgrade import upgrade

    path = Path(path)
    Case.load(path)  # validates: a file that does not load is not rewritten
    text = yaml.safe_dump(upgrade(parse_document(path.read_text(encoding="utf-8"), str(path))),
                          sort_keys=False, allow_unicode=True, width=100)
    if write:
        path.write_text(text, encoding="utf-8")
    return text


def dumps_json(data: Any) -> str:
    """The stable JSON form used for every output: sorted keys, two-space indent."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
