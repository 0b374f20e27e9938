"""The process's pool of warm engines (pyisp.core.pool): threads answering at once get the
answers one thread gets, no clingo Control is used by two threads at once, a new thread
starts on a warm engine instead of grounding its own, and the shelves stay bounded."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest
import yaml

import pyisp
from pyisp.core import engine as engine_module
from pyisp.core import pool as pool_module
from pyisp.core import service
from pyisp.core.service import engine_for

FACTS = Path(__file__).resolve().parent.parent / "facts"
pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("pool")]


def _cases(count: int) -> list[dict[str, Any]]:
    found = []
    for path in sorted(FACTS.glob("*.yaml"))[:count]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            pyisp.query(data)
        except pyisp.PyispError:
            continue
        found.append(data)
    return found


@contextmanager
def _alive_in_a_thread(context: Callable[[], Any]) -> Iterator[None]:
    """The block runs while another thread is inside `context()` (entered there, then idle
    until the block ends)."""
    inside, finish = threading.Event(), threading.Event()

    def run() -> None:
        with context():
            inside.set()
            finish.wait(240)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert inside.wait(240)
        yield
    finally:
        finish.set()
        thread.join(60)


def _json(result: pyisp.Result) -> str:
    return json.dumps(result.to_dict(), sort_keys=True)


def _in_threads(count: int, work: Any) -> list[Any]:
    """Run work(i) in `count` threads started together; their results (re-raising a failure)."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    gate = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            gate.wait(timeout=60)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def test_threads_answering_at_once_get_the_answers_of_one_thread_and_never_share_a_control(monkeypatch) -> None:
    cases = _cases(12)
    expected = [_json(pyisp.query(c)) for c in cases]
    active: dict[int, int] = {}  # id of a Control being solved -> the thread solving it
    guard = threading.Lock()
    clashes: list[str] = []
    solve = engine_module.Engine._solve

    def watched(self: Any, solver: Any, *args: Any, **kwargs: Any) -> Any:
        ctl, me = id(solver.ctl), threading.get_ident()
        with guard:
            if active.get(ctl, me) != me:
                clashes.append(f"Control {ctl} solved by two threads at once")
            active[ctl] = me
        try:
            threading.Event().wait(0.001)  # let the other threads run meanwhile
            return solve(self, solver, *args, **kwargs)
        finally:
            with guard:
                del active[ctl]

    monkeypatch.setattr(engine_module.Engine, "_solve", watched)
    # the threads' engines from a pool of their own, remembering no answers: they really solve
    monkeypatch.setattr(service, "POOL", pool_module.EnginePool())
    made = pool_module.PooledEngine.__init__

    def forgetful(self: Any, *args: Any) -> None:
        made(self, *args)
        self.memo = 0

    monkeypatch.setattr(pool_module.PooledEngine, "__init__", forgetful)

    def work(i: int) -> list[str]:
        return [_json(pyisp.query(cases[(i + k) % len(cases)])) for k in range(2 * len(cases))]

    for i, got in enumerate(_in_threads(4, work)):
        assert got == [expected[(i + k) % len(cases)] for k in range(2 * len(cases))]
    assert not clashes, clashes[0]


def test_a_new_thread_answers_on_a_warm_engine_without_grounding(monkeypatch) -> None:
    cases = _cases(6)
    expected = [_json(pyisp.query(c)) for c in cases]
    monkeypatch.setattr(service, "POOL", pool_module.EnginePool())  # holding only the engines made below

    @contextmanager
    def warm_then_idle() -> Iterator[None]:  # grounds every shape of these cases, then stays alive, idle
        # under new ids: the same case again is answered from the thread's remembered results
        # (service.answer_case) and never reaches the engine, which grounds a shape seen twice
        for round_ in range(3):
            for case in cases:
                pyisp.query({**case, "id": f"{case.get('id', 'case')}-warm-{round_}"})
        yield

    with _alive_in_a_thread(warm_then_idle):
        made: list[str] = []
        grounding, run = engine_module._Grounding.__init__, engine_module._Run.__init__

        def grounded(self: Any, *args: Any) -> None:
            made.append("grounding")
            grounding(self, *args)

        def fresh(self: Any, *args: Any) -> None:
            made.append("fresh Control")
            run(self, *args)

        monkeypatch.setattr(engine_module._Grounding, "__init__", grounded)
        monkeypatch.setattr(engine_module._Run, "__init__", fresh)
        for case, want in zip(cases, expected):
            got = _in_threads(1, lambda _, case=case: _json(pyisp.query(case)))[0]
            assert got == want
        assert made == [], f"a new thread made {made}"


def test_the_shelves_are_bounded_and_engines_return_to_them() -> None:
    pool = pool_module.EnginePool(shelf=2, shelves=2)
    policy = engine_for(None).policy
    first = pool.engine(("a", "1"), policy)
    assert pool.engine(("a", "1"), policy) is first  # free: lent again, not made anew
    with pool.lend(first) as lent:
        assert lent is first and first.lock.locked()
        assert pool.engine(("a", "1"), policy) is not first  # in use: another one
        with pool.lend(first) as inner:  # a call within a call keeps the engine it holds
            assert inner is first
    assert not first.lock.locked()
    for _ in range(3):
        with pool.lend(first), pool.lend(pool.engine(("a", "1"), policy)):
            pool.engine(("a", "1"), policy)
    assert len(pool.shelves[("a", "1")]) <= 2
    for key in ("b", "c", "d"):
        pool.engine((key, "1"), policy)
    assert len(pool.shelves) == 2 and ("a", "1") not in pool.shelves


def _shelved_in_child(conn: Any) -> None:
    shelved = [e for shelf in pool_module.POOL.shelves.values() for e in shelf]
    conn.send((len(shelved), any(e.lock.locked() for e in shelved)))
    conn.close()


def test_a_forked_child_keeps_the_free_warm_engines_and_never_lends_one_in_use_at_the_fork() -> None:
    import multiprocessing

    pyisp.query(_cases(1)[0])
    key, policy = _key_and_policy()
    with pool_module.POOL.lend(engine_for(None)) as engine:  # in use at the fork
        assert engine.lock.locked()
        pool_module.POOL.engine(key, policy)  # and a free one beside it
        before = sum(len(shelf) for shelf in pool_module.POOL.shelves.values())
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_shelved_in_child, args=(send,))
        child.start()
        assert receive.poll(60)
        count, locked = receive.recv()
        child.join(30)
    assert not locked and 0 < count == before - 1


def _key_and_policy() -> tuple[tuple[str, str], Any]:
    engine = engine_for(None)
    assert isinstance(engine, pool_module.PooledEngine)
    return engine.key, engine.policy


def test_a_forked_child_can_build_while_a_parent_thread_held_the_ast_lock() -> None:
    import multiprocessing

    from pyisp.core.policy import ast_lock

    with _alive_in_a_thread(ast_lock):  # a thread of this process holds the lock meanwhile
        child = multiprocessing.get_context("fork").Process(target=_query_in_child)
        child.start()
        child.join(120)
        assert child.exitcode == 0


def _query_in_child() -> None:
    from pyisp.core.policy import ast_lock

    if not ast_lock().acquire(timeout=10):
        raise SystemExit(3)
    ast_lock().release()
    case = _cases(1)[0]
    pyisp.query(case)
