"""Answer many cases: a JSON Lines file (one case a line) or a directory of YAML/JSON
cases, streamed (memory does not grow with the number of cases), in one process or in
`jobs` worker processes, each with its own engine. A malformed case is reported with its
line (or file) and the run goes on, unless `strict`.

`query_many` is the API; `run_batch` is what `pyisp batch` does (output file, errors
file, resume, progress, summary).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import sys
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, TextIO

from . import jsontext
from .case import Case, parse_document
from .schema import limit
from ..errors import CaseError, OutputError, PyispError, UsageError
from .result import Result

WINDOW = 64  # answers written between flushes, and cases read ahead per job: bounds memory and what a kill loses
CASE_SUFFIXES = (".yaml", ".yml", ".json")


def compact_json(data: Any) -> str:
    """The stable JSON of `pyisp query --json` (sorted keys), on one line."""
    return jsontext.compact(data)


# ------------------------------------------------------------------ the API


def query_many(cases: Iterable[Case | Mapping[str, Any] | str | Path], *, policy: str | Path | None = None,
               depends_on: bool = True, jobs: int = 1, strict: bool = True) -> Iterator[Result | PyispError]:
    """Answer cases one after the other, yielding each Result as soon as it is ready, in
    the order given. With `strict=False` a malformed case yields its PyispError instead
    of raising it. With `jobs` > 1, worker processes answer the cases (Results then come
    without the `case` and `policy` kept for `explain()`)."""
    from .service import answer_case

    def one(case: Any) -> Result | PyispError:
        try:
            return answer_case(case, policy=policy, depends_on=depends_on)
        except PyispError as exc:
            if strict:
                raise
            return exc

    if jobs <= 1:
        yield from map(one, cases)
        return
    with Workers(jobs, _answer_in_worker, policy, depends_on) as workers:
        for item in workers.stream(cases):
            if isinstance(item, WorkerFailure):
                item = PyispError(item.message)
            if isinstance(item, PyispError) and strict:
                raise item
            yield item


# ------------------------------------------------------------------ worker processes

_WORKER: dict[str, Any] = {}


def _init_worker(policy: str | None, depends_on: bool) -> None:
    _WORKER.update(policy=policy, depends_on=depends_on)


def case_seconds() -> float:
    """The time a worker may spend on one case before it is replaced and the case reported
    as an error: the environment variable PYISP_CASE_SECONDS, else 120."""
    text = os.environ.get("PYISP_CASE_SECONDS", "").strip()
    try:
        value = float(text) if text else 120.0
    except ValueError:
        value = 0.0
    if not value > 0:
        raise UsageError(f"must be a positive number of seconds, not {text[:40]!r}", where="PYISP_CASE_SECONDS")
    return value


@dataclass(frozen=True)
class WorkerFailure:
    """An item a worker could not answer: it died, or took longer than the budget."""

    message: str


def _serve(conn: Any, task: Callable[[Any], Any], policy: str | None, depends_on: bool) -> None:
    """A worker's life: answer items from the pipe until it closes."""
    _init_worker(policy, depends_on)
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = task(item)
        except Exception as exc:  # the task reports its own errors; this is a last resort
            answer = WorkerFailure(f"could not be answered ({type(exc).__name__})")
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return
        except Exception as exc:  # an answer that cannot be sent back (not picklable)
            conn.send(WorkerFailure(f"the answer could not be passed back ({type(exc).__name__})"))


