"""Record tests/golden/corpus.jsonl: the stable JSON (`pyisp query --json`) of every case
of facts/ and scenarios/ and of generated variants (unknowns, changed facts, more people),
answered by the reference engine (tests/reference_engine.py).

Re-record when the rules or the case format change, never because the engine changed:
    cd tests && PYTHONPATH=..:../bench ../.venv/bin/python record_golden.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "bench")]

import casegen  # noqa: E402
import reference_engine  # noqa: E402

import pyisp  # noqa: E402
from pyisp import service  # noqa: E402
from pyisp.case import dumps_json  # noqa: E402

CORPUS = HERE / "golden" / "corpus.jsonl"


def corpus_cases(seeds: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The seeds themselves, then variants of each (same generator seed: same corpus)."""
    rng = random.Random(2026)
    for n, seed in enumerate(seeds):
        yield f"seed-{n}", seed
        yield f"seed-{n}-20-unknowns", casegen.with_unknowns(seed, 20, rng)
        for v in range(12):
            yield f"seed-{n}-variant-{v}", casegen.variant(seed, rng, drop=rng.randint(0, 8),
                                                         change=rng.randint(0, 3), extra=rng.choice([0, 1, 3, 6]))


def answer(case: dict[str, Any], depends_on: bool) -> dict[str, str]:
    try:
        return {"json": dumps_json(pyisp.query(case, depends_on=depends_on).to_dict())}
    except pyisp.PyispError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    service.Engine = reference_engine.Engine  # type: ignore[misc]
    service._engine.cache_clear()
    seeds = casegen.seed_cases() + [casegen.yaml.safe_load(Path(p).read_text()) for p in sys.argv[1:]]
    with CORPUS.open("w", encoding="utf-8") as out:
        for name, case in corpus_cases(seeds):
            entry = {"name": name, "case": case, "depends_on": answer(case, True), "plain": answer(case, False)}
            out.write(json.dumps(entry, sort_keys=True) + "\n")
    print(f"recorded {CORPUS}")


if __name__ == "__main__":
    main()
