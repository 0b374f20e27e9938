"""Case documents drawn at random from the case format (pyisp/core/schema.py), with every
input stated, and random completions of a case that leaves some inputs out.

Driven by the spec alone, through its one walk (pyisp/core/vocabulary.py): a field is
an input when it states an atom or holds fields that do (`Vocabulary.inputs`); ``x-ref`` values are drawn from the case's
ids; of two ``x-instead`` alternatives one is chosen. No policy here: the draws
are blind to the rules, so some cases are contradictory, and the rules say so. Each
case leans to yes, to no, or to neither in its yes/no fields, so that long chains of
conditions (valid consent needs every element) are met often enough.

Also variants of seed cases (facts/ and scenarios) for tests and benchmarks: facts left
out (unknowns), facts changed, entities cloned; deterministic for a given seed.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..core.atoms import applies
from ..errors import CaseError
from ..core.schema import CASE, validate
from ..core.upgrade import upgrade
from ..core.vocabulary import VOCABULARY

MAX_ENTITIES = 2  # at most this many people, pieces of information, consents, disclosures
ATTEMPTS = 50


def random_case(rng: random.Random, ident: str = "generated") -> dict[str, Any]:
    """A valid case document with every input stated."""
    for _ in range(ATTEMPTS):
        doc = _Filler(rng, {}, fresh=True).fill_root(ident)
        try:
            return validate(doc)
        except CaseError:
            continue  # a shape the format refuses (the same consent given and refused): draw again
    raise CaseError(f"no valid case in {ATTEMPTS} draws from the case format: the generator needs to learn a "
                    "new rule of its shape")


def complete_case(case: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy of a case with every input it leaves out filled in at random (its own
    facts and entities kept)."""
    for _ in range(ATTEMPTS):
        doc = _Filler(rng, case, fresh=False).fill_root(case.get("id") or "case")
        try:
            return validate(doc)
        except CaseError:
            continue
    raise CaseError("no completion of this case is a valid case", where=str(case.get("id", "case")))


