"""Glue between the public API and the parts: load a case, build its inputs, run the
engine, read the result. Engines are cached per policy directory."""

from __future__ import annotations

import os
import pickle
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import clingo

from .atoms import Inputs, case_inputs
from .case import Case, as_case
from .engine import Answer, Engine
from ..errors import PolicyError
from .policy import POLICY_ENV, Policy, default_policy_dir, resolve_policy_dir
from .pool import POOL
from .presumption import switched_off
from .reading import reading_facts, readings as policy_readings
from .presumption import presumptions as policy_presumptions
from .upgrade import FORMAT
from .record import Record, build_record
from .policy import pyisp_version
from .result import Provenance, Result, build_result, read_verdicts
from .sightings import Sightings


ENGINES = 8  # engines kept per thread (one per policy directory and version of its rules), least recently used dropped


STAMP_SECONDS = 1.0  # a policy directory's files are looked at again at most this often (see _stamp)
_STAMPS: dict[str, tuple[float, int, tuple[tuple[str, int, int], ...]]] = {}  # directory -> (when, its mtime, stamp)
_STAMPS_KEPT = 64
_stamps_lock = threading.Lock()


def _installed() -> str | None:
    """The policy directory inside the installed package (a wheel's copy, not a checkout's
    policy/): nobody edits it while pyisp runs, so its stamp is taken once."""
    here = (Path(__file__).resolve().parent.parent / "policy").resolve()
    try:
        shipped = default_policy_dir().resolve()
    except PolicyError:
        return None
    return str(shipped) if shipped == here else None


_INSTALLED: list[str | None] = []


def _stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """The rule files' names, sizes and modification times: a cheap sign that the rules
    changed. The files are looked at again when the directory itself changed (a file added,
    removed or renamed: its modification time) or STAMP_SECONDS after the last look (a file
    edited in place); the installed package's own policy only once per process."""
    where = str(directory)
    known = _STAMPS.get(where)
    if known is not None:
        if not _INSTALLED:
            _INSTALLED.append(_installed())
        if where == _INSTALLED[0]:
            return known[2]
        now = time.monotonic()
        if now - known[0] < STAMP_SECONDS:
            try:
                if os.stat(where).st_mtime_ns == known[1]:
                    return known[2]
            except OSError:
                pass
    return _look(where)


def _look(where: str) -> tuple[tuple[str, int, int], ...]:
    """The stamp of a directory from its files, remembered with the time and the directory's mtime."""
    now = time.monotonic()
    try:
        mtime = os.stat(where).st_mtime_ns
    except OSError:
        mtime = -1
    stamp = []
    for path in sorted(Path(where).glob("*.lp")):
        stat = path.stat()
        stamp.append((path.name, stat.st_size, stat.st_mtime_ns))
    found = tuple(stamp)
    with _stamps_lock:
        if len(_STAMPS) >= _STAMPS_KEPT:
            _STAMPS.clear()
        _STAMPS[where] = (now, mtime, found)
    return found


@lru_cache(maxsize=ENGINES)
def _policy(directory: str, stamp: tuple[tuple[str, int, int], ...]) -> Policy:
    """The rules of a directory as they are now, parsed once per version of the files
    (`stamp`) and checked before they answer (pyisp.core.program.check)."""
    policy = Policy(directory)
    if not policy.shipped:
        policy.checked  # noqa: B018 - rules that run away, admit no answer or decide nothing are refused here
    return policy


_RESOLVED: dict[tuple[str | None, str, str], tuple[float, Path]] = {}  # (asked, $PYISP_POLICY, cwd) -> (when, dir)


def _resolved(directory: str | Path | None) -> Path:
    """resolve_policy_dir(directory), made absolute: looked up again STAMP_SECONDS after the
    last look (a ./policy made or removed meanwhile is seen then), as the files' stamp. The
    working directory is part of the key only when the answer can depend on it (no
    directory given, or a relative one)."""
    asked = None if directory is None else str(directory)
    from_env = os.environ.get(POLICY_ENV, "")
    chosen = asked or from_env.strip() or None  # as resolve_policy_dir chooses; None: ./policy or installed
    here = ""  # the working directory, where the answer can depend on it
    if chosen is None or not os.path.isabs(chosen):
        try:
            here = os.getcwd()
        except OSError:  # the working directory was removed: resolved each time, as before
            return resolve_policy_dir(directory).resolve()
    key = (asked, from_env, here)
    known = _RESOLVED.get(key)
    now = time.monotonic()
    if known is not None and now - known[0] < STAMP_SECONDS:
        return known[1]
    where = resolve_policy_dir(directory).resolve()
    if len(_RESOLVED) >= _STAMPS_KEPT:
        _RESOLVED.clear()
    _RESOLVED[key] = (now, where)
    return where


_local = threading.local()


def checked_policy(directory: str | Path | None = None) -> Policy:
    """The rules engine_for would answer with, parsed and checked (a PolicyError when they
    are broken), without an engine: for a process that only needs to know they load."""
    where = _resolved(directory)
    return _policy(str(where), _stamp(where))