class Workers:
    """Worker processes, each with its own warm engine, answering one item at a time through a
    pipe. A worker that dies, or spends longer than the budget on one item, is killed and
    replaced, and that item gets a WorkerFailure: one poison case never stops a run."""

    def __init__(self, jobs: int, task: Callable[[Any], Any], policy: str | Path | None, depends_on: bool,
                 budget: float | None = None) -> None:
        from .service import engine_for

        # the policy checked once here (a broken policy stops the run), inherited by forked workers
        engine_for(policy).policy.checked  # noqa: B018
        self.context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        self.args = (task, str(policy) if policy else None, depends_on)
        self.budget = budget if budget is not None else case_seconds()
        self.workers = [self._start() for _ in range(jobs)]

    def _start(self) -> tuple[Any, Any]:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(child, *self.args), daemon=True)
        process.start()
        child.close()
        return process, parent

    def _replace(self, worker: tuple[Any, Any]) -> tuple[Any, Any]:
        process, conn = worker
        process.kill()
        process.join(5)
        conn.close()
        fresh = self._start()
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def map(self, items: list[Any]) -> list[Any]:
        """The answers to `items`, in their order."""
        return list(self.stream(items))

    def stream(self, items: Iterable[Any], ahead: int | None = None) -> Iterator[Any]:
        """The answers to `items`, in their order, each yielded as soon as it and those
        before it are in. A worker is given the next item the moment it is free, so no
        worker waits for another at the end of a window. At most `ahead` items are read
        and not yet yielded (default WINDOW per worker): memory stays bounded."""
        from multiprocessing.connection import wait

        limit = ahead or WINDOW * len(self.workers)
        source = iter(items)
        exhausted = False
        pending: deque[tuple[int, Any]] = deque()  # read, not yet sent: (index, item)
        done: dict[int, Any] = {}
        read = given = 0
        idle = list(range(len(self.workers)))
        busy: dict[Any, tuple[int, int, Any, float]] = {}  # connection -> (worker, index, item, started)
        while True:
            while not exhausted and read - given < limit:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending.append((read, item))
                read += 1
            while idle and pending:
                slot = idle.pop()
                index, item = pending.popleft()
                conn = self.workers[slot][1]
                try:
                    conn.send(item)
                except (OSError, ValueError):
                    pending.appendleft((index, item))
                    self._replace(self.workers[slot])
                    idle.append(slot)
                    continue
                busy[conn] = (slot, index, item, time.monotonic())
            while given in done:
                yield done.pop(given)
                given += 1
            if not busy:
                if exhausted and not pending:
                    return
                continue
            first = min(started for _, _, _, started in busy.values())
            for conn in wait(list(busy), timeout=max(0.0, first + self.budget - time.monotonic())):
                slot, index, _, _ = busy.pop(conn)
                try:
                    done[index] = conn.recv()
                except (EOFError, OSError):
                    process = self.workers[slot][0]
                    code = process.exitcode if not process.is_alive() else None
                    done[index] = WorkerFailure("the worker answering this case stopped"
                                                + (f" (exit code {code})" if code is not None else ""))
                    self._replace(self.workers[slot])
                idle.append(slot)
            now = time.monotonic()
            for conn, (slot, index, _, started) in list(busy.items()):
                if now - started >= self.budget:
                    del busy[conn]
                    done[index] = WorkerFailure(f"not answered within {self.budget:g} s, the budget for one case "
                                                "(raise it with the environment variable PYISP_CASE_SECONDS)")
                    self._replace(self.workers[slot])
                    idle.append(slot)
            while given in done:
                yield done.pop(given)
                given += 1

    def close(self) -> None:
        for _, conn in self.workers:
            conn.close()
        for process, _ in self.workers:
            process.join(2)
            if process.is_alive():
                process.kill()
                process.join(2)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _portable(result: Result) -> Result:
    """A worker's result as it can go to another process: its data, without what only the
    worker's clingo can read (a clingo Symbol is pickled as its address in the process that
    made it: read elsewhere, a crash). Left out: the case and policy (as for explain(), which
    needs them), the input atoms, and the record's terms (kept for rendering only)."""
    record = result.record
    if record is not None:
        record = replace(record, disclosures=tuple(
            replace(d, items=tuple(replace(item, terms=()) for item in d.items)) for d in record.disclosures))
    return replace(result, case=None, policy=None, inputs=None, record=record)


def _answer_in_worker(case: Any) -> Result | PyispError:
    from .service import answer_case

    try:
        result = answer_case(case, policy=_WORKER.get("policy"), depends_on=_WORKER.get("depends_on", True))
        return _portable(result)
    except PyispError as exc:
        return exc
    except Exception as exc:  # never let one case take a run down
        return PyispError(f"could not be answered ({type(exc).__name__}: {str(exc)[:200]})")


# ------------------------------------------------------------------ pyisp batch


