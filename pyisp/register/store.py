"""Where the register lives: SQLite (a file; WAL journal, synchronous FULL, so that an
acknowledged append survives a crash) or PostgreSQL (a `postgresql://` URL, for several
users). Both hold the same two tables and answer the same calls.

An append writes all the entries of a case (or of several cases: `append_groups`, the
group commit's) in one transaction, under the register's lock (SQLite: BEGIN IMMEDIATE;
PostgreSQL: the head row locked FOR UPDATE), so that the rows of several processes form
one chain and no case is ever half written.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import PyispError
from .chain import GENESIS, Prepared, prepare, row_hash

DEFAULT_REGISTER = "pyisp-register.sqlite3"
LOCK_WAIT = 60.0     # seconds an append waits for another process's (SQLite)
LOCK_POLL = 0.0005   # seconds between tries for SQLite's write lock
TABLE, HEAD = "pyisp_decisions", "pyisp_head"
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, "
    "case_id TEXT NOT NULL, disclosure TEXT NOT NULL, verdict TEXT NOT NULL, entry TEXT NOT NULL, "
    "prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_case ON {TABLE} (case_id, seq)",
    f"CREATE TABLE IF NOT EXISTS {HEAD} (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
    f"INSERT INTO {HEAD} (id, seq, hash) VALUES (1, 0, '{GENESIS}') ON CONFLICT DO NOTHING",
)
_ROW = "seq, at, who, case_id, disclosure, verdict, entry, prev_hash, hash"


class RegisterError(PyispError):
    """The register cannot be opened or written; `where` names it (path or URL without password)."""


@dataclass(frozen=True)
class Row:
    """One stored decision: its number in the chain, the columns kept for queries, the
    entry's canonical JSON text and the two hashes."""

    seq: int
    at: str
    who: str
    case_id: str
    disclosure: str
    verdict: str
    entry: str
    prev_hash: str
    hash: str


class Register:
    """The common part of the two backends: the SQL is the same but for the placeholder."""

    mark = "?"
    where = ""

    def _connection(self) -> Any:
        raise NotImplementedError

    def _begin_locked(self, cursor: Any) -> tuple[int, str]:
        raise NotImplementedError

    def append(self, entries: list[dict[str, Any] | Prepared]) -> list[int]:
        """Append entries as consecutive rows in one transaction; their row numbers."""
        return self.append_groups([entries])[0]

    def append_groups(self, groups: list[list[dict[str, Any] | Prepared]]) -> list[list[int]]:
        """Append several cases' entries in one transaction (one commit, one fsync: the
        group commit of pyisp/register/group.py), each case's rows consecutive; the row
        numbers of each. All or nothing: a failure leaves none of them written. An entry is
        a dict (entry.py) or one prepared where it was made (chain.Prepared)."""
        if not any(groups):
            return [[] for _ in groups]
        with self._lock:
            conn = self._connection()
            cursor = conn.cursor()
            insert = f"INSERT INTO {TABLE} ({_ROW}) VALUES ({', '.join([self.mark] * 9)})"
            try:
                seq, previous = self._begin_locked(cursor)
                numbers: list[list[int]] = []
                for entries in groups:
                    numbers.append([])
                    for entry in entries:
                        seq += 1
                        ready = prepare(entry)
                        text = ready.text(seq)
                        digest = row_hash(seq, previous, text)
                        cursor.execute(insert, (seq, *ready.columns, text, previous, digest))
                        previous = digest
                        numbers[-1].append(seq)
                cursor.execute(f"UPDATE {HEAD} SET seq = {self.mark}, hash = {self.mark} WHERE id = 1", (seq, previous))
                conn.commit()
            except BaseException as exc:
                try:
                    conn.rollback()
                except Exception:  # a connection already gone: nothing was committed
                    pass
                if isinstance(exc, self._errors()):
                    raise RegisterError(f"cannot append: {' '.join(str(exc).split())[:300]}", where=self.where) from None
                raise
            finally:
                cursor.close()
            return numbers

    def _reading(self) -> AbstractContextManager[None]:
        """Around a read: the backend's wait for a busy database (SQLite), if it needs one."""
        return nullcontext()

    def rows(self, case: str | None = None) -> Iterator[Row]:
        """The rows in chain order (of one case, if given)."""
        with self._lock, self._reading():
            conn = self._connection()
            cursor = conn.cursor()
            try:
                if case is None:
                    cursor.execute(f"SELECT {_ROW} FROM {TABLE} ORDER BY seq")
                else:
                    cursor.execute(f"SELECT {_ROW} FROM {TABLE} WHERE case_id = {self.mark} ORDER BY seq", (case,))
                found = [Row(*r) for r in cursor.fetchall()]
                conn.commit()
            finally:
                cursor.close()
        yield from found

    def snapshot(self) -> tuple[list[Row], tuple[int, str]]:
        """Every row in chain order and the head, read in one transaction (what `verify`
        needs: rows and head read apart, an append between them looked like tampering)."""
        with self._lock, self._reading():
            conn = self._connection()
            cursor = conn.cursor()
            try:
                self._begin_snapshot(cursor)
                cursor.execute(f"SELECT {_ROW} FROM {TABLE} ORDER BY seq")
                found = [Row(*r) for r in cursor.fetchall()]
                cursor.execute(f"SELECT seq, hash FROM {HEAD} WHERE id = 1")
                seq, digest = cursor.fetchone()
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                cursor.close()
        return found, (int(seq), str(digest))

    def _begin_snapshot(self, cursor: Any) -> None:
        """Start a transaction whose reads all see the same committed state."""
        raise NotImplementedError

    def head(self) -> tuple[int, str]:
        """The last row's number and hash, as the last append recorded them."""
        with self._lock, self._reading():
            conn = self._connection()
            cursor = conn.cursor()
            try:
                cursor.execute(f"SELECT seq, hash FROM {HEAD} WHERE id = 1")
                seq, digest = cursor.fetchone()
                conn.commit()
            finally:
                cursor.close()
        return int(seq), str(digest)

    def close(self) -> None:
        raise NotImplementedError

    def _errors(self) -> tuple[type[BaseException], ...]:
        """The driver's errors, reported as a RegisterError."""
        raise NotImplementedError


