"""Memory and correctness of `pyisp batch` at scale: N generated cases (1% malformed) run
with --jobs 2 while the peak resident memory of the batch and its workers is sampled; the
same for a run 100 times smaller. Every input line must end up exactly once in the
results or the errors file. Usage: python bench/batch_scale.py [N] (default 100000)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pyisp.authoring import generate as casegen  # noqa: E402


def _rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (kB), from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def run(count: int, folder: Path) -> dict[str, float]:
    cases = folder / f"cases-{count}.jsonl"
    casegen.write_jsonl(cases, count, seed=21, malformed=0.01)
    out = folder / f"results-{count}.jsonl"
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pyisp._cli", "batch", str(cases), "-o", str(out),
                                "--jobs", "2", "--no-depends"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _rss_kb(process.pid))
        time.sleep(0.5)
    seconds = time.perf_counter() - start
    table = process.stdout.read() if process.stdout else ""
    lines = sum(1 for line in cases.open() if line.strip())
    ids = [json.loads(line)["id"] for line in out.open()]
    errors = sum(1 for _ in Path(str(out) + ".errors.jsonl").open())
    assert len(ids) == len(set(ids)), "a case answered twice"
    assert len(ids) + errors == lines, f"{lines} cases in, {len(ids)} results + {errors} errors out"
    print(table)
    return {"cases": lines, "results": len(ids), "errors": errors, "seconds": seconds, "peak_mb": peak / 1024}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        small = run(max(1, count // 100), Path(tmp))
        large = run(count, Path(tmp))
    for name, figures in (("small", small), ("large", large)):
        print(f"{name}: {figures['cases']:,} cases, {figures['results']:,} results, {figures['errors']:,} errors, "
              f"{figures['seconds']:.0f} s, peak memory {figures['peak_mb']:.0f} MB (batch + workers)")


if __name__ == "__main__":
    main()
