"""A case: read from YAML or JSON (or given as a dict), validated against the case format."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from . import jsontext
from ..errors import CaseError
from .schema import MAX_NUMBER_CHARS, limit, printable, short, too_many_values, validate


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
        """Read and validate a case file (.yaml, .yml or .json): UTF-8 text of at most
        PYISP_MAX_CASE_BYTES bytes (checked before anything is parsed)."""
        path = Path(path)
        return cls.from_dict(parse_document(read_case_text(path), str(path)), str(path))


def read_case_text(path: Path) -> str:
    """The text of a case file, refused (CaseError naming the file) when it is larger than
    the size cap or not UTF-8 text."""
    cap = limit("PYISP_MAX_CASE_BYTES")
    try:
        size = path.stat().st_size
        if size > cap:
            raise CaseError(_too_large(cap), where=str(path))
        with path.open("rb") as handle:
            raw = handle.read(cap + 1)  # a file that grows, or a device, still stops at the cap
    except OSError as exc:
        raise CaseError(f"cannot read the file: {exc.strerror}", where=str(path)) from None
    if len(raw) > cap:
        raise CaseError(_too_large(cap), where=str(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(f"not UTF-8 text: the byte 0x{raw[exc.start]:02x} at offset {exc.start} cannot be read "
                        "(a case file is YAML or JSON saved as UTF-8)", where=str(path)) from None


def _too_large(cap: int) -> str:
    return (f"more than {cap} bytes, the limit for a case (raise it with the environment variable "
            "PYISP_MAX_CASE_BYTES)")


def parse_document(text: str, where: str) -> Any:
    """Parse a YAML or JSON document (JSON is YAML), reporting the line of a syntax error.

    Before anything is built the document is refused when it is larger than
    PYISP_MAX_CASE_BYTES; then it is read as a stream of events (no recursion, nothing
    built) and refused when it nests deeper than PYISP_MAX_CASE_DEPTH, holds more than
    PYISP_MAX_CASE_VALUES values, or when its aliases
    (``*name``) would bring in more than PYISP_MAX_CASE_ALIAS_NODES values in all: a few
    aliases are read as usual, an alias bomb is refused without being expanded.
    """
    cap = limit("PYISP_MAX_CASE_BYTES")
    if len(text) > cap or len(text.encode("utf-8", "surrogatepass")) > cap:
        raise CaseError(_too_large(cap), where=where)
    try:
        _scan(text, where)
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        if "nesting depth" in str(exc.problem):  # libyaml's own limit (1,000 levels), met before ours
            raise CaseError(_too_deep(limit("PYISP_MAX_CASE_DEPTH")), where=f"{where}{line}") from None
        raise CaseError(f"not valid YAML or JSON: {printable(str(exc.problem))[:200]}",
                        where=f"{where}{line}") from None
    except yaml.YAMLError as exc:
        raise CaseError(f"not valid YAML or JSON: {printable(str(exc))[:200]}", where=where) from None
    except (ValueError, TypeError, RecursionError) as exc:  # a value the constructors cannot build
        raise CaseError(f"cannot be read: {printable(str(exc))[:200]}", where=where) from None


def _scan(text: str, where: str) -> None:
    """Walk the document's events, building nothing: refuse nesting deeper than the limit,
    and aliases that would bring in more values than the budget (counted as expanded)."""
    max_depth, budget = limit("PYISP_MAX_CASE_DEPTH"), limit("PYISP_MAX_CASE_ALIAS_NODES")
    max_values = limit("PYISP_MAX_CASE_VALUES")
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values in it, levels of nesting in it)
    frames: list[list[Any]] = []  # each open list or map: [anchor, values before it, its level, deepest in it]
    depth = values = brought = 0
    for event in yaml.parse(text, Loader=_UniqueKeyLoader):
        if isinstance(event, yaml.AliasEvent):
            size, height = sizes.get(event.anchor or "", (1, 0))  # an undefined one: the loader says so
            values += size
            brought += size
            reached = depth + height
            if brought > budget:
                raise CaseError(f"its aliases (*name) would bring in more than {budget} values: refused, not "
                                "expanded (write the values out, or raise the limit with the environment "
                                "variable PYISP_MAX_CASE_ALIAS_NODES)", where=_at(where, event))
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            reached = depth
            if event.anchor:
                sizes[event.anchor] = (1, 0)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            values += 1
            reached = depth
            frames.append([event.anchor, values, depth, depth])
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, before, level, deepest = frames.pop()
            if anchor:
                sizes[anchor] = (values - before + 1, deepest - level + 1)
            if frames:
                frames[-1][3] = max(frames[-1][3], deepest)
            depth -= 1
            continue
        else:
            continue
        if frames:
            frames[-1][3] = max(frames[-1][3], reached)
        if values > max_values:
            raise CaseError(too_many_values(max_values), where=_at(where, event))
        if reached > max_depth:
            raise CaseError(_too_deep(max_depth), where=_at(where, event))


def _too_deep(max_depth: int) -> str:
    return f"nested deeper than {max_depth} levels (raise the limit with the environment variable PYISP_MAX_CASE_DEPTH)"


def _at(where: str, event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f"{where}:{mark.line + 1}" if mark is not None else where


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that refuses a key given twice in one mapping (it would hide a fact),
    a key that is a list or a map, and a whole number too long to be a fact."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, (yaml.SequenceNode, yaml.MappingNode)):
                kind = "list" if isinstance(key_node, yaml.SequenceNode) else "map"
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a plain value (a word or a number), not a {kind}",
                    key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {short(key)} is given twice", key_node.start_mark)
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise yaml.constructor.ConstructorError(
                None, None, f"a number of {len(node.value)} characters is too long (at most {MAX_NUMBER_CHARS})",
                node.start_mark)
        number: int = super().construct_yaml_int(node)
        return number


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _UniqueKeyLoader.construct_yaml_int)


def as_case(case: "Case | Mapping[str, Any] | str | Path") -> Case:
    """Accept a Case, a dict or a path (the internal callers: batch, scenarios); the public
    `pyisp.query` takes no path (pyisp.query_file does)."""
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
    text = yaml.safe_dump(upgrade(parse_document(read_case_text(path), str(path))),
                          sort_keys=False, allow_unicode=True, width=100)
    if write:
        path.write_text(text, encoding="utf-8")
    return text


def dumps_json(data: Any) -> str:
    """The stable JSON form used for every output: sorted keys, two-space indent."""
    return jsontext.indented(data)
