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
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, TextIO

from .case import Case, parse_document
from .schema import limit
from ..errors import CaseError, OutputError, PyispError, UsageError
from .result import Result

WINDOW = 64  # cases per job handed out at a time, then written and flushed: bounds memory and what a kill loses
CASE_SUFFIXES = (".yaml", ".yml", ".json")


def compact_json(data: Any) -> str:
    """The stable JSON of `pyisp query --json` (sorted keys), on one line."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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
        for window in _windows(iter(cases), WINDOW * jobs):
            for item in workers.map(window):
                if isinstance(item, WorkerFailure):
                    item = PyispError(item.message)
                if isinstance(item, PyispError) and strict:
                    raise item
                yield item


def _windows(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while True:
        window = [item for _, item in zip(range(size), items)]
        if not window:
            return
        yield window


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
        from multiprocessing.connection import wait

        answers: list[Any] = [None] * len(items)
        pending = list(reversed(list(enumerate(items))))
        idle = list(self.workers)
        busy: dict[Any, tuple[tuple[Any, Any], int, float]] = {}
        while pending or busy:
            while idle and pending:
                worker = idle.pop()
                index, item = pending.pop()
                try:
                    worker[1].send(item)
                except (OSError, ValueError):
                    pending.append((index, item))
                    idle.append(self._replace(worker))
                    continue
                busy[worker[1]] = (worker, index, time.monotonic())
            first = min(started for _, _, started in busy.values())
            for conn in wait(list(busy), timeout=max(0.0, first + self.budget - time.monotonic())):
                worker, index, _ = busy.pop(conn)
                try:
                    answers[index] = conn.recv()
                except (EOFError, OSError):
                    code = worker[0].exitcode if not worker[0].is_alive() else None
                    answers[index] = WorkerFailure("the worker answering this case stopped"
                                                   + (f" (exit code {code})" if code is not None else ""))
                    worker = self._replace(worker)
                idle.append(worker)
            now = time.monotonic()
            for conn, (worker, index, started) in list(busy.items()):
                if now - started >= self.budget:
                    del busy[conn]
                    answers[index] = WorkerFailure(f"not answered within {self.budget:g} s, the budget for one case "
                                                   "(raise it with the environment variable PYISP_CASE_SECONDS)")
                    idle.append(self._replace(worker))
        return answers

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


def _answer_in_worker(case: Any) -> Result | PyispError:
    from .service import answer_case

    try:
        result = answer_case(case, policy=_WORKER.get("policy"), depends_on=_WORKER.get("depends_on", True))
        return replace(result, case=None, policy=None)
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
            found.append("(not searched: --no-depends)")
            continue
        found.append(" and ".join(_INDEX.sub("[]", c.path) for c in sets[0].conditions))
    return tuple(found)


def _answer_item(item: Item, depends_on: bool, policy: str | None) -> Answered:
    """One case answered; whatever goes wrong with it becomes its error entry."""
    from .service import answer_case

    ident: str | None = None
    try:
        if item.problem is not None or item.text is None:
            raise CaseError(item.problem or "cannot be read")
        if item.path is None:
            try:
                data = json.loads(item.text)
            except json.JSONDecodeError as exc:
                raise CaseError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
            ident = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else item.default_id
            case = Case.from_dict(data, None if isinstance(data, dict) and data.get("id") else item.default_id)
        else:
            case = Case.from_dict(parse_document(item.text, item.path), item.path)
        ident = case.id
        result = answer_case(case, policy=policy, depends_on=depends_on)
        record = {"id": ident, **result.to_dict(), "input": item.source}
        return Answered(item.where, ident, compact_json(record), tuple(d.verdict for d in result.disclosures),
                        _reasons(result), source=item.source)
    except PyispError as exc:
        return Answered(item.where, ident, error=str(exc), source=item.source)
    except RecursionError:
        return Answered(item.where, ident, error="nested too deeply to be read", source=item.source)
    except Exception as exc:  # a poison case (huge number, exhausted memory, ...) is one error, not a crash
        return Answered(item.where, ident, error=f"could not be answered ({type(exc).__name__}: {str(exc)[:200]})",
                        source=item.source)


def _batch_worker(item: Item) -> Answered:
    return _answer_item(item, _WORKER.get("depends_on", True), _WORKER.get("policy"))


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


def _recorded(path: Path) -> list[tuple[str, str, str]]:
    """The (where, sha256, line) of each record of an output or errors file written by an
    earlier run; a last line cut short by a killed run is removed first."""
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
            source = json.loads(line)["input"]
            found.append((str(source["where"]), str(source["sha256"]), line))
        except (ValueError, KeyError, TypeError):
            raise UsageError("this line does not say which input it answers (written by another program or an "
                             "older pyisp): resume is not possible; answer the input whole with --restart",
                             where=f"{path}:{number}") from None
    return found


def _prepare_resume(source: Path, output: Path, errors: Path, summary: Summary) -> set[str]:
    """The places of the input already answered, still as they were. Records of lines that
    have changed since are dropped (both files rewritten atomically) so those lines are
    answered again; a record of a line the input no longer has refuses the resume."""
    inputs = {item.where: item.digest for item in read_items(source)}
    done: set[str] = set()
    for path in (output, errors):
        records = _recorded(path)
        kept = []
        for where, digest, line in records:
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
              progress: Callable[[int | None], Progress] = Progress) -> Summary:
    """Answer every case of `source` into `output` (JSON Lines); cases that cannot be answered
    go to `errors` (default: OUTPUT.errors.jsonl). Every output and error line records the
    input place and the sha256 of its bytes: `resume` answers only the places not yet
    answered as they are now. Raises CaseError at the first malformed case when `strict`."""
    if not source.exists():
        raise CaseError("no such file or directory", where=str(source))
    errors = errors or output.with_name(output.name + ".errors.jsonl")
    _check_paths(source, output, errors)
    summary = Summary()
    done = _prepare_resume(source, output, errors, summary) if resume else set()
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
    policy_dir = str(policy) if policy else None
    workers = Workers(jobs, _batch_worker, policy, depends_on) if jobs > 1 else None
    try:
        for window in _windows(iter(items), WINDOW * max(1, jobs)):
            if workers is not None:
                answers = [a if isinstance(a, Answered) else Answered(item.where, None, error=a.message,
                                                                      source=item.source)
                           for item, a in zip(window, workers.map(window))]
            else:
                answers = [_answer_item(item, depends_on, policy_dir) for item in window]
            try:
                for answered in answers:
                    if answered.error is not None:
                        if strict:
                            raise CaseError(answered.error, where=f"{source}: {answered.where}")
                        err.write(answered.error_line() + "\n")
                    else:
                        out.write(answered.line + "\n")  # type: ignore[operator]
                    summary.add(answered)
                out.flush()
                err.flush()
            except OSError as exc:
                raise OutputError(f"cannot write the answers: {exc.strerror}; what was written stays: run again "
                                  "with --resume once it can be written",
                                  where=str(output if exc.filename is None else exc.filename)) from None
            bar.update(summary.cases + summary.errors + summary.skipped)
    finally:
        if workers is not None:
            workers.close()
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
