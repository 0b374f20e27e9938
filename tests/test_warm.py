"""The warm query path (issue 18): what pyisp remembers between queries of the same case
(valid documents, results, the rule files' stamp) never changes an answer and is never
shared with a caller who could change it."""

from __future__ import annotations

import copy
import pickle
import shutil
import threading
from pathlib import Path

import pytest
import yaml

import pyisp
from pyisp.core import schema, service
from pyisp.core.engine import Engine
from pyisp.core.policy import default_policy_dir
from pyisp.errors import CaseError

FACTS = Path(__file__).resolve().parent.parent / "facts"


def _case(name: str = "teacher-counselling-disclosure") -> dict:
    return yaml.safe_load((FACTS / f"{name}.yaml").read_text(encoding="utf-8"))


def test_a_document_validated_again_gives_an_equal_copy_of_its_own() -> None:
    data = _case()
    first = schema.validate(copy.deepcopy(data))
    second = schema.validate(copy.deepcopy(data))
    assert first == second and first is not second
    first["child"]["age"] = 3  # a caller changing its copy changes nobody else's
    assert schema.validate(copy.deepcopy(data)) == second


def test_a_document_validated_once_is_not_kept_and_validated_again_is() -> None:
    data = _case()
    data["meta"] = {"request": "validated once, then twice"}  # a document no other test validates
    key = schema._document_key(data)
    assert key is not None
    first = schema.validate(copy.deepcopy(data))
    assert key not in schema._VALID  # the first time: only the hash of the key noted
    assert schema.validate(copy.deepcopy(data)) == first
    assert key in schema._VALID  # the second time: the normalised copy kept
    assert schema.validate(copy.deepcopy(data)) == first


def test_a_remembered_document_is_checked_again_under_other_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _case()
    schema.validate(copy.deepcopy(data))
    monkeypatch.setenv("PYISP_MAX_CASE_DEPTH", "2")
    with pytest.raises(CaseError, match="nested deeper than 2 levels"):
        schema.validate(copy.deepcopy(data))


def test_values_equal_in_python_but_of_other_types_are_not_taken_for_each_other() -> None:
    data = _case()
    assert data["child"]["understanding"] is True
    schema.validate(copy.deepcopy(data))
    data["child"]["understanding"] = 1  # 1 == True, but not a yes/no
    with pytest.raises(CaseError, match="expected a boolean"):
        schema.validate(data)


def test_the_same_case_answered_again_gives_the_same_result_with_its_own_case_and_meta() -> None:
    data = _case()
    data["meta"] = {"note": "first"}
    first = pyisp.query(data)
    second = pyisp.query(data)
    assert first.to_dict() == second.to_dict()
    assert first is not second and first.case is not second.case and first.meta is not second.meta
    first.case.data["meta"]["note"] = "changed"  # the caller's copy only
    first.meta["note"] = "changed too"
    assert pyisp.query(data).to_dict() == second.to_dict()
    assert pyisp.query(data).meta == {"note": "first"}


def test_a_remembered_result_is_kept_as_bytes_and_explains_as_the_first_did() -> None:
    """Results are remembered pickled (no live objects for the garbage collector to walk in a
    process answering new cases all day): a hit is a whole result again, with the engine's
    policy, its record and an explanation equal to the first answer's."""
    import gc

    data = _case()
    data["id"] = "remembered-as-bytes"
    assert not getattr(service._results, "memory", None) or all(
        pickle.loads(kept).case_id != data["id"] for _, kept in service._results.memory.values())
    first = pyisp.query(data)  # asked once: its key noted, nothing kept
    assert not getattr(service._results, "memory", None) or all(
        pickle.loads(kept).case_id != data["id"] for _, kept in service._results.memory.values())
    pyisp.query(data)  # asked again: kept
    second = pyisp.query(data)  # a hit
    assert second.to_dict() == first.to_dict() and second.policy is first.policy is not None
    disclosure = first.disclosures[0].id
    assert second.explain(disclosure).to_text() == first.explain(disclosure).to_text()
    memory = service._results.memory
    assert memory and all(isinstance(kept, bytes) for _, kept in memory.values())
    del first, second
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o) is pyisp.Result and o.case_id == "remembered-as-bytes"]


def test_the_options_are_part_of_what_is_remembered() -> None:
    data = _case()
    fresh = Engine(memo=0)
    for options in ({}, {"depends_on": False}, {"strict": True},
                    {"presumptions": {p.name: False for p in pyisp.presumptions()[:1]}}):
        warm = [pyisp.query(data, **options).to_dict() for _ in range(2)]  # type: ignore[arg-type]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(service, "engine_for", lambda _policy=None: fresh)
            assert warm[0] == warm[1] == pyisp.query(data, **options).to_dict()  # type: ignore[arg-type]


def test_an_engine_that_remembers_nothing_answers_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = Engine(memo=0)
    monkeypatch.setattr(service, "engine_for", lambda _policy=None: fresh)
    calls: list[int] = []
    answer_parts = fresh.answer_parts

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return answer_parts(*args, **kwargs)

    monkeypatch.setattr(fresh, "answer_parts", counted)
    data = _case()
    pyisp.query(data)
    pyisp.query(data)
    assert len(calls) == 2


def test_a_new_thread_answers_with_its_own_engine() -> None:
    data = _case()
    pyisp.query(data)
    seen: list[object] = []

    def query() -> None:
        seen.append(getattr(service._results, "memory", None))
        seen.append(pyisp.query(data).to_dict())

    thread = threading.Thread(target=query)
    thread.start()
    thread.join()
    assert seen[0] is None and seen[1] == pyisp.query(data).to_dict()


def test_edited_rules_are_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), rules)
    data = _case()
    before = pyisp.query(data, policy=rules)
    (rules / "extra.lp").write_text("%% 3.1.1: Nothing new.\n", encoding="utf-8")  # a file added: seen at once
    added = pyisp.query(data, policy=rules)
    assert added.provenance.policy_sha256 != before.provenance.policy_sha256
    monkeypatch.setattr(service, "STAMP_SECONDS", 0.0)  # a file edited in place: seen after STAMP_SECONDS
    (rules / "extra.lp").write_text("%% 3.1.1: Nothing new, again.\n", encoding="utf-8")
    edited = pyisp.query(data, policy=rules)
    assert edited.provenance.policy_sha256 not in (before.provenance.policy_sha256, added.provenance.policy_sha256)
    assert edited.to_dict()["disclosures"] == before.to_dict()["disclosures"]


def test_the_upgrade_copies_as_deepcopy_did_shared_parts_included() -> None:
    from pyisp.core.upgrade import _copy

    shared = {"purposes": ["promote_welfare"], "x-note": (1, 2)}
    data = {"a": [shared, shared, {"n": 1.5, "t": True, "s": "x", "none": None}], "b": shared}
    copied = _copy(data, {})
    assert copied == copy.deepcopy(data) and copied is not data
    assert copied["a"][0] is copied["a"][1] is copied["b"] and copied["b"] is not shared
    assert copied["b"]["purposes"] is not shared["purposes"] and copied["b"]["x-note"] == (1, 2)
    case = _case()
    case["information"][0]["relationship"] = "police"  # format 1: rewritten in the copy, not in the document
    before = copy.deepcopy(case)
    assert schema.validate(case)["information"][0]["supplied_by_police"] is True
    assert case == before


def test_a_removed_working_directory_does_not_stop_a_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy directory's resolution is remembered per working directory only where it
    depends on it; a process whose working directory was removed still answers."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    data = _case()
    assert pyisp.query(data).to_dict() == pyisp.query(data, policy=default_policy_dir()).to_dict()