def engine_for(directory: str | Path | None = None) -> Engine:
    """The engine of a policy directory (None: the policy in force, resolve_policy_dir):
    parsed once per process and version of the rule files. Each thread keeps the `ENGINES`
    most recently used, keyed by directory and the rules' fingerprint (edited rules get a
    new engine); a thread's first is the warmest engine of the process's pool that no
    thread is using (pyisp.core.pool: engines are lent to one thread at a time for each
    query, a clingo Control is not thread-safe), so a new thread does not ground its own."""
    policy = checked_policy(directory)
    engines: OrderedDict[tuple[str, str], Engine] = _local.__dict__.setdefault("engines", OrderedDict())
    key = (str(policy.directory), policy.fingerprint)
    engine = engines.get(key)
    if engine is None:
        engine = engines[key] = POOL.engine(key, policy)
        while len(engines) > ENGINES:
            engines.popitem(last=False)
    engines.move_to_end(key)
    return engine


def answer_case(case: Case | Mapping[str, Any] | str | Path, *, policy: str | Path | None = None,
                depends_on: bool = True, readings: Mapping[str, str] | None = None,
                presumptions: Mapping[str, bool] | None = None, strict: bool = False) -> Result:
    """Validate, solve and read one case (under the chosen readings, as extra facts, and
    the presumptions in force: all but those mapped to False, none with `strict`)."""
    the_case = as_case(case)
    engine = engine_for(policy)
    data = dict(the_case.data)
    ids = [d["id"] for d in data["disclosures"]]
    chosen = reading_facts(engine.policy, readings)
    off = switched_off(engine.policy, presumptions, strict)
    key = _answer_key(the_case, data, engine, depends_on, readings, off)
    known = _answered(key, engine)
    if known is not None:  # answered before on this thread: the same result, this case's own data
        return replace(known, meta=data.get("meta"), case=the_case, policy=engine.policy)
    result = _answer(the_case, data, ids, engine, chosen, off, depends_on, readings)
    if key is not None:
        _remember(key, engine, result)
    return result


def answer_verdicts(case: Case | Mapping[str, Any] | str | Path, *,
                    policy: str | Path | None = None) -> tuple[str, tuple[str, ...]]:
    """The case's id and the verdict of each of its disclosures, in order, as answer_case
    gives them (every presumption in force, no reading chosen), without the rest of the
    Result: no findings, obligations, paragraphs, record, nor search for deciding unknowns
    (`pyisp batch --only verdicts`)."""
    the_case = as_case(case)
    engine = engine_for(policy)
    off = switched_off(engine.policy, None, False)
    verdicts: list[str] = []
    for ids, answer, names in engine.answer_parts(dict(the_case.data), None, off=off):
        verdicts += read_verdicts(ids, answer, names)
    return the_case.id, tuple(verdicts)


def _answer(the_case: Case, data: dict[str, Any], ids: list[str], engine: Engine, chosen: tuple[clingo.Symbol, ...],
            off: frozenset[str], depends_on: bool, readings: Mapping[str, str] | None) -> Result:
    """answer_case() without its memory of results."""
    extra: dict[str, Any] = {}
    if chosen:  # facts beside the case's: answered in a fresh grounding, atoms name the ids
        inputs = case_inputs(data)
        inputs = Inputs(inputs.facts + chosen, inputs.unknowns)
        ids_decide = [clingo.Function(n, [clingo.String(i)]) for i in ids for n in ("permitted", "required")]
        answer, names = engine.answer(inputs, ids_decide if depends_on else None, off=off), {}
        extra["inputs"] = inputs  # explain() must see the reading facts too
    else:
        def decide(slots: Mapping[str, str], part: Sequence[str]) -> list[clingo.Symbol]:
            return [clingo.Function(name, [clingo.String(slots[i])]) for i in part for name in ("permitted", "required")]

        parts = engine.answer_parts(data, decide if depends_on else None, off=off)
        if len(parts) > 1:
            result, record = _joined(the_case, data, parts, engine.policy)
            result = replace(result, meta=data.get("meta"), provenance=provenance(engine.policy, readings, off, data))
            return replace(result, case=the_case, policy=engine.policy, record=replace(record, provenance=result.provenance))
        _, answer, names = parts[0]
    result = replace(build_result(the_case.id, the_case.title, ids, answer, engine.policy, names),
                     meta=data.get("meta"), provenance=provenance(engine.policy, readings, off, data))
    record = build_record(data, result, answer, engine.policy, names)
    return replace(result, case=the_case, policy=engine.policy, record=record, **extra)  # kept for Result.explain
    # (without readings no `inputs`: explain() rebuilds them from the case, the very atoms answered here)


