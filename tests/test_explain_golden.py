"""Golden files: the text and Markdown explanations of two worked examples, and the text
with the full derivation (--full), byte for byte.

When a rule, a template or the wording changes on purpose, regenerate them and review
the diff like any other change:

    PYTHONPATH=.. ../.venv/bin/python test_explain_golden.py     (from tests/)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from casekit import FACTS

import pyisp

GOLDEN = Path(__file__).resolve().parent / "golden_explain"
CASES = ("teacher-counselling-disclosure", "separated-parents")
RENDERINGS = {"txt": lambda ex: ex.to_text(), "md": lambda ex: ex.to_markdown(),
              "full.txt": lambda ex: ex.to_text(full=True)}


def _rendered(case: str, suffix: str) -> str:
    result = pyisp.query_file(FACTS / f"{case}.yaml")
    return "".join(RENDERINGS[suffix](result.explain(d.id)) for d in result.disclosures)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("suffix", sorted(RENDERINGS))
def test_success_explanation_matches_its_golden_file(case, suffix):
    path = GOLDEN / f"{case}.{suffix}"
    assert path.is_file(), f"no golden file {path.name}: run `python tests/test_explain_golden.py`"
    expected = path.read_text(encoding="utf-8")
    assert _rendered(case, suffix) == expected, (
        f"{path.name} differs; if the change is intended, regenerate with "
        "`cd tests && PYTHONPATH=.. ../.venv/bin/python test_explain_golden.py` and review the diff")


def regenerate() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for case in CASES:
        for suffix in RENDERINGS:
            (GOLDEN / f"{case}.{suffix}").write_text(_rendered(case, suffix), encoding="utf-8")
            print(f"wrote {GOLDEN.name}/{case}.{suffix}", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