@dataclass(frozen=True)
class Item:
    """One case of the input: where it is (line number or file), its text (None when it
    cannot be read), the fingerprint of its bytes, and why it cannot be read."""

    where: str
    text: str | None
    path: str | None = None
    number: int = 0
    digest: str = ""
    problem: str | None = None

    @property
    def default_id(self) -> str | None:
        """The id of a JSON Lines case that has none: its line number."""
        return f"line-{self.number}" if self.path is None else None

    @property
    def source(self) -> dict[str, str]:
        """What an output or error line records of its input, so that --resume can tell
        whether the input is still the one answered."""
        return {"where": self.where, "sha256": self.digest}


@dataclass(frozen=True)
class Answered:
    """What a worker sends back for one case: the output line, or the error."""

    where: str
    ident: str | None
    line: str | None = None
    verdicts: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    error: str | None = None
    source: dict[str, str] = field(default_factory=dict)

    def error_line(self) -> str:
        return compact_json({"where": self.where, "id": self.ident, "error": self.error, "input": self.source})


@dataclass
class Summary:
    """Counts for the table at the end of a run."""

    cases: int = 0
    skipped: int = 0
    stale: int = 0
    decisions: int = 0
    verdicts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    errors: int = 0
    seconds: float = 0.0

    def add(self, answered: Answered) -> None:
        if answered.error is not None:
            self.errors += 1
            return
        self.cases += 1
        self.decisions += len(answered.verdicts)
        self.verdicts.update(answered.verdicts)
        self.reasons.update(answered.reasons)

    def table(self) -> str:
        rate = self.cases / self.seconds if self.seconds else 0.0
        drate = self.decisions / self.seconds if self.seconds else 0.0
        lines = [f"{'cases answered':<34}{self.cases:>10,}",
                 f"{'skipped (already in the output)':<34}{self.skipped:>10,}"]
        if self.stale:
            lines.append(f"{'changed since the last run':<34}{self.stale:>10,}")
        lines += [f"{'malformed cases (errors file)':<34}{self.errors:>10,}",
                  f"{'decisions (proposed disclosures)':<34}{self.decisions:>10,}"]
        lines += [f"  {verdict:<32}{self.verdicts.get(verdict, 0):>10,}"
                  for verdict in ("must_share", "may_share", "must_not_share", "undetermined")]
        if self.reasons:
            lines.append("undetermined: what would decide it (smallest deciding set of `permitted`)")
            lines += [f"  {reason:<58}{count:>10,}" for reason, count in self.reasons.most_common(10)]
        lines.append(f"{'time':<34}{self.seconds:>9.1f}s")
        lines.append(f"{'throughput':<34}{rate:>10,.0f} cases/s  {drate:,.0f} decisions/s")
        return "\n".join(lines)


_INDEX = re.compile(r"\[\d+\]")


def _reasons(result: Result) -> tuple[str, ...]:
    """For each undetermined disclosure, the fields of its smallest deciding set."""
    found = []
    for disclosure in result.disclosures:
        if disclosure.verdict != "undetermined":
            continue
        sets = [d for d in disclosure.depends_on if d.conclusion == "permitted"]
        if not sets:
            found.append("(not searched: --no-depends or --only verdicts)")
            continue
        found.append(" and ".join(_INDEX.sub("[]", c.path) for c in sets[0].conditions))
    return tuple(found)


ONLY = ("verdicts",)  # what `pyisp batch --only` can keep of each answer


def _verdicts_line(item: Item, case: Case, policy: str | None) -> Answered:
    """`--only verdicts`: each disclosure's id and verdict alone (the line marked so, so that
    --resume does not mix it with whole answers)."""
    from .service import answer_verdicts

    ident, verdicts = answer_verdicts(case, policy=policy)
    ids = [d["id"] for d in case.data["disclosures"]]
    line = compact_json({"id": ident, "only": "verdicts", "input": item.source,
                         "disclosures": [{"id": d, "verdict": v} for d, v in zip(ids, verdicts)]})
    return Answered(item.where, ident, line, verdicts,
                    tuple("(not searched: --no-depends or --only verdicts)" for v in verdicts if v == "undetermined"),
                    source=item.source)