class _Filler:
    def __init__(self, rng: random.Random, case: dict[str, Any], fresh: bool) -> None:
        self.rng = rng
        self.case = copy.deepcopy(case)
        self.fresh = fresh
        self.ids: dict[str, list[str]] = {}
        # one leaning per case for yes/no fields, so that long chains of conditions are met too
        self.truth = rng.choice([0.1, 0.5, 0.9])
        # a case with several children: no 'child', and the concern is stated under each child
        self.several = isinstance(self.case.get("children"), list)

    def fill_root(self, ident: str) -> dict[str, Any]:
        doc = self.case
        doc.setdefault("id", ident)
        # entity ids first: references are drawn from them
        if isinstance(doc.get("children"), list):  # a case with several children keeps them
            self.ids["child"] = [child["id"] for child in doc["children"]]
        else:
            child = doc.setdefault("child", {})
            child.setdefault("id", "child")
            self.ids["child"] = [child["id"]]
        for field in VOCABULARY.children(""):
            key, spec = field.key, field.spec
            items = spec.get("items") if spec.get("type") == "array" else None
            if isinstance(items, dict) and items.get("x-entity"):
                if items.get("x-collection") == "child":
                    continue  # generated cases use the one-child form ('child'), not 'children'
                if key not in doc and self.fresh:
                    low = spec.get("minItems", 0)
                    doc[key] = [{"id": f"{key}-{i + 1}"} for i in range(self.rng.randint(low, max(low, MAX_ENTITIES)))]
                self.ids[key] = [entry["id"] for entry in doc.get(key) or []]
        return self.object(doc, CASE, "")

    def object(self, value: dict[str, Any], spec: dict[str, Any], path: str,
               entity: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fill the inputs of an object (its spec; its path in the case format) left out."""
        if spec.get("x-entity"):
            entity = value
        inside = VOCABULARY.children(path)
        skip = set()
        for field in inside:
            alt, base = field.key, field.spec.get("x-instead")
            if base is None:
                continue
            if value.get(base) is not None or value.get(alt) is not None:
                skip.add(alt if value.get(alt) is None else base)  # the case chose its form
            elif self.fresh:
                skip.add(self.rng.choice([base, alt]))  # one form or the other, never both
            else:
                skip.add(alt)  # a case that uses neither form leaves the base form unknown (atoms.py)
        for field in inside:
            key, sub = field.key, field.spec
            if key in skip or field.path not in VOCABULARY.inputs:
                continue
            if value.get(key) is None and not self.fresh and _entity_list(sub):
                continue  # a list of entities the case does not have stays empty
            if value.get(key) is None and _entity_list(sub) and sub["items"].get("x-collection") == "child":
                continue  # the one-child form: no 'children' beside 'child'
            if value.get(key) is None and self.several and (
                    sub.get("x-collection") == "child" or "$child" in (sub.get("x-atom") or [])):
                continue  # several children: no 'child' beside them, no concern about "the" child
            if value.get(key) is None and not self.fresh and (
                    sub.get("x-unstated") == "none" or ("x-when" in sub and not applies(sub["x-when"], entity or {}))):
                continue  # not an unknown of the case (atoms.py): a completion leaves it out too
            value[key] = self.value(value.get(key), sub, field.path, entity)
            if sub.get("x-range") and value.get(sub["x-range"]) is not None:
                bounds = value.pop(sub["x-range"])  # an age within the stated range, which it replaces
                value[key] = value[key] if bounds["min"] <= value[key] <= bounds["max"] else \
                    self.rng.randint(bounds["min"], bounds["max"])
        return value

    def value(self, current: Any, spec: dict[str, Any], path: str, entity: dict[str, Any] | None = None) -> Any:
        kind = spec.get("type")
        if kind == "object":
            return self.object(current if current is not None else {}, spec, path, entity)
        if kind == "array":
            items = spec["items"]
            if items.get("type") == "object":
                return [self.object(entry, items, path, entity) for entry in current or []]
            if current is not None:
                return current
            options = list(items.get("enum") or self.refs(items))
            low = spec.get("minItems", 0)
            if not options:
                return []
            return self.rng.sample(options, self.rng.randint(min(low, len(options)), len(options)))
        if current is not None:
            return current
        if kind == "boolean":
            return self.rng.random() < self.truth
        if kind == "integer":
            return self.rng.randint(spec["minimum"], spec["maximum"])
        if "enum" in spec:
            return self.rng.choice(spec["enum"])
        if "x-ref" in spec:
            return self.rng.choice(self.refs(spec))
        raise ValueError(f"cannot draw a value for {spec}")

    def refs(self, spec: dict[str, Any]) -> list[str]:
        return [ident for coll in spec.get("x-ref", []) for ident in self.ids.get(coll, [])]


def _entity_list(spec: dict[str, Any]) -> bool:
    return spec.get("type") == "array" and bool(spec.get("items", {}).get("x-entity"))


def strip_inputs(case: dict[str, Any], rng: random.Random, share: float = 0.5) -> dict[str, Any]:
    """A copy of a case with about `share` of its optional input fields left out, each one
    an unknown of the copy, so that the case is one completion of the copy. A field whose
    absence is a fact (``x-unstated: none``: no channel proposed) stays; so does one that
    would lie in a part that does not apply once the others are left out (``x-when``
    closed: left out, it is not an unknown, while its stated value counts; atoms.py), and
    one the format's shorthands would state again (``requested`` beside a police_request)."""
    doc = copy.deepcopy(case)
    removed: list[_Removed] = []
    _strip(doc, CASE, "", rng, share, None, (), removed)
    changed = True
    while changed:  # putting a field back can close or open a gate of another: until none changes
        changed = False
        restated = upgrade(doc)
        for item in removed:
            container, key, old, entity, gates = item
            if key in container:
                continue
            if _restated(restated, doc, container, key) or not all(applies(g, entity or {}) for g in gates):
                container[key] = old
                changed = True
    return doc


_Removed = tuple[dict[str, Any], str, Any, "dict[str, Any] | None", tuple[list[dict[str, Any]], ...]]


def _strip(value: dict[str, Any], spec: dict[str, Any], path: str, rng: random.Random, share: float,
           entity: dict[str, Any] | None, gates: tuple[list[dict[str, Any]], ...], removed: list[_Removed]) -> None:
    if spec.get("x-entity"):
        entity = value
    required = set(spec.get("required", ()))
    for field in VOCABULARY.children(path):
        key, sub = field.key, field.spec
        if key not in value or field.path not in VOCABULARY.inputs:
            continue
        here = gates + ((sub["x-when"],) if "x-when" in sub else ())
        kind = sub.get("type")
        if kind == "object" and isinstance(value[key], dict):
            _strip(value[key], sub, field.path, rng, share, entity, here, removed)
        elif kind == "array" and sub["items"].get("type") == "object":
            for entry in value[key]:
                _strip(entry, sub["items"], field.path, rng, share, entity, here, removed)
        elif key not in required and "x-atom" in sub and sub.get("x-unstated") != "none" and rng.random() < share:
            removed.append((value, key, value.pop(key), entity, here))


def _restated(restated: Any, doc: Any, container: dict[str, Any], key: str) -> bool:
    """Whether upgrade() gives a value to `key` of `container` (a part of `doc`) again."""
    if doc is container:
        return isinstance(restated, dict) and key in restated
    if isinstance(doc, dict):
        return any(_restated(restated.get(k) if isinstance(restated, dict) else None, v, container, key)
                   for k, v in doc.items())
    if isinstance(doc, list):
        return any(_restated(restated[i] if isinstance(restated, list) and i < len(restated) else None, v,
                             container, key) for i, v in enumerate(doc))
    return False


def fill_unknowns(case: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of a case with unknown inputs set, keyed by the field paths pyisp/core/atoms.py
    gives them (``disclosures[0].judgements.proportionate``; a list field's item as
    ``information[0].about[amy]`` with True or False)."""
    doc = copy.deepcopy(case)
    for path, value in values.items():
        _set(doc, CASE, _tokens(path), value)
    return doc


def _tokens(path: str) -> list[str]:
    tokens: list[str] = []
    for part in path.split("."):
        name, *rest = part.split("[")
        tokens.append(name)
        tokens += ["[" + r for r in rest]
    return tokens


def _set(value: Any, spec: dict[str, Any], tokens: list[str], new: Any) -> None:
    key, rest = tokens[0], tokens[1:]
    sub = spec["properties"][key]
    if not rest:
        if new is not None:
            value[key] = new
        return
    if sub.get("type") == "object":
        _set(value.setdefault(key, {}), sub, rest, new)
        return
    item = rest[0][1:-1]
    if sub["items"].get("type") == "object":
        _set(value[key][int(item)], sub["items"], rest[1:], new)
        return
    members = value.setdefault(key, [])
    option: Any = int(item) if sub["items"].get("type") == "integer" else item
    if new and option not in members:
        members.append(option)


# ------------------------------------------------------------------ variants of seed cases

SKIP = {"id", "name", "description", "title", "paragraphs"}


def checkout(start: Path | None = None) -> Path:
    """The checkout holding facts/: the current directory or the nearest parent that has it."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "facts").is_dir():
            return candidate
    raise FileNotFoundError(f"no facts/ directory in {here} or above it")


def seed_cases(root: Path | None = None, scenarios: bool = True) -> list[dict[str, Any]]:
    """The cases of facts/, then (with `scenarios`) the case of every scenario in scenarios/
    (`root`: the checkout, default the nearest holding facts/)."""
    root = root or checkout()
    cases = [yaml.safe_load(p.read_text()) for p in sorted((root / "facts").glob("*.y*ml"))]
    if scenarios and (root / "scenarios").is_dir():
        from . import scenarios as scenario_files

        cases += [copy.deepcopy(dict(s.case.data)) for s in scenario_files.load([root / "scenarios"])]
    return [c for c in cases if isinstance(c, dict) and "child" in c]


def _leaves(value: Any, spec: dict[str, Any], path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Paths of the optional scalar facts stated in a case, with their spec."""
    if spec.get("type") == "object" and isinstance(value, dict):
        required = set(spec.get("required", []))
        for key, item in value.items():
            sub = spec["properties"].get(key)
            if sub is None or key in SKIP or item is None:
                continue
            if sub.get("type") in ("object",) or (sub.get("type") == "array" and sub["items"].get("type") == "object"):
                yield from _leaves(item, sub, path + (key,))
            elif key not in required and "x-atom" in sub:
                yield path + (key,), sub
    elif spec.get("type") == "array" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, spec["items"], path + (i,))


def _parent(case: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = case
    for key in path[:-1]:
        node = node[key]
    return node


def _other_value(spec: dict[str, Any], current: Any, rng: random.Random) -> Any:
    kind = spec.get("type")
    if kind == "boolean":
        return not current
    if kind == "integer":
        return rng.randint(spec["minimum"], spec["maximum"])
    if "enum" in spec:
        return rng.choice(spec["enum"])
    if kind == "array" and "enum" in spec["items"]:
        return sorted(rng.sample(spec["items"]["enum"], rng.randint(1, 3)))
    return current


def _clone_entities(case: dict[str, Any], rng: random.Random, extra: int) -> None:
    """Add `extra` entities (people, information, consents, disclosures), copies of existing ones under new ids."""
    for n in range(extra):
        coll = rng.choice(["people", "information", "consents", "disclosures"])
        items = case.get(coll) or []
        if not items:
            continue
        item = copy.deepcopy(rng.choice(items))
        item["id"] = f"{item.get('id', coll)}-x{n}"
        parties = [case["child"]["id"]] + [p["id"] for p in case.get("people") or []]
        if coll == "consents":
            item["person"] = rng.choice(parties)
            item.pop("answer", None) if rng.random() < 0.2 else None
        if coll == "information":
            item["about"] = sorted(set(rng.sample(parties, min(len(parties), rng.randint(1, 2)))))
        if coll == "disclosures" and case.get("information"):
            infos = [i["id"] for i in case["information"]]
            item["information"] = sorted(set(rng.sample(infos, min(len(infos), rng.randint(1, 2)))))
        case.setdefault(coll, []).append(item)


def variant(seed: dict[str, Any], rng: random.Random, drop: int = 3, change: int = 2, extra: int = 0) -> dict[str, Any]:
    """A variant of a seed case: `extra` cloned entities, `change` facts changed, `drop` facts left out."""
    case = copy.deepcopy(seed)
    case.pop("paragraphs", None)
    _clone_entities(case, rng, extra)
    leaves = list(_leaves(case, CASE, ()))
    rng.shuffle(leaves)
    for path, spec in leaves[:change]:
        parent = _parent(case, path)
        parent[path[-1]] = _other_value(spec, parent[path[-1]], rng)
    for path, _spec in leaves[change:change + drop]:
        _parent(case, path).pop(path[-1], None)
    return case


def with_unknowns(seed: dict[str, Any], count: int, rng: random.Random) -> dict[str, Any]:
    """A copy of a seed case with facts left out until about `count` facts are unknown."""
    from ..core.atoms import case_inputs
    from ..errors import PyispError

    case = copy.deepcopy(seed)
    try:
        validate(case)
    except PyispError:
        return case
    leaves = list(_leaves(case, CASE, ()))
    rng.shuffle(leaves)
    for path, _spec in leaves:
        if len(case_inputs(validate(case)).unknowns) >= count:
            break
        trial = copy.deepcopy(case)
        _parent(trial, path).pop(path[-1], None)
        if len(case_inputs(validate(trial)).unknowns) <= count + 2:
            case = trial
    return case


def variants(seeds: list[dict[str, Any]], count: int, seed: int = 9, malformed: float = 0.0) -> Iterator[dict[str, Any]]:
    """`count` generated cases (ids case-000001, ...); a `malformed` share of them has a bad field."""
    rng = random.Random(seed)
    for n in range(count):
        case = variant(rng.choice(seeds), rng, drop=rng.randint(0, 6), change=rng.randint(0, 3),
                       extra=rng.choice([0, 0, 0, 1, 2]))
        case["id"] = f"case-{n + 1:06d}"
        if malformed and rng.random() < malformed:
            case["child"]["agee"] = 12
        yield case


def write_jsonl(path: Path, count: int, seed: int = 9, malformed: float = 0.0, root: Path | None = None) -> None:
    """`count` generated cases, one JSON a line; a `malformed` share is broken (a misspelt
    field, or a line cut short), streamed so any count fits in memory."""
    import json

    seeds = seed_cases(root)
    rng = random.Random(seed + 1)
    with path.open("w", encoding="utf-8") as out:
        for case in variants(seeds, count, seed, malformed / 2):
            line = json.dumps(case, sort_keys=True)
            if malformed and rng.random() < malformed / 2:
                line = line[: len(line) // 2]
            out.write(line + "\n")
