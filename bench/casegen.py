"""Generate cases for tests and benchmarks: variants of seed cases (facts/ and scenarios)
with facts left out (unknowns), facts changed, and extra people, information, consents
and disclosures. Deterministic for a given seed; no policy here, only the case format."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any, Iterator

import yaml

from pyisp.core.schema import CASE

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"id", "name", "description", "title", "paragraphs"}


def seed_cases(root: Path = ROOT, scenarios: bool = True) -> list[dict[str, Any]]:
    """The cases of facts/, then (with `scenarios`) the case of every scenario in scenarios/."""
    cases = [yaml.safe_load(p.read_text()) for p in sorted((root / "facts").glob("*.y*ml"))]
    if scenarios and (root / "scenarios").is_dir():
        from pyisp.authoring import scenarios as scenario_files

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
    from pyisp.core.atoms import case_inputs
    from pyisp.core.schema import validate

    from pyisp.errors import PyispError

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


def generate(seeds: list[dict[str, Any]], count: int, seed: int = 9, malformed: float = 0.0) -> Iterator[dict[str, Any]]:
    """`count` generated cases (ids case-000001, ...); a `malformed` share of them has a bad field."""
    rng = random.Random(seed)
    for n in range(count):
        case = variant(rng.choice(seeds), rng, drop=rng.randint(0, 6), change=rng.randint(0, 3),
                       extra=rng.choice([0, 0, 0, 1, 2]))
        case["id"] = f"case-{n + 1:06d}"
        if malformed and rng.random() < malformed:
            case["child"]["agee"] = 12
        yield case


def write_jsonl(path: Path, count: int, seed: int = 9, malformed: float = 0.0) -> None:
    """`count` generated cases, one JSON a line; a `malformed` share is broken (a misspelt
    field, or a line cut short), streamed so any count fits in memory."""
    import json

    seeds = seed_cases()
    rng = random.Random(seed + 1)
    with path.open("w", encoding="utf-8") as out:
        for case in generate(seeds, count, seed, malformed / 2):
            line = json.dumps(case, sort_keys=True)
            if malformed and rng.random() < malformed / 2:
                line = line[: len(line) // 2]
            out.write(line + "\n")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write generated cases as JSON Lines.")
    parser.add_argument("count", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--malformed", type=float, default=0.0, help="share of broken lines")
    parser.add_argument("--seed", type=int, default=9)
    options = parser.parse_args()
    write_jsonl(options.output, options.count, options.seed, options.malformed)
