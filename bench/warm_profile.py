"""The warm pyisp.query row of bench/bench.py alone, with an optional profile
(`python bench/warm_profile.py [--profile] [--rounds N] [--no-results]`): CPU ms median/p95 per query over
the completed facts/ cases, and with --profile the top functions by cumulative time."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import time

import pyisp
from pyisp.authoring import generate as casegen
from pyisp.authoring.generate import complete_case
from pyisp.core.case import Case


def known_cases() -> list[dict]:
    rng = random.Random(9)
    facts = casegen.seed_cases(scenarios=False)
    known = [Case.from_dict(complete_case(dict(Case.from_dict(c).data), rng)) for c in facts]
    ok = []
    for c in known:
        try:
            pyisp.query(c, depends_on=False)
            ok.append(dict(c.data))
        except pyisp.PyispError:
            pass
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--no-results", action="store_true",
                        help="results not remembered (service.RESULTS = 0): the Python around the engine's answer")
    args = parser.parse_args()
    if args.no_results:
        from pyisp.core import service

        service.RESULTS = 0
    cases = known_cases()
    for _ in range(3):
        for d in cases:
            pyisp.query(d)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.rounds):
            for d in cases:
                pyisp.query(d)
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        return
    times = []
    for _ in range(args.rounds):
        for d in cases:
            start = time.process_time()
            pyisp.query(d)
            times.append((time.process_time() - start) * 1000)
    ordered = sorted(times)
    print(f"{len(cases)} cases x {args.rounds}: median {statistics.median(times):.3f} ms, "
          f"p95 {ordered[int(0.95 * len(ordered)) - 1]:.3f} ms, mean {statistics.mean(times):.3f} ms CPU")


if __name__ == "__main__":
    main()
