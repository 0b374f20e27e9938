"""`pyisp diff OLD NEW`: the semantic difference of two versions of the rules. The derived
predicates of NEW are renamed apart (a clingo.ast transformer), both versions read the
same inputs over a bounded domain, and the solver is asked, for each output (a verdict,
a finding code, an obligation code), for a smallest case on which the two disagree. That
case is then shrunk (pyisp/authoring/shrink.py): every fact the difference does not need
is left unknown.
"""

from __future__ import annotations

import functools
import io
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import clingo

from .domain import Bounds
from ..errors import PyispError
from ..core.policy import ROOT_FILE, Policy
from .shrink import MAX_SECONDS, differs, shrink
from .solving import ground, renamed
from .verify import output_groups

NEW = "pyisp_new_"
SHRINK_SECONDS = 60.0  # shrinking time for all the differences of one comparison (the rest print whole)


@dataclass
class Difference:
    """One output on which the versions disagree, the case that shows it, both answers."""

    output: str
    case: dict[str, Any]
    atoms: list[str]
    old_text: str = ""
    new_text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"output": self.output, "atoms": self.atoms, "case": self.case,
                "old": self.old_text, "new": self.new_text}


@dataclass
class DiffReport:
    bounds: Bounds
    inputs: int
    seconds: float
    differences: list[Difference] = field(default_factory=list)


def policy_from(spec: str | Path, workdir: Path, repo: Path | None = None) -> Path:
    """A policy directory, or the policy/ of a git revision (extracted into workdir)."""
    path = Path(spec)
    if (path / ROOT_FILE).is_file():
        return path
    if (path / "policy" / ROOT_FILE).is_file():
        return path / "policy"
    try:
        data = subprocess.run(["git", "archive", "--format=tar", str(spec), "policy"], cwd=repo,
                              capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.decode().strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        raise PyispError(f"neither a policy directory nor a git revision with policy/ ({detail})",
                         where=str(spec)) from None
    target = workdir / str(spec).replace("/", "_").replace("~", "_").replace("^", "_")
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(target, filter="data")
    return target / "policy"


def compare(old: Policy, new: Policy, bounds: Bounds, explain: bool = True) -> DiffReport:
    """One smallest distinguishing case per differing output, in a bounded domain."""
    grounded = ground([old.statements, renamed(new.statements, NEW)], bounds)
    inconsistent = grounded.literal(clingo.Function(NEW + "inconsistent"))
    if inconsistent is not None:  # a case must be a case for both versions
        with grounded.ctl.backend() as backend:
            backend.add_rule([], [inconsistent])
    report = DiffReport(bounds, grounded.domain.input_count, 0.0)
    groups = output_groups(grounded, NEW)
    shrinking_left = SHRINK_SECONDS  # for all the cases of one comparison
    for key in sorted(groups, key=lambda k: (k not in ("permitted", "required"), k)):  # verdicts first
        bodies = groups[key]
        model, seconds = grounded.search(grounded.goal(bodies), optimise=explain)
        report.seconds += seconds
        if model is None:
            continue
        atoms = sorted(_differing(model, key))
        doc = grounded.domain.case_document(model, title=f"The versions differ in {key}")
        if explain and shrinking_left > 1:  # leave out every fact the difference does not need
            began = time.perf_counter()
            doc = shrink(doc, functools.partial(differs, key=key, old_dir=old.directory, new_dir=new.directory),
                         max_seconds=min(MAX_SECONDS, shrinking_left))
            shrinking_left -= time.perf_counter() - began
        diff = Difference(key, doc, atoms)
        if explain:
            diff.old_text = _answer(doc, old.directory)
            diff.new_text = _answer(doc, new.directory)
        report.differences.append(diff)
    report.seconds += grounded.seconds
    return report


def distinguishable(old: Policy, new: Policy, bounds: Bounds) -> bool:
    """Whether some case of the domain gets a different output (one solver call)."""
    grounded = ground([old.statements, renamed(new.statements, NEW)], bounds)
    inconsistent = grounded.literal(clingo.Function(NEW + "inconsistent"))
    if inconsistent is not None:
        with grounded.ctl.backend() as backend:
            backend.add_rule([], [inconsistent])
    bodies = [body for group in output_groups(grounded, NEW).values() for body in group]
    model, _ = grounded.search(grounded.goal(bodies), optimise=False)
    return model is not None


def _differing(model: set[clingo.Symbol], key: str) -> Iterable[str]:
    from .verify import output_key

    old = {s for s in model if not s.name.startswith(NEW)}
    new = {clingo.Function(s.name[len(NEW):], s.arguments) for s in model if s.name.startswith(NEW)}
    for symbol in old ^ new:
        if symbol.name in ("permitted", "required", "finding", "obligation") and output_key(symbol) == key:
            yield f"{'old' if symbol in old else 'new'} only: {symbol}"


def _answer(doc: dict[str, Any], directory: Path) -> str:
    from ..render.result_text import result_text
    from ..core.service import answer_case

    try:
        return result_text(answer_case(doc, policy=directory, depends_on=False))
    except PyispError as exc:
        return f"(rejected: {exc})\n"


def side_by_side(left: str, right: str, width: int = 78) -> str:
    """Two texts in columns, OLD on the left."""
    a, b = left.splitlines(), right.splitlines()
    rows = [f"{'OLD':<{width}} | NEW"]
    for i in range(max(len(a), len(b))):
        old = a[i] if i < len(a) else ""
        new = b[i] if i < len(b) else ""
        mark = " " if old == new else "*"
        rows.append(f"{old[:width]:<{width}} {mark} {new}")
    return "\n".join(rows)


def diff(old: str | Path, new: str | Path, people: Iterable[int] = (1, 3), repo: Path | None = None,
         explain: bool = True) -> list[DiffReport]:
    """Compare two versions at each domain size; the larger size only when the smaller finds nothing."""
    with tempfile.TemporaryDirectory(prefix="pyisp-diff-") as tmp:
        old_policy = Policy(policy_from(old, Path(tmp), repo))
        new_policy = Policy(policy_from(new, Path(tmp), repo))
        reports = []
        for n in people:
            report = compare(old_policy, new_policy, Bounds.for_people(n), explain)
            reports.append(report)
            if report.differences:
                break
        return reports