def _answer_item(item: Item, depends_on: bool, policy: str | None, repeats: "Repeats | None" = None,
                 only: str | None = None) -> Answered:
    """One case answered; whatever goes wrong with it becomes its error entry. With
    `repeats`, a JSON Lines case seen before under another id is answered from its
    remembered output line (Repeats). `only="verdicts"`: see `_verdicts_line`."""
    from .service import answer_case

    ident: str | None = None
    key: tuple[str, str, bool, str] | None = None
    try:
        if item.problem is not None or item.text is None:
            raise CaseError(item.problem or "cannot be read")
        if item.path is None:
            try:
                data = json.loads(item.text)
            except json.JSONDecodeError as exc:
                raise CaseError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
            ident = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else item.default_id
            if repeats is not None:
                key = repeats.key(data, depends_on, policy)
                known = repeats.answer(key, data["id"], item) if key is not None else None
                if known is not None:
                    return known
            case = Case.from_dict(data, None if isinstance(data, dict) and data.get("id") else item.default_id)
        else:
            case = Case.from_dict(parse_document(item.text, item.path), item.path)
        ident = case.id
        if only == "verdicts":
            answered = _verdicts_line(item, case, policy)
        else:
            result = answer_case(case, policy=policy, depends_on=depends_on)
            record = {"id": ident, **result.to_dict(), "input": item.source}
            answered = Answered(item.where, ident, compact_json(record), tuple(d.verdict for d in result.disclosures),
                                _reasons(result), source=item.source)
        if key is not None and repeats is not None:
            repeats.learn(key, answered)
        return answered
    except PyispError as exc:
        return Answered(item.where, ident, error=str(exc), source=item.source)
    except RecursionError:
        return Answered(item.where, ident, error="nested too deeply to be read", source=item.source)
    except Exception as exc:  # a poison case (huge number, exhausted memory, ...) is one error, not a crash
        return Answered(item.where, ident, error=f"could not be answered ({type(exc).__name__}: {str(exc)[:200]})",
                        source=item.source)


REPEATS = 512  # output lines remembered per run (or worker), by the case without its id
RULES_SECONDS = 0.1  # which rules answer a repeated case is asked of engine_for again after this (~1,000 lines)


@dataclass
class _Line:
    """The output line of a case, its id's places and its input's place marked: `text`
    with the input record replaced by NUL (never in JSON text, which escapes it); the id
    is in `text` only as whole JSON strings. `verified` once the line made from it for
    another id was found equal to that case's line answered in full."""

    ident: str
    text: str
    verdicts: tuple[str, ...]
    reasons: tuple[str, ...]
    verified: bool = False
    pieces: tuple[list[str], list[str]] | None = None  # the text before and after the input, cut at the id

    def made(self, ident: str, source: str) -> str:
        """The line for another id and input record (JSON text)."""
        if self.pieces is None:
            before, after = self.text.split("\x00")
            mark = f'"{self.ident}"'
            self.pieces = before.split(mark), after.split(mark)
        mark = f'"{ident}"'
        return mark.join(self.pieces[0]) + source + mark.join(self.pieces[1])


