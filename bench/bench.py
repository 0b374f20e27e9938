"""Side-by-side speed of pyisp, in one process run (`make bench`; see bench/README.md).

Rows, each with median, p95 and the ratio of its median to pyisp's warm query:
pyisp.query warm (every fact known; from a dict and from the YAML file), with 20 unknown
facts (three-valued; with depends_on), an explanation on demand, the naive way (a fresh
clingo Control per query loading policy/ and the case's facts), the solver's floor
(solving a program already grounded for the case), the pyDatalog translation, the first
query on a new thread (on a warm engine lent by the pool, and with every engine busy), one
case with 1,000 disclosures, `pyisp batch` over 1,000 generated cases with 1 and 2 jobs,
and over a register of 20,000 facts/ cases with new ids. Each row with issue 18's goal and whether it is met.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import clingo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from pyisp.authoring import generate as casegen  # noqa: E402

import pyisp  # noqa: E402
from pyisp.core.atoms import case_inputs  # noqa: E402
from pyisp.core.case import Case  # noqa: E402
from pyisp.authoring.generate import complete_case  # noqa: E402
from pyisp.core.policy import default_policy_dir  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))
# CPU time of this process by default: on a shared machine, wall time measures the others'
# load too. BENCH_CLOCK=wall for wall-clock time.
CLOCK = time.perf_counter if os.environ.get("BENCH_CLOCK") == "wall" else time.process_time
BATCH = int(os.environ.get("BENCH_BATCH", "1000"))
REGISTER = int(os.environ.get("BENCH_REGISTER", "20000"))  # facts/ cases with new ids, as a register
REGISTER_SECONDS = float(os.environ.get("BENCH_REGISTER_SECONDS", "300"))  # the register row stops after this


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def timed(action: Callable[[Any], Any], items: list[Any], repeat: int = REPEAT) -> list[float]:
    """Milliseconds per call, after untimed warm-up calls (the engine grounds a shape of
    case on its third query)."""
    for _ in range(3):
        for item in items:
            action(item)
    times = []
    for _ in range(repeat):
        for item in items:
            start = CLOCK()
            action(item)
            times.append((CLOCK() - start) * 1000)
    return times


def naive(case: Case, main_lp: Path) -> None:
    """The naive way: a fresh Control, the rule files loaded from disk, the case's facts as text."""
    inputs = case_inputs(dict(case.data))
    ctl = clingo.Control(["--warn=none"])
    ctl.load(str(main_lp))
    ctl.add("base", [], "".join(f"{fact}.\n" for fact in inputs.facts))
    ctl.ground([("base", [])])
    ctl.solve(on_model=lambda m: m.symbols(shown=True))


def grounded_for(case: Case, main_lp: Path) -> clingo.Control:
    ctl = clingo.Control(["--warn=none"])
    ctl.load(str(main_lp))
    ctl.add("base", [], "".join(f"{fact}.\n" for fact in case_inputs(dict(case.data)).facts))
    ctl.ground([("base", [])])
    return ctl


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"machine: {os.cpu_count()} cores ({cpu or platform.machine()}), Python {platform.python_version()}, "
            f"clingo {clingo.__version__}, load average {load:.1f} at start")


def batch_rows(cases_file: Path, jobs: int) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds (the batch and its workers), cases and decisions of
    `pyisp batch` in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pyisp._cli", "batch", str(cases_file), "-o", str(out),
                        "--jobs", str(jobs)], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        lines = out.read_text(encoding="utf-8").splitlines()
        decisions = sum(len(json.loads(line)["disclosures"]) for line in lines)
    return seconds, cpu, len(lines), decisions


def _answers(case: Case) -> bool:
    try:
        pyisp.query(case, depends_on=False)
        return True
    except pyisp.PyispError:
        return False