# Results already given, per thread, as the engine remembers its answers (an engine made
# with memo=0 remembers nothing, and neither does this): (the engine's id, the case's
# pickle with its id and title, the options) -> (the engine, weakly, and the result,
# pickled). A result depends on nothing else: the engine stands for its rules (engine_for
# gives a new engine for edited rules). Each hit is the result unpickled for this call
# (~0.07 ms) with this case's own `case` and `meta` and the engine's policy. Kept as bytes,
# not objects: a process answering new cases all day replaces its remembered results
# continually, and ~170 live objects per result left the garbage collector's youngest
# generation at ~11,000 objects (each young collection 2-7 ms, the older ones 10-30 ms:
# the tail of `pyisp serve`'s latency); bytes give it nothing to traverse. A result is kept
# from the second time its case is asked (the first only notes the key's hash, SEEN of them
# per thread): a service or a batch answering each case once pays no pickle for it. A new
# thread answers afresh with its own engine.
RESULTS = 256  # results kept per thread, least recently used dropped
SEEN = 4096  # hashes of the cases asked once, per thread, kept the next time they are asked
RESULT_DISCLOSURES = 64  # a case with more disclosures is not kept (its result is large)
_results = threading.local()


def _answer_key(the_case: Case, data: dict[str, Any], engine: Engine, depends_on: bool,
                readings: Mapping[str, str] | None, off: frozenset[str]) -> tuple[Any, ...] | None:
    """What a result depends on beside the engine, or None for a case not to keep."""
    if not getattr(engine, "memo", 0) or len(data["disclosures"]) > RESULT_DISCLOSURES:
        return None
    try:
        case = pickle.dumps((the_case.id, the_case.title, data), protocol=pickle.HIGHEST_PROTOCOL)
        chosen = tuple((readings or {}).items())
        hash(chosen)
    except Exception:  # noqa: BLE001 - a value pickle cannot write, or a reading not hashable: answered each time
        return None
    return (id(engine), depends_on, chosen, off, case)


def _answered(key: tuple[Any, ...] | None, engine: Engine) -> Result | None:
    if key is None:
        return None
    memory: OrderedDict[tuple[Any, ...], tuple[weakref.ref[Engine], bytes]] | None = getattr(_results, "memory", None)
    if memory is None:
        return None
    known = memory.get(key)
    if known is None or known[0]() is not engine:
        return None
    memory.move_to_end(key)
    result: Result = pickle.loads(known[1])
    return result


def _remember(key: tuple[Any, ...], engine: Engine, result: Result) -> None:
    if not RESULTS:
        return
    seen: Sightings | None = getattr(_results, "seen", None)
    if seen is None:
        seen = _results.seen = Sightings(SEEN)
    if not seen.again(key):  # asked for the first time: kept if asked again
        return
    memory: OrderedDict[tuple[Any, ...], tuple[weakref.ref[Engine], bytes]] | None = getattr(_results, "memory", None)
    if memory is None:
        memory = _results.memory = OrderedDict()
    try:
        kept = pickle.dumps(replace(result, case=None, meta=None, policy=None), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a value pickle cannot write: answered afresh next time
        return
    memory[key] = (weakref.ref(engine), kept)
    while len(memory) > RESULTS:
        memory.popitem(last=False)


def _joined(the_case: Case, data: dict[str, Any], parts: list[tuple[list[str], Answer, dict[str, str]]],
            policy: Policy) -> tuple[Result, Record]:
    """The result and record of a case answered one disclosure at a time (Engine.answer_parts):
    each part read on its own, then put together in the case's order. The parts share
    every unknown outside the disclosures (they come first, in the same order in every
    part) and every presumption applied to them."""
    results, records = [], []
    by_id = {d["id"]: d for d in data["disclosures"]}
    for ids, answer, names in parts:
        result = build_result(the_case.id, the_case.title, ids, answer, policy, names)
        part = {**data, "disclosures": [by_id[i] for i in ids]}
        results.append(result)
        records.append(build_record(part, result, answer, policy, names))
    unknowns = tuple(dict.fromkeys(path for result in results for path in result.unknowns))
    presumed = tuple(sorted(dict.fromkeys(a for result in results for a in result.presumptions),
                            key=lambda a: (a.name, a.path)))
    result = replace(results[0], disclosures=tuple(d for r in results for d in r.disclosures), unknowns=unknowns,
                     presumptions=presumed)
    return result, replace(records[0], disclosures=tuple(r for record in records for r in record.disclosures))


def provenance(policy: Policy, chosen: Mapping[str, str] | None, off: frozenset[str],
               case: Mapping[str, Any]) -> Provenance:
    """What answers a case: pyisp's version, the rules' fingerprint, every reading with the
    alternative taken, every presumption in force or not, and the case format version."""
    chosen = dict(chosen or {})
    taken = tuple((r.name, chosen.get(r.name, r.default)) for r in policy_readings(policy))
    presumed = tuple((p.name, p.name not in off) for p in policy_presumptions(policy))
    return Provenance(pyisp_version(), policy.fingerprint, taken, presumed, case.get("format", FORMAT),
                      tuple(name for name, _ in taken if name in chosen))
