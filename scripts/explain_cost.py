"""What an explanation costs: median time of `pyisp.query` alone, and of a query followed
by `Result.explain` for every disclosure, on each case of facts/ (warm: the policy, its
instrumented copy and the templates are loaded once per process, outside the timings).
CPU time of this process, so that other work on a shared machine does not inflate it.

    .venv/bin/python scripts/explain_cost.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pyisp

FACTS = Path(__file__).resolve().parent.parent / "facts"


def _median_ms(action, rounds: int, clock=time.process_time) -> float:
    """Median CPU time of the process (other work on a shared machine does not count)."""
    times = []
    for _ in range(rounds):
        start = clock()
        action()
        times.append((clock() - start) * 1000)
    return statistics.median(times)


def _explained(path: Path) -> None:
    result = pyisp.query_file(path)
    for disclosure in result.disclosures:
        result.explain(disclosure.id).to_text()


def main(rounds: int = 20) -> None:
    first = sorted(FACTS.glob("*.yaml"))[0]
    start = time.perf_counter()
    result = pyisp.query_file(first)
    middle = time.perf_counter()
    for disclosure in result.disclosures:
        result.explain(disclosure.id).to_text()
    end = time.perf_counter()
    print(f"first query in this process (parse the policy): {(middle - start) * 1000:.0f} ms; "
          f"first explanation (instrument the policy, templates): {(end - middle) * 1000:.0f} ms")
    print(f"{'case':45} {'query':>9} {'+explain':>9} {'ratio':>6}")
    plain_all, explained_all = [], []
    for path in sorted(FACTS.glob("*.yaml")):
        plain = _median_ms(lambda: pyisp.query_file(path), rounds)
        explained = _median_ms(lambda: _explained(path), rounds)
        plain_all.append(plain)
        explained_all.append(explained)
        print(f"{path.stem:45} {plain:8.1f}ms {explained:8.1f}ms {explained / plain:5.1f}x")
    print(f"{'median over cases':45} {statistics.median(plain_all):8.1f}ms {statistics.median(explained_all):8.1f}ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