def _many_disclosures(n: int) -> dict[str, Any]:
    """facts/channel-fax-avoidable.yaml with its disclosure proposed n times, by fax and by
    the secure system in turn."""
    import copy

    import yaml

    case = yaml.safe_load((ROOT / "facts" / "channel-fax-avoidable.yaml").read_text(encoding="utf-8"))
    first = case["disclosures"][0]
    case["disclosures"] = [{**copy.deepcopy(first), "id": f"d{i}", "channel": ("fax", "secure_electronic")[i % 2]}
                           for i in range(n)]
    return case


def register_file(path: Path, count: int) -> None:
    """`count` cases of facts/ in turn, each with a new id: a register of referrals."""
    seeds = casegen.seed_cases(scenarios=False)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(json.dumps({**seeds[i % len(seeds)], "id": f"referral-{i}"}, sort_keys=True) + "\n")


def register_row(count: int, cap: float, *options: str) -> tuple[float, float, int, int, bool]:
    """`pyisp batch --jobs 1` (and `options`) on a register of `count` facts/ cases with new
    ids, stopped after `cap` wall seconds: wall and CPU seconds, lines answered, decisions,
    finished."""
    with tempfile.TemporaryDirectory() as tmp:
        cases, out = Path(tmp) / "register.jsonl", Path(tmp) / "results.jsonl"
        register_file(cases, count)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "pyisp._cli", "batch", str(cases), "-o", str(out),
                                    "--jobs", "1", *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            process.wait(cap)
            finished = True
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            finished = False
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        lines = [line for line in out.read_text(encoding="utf-8").splitlines() if line.endswith("}")]
        decisions = sum(len(json.loads(line)["disclosures"]) for line in lines)
    return seconds, cpu, len(lines), decisions, finished and len(lines) == count


def new_thread(case: dict[str, Any], busy: bool = False) -> float:
    """CPU milliseconds of the first query on a new thread: on a warm engine lent by the
    process's pool (pyisp/core/pool.py), or with `busy` while every engine of the pool is
    in use (held here), so that the thread must make and ground one of its own."""
    from pyisp.core.pool import POOL

    spent: list[float] = []

    def first() -> None:
        start = time.thread_time()
        pyisp.query(case)
        spent.append((time.thread_time() - start) * 1000)

    import threading

    held = [e for shelf in POOL.shelves.values() for e in shelf if e.lock.acquire(blocking=False)] if busy else []
    try:
        thread = threading.Thread(target=first)
        thread.start()
        thread.join()
    finally:
        for engine in held:
            engine.lock.release()
    return spent[0]


def _new_id(case: Case | dict[str, Any], serial: Iterator[int]) -> dict[str, Any]:
    """The case under an id not used before: a repeated case is answered from the thread's
    remembered results (pyisp/core/service.py); under a new id it is validated and its result
    made again (the engine still remembers the solver's answer to the same facts)."""
    data = dict(case.data) if isinstance(case, Case) else case
    return {**data, "id": f"{data.get('id', 'case')}-{next(serial)}"}


