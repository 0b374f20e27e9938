"""pyisp batch on a register (the same cases again under new ids): lines answered from a
remembered output line are byte-equal to the lines answered in full (pyisp.core.batch.Repeats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyisp.core import batch

FACTS = Path(__file__).resolve().parent.parent / "facts"
SMALL = ["social-worker-uses-anonymised-case-in-training", "gp-notifies-measles-to-health-protection",
         "teacher-unsure-whether-hunger-is-neglect"]
pytestmark = pytest.mark.timeout(600)


def _register(path: Path) -> None:
    lines = []
    for round_ in range(4):
        for name in SMALL:
            data = yaml.safe_load((FACTS / f"{name}.yaml").read_text(encoding="utf-8"))
            lines.append(json.dumps({**data, "id": f"referral-{round_}-{name[:8]}"}, default=str))
        # an id that is also a text of the case: always answered in full
        data = yaml.safe_load((FACTS / f"{SMALL[0]}.yaml").read_text(encoding="utf-8"))
        lines.append(json.dumps({**data, "id": data["disclosures"][0]["id"]}, default=str))
    lines.append(lines[0])  # the same line again (same id)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.slow
def test_register_lines_answered_from_memory_equal_lines_answered_in_full(tmp_path: Path, jobs: int,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "register.jsonl"
    _register(source)
    full = tmp_path / "full.jsonl"
    answer = batch.Repeats.answer
    with monkeypatch.context() as patch:
        patch.setattr(batch.Repeats, "answer", lambda self, *args: None)
        batch.run_batch(source, full, jobs=1)
    hits: list[Any] = []

    def counted(self: batch.Repeats, *args: Any) -> Any:
        found = answer(self, *args)
        if found is not None:
            hits.append(found)
        return found

    monkeypatch.setattr(batch.Repeats, "answer", counted)
    remembered = tmp_path / "remembered.jsonl"
    summary = batch.run_batch(source, remembered, jobs=jobs)
    assert summary.errors == 0
    assert remembered.read_bytes() == full.read_bytes()
    if jobs == 1:
        assert len(hits) == 2 * len(SMALL)  # rounds 3 and 4 (round 2 checks the remembered line)
