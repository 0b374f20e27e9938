"""The warm engines of a process, lent to one thread at a time.

An `Engine` holds clingo Controls, which are not thread-safe, and it is worth keeping warm
(its groundings, one per shape of case, and its remembered answers cost tens of
milliseconds each to make). So every engine of the process stands on a shelf, one shelf per
policy directory and version of its rules (`PooledEngine.key`), and each call that solves
(`answer`, `answer_case`, `answer_parts`) borrows one for its duration: the engine of the
calling thread (`service.engine_for`) when no other thread has it, else the warmest
engine of the shelf no thread is using, else a new one. A thread that starts after others
have answered gets an engine already warm instead of grounding one of its own; a Control
is only ever used by the thread holding its engine's lock. Groundings are built one at a
time in the process (`policy.ast_lock()`): they are built from the policy's clingo AST, shared by
every engine, and two threads adding the same AST statements at once can corrupt them
("invalid ast" from then on, seen in tests/test_pool.py).

Bounded: at most `SHELF` engines kept per shelf (those least recently used are let go; an
engine a thread still holds stays usable by it) and `SHELVES` shelves (policy versions).
Answers do not depend on which engine gives them (an engine's answer is fixed by the case
and the rules, whatever it answered before: pyisp.core.engine), so lending changes no output.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from .engine import Answer, Engine
from .policy import Policy, ast_lock

SHELF = 8  # engines kept per policy version: as many as threads that solve at once
SHELVES = 8  # policy versions (directory and rules' fingerprint) with a shelf, least recently used dropped

Key = tuple[str, str]


class PooledEngine(Engine):
    """An engine on a shelf of the process's pool: each solving call runs on an engine
    borrowed for it (this one when free, see the module's docstring)."""

    def __init__(self, policy: Policy, key: Key, pool: "EnginePool") -> None:
        super().__init__(policy)
        self.key = key
        self.pool = pool
        self.lock = threading.Lock()  # held by the one thread using this engine's Controls
        self.used = 0  # the pool's clock at the last call: least recently used let go first

    def grounding(self, counts: Mapping[str, int]) -> Any:
        with ast_lock():  # builds from the policy's statements (a clingo AST shared by every engine)
            return super().grounding(counts)

    def _answer_fresh(self, *args: Any, **kwargs: Any) -> Answer:
        with ast_lock():  # the same, in a fresh Control
            return super()._answer_fresh(*args, **kwargs)

    def answer(self, *args: Any, **kwargs: Any) -> Answer:
        with self.pool.lend(self) as engine:
            return Engine.answer(engine, *args, **kwargs)

    def answer_case(self, *args: Any, **kwargs: Any) -> tuple[Answer, dict[str, str]]:
        with self.pool.lend(self) as engine:
            return Engine.answer_case(engine, *args, **kwargs)

    def answer_parts(self, *args: Any, **kwargs: Any) -> list[tuple[list[str], Answer, dict[str, str]]]:
        with self.pool.lend(self) as engine:
            return Engine.answer_parts(engine, *args, **kwargs)


def _warmth(engine: Engine) -> int:
    """How much an engine has ready: its groundings and remembered answers (read without
    its lock: a size only, to choose among engines)."""
    return 4 * len(engine._groundings) + len(engine._memo)


class EnginePool:
    """The shelves of warm engines (see the module's docstring). Thread-safe: the shelves
    are changed under `lock`; an engine is used only under its own lock."""

    def __init__(self, shelf: int = SHELF, shelves: int = SHELVES) -> None:
        self.shelf = shelf
        self.shelves_kept = shelves
        self.lock = threading.Lock()
        self.shelves: OrderedDict[Key, list[PooledEngine]] = OrderedDict()
        self.clock = itertools.count(1)
        self.held = threading.local()  # the engines this thread holds now (a call within a call)

    def engine(self, key: Key, policy: Policy) -> PooledEngine:
        """An engine for a thread to keep (service.engine_for): the warmest engine of the shelf
        not in use, else a new one put on the shelf."""
        with self.lock:
            shelf = self._shelf(key)
            free = [e for e in shelf if not e.lock.locked()]
            if free:
                return max(free, key=lambda e: (_warmth(e), e.used))
            return self._new(key, policy, shelf)

    def _shelf(self, key: Key) -> list[PooledEngine]:
        shelf = self.shelves.get(key)
        if shelf is None:
            shelf = self.shelves[key] = []
            while len(self.shelves) > self.shelves_kept:
                self.shelves.popitem(last=False)
        self.shelves.move_to_end(key)
        return shelf

    def _new(self, key: Key, policy: Policy, shelf: list[PooledEngine]) -> PooledEngine:
        engine = PooledEngine(policy, key, self)
        engine.used = next(self.clock)
        shelf.append(engine)
        self._trim(shelf, engine)
        return engine

    def _trim(self, shelf: list[PooledEngine], keep: PooledEngine | None = None) -> None:
        """Let the least recently used free engines go while the shelf holds too many (it
        holds more only while more engines than that are in use at once)."""
        while len(shelf) > self.shelf:
            idle = [e for e in shelf if not e.lock.locked() and e is not keep]
            if not idle:
                return
            shelf.remove(min(idle, key=lambda e: e.used))

    @contextmanager
    def lend(self, own: PooledEngine) -> Iterator[PooledEngine]:
        """The engine one call solves on, held by this thread until the call returns: `own`
        when it is free and warm, else the warmest free engine of its shelf, else `own` when
        free, else a new one."""
        held: set[int] = self.held.__dict__.setdefault("engines", set())
        if id(own) in held:  # a call within a call (answer_parts calls answer_case)
            yield own
            return
        engine = self._borrow(own)
        held.add(id(engine))
        try:
            yield engine
        finally:
            held.discard(id(engine))
            engine.used = next(self.clock)
            engine.lock.release()
            shelf = self.shelves.get(engine.key)
            if shelf is not None and len(shelf) > self.shelf:
                with self.lock:
                    self._trim(shelf)

    def _borrow(self, own: PooledEngine) -> PooledEngine:
        if _warmth(own) and own.lock.acquire(blocking=False):
            return own
        with self.lock:
            shelf = self._shelf(own.key)
            for engine in sorted((e for e in shelf if e is not own), key=lambda e: (_warmth(e), e.used),
                                 reverse=True):
                if engine.lock.acquire(blocking=False):
                    return engine
            if own.lock.acquire(blocking=False):
                return own
            engine = self._new(own.key, own.policy, shelf)
            engine.lock.acquire()
            return engine

    def _after_fork(self) -> None:
        """In a forked child (one thread): engines that another thread of the parent was
        using are left in the state of the moment and never lent; the rest stay warm."""
        self.lock = threading.Lock()
        self.held = threading.local()
        for key, shelf in self.shelves.items():
            self.shelves[key] = [e for e in shelf if not e.lock.locked()]


POOL = EnginePool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=POOL._after_fork)
