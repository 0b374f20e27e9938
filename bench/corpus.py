"""Speed of the scenario corpus (`pyisp test`): load, run cold and warm, per-scenario
median and p95, and the extra cost of --coverage. Run with `make bench`."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from pyisp.authoring import scenarios
from pyisp.authoring.coverage import measure
from pyisp.core.service import engine_for

CORPUS = Path(__file__).resolve().parent.parent / "scenarios"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> int:
    start = time.perf_counter()
    loaded = scenarios.load([CORPUS])
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    cold = scenarios.run(loaded)
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    warm = scenarios.run(loaded)
    warm_s = time.perf_counter() - start
    per = [o.seconds * 1000 for o in warm]
    start = time.perf_counter()
    coverage = measure(warm, engine_for(None).policy)
    coverage_s = time.perf_counter() - start
    failed = sum(not o.passed for o in cold)
    print(f"scenario corpus: {len(loaded)} scenarios in {CORPUS.name}/, {failed} failed")
    print(f"  load and validate   {load_s:6.2f} s")
    print(f"  run (cold)          {cold_s:6.2f} s   (first queries fill the policy's caches)")
    print(f"  run (warm)          {warm_s:6.2f} s   per scenario median {statistics.median(per):.1f} ms, "
          f"p95 {_p95(per):.1f} ms, max {max(per):.1f} ms")
    print(f"  --coverage extra    {coverage_s:6.2f} s   rule coverage {coverage.rule_percent:.1f}%")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