def main() -> int:
    print(machine())
    main_lp = default_policy_dir() / "main.lp"
    rng = random.Random(9)
    facts = casegen.seed_cases(scenarios=False)
    known = [Case.from_dict(complete_case(dict(Case.from_dict(c).data), rng)) for c in facts]  # format 2 read first
    known = [c for c in known if _answers(c)]  # a random completion may contradict itself (the rules say so)
    known_dicts = [dict(c.data) for c in known]
    unknown20 = [Case.from_dict(casegen.with_unknowns(c, 20, rng)) for c in known_dicts]
    files = sorted((ROOT / "facts").glob("*.y*ml"))
    print(f"cases: {len(known)} facts/ cases completed (every fact known, those that do not contradict themselves); the same with about 20 facts left "
          f"unknown (mean {statistics.mean(len(case_inputs(dict(c.data)).unknowns) for c in unknown20):.1f}); "
          f"{REPEAT} rounds each after a warm-up\n")

    rows: list[tuple[str, list[float] | None, str, str, bool | None]] = []

    def median(times: list[float]) -> float:
        return statistics.median(times)

    warm = timed(lambda d: pyisp.query(d), known_dicts)
    rows.append(("pyisp.query warm, every fact known (dict)", warm, "the same case again: the thread's remembered result",
                 "<= 0.5 ms median, p95 <= 1 ms",
                 median(warm) <= 0.5 and _p95(warm) <= 1.0))
    serial = itertools.count()
    renamed = timed(lambda d: pyisp.query(_new_id(d, serial)), known_dicts)
    rows.append(("the same, a new case id each query", renamed,
                 "validation and the result made afresh; the solver's answer remembered", "", None))
    rows.append(("pyisp.query_file warm, from the YAML file", timed(lambda p: pyisp.query_file(p), files),
                 "facts/ as they are", "", None))
    three = timed(lambda c: pyisp.query(c, depends_on=False), unknown20)
    rows.append(("20 unknowns, three-valued (depends_on=False)", three, "", "<= 1 ms", median(three) <= 1.0))
    three_new = timed(lambda c: pyisp.query(_new_id(c, serial), depends_on=False), unknown20)
    rows.append(("the same, a new case id each query", three_new, "", "", None))
    depends = timed(lambda c: pyisp.query(c), unknown20, max(3, REPEAT // 4))
    rows.append(("20 unknowns, with depends_on", depends, "", "<= 10 ms", median(depends) <= 10.0))
    depends_new = timed(lambda c: pyisp.query(_new_id(c, serial)), unknown20, max(3, REPEAT // 4))
    rows.append(("the same, a new case id each query", depends_new, "", "", None))
    try:
        results = [pyisp.query(c) for c in known]
        if not hasattr(results[0], "explain"):
            raise ImportError("no Result.explain")

        def explain(case: Case) -> None:
            result = pyisp.query(case)
            result.explain(result.disclosures[0].id)

        base = timed(lambda c: pyisp.query(c), known, max(3, REPEAT // 4))
        total = timed(explain, known, max(3, REPEAT // 4))
        rows.append(("explanation on demand (query + explain)", total,
                     f"explain alone ~{median(total) - median(base):.1f} ms", "<= 10 ms", median(total) <= 10.0))
    except ImportError as exc:
        rows.append(("explanation on demand", None, f"skipped: {exc}", "<= 10 ms", None))
    fresh = timed(lambda c: naive(c, main_lp), known, max(3, REPEAT // 4))
    rows.append(("naive: fresh Control, load policy/ + facts", fresh, "", "naive / warm >= 20x",
                 median(fresh) >= 20 * median(warm)))
    controls = [grounded_for(c, main_lp) for c in known]
    rows.append(("solver floor: solve a program grounded for the case",
                 timed(lambda ctl: ctl.solve(on_model=lambda m: m.symbols(shown=True)), controls), "",
                 "(the floor)", None))
    try:
        from pyisp.authoring.datalog.evaluate import DatalogEngine
        from pyisp.authoring.datalog.translate import translate
        from pyisp.core.service import engine_for

        datalog = DatalogEngine(translate(engine_for(None).policy))
        facts_of = [list(case_inputs(d).facts) for d in known_dicts]
        rows.append(("pyDatalog translation (pyisp/authoring/datalog)", timed(datalog.answer, facts_of, max(2, REPEAT // 10)),
                     "all known", "", None))
    except Exception as exc:  # noqa: BLE001 - pyDatalog missing or another engineer's module absent
        rows.append(("pyDatalog translation", None, f"skipped: {type(exc).__name__}: {exc}", "", None))

    threads = [new_thread(d) for d in known_dicts[:REPEAT]]
    rows.append(("first query on a new thread", threads, f"{len(threads)} threads, one after the other; thread CPU; "
                 "a warm engine lent by the pool", "<= 5 ms", median(threads) <= 5.0))
    cold = [new_thread(d, busy=True) for d in known_dicts[:max(3, REPEAT // 4)]]
    rows.append(("first query on a new thread, every engine busy", cold,
                 f"{len(cold)} threads; thread CPU; grounds an engine of its own", "", None))

    big = _many_disclosures(1000)
    started = CLOCK()
    answered = pyisp.query(big)
    spent = (CLOCK() - started) * 1000
    rows.append(("one case with 1,000 disclosures", [spent],
                 f"{len(answered.disclosures)} disclosures, depends_on on, answered one at a time; once, cold shape",
                 "<= 5 s", spent <= 5000))

    with tempfile.TemporaryDirectory() as tmp:
        cases_file = Path(tmp) / "cases.jsonl"
        casegen.write_jsonl(cases_file, BATCH, seed=11)
        rates = {}
        for jobs in (1, 2):
            seconds, cpu, count, decisions = batch_rows(cases_file, jobs)
            per = (seconds if CLOCK is time.perf_counter else cpu) * 1000 / max(1, count)
            rates[jobs] = decisions / seconds
            goal, met = ("per CPU-second >= 2,000 decisions", decisions / cpu >= 2000) if jobs == 1 else \
                ("--jobs 2 >= 1.8x --jobs 1 (wall)", rates[2] >= 1.8 * rates[1])
            rows.append((f"pyisp batch {BATCH:,} generated cases, --jobs {jobs}", [per],
                         f"wall {seconds:.1f} s: {count / seconds:,.0f} cases/s, {decisions / seconds:,.0f} "
                         f"decisions/s; CPU {cpu:.1f} s: {decisions / cpu:,.0f} decisions per CPU-second", goal, met))
    seconds, cpu, count, decisions, finished = register_row(REGISTER, REGISTER_SECONDS)
    per = (seconds if CLOCK is time.perf_counter else cpu) * 1000 / max(1, count)
    rows.append((f"pyisp batch {REGISTER:,} register cases, --jobs 1", [per],
                 f"{count:,} lines answered{'' if finished else f', stopped after {REGISTER_SECONDS:g} s'}; "
                 f"CPU {cpu:.1f} s: {decisions / max(cpu, 1e-9):,.0f} decisions per CPU-second",
                 "per CPU-second >= 10,000 decisions", finished and decisions / cpu >= 10000))
    seconds, cpu, count, decisions, finished = register_row(REGISTER, REGISTER_SECONDS, "--only", "verdicts")
    per = (seconds if CLOCK is time.perf_counter else cpu) * 1000 / max(1, count)
    rows.append(("the same, --only verdicts", [per],
                 f"{count:,} lines answered{'' if finished else f', stopped after {REGISTER_SECONDS:g} s'}; "
                 f"CPU {cpu:.1f} s: {decisions / max(cpu, 1e-9):,.0f} decisions per CPU-second; verdicts alone, "
                 "no search for deciding unknowns", "(an audit of verdicts, not the goal)", None))

    print(f"{'':<52}{'median':>10}{'p95':>10}{'ratio':>8}  {'goal':<36}{'':<8}  note")
    reference = median(warm)
    for name, times, note, goal, met in rows:
        mark = "" if met is None else ("met" if met else "not met")
        if times is None:
            print(f"{name:<52}{'-':>10}{'-':>10}{'-':>8}  {goal:<36}{mark:<8}  {note}")
            continue
        print(f"{name:<52}{median(times):>8.2f}ms{_p95(times):>8.2f}ms{median(times) / reference:>7.1f}x  "
              f"{goal:<36}{mark:<8}  {note}")
    clock = "wall-clock" if CLOCK is time.perf_counter else "CPU (process_time)"
    print(f"\ntimes: {clock}; ratio: median over the median of pyisp.query warm (first row); "
          "batch rows: time per case, start-up and groundings included; goals: issue 18")
    return 0


if __name__ == "__main__":
    sys.exit(main())