class Repeats:
    """The output lines of the cases of a run by what they say apart from their id: a
    register sends the same referral again and again under new ids, and a case's answer
    does not depend on its id (the rules never see it; the output repeats it). A line
    is made again for a new id by putting the id, and the input record, in their places
    (`_Line`), once that has been checked on one case answered in full: the second case
    with the same content is answered in full and compared; if the lines differ, that
    content is never answered from memory. Only cases with an id that occurs nowhere
    else in the case or its output line are answered so; the rest are answered in full.
    Bounded (`size` contents, least recently used dropped) and keyed on the policy
    directory, the rules' fingerprint and depends_on too."""

    def __init__(self, size: int = REPEATS) -> None:
        from .schema import CASE

        self.size = size
        self.lines: OrderedDict[tuple[str, str, bool, str], _Line | None] = OrderedDict()
        self.rules: dict[str | None, tuple[float, tuple[str, str]]] = {}  # policy -> (when read, (directory, fingerprint))
        spec = CASE["properties"]["id"]
        self.id_pattern = re.compile(spec["pattern"])

    def key(self, data: Any, depends_on: bool, policy: str | None) -> tuple[str, str, bool, str] | None:
        """What answers the case apart from its id, or None when it is not answered from memory."""
        from .service import engine_for

        if not isinstance(data, dict):
            return None
        ident = data.get("id")
        if not isinstance(ident, str) or not self.id_pattern.fullmatch(ident):
            return None
        try:
            text = compact_json({k: v for k, v in data.items() if k != "id"})
            known = self.rules.get(policy)
            now = time.monotonic()
            if known is None or now - known[0] > RULES_SECONDS:
                rules = engine_for(policy).policy
                known = self.rules[policy] = (now, (str(rules.directory), rules.fingerprint))
        except (PyispError, ValueError, TypeError, RecursionError):
            return None  # answered in full, which reports what is wrong
        if f'"{ident}"' in text:
            return None
        return *known[1], depends_on, text

    def answer(self, key: tuple[str, str, bool, str], ident: str, item: Item) -> Answered | None:
        """The output line of a case whose content was answered before under another id."""
        line = self.lines.get(key)
        if line is None or not line.verified or f'"{ident}"' in line.text:
            return None
        self.lines.move_to_end(key)
        return Answered(item.where, ident, self._made(line, ident, item.source), line.verdicts, line.reasons,
                        source=item.source)

    @staticmethod
    def _made(line: _Line, ident: str, source: dict[str, str]) -> str:
        return line.made(ident, compact_json(source))

    def learn(self, key: tuple[str, str, bool, str], answered: Answered) -> None:
        """Remember a case's output line, or check a remembered one against it."""
        text, ident = answered.line, answered.ident
        if text is None or ident is None:
            return
        if key in self.lines:
            known = self.lines[key]
            if known is not None and not known.verified and ident != known.ident:
                if f'"{ident}"' not in known.text and self._made(known, ident, answered.source) == text:
                    known.verified = True
                else:
                    self.lines[key] = None  # not made from its id alone: always answered in full
            return
        source = compact_json(answered.source)
        if text.count(source) != 1:
            return
        text = text.replace(source, "\x00")
        if text.count(ident) != text.count(f'"{ident}"'):
            return  # the id inside another text: its places cannot be told
        self.lines[key] = _Line(ident, text, answered.verdicts, answered.reasons)
        while len(self.lines) > self.size:
            self.lines.popitem(last=False)


def _batch_worker(item: Item, only: str | None = None) -> Answered:
    repeats = _WORKER.setdefault("repeats", Repeats())
    return _answer_item(item, _WORKER.get("depends_on", True), _WORKER.get("policy"), repeats, only)


def _decode(raw: bytes, where: str) -> tuple[str | None, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, (f"not UTF-8 text: the byte 0x{raw[exc.start]:02x} at offset {exc.start} cannot be read")


def read_items(source: Path) -> Iterator[Item]:
    """The cases of a JSON Lines file (blank lines skipped) or of a directory (sorted), each
    with the sha256 of its bytes. A line or file over the size cap, or not UTF-8, is an
    Item with a problem: it becomes an error entry, never a crash (nor is it held in memory)."""
    cap = limit("PYISP_MAX_CASE_BYTES")
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.suffix in CASE_SUFFIXES and p.is_file()):
            yield _file_item(path, cap)
        return
    with source.open("rb") as lines:
        number = 0
        while True:
            raw = lines.readline(cap + 1)
            if not raw:
                return
            number += 1
            digest = hashlib.sha256(raw)
            if len(raw) > cap and not raw.endswith(b"\n"):
                while True:  # the rest of an overlong line is hashed, not kept
                    chunk = lines.readline(1 << 20)
                    digest.update(chunk)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                yield Item(f"line {number}", None, None, number, digest.hexdigest()[:16],
                           f"longer than {cap} bytes, the limit for a case (raise it with the environment "
                           "variable PYISP_MAX_CASE_BYTES)")
                continue
            if not raw.strip():
                continue
            text, problem = _decode(raw, f"line {number}")
            yield Item(f"line {number}", text, None, number, digest.hexdigest()[:16], problem)


def _file_item(path: Path, cap: int) -> Item:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            raw = handle.read(cap + 1)
            digest.update(raw)
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        return Item(str(path), None, str(path), problem=f"cannot read the file: {exc.strerror}")
    if len(raw) > cap:
        return Item(str(path), None, str(path), 0, digest.hexdigest()[:16],
                    f"more than {cap} bytes, the limit for a case (raise it with the environment variable "
                    "PYISP_MAX_CASE_BYTES)")
    text, problem = _decode(raw, str(path))
    return Item(str(path), text, str(path), 0, digest.hexdigest()[:16], problem)


# ------------------------------------------------------------------ resume


