"""The register's hash chain: each row holds the sha256 of its own entry and of the row
before it, so that a row edited, deleted or moved breaks the chain where it happened.

A row's hash is sha256 over `seq`, the previous row's hash and the entry's canonical JSON
text (as stored: verifying never re-serialises). The entry itself holds its `seq`, so a
row moved to another place is told from a row edited. The store keeps a head (the last
row's number and hash), updated in the same transaction, so that rows deleted from the
end are found too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple

from ..core import jsontext

GENESIS = "0" * 64  # the "previous hash" of the first row
COLUMNS = ("at", "who", "case", "disclosure", "verdict")  # copied out of the entry for queries


def canonical(entry: dict[str, Any]) -> str:
    """An entry's stored text: compact JSON, sorted keys (values JSON cannot hold, such as a
    date in a case's metadata, as their text)."""
    return jsontext.compact(entry, default=str)


class Prepared(NamedTuple):
    """An entry made ready to be chained where it is made (a solver process of `pyisp serve`),
    so that the register's writer only numbers, hashes and inserts it: its columns, and its
    canonical text cut around the row number (`before + str(seq) + after` is
    `canonical({**entry, "seq": seq})`); `entry` itself only when its text could not be cut
    (then it is written from the entry, as an entry not prepared)."""

    columns: tuple[str, ...]
    before: str
    after: str
    entry: dict[str, Any] | None = None

    def text(self, seq: int) -> str:
        """The entry's stored text as row `seq`."""
        if self.entry is not None:
            return canonical({**self.entry, "seq": seq})
        return f"{self.before}{seq}{self.after}"


_MARK = 7_340_912_618_305_527_493  # a row number no register reaches, written once in an entry's text


def prepare(entry: dict[str, Any] | Prepared) -> Prepared:
    """An entry ready to be chained (see Prepared); one prepared already is given back."""
    if isinstance(entry, Prepared):
        return entry
    columns = tuple(str(entry[c]) for c in COLUMNS)
    text = canonical({**entry, "seq": _MARK})
    mark = f'"seq":{_MARK}'
    if text.count(mark) != 1:  # the number is in the entry itself: not cut
        return Prepared(columns, "", "", entry)
    before, after = text.split(mark)
    return Prepared(columns, before + '"seq":', after)


def row_hash(seq: int, previous: str, text: str) -> str:
    return hashlib.sha256(f"{seq}\n{previous}\n{text}".encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Problem:
    """A break in the chain: the row it names (its `seq`) and what is wrong there."""

    seq: int
    message: str

    def __str__(self) -> str:
        return f"row {self.seq}: {self.message}"


def verify(rows: Iterable[Any], head: tuple[int, str]) -> list[Problem]:
    """Every break in the chain, in row order: rows are the store's Rows in `seq` order,
    `head` the (seq, hash) the store recorded for its last append."""
    problems: list[Problem] = []
    last_seq, last_hash, last_named = 0, GENESIS, False
    for row in rows:
        found = len(problems)
        if row.seq != last_seq + 1:
            gone = (f"row {last_seq + 1}" if row.seq == last_seq + 2
                    else f"rows {last_seq + 1} to {row.seq - 1}")
            problems.append(Problem(row.seq, f"{gone} deleted (the chain jumps from row {last_seq} to row {row.seq})"))
        try:
            entry = json.loads(row.entry)
        except ValueError:
            entry = None
        own = row_hash(row.seq, row.prev_hash, row.entry)
        if not isinstance(entry, dict):
            problems.append(Problem(row.seq, "edited: its entry is not the JSON written"))
        elif entry.get("seq") != row.seq:
            problems.append(Problem(row.seq, f"reordered: it holds the entry written as row {entry.get('seq')}"))
        elif own != row.hash:
            problems.append(Problem(row.seq, "edited: its entry no longer matches its hash"))
        elif any(str(entry.get(c)) != str(getattr(row, c if c != "case" else "case_id")) for c in COLUMNS):
            problems.append(Problem(row.seq, "edited: a column no longer matches its hashed entry"))
        elif row.prev_hash != last_hash and row.seq == last_seq + 1 and not last_named:
            problems.append(Problem(last_seq, f"edited, its hash recomputed: row {row.seq} was chained to another "
                                    f"row {last_seq}"))
        last_seq, last_hash, last_named = row.seq, row.hash, len(problems) > found  # a break already named
    head_seq, head_hash = head
    if head_seq > last_seq:
        gone = f"row {head_seq}" if head_seq == last_seq + 1 else f"rows {last_seq + 1} to {head_seq}"
        problems.append(Problem(last_seq + 1, f"{gone} deleted from the end (the register's head names row {head_seq})"))
    elif head_seq < last_seq or (head_seq == last_seq and head_hash != last_hash):
        problems.append(Problem(last_seq, f"edited or appended outside pyisp: the register's head names row "
                                f"{head_seq} with another hash"))
    return problems