class SQLiteRegister(Register):
    """The embedded register: one file, WAL journal, synchronous FULL."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.where = str(path)
        self._lock = threading.Lock()
        if not create and not Path(path).is_file():
            raise RegisterError("no register here (it is made by `pyisp serve` or `pyisp query --record-to`)",
                                where=self.where)
        try:
            self._conn = sqlite3.connect(self.where, timeout=LOCK_WAIT, isolation_level=None, check_same_thread=False)
            wal = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal"
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("BEGIN IMMEDIATE")
            for statement in _CREATE:
                self._conn.execute(statement)
            self._conn.execute("COMMIT")
            # appends wait their own way (_lock_write), reads with SQLite's wait (_reading); where
            # the file cannot be in WAL mode (some network file systems), a commit may wait for
            # readers too: SQLite's wait is kept for everything there
            self._wait = 0 if wal else int(LOCK_WAIT * 1000)
            self._conn.execute(f"PRAGMA busy_timeout = {self._wait}")
        except sqlite3.Error as exc:
            raise RegisterError(f"cannot open the register: {exc}", where=self.where) from None

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """SQLite's own wait for a read that finds the database busy (rare with WAL): LOCK_WAIT."""
        self._conn.execute(f"PRAGMA busy_timeout = {int(LOCK_WAIT * 1000)}")
        try:
            yield
        finally:
            self._conn.execute(f"PRAGMA busy_timeout = {self._wait}")

    def _connection(self) -> Any:
        return _SQLiteTransactions(self._conn)

    def _begin_snapshot(self, cursor: Any) -> None:
        cursor.execute("BEGIN")  # WAL: the first read fixes what every later read of it sees

    def _begin_locked(self, cursor: Any) -> tuple[int, str]:
        self._lock_write(cursor)  # the write lock, held until COMMIT: one chain across processes
        cursor.execute(f"SELECT seq, hash FROM {HEAD} WHERE id = 1")
        seq, digest = cursor.fetchone()
        return int(seq), str(digest)

    def _lock_write(self, cursor: Any) -> None:
        """BEGIN IMMEDIATE, waiting up to LOCK_WAIT seconds for another process's write to end.

        SQLite's own wait (the connection's timeout) sleeps 1, 2, 5, 10, 15, 20, 25 ... ms
        between tries, so a server process whose commit comes while another's is being synced
        (a few ms) waits ~8-30 ms; here it tries again every LOCK_POLL seconds instead (SQLite's
        wait is off on this connection but for reads, `_reading`), and the lock is taken as soon
        as it is free."""
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF != sqlite3.SQLITE_BUSY \
                        or time.monotonic() > deadline:
                    raise
            time.sleep(LOCK_POLL)

    def close(self) -> None:
        self._conn.close()

    def _errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)


class _SQLiteTransactions:
    """The autocommit connection with commit/rollback that end an explicit BEGIN, if one is open."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def commit(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")


class PostgresRegister(Register):
    """The shared register: a PostgreSQL database given by URL."""

    mark = "%s"

    def __init__(self, url: str, create: bool = True) -> None:
        import psycopg

        self.where = _without_password(url)
        self._url = url
        self._lock = threading.Lock()
        try:
            self._conn = psycopg.connect(url, autocommit=False, connect_timeout=10)
            with self._conn.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s)", (HEAD,))
                exists = cursor.fetchone()[0] is not None
                if not exists and not create:
                    self._conn.close()
                    raise RegisterError("no register in this database (it is made by `pyisp serve` or `pyisp "
                                        "query --record-to`)", where=self.where)
                cursor.execute("SELECT pg_advisory_xact_lock(74657)")  # two servers creating the tables at once
                for statement in _CREATE:
                    cursor.execute(statement)
            self._conn.commit()
        except psycopg.Error as exc:
            message = " ".join(str(exc).split())
            raise RegisterError(f"cannot open the register: {message[:300]}", where=self.where) from None

    def _connection(self) -> Any:
        """The connection, made again if the server dropped it (a restart of PostgreSQL)."""
        if self._conn.closed or self._conn.broken:
            import psycopg

            self._conn = psycopg.connect(self._url, autocommit=False, connect_timeout=10)
        return self._conn

    def _begin_snapshot(self, cursor: Any) -> None:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one snapshot for every read

    def _begin_locked(self, cursor: Any) -> tuple[int, str]:
        cursor.execute(f"SELECT seq, hash FROM {HEAD} WHERE id = 1 FOR UPDATE")
        seq, digest = cursor.fetchone()
        return int(seq), str(digest)

    def close(self) -> None:
        self._conn.close()

    def _errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error,)


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def open_register(where: str | Path | None = None, create: bool = True) -> Register:
    """The register at `where`: a `postgresql://` (or `postgres://`) URL, a `sqlite:///path`
    URL or a file path; default $PYISP_REGISTER, else ./pyisp-register.sqlite3. Made when
    missing, unless `create` is False (then a RegisterError)."""
    where = str(where or os.environ.get("PYISP_REGISTER") or DEFAULT_REGISTER)
    if where.startswith(("postgresql://", "postgres://")):
        return PostgresRegister(where, create)
    if where.startswith("sqlite:///"):
        where = where[len("sqlite:///"):]
    return SQLiteRegister(where, create)