def _check_paths(source: Path, output: Path, errors: Path) -> None:
    """Refuse, before anything is opened, an output or errors file that is the input (or
    inside an input directory as a case file), or that is the other output."""
    def same(a: Path, b: Path) -> bool:
        return os.path.realpath(a) == os.path.realpath(b)

    for option, path in (("--output", output), ("--errors", errors)):
        if same(path, source):
            raise UsageError("is the input itself: answering would overwrite the cases", where=f"{option} {path}")
        if source.is_dir() and path.suffix in CASE_SUFFIXES and os.path.realpath(path).startswith(
                os.path.realpath(source) + os.sep):
            raise UsageError("is inside the input directory with a case file's suffix: it would be read as a case",
                             where=f"{option} {path}")
    if same(output, errors):
        raise UsageError("is the same file as --output: results and errors need files of their own",
                         where=f"--errors {errors}")


def _recorded(path: Path) -> list[tuple[str, str, str, str | None]]:
    """The (where, sha256, line, only) of each record of an output or errors file written by
    an earlier run (`only`: what an output line kept, None for the whole answer); a last
    line cut short by a killed run is removed first."""
    if not path.exists():
        return []
    try:
        with path.open("rb+") as handle:
            data = handle.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):
                handle.truncate(end)  # a partial line from a killed run
    except OSError as exc:
        raise OutputError(f"cannot read or repair it: {exc.strerror}", where=str(path)) from None
    found = []
    for number, line in enumerate(data[:end].decode("utf-8", errors="replace").splitlines(), start=1):
        try:
            record = json.loads(line)
            source = record["input"]
            found.append((str(source["where"]), str(source["sha256"]), line, record.get("only")))
        except (ValueError, KeyError, TypeError):
            raise UsageError("this line does not say which input it answers (written by another program or an "
                             "older pyisp): resume is not possible; answer the input whole with --restart",
                             where=f"{path}:{number}") from None
    return found


def _prepare_resume(source: Path, output: Path, errors: Path, summary: Summary, only: str | None = None) -> set[str]:
    """The places of the input already answered, still as they were. Records of lines that
    have changed since are dropped (both files rewritten atomically) so those lines are
    answered again; a record of a line the input no longer has, or an output line that
    keeps another part of the answer (`--only`), refuses the resume."""
    inputs = {item.where: item.digest for item in read_items(source)}
    done: set[str] = set()
    for path in (output, errors):
        records = _recorded(path)
        kept = []
        for number, (where, digest, line, kept_only) in enumerate(records, start=1):
            if path == output and kept_only != only:
                said = f"--only {kept_only}" if kept_only else "the whole answer (no --only)"
                raise UsageError(f"this line was written with {said}: resume with the same option, or answer the "
                                 "input whole with --restart", where=f"{path}:{number}")
            if where not in inputs:
                raise UsageError(f"the input no longer matches the output: {where} was answered by an earlier run "
                                 f"but the input has no {where} now; answer the input whole with --restart",
                                 where=str(path))
            if inputs[where] != digest or where in done:
                summary.stale += inputs[where] != digest
                continue
            done.add(where)
            kept.append(line)
        if len(kept) != len(records):
            _rewrite(path, kept)
    return done


