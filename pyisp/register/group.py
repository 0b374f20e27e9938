"""Group commit: the appends of a server process's requests written together.

A request hands its decisions to `GroupCommit.submit` and waits on the future it gets
back; one writer thread takes every append waiting at that moment, writes them in one
transaction (`Register.append_groups`: one commit, so one fsync) and only then resolves
their futures. A decision is acknowledged once it is durable, as with one commit per
request; under load the fsync of one commit is shared by every decision that arrived
while the previous one was being written, and no solver waits on the disk. A
failed commit fails every append of its group: none of them was written. An append
withdrawn (its future cancelled) before the writer takes it is not written.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from .chain import Prepared
from .store import Register

MOST = 256  # appends written in one transaction at most


class GroupCommit:
    """The writer thread of one register; `submit` from any thread, `close` once."""

    def __init__(self, register: Register, most: int = MOST) -> None:
        self.register, self.most = register, most
        self._waiting: queue.SimpleQueue[tuple[list[dict[str, Any] | Prepared], Future[list[int]]] | None] = queue.SimpleQueue()
        self._closed = False
        self._gate = threading.Lock()  # nothing is queued after the writer is told to stop
        self._writer = threading.Thread(target=self._write, name="pyisp-register", daemon=True)
        self._writer.start()

    def submit(self, entries: list[dict[str, Any] | Prepared]) -> "Future[list[int]]":
        """Append one case's entries; the future holds their row numbers once they are durable
        (or the RegisterError that kept them out)."""
        future: Future[list[int]] = Future()
        with self._gate:
            if self._closed:
                raise RuntimeError("the register's writer is closed")
            self._waiting.put((entries, future))
        return future

    def close(self) -> None:
        """Write what is waiting, then stop the writer."""
        with self._gate:
            if self._closed:
                return
            self._closed = True
            self._waiting.put(None)
        self._writer.join()

    def _write(self) -> None:
        stopping = False
        while not stopping:
            first = self._waiting.get()
            if first is None:
                return
            group = [first]
            while len(group) < self.most:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
            group = [(entries, future) for entries, future in group if future.set_running_or_notify_cancel()]
            if not group:  # every one withdrawn (its request gone) before it was written
                continue
            try:
                numbers = self.register.append_groups([entries for entries, _ in group])
            except BaseException as exc:  # every waiter hears it: nothing of the group was written
                for _, future in group:
                    future.set_exception(exc)
            else:
                for (_, future), rows in zip(group, numbers):
                    future.set_result(rows)
