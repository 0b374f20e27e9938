"""Record tests/golden/corpus.jsonl: the stable JSON (`pyisp query --json`) of every case
of facts/ and scenarios/ and of generated variants (unknowns, changed facts, more people),
answered by the reference engine (tests/reference_engine.py).

Re-record when the rules or the case format change, never because the engine changed:
    make golden              (the same cases, answered again)
    cd tests && PYTHONPATH=..:../bench ../.venv/bin/python record_golden.py --new   (new cases)
"""

from __future__ import annotations

import json
from dataclasses import replace
from multiprocessing import Pool
import random
import sys
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "bench")]

from pyisp.authoring import generate as casegen  # noqa: E402
import reference_engine  # noqa: E402

import clingo  # noqa: E402

import pyisp  # noqa: E402
from pyisp.core.atoms import case_inputs  # noqa: E402
from pyisp.core.case import as_case, dumps_json  # noqa: E402
from pyisp.core.result import Result, build_result  # noqa: E402

CORPUS = HERE / "golden" / "corpus.jsonl"


def corpus_cases(facts: list[dict[str, Any]], scenarios: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each case of facts/ with 13 variants of it, each scenario's case with one variant
    (the same generator seed gives the same corpus)."""
    rng = random.Random(2026)
    for n, seed in enumerate(facts):
        yield f"facts-{n}", seed
        yield f"facts-{n}-20-unknowns", casegen.with_unknowns(seed, 20, rng)
        for v in range(12):
            yield f"facts-{n}-variant-{v}", casegen.variant(seed, rng, drop=rng.randint(0, 8),
                                                          change=rng.randint(0, 3), extra=rng.choice([0, 1, 3, 6]))
    for n, seed in enumerate(scenarios):
        yield f"scenario-{n}", seed
        yield f"scenario-{n}-variant", casegen.variant(seed, rng, drop=rng.randint(0, 8), change=rng.randint(0, 2),
                                                       extra=rng.choice([0, 1, 2]))


_REFERENCE: list[reference_engine.Engine] = []


def reference_query(case: Any, depends_on: bool = True) -> Result:
    """`pyisp.query` as the foundation answered it: the reference engine on the case's atoms."""
    if not _REFERENCE:
        _REFERENCE.append(reference_engine.Engine())
    engine = _REFERENCE[0]
    the_case = as_case(case)
    inputs = case_inputs(dict(the_case.data))
    ids = [d["id"] for d in the_case.data["disclosures"]]
    decide = [clingo.Function(name, [clingo.String(i)]) for i in ids for name in ("permitted", "required")]
    answer = engine.answer(inputs, decide if depends_on else None)
    return replace(build_result(the_case.id, the_case.title, ids, answer, engine.policy),
                   meta=the_case.data.get("meta"))


def answer(case: dict[str, Any], depends_on: bool) -> dict[str, str]:
    try:
        return {"json": dumps_json(reference_query(case, depends_on).to_dict())}
    except pyisp.PyispError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    """Re-answer the corpus's cases; with `--new [extra seed files]`, generate the cases anew."""
    if sys.argv[1:2] == ["--new"]:
        facts = casegen.seed_cases(scenarios=False)
        cases = list(corpus_cases(facts, casegen.seed_cases()[len(facts):]))
    else:
        cases = [(e["name"], e["case"]) for e in map(json.loads, CORPUS.read_text(encoding="utf-8").splitlines())]
    with Pool(2) as pool:  # the reference engine is slow: both cores, in the corpus's order
        lines = pool.map(_entry, cases, chunksize=4)
    partial = CORPUS.with_suffix(".partial")  # written whole, then moved: a killed run loses nothing
    partial.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    partial.replace(CORPUS)
    print(f"recorded {CORPUS} ({len(lines)} cases)")


def _entry(item: tuple[str, dict[str, Any]]) -> str:
    name, case = item
    return json.dumps({"name": name, "case": case, "depends_on": answer(case, True), "plain": answer(case, False)},
                      sort_keys=True)


if __name__ == "__main__":
    main()