def _rewrite(path: Path, lines: list[str]) -> None:
    temporary = path.with_name(path.name + ".resume-tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise OutputError(f"cannot rewrite it: {exc.strerror}", where=str(path)) from None


# ------------------------------------------------------------------ the run


class Progress:
    """A one-line progress report with rate and time left, on a terminal only."""

    def __init__(self, total: int | None, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.on = stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.on or (now - self.last < 0.2 and not force):
            return
        self.last = now
        rate = done / (now - self.start) if now > self.start else 0.0
        text = f"{done:,}" + (f"/{self.total:,}" if self.total else "") + f" cases  {rate:,.0f}/s"
        if self.total and rate:
            left = (self.total - done) / rate
            text += f"  {int(left // 60)}:{int(left % 60):02d} left"
        self.stream.write("\r" + text.ljust(60))
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()



def _open(path: Path, mode: str) -> TextIO:
    try:
        return path.open(mode, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror}", where=str(path)) from None


def run_batch(source: Path, output: Path, *, errors: Path | None = None, jobs: int = 1, strict: bool = False,
              resume: bool = False, depends_on: bool = True, policy: str | Path | None = None,
              progress: Callable[[int | None], Progress] = Progress, only: str | None = None) -> Summary:
    """Answer every case of `source` into `output` (JSON Lines); cases that cannot be answered
    go to `errors` (default: OUTPUT.errors.jsonl). Every output and error line records the
    input place and the sha256 of its bytes: `resume` answers only the places not yet
    answered as they are now. Raises CaseError at the first malformed case when `strict`.
    `only="verdicts"`: each output line keeps the verdicts alone (for an audit that counts
    them), and the search for deciding unknowns, which it would not keep, is skipped."""
    if only is not None and only not in ONLY:
        raise UsageError(f"must be one of: {', '.join(ONLY)}", where=f"--only {only}")
    if only is not None:
        depends_on = False
    if not source.exists():
        raise CaseError("no such file or directory", where=str(source))
    errors = errors or output.with_name(output.name + ".errors.jsonl")
    _check_paths(source, output, errors)
    summary = Summary()
    done = _prepare_resume(source, output, errors, summary, only) if resume else set()
    items: Iterable[Item] = read_items(source)
    if resume:
        items = _skipping(items, done, summary)
    mode = "a" if resume else "w"
    out = _open(output, mode)
    try:
        err = _open(errors, mode)
    except OutputError:
        out.close()
        raise
    bar = progress(_count(source))
    start = time.perf_counter()
    repeats = Repeats()
    workers: list[Workers] = []
    try:
        written = 0
        for answered in _answered(iter(items), jobs, depends_on, policy, repeats, workers, only):
            try:
                if answered.error is not None:
                    if strict:
                        raise CaseError(answered.error, where=f"{source}: {answered.where}")
                    err.write(answered.error_line() + "\n")
                else:
                    out.write(answered.line + "\n")  # type: ignore[operator]
                summary.add(answered)
                written += 1
                if written % WINDOW == 0:
                    out.flush()
                    err.flush()
                    bar.update(summary.cases + summary.errors + summary.skipped)
            except OSError as exc:
                raise OutputError(f"cannot write the answers: {exc.strerror}; what was written stays: run again "
                                  "with --resume once it can be written",
                                  where=str(output if exc.filename is None else exc.filename)) from None
        try:
            out.flush()
            err.flush()
        except OSError as exc:
            raise OutputError(f"cannot write the answers: {exc.strerror}; what was written stays: run again "
                              "with --resume once it can be written",
                              where=str(output if exc.filename is None else exc.filename)) from None
        bar.update(summary.cases + summary.errors + summary.skipped, force=True)
    finally:
        for pool in workers:
            pool.close()
        bar.close()
        for handle in (out, err):
            try:
                handle.close()
            except OSError:
                pass
    summary.seconds = time.perf_counter() - start
    if errors.exists() and errors.stat().st_size == 0 and not resume:
        os.remove(errors)
    return summary


def _answered(items: Iterator[Item], jobs: int, depends_on: bool, policy: str | Path | None, repeats: Repeats,
              started: list["Workers"], only: str | None = None) -> Iterator[Answered]:
    """Each item's answer, in order: here, or with `jobs` > 1 by worker processes, each
    given the next case the moment it is free (the workers started are put in `started`,
    closed by the caller). (Answering the first cases here, before the workers are forked
    so that they start warm, was measured: it costs more time alone than it saves them.)"""
    policy_dir = str(policy) if policy else None
    if jobs <= 1:
        for item in items:
            yield _answer_item(item, depends_on, policy_dir, repeats, only)
        return
    sent: deque[Item] = deque()

    def reading() -> Iterator[Item]:
        for item in items:
            sent.append(item)
            yield item

    workers = Workers(jobs, partial(_batch_worker, only=only), policy, depends_on)
    started.append(workers)
    for answer in workers.stream(reading()):
        item = sent.popleft()
        yield answer if isinstance(answer, Answered) else Answered(item.where, None, error=answer.message,
                                                                   source=item.source)


def _count(source: Path) -> int | None:
    if source.is_dir():
        return None
    with source.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _skipping(items: Iterable[Item], done: set[str], summary: Summary) -> Iterator[Item]:
    for item in items:
        if item.where in done:
            summary.skipped += 1
            continue
        yield item
