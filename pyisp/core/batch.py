"""Answer many cases: a JSON Lines file (one case a line) or a directory of YAML/JSON
cases, streamed (memory does not grow with the number of cases), in one process or in
`jobs` worker processes, each with its own engine. A malformed case is reported with its
line (or file) and the run goes on, unless `strict`.

`query_many` is the API; `run_batch` is what `pyisp batch` does (output file, errors
file, resume, progress, summary).
"""

from __future__ import annotations

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
from ..errors import CaseError, PyispError
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
    with _pool(jobs, policy, depends_on) as pool:
        for window in _windows(iter(cases), WINDOW * jobs):
            for item in pool.map(_answer_in_worker, window, chunksize=max(1, len(window) // (jobs * 4))):
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


def _pool(jobs: int, policy: str | Path | None, depends_on: bool) -> Any:
    from .service import engine_for

    engine_for(policy).policy.checked  # noqa: B018 - checked once here (a broken policy stops the run), inherited by forked workers
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    return context.Pool(jobs, _init_worker, (str(policy) if policy else None, depends_on))


def _answer_in_worker(case: Any) -> Result | PyispError:
    from .service import answer_case

    try:
        result = answer_case(case, policy=_WORKER.get("policy"), depends_on=_WORKER.get("depends_on", True))
        return replace(result, case=None, policy=None)
    except PyispError as exc:
        return exc


# ------------------------------------------------------------------ pyisp batch


@dataclass(frozen=True)
class Item:
    """One case of the input: where it is (line number or file) and its text."""

    where: str
    text: str
    path: str | None = None
    number: int = 0

    @property
    def default_id(self) -> str | None:
        """The id of a JSON Lines case that has none: its line number."""
        return f"line-{self.number}" if self.path is None else None


@dataclass(frozen=True)
class Answered:
    """What a worker sends back for one case: the output line, or the error."""

    where: str
    ident: str | None
    line: str | None = None
    verdicts: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class Summary:
    """Counts for the table at the end of a run."""

    cases: int = 0
    skipped: int = 0
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
                 f"{'skipped (already in the output)':<34}{self.skipped:>10,}",
                 f"{'malformed cases (errors file)':<34}{self.errors:>10,}",
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
    from .service import answer_case

    ident: str | None = None
    try:
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
    except PyispError as exc:
        return Answered(item.where, ident, error=str(exc))
    record = {"id": ident, **result.to_dict()}
    return Answered(item.where, ident, compact_json(record), tuple(d.verdict for d in result.disclosures),
                    _reasons(result))


def _batch_worker(item: Item) -> Answered:
    return _answer_item(item, _WORKER.get("depends_on", True), _WORKER.get("policy"))


def read_items(source: Path) -> Iterator[Item]:
    """The cases of a JSON Lines file (blank lines skipped) or of a directory (sorted)."""
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.suffix in CASE_SUFFIXES and p.is_file()):
            yield Item(str(path), path.read_text(encoding="utf-8"), str(path))
        return
    with source.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                yield Item(f"line {number}", text, None, number)


def _item_id(item: Item) -> str | None:
    """The id a case will be answered under, read cheaply (for --resume)."""
    try:
        if item.path is None:
            data = json.loads(item.text)
            return (data.get("id") or item.default_id) if isinstance(data, dict) else None
        return Case.from_dict(parse_document(item.text, item.path), item.path).id
    except (ValueError, PyispError):
        return None


def _done(output: Path, errors: Path) -> tuple[set[str], set[str]]:
    """Ids already in the output and places already in the errors file; a last line cut
    short by a killed run is removed first."""
    ids: set[str] = set()
    places: set[str] = set()
    for path, keep in ((output, ids), (errors, places)):
        if not path.exists():
            continue
        with path.open("rb+") as handle:
            data = handle.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):
                handle.truncate(end)  # a partial line from a killed run
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                keep.add(record["id"] if path == output else record["where"])
    return ids, places


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


def _count(source: Path) -> int | None:
    if source.is_dir():
        return None
    with source.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def run_batch(source: Path, output: Path, *, errors: Path | None = None, jobs: int = 1, strict: bool = False,
              resume: bool = False, depends_on: bool = True, policy: str | Path | None = None,
              progress: Callable[[int | None], Progress] = Progress) -> Summary:
    """Answer every case of `source` into `output` (JSON Lines); malformed cases go to
    `errors` (default: OUTPUT.errors.jsonl). Raises CaseError at the first malformed case
    when `strict`."""
    if not source.exists():
        raise CaseError("no such file or directory", where=str(source))
    errors = errors or output.with_name(output.name + ".errors.jsonl")
    done_ids, done_places = _done(output, errors) if resume else (set(), set())
    summary = Summary()
    items: Iterable[Item] = read_items(source)
    if resume:
        items = _skipping(items, done_ids, done_places, summary)
    bar = progress(_count(source))
    start = time.perf_counter()
    mode = "a" if resume else "w"
    policy_dir = str(policy) if policy else None
    pool = _pool(jobs, policy, depends_on) if jobs > 1 else None
    try:
        with output.open(mode, encoding="utf-8") as out, errors.open(mode, encoding="utf-8") as err:
            for window in _windows(iter(items), WINDOW * max(1, jobs)):
                if pool is not None:
                    answers = pool.map(_batch_worker, window, chunksize=max(1, len(window) // (jobs * 4)))
                else:
                    answers = [_answer_item(item, depends_on, policy_dir) for item in window]
                for answered in answers:
                    if answered.error is not None:
                        if strict:
                            raise CaseError(answered.error, where=f"{source}: {answered.where}")
                        err.write(compact_json({"where": answered.where, "id": answered.ident,
                                                "error": answered.error}) + "\n")
                    else:
                        out.write(answered.line + "\n")  # type: ignore[operator]
                    summary.add(answered)
                out.flush()
                err.flush()
                bar.update(summary.cases + summary.errors + summary.skipped)
    finally:
        if pool is not None:
            pool.terminate()
        bar.close()
    summary.seconds = time.perf_counter() - start
    if errors.exists() and errors.stat().st_size == 0 and not resume:
        os.remove(errors)
    return summary


def _skipping(items: Iterable[Item], ids: set[str], places: set[str], summary: Summary) -> Iterator[Item]:
    for item in items:
        if item.where in places or (ids and _item_id(item) in ids):
            summary.skipped += 1
            continue
        yield item
