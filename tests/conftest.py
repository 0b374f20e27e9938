"""Test set-up: tests import the installed pyisp (pyisp.authoring.generate makes generated cases)."""

import resource
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


# CPU seconds per test (this process and the processes it waited for), the slowest listed at the
# end of a run: on a shared machine wall-clock durations mislead; CPU time is what the suite costs.
CPU_SHOWN = 15


def _cpu() -> float:
    own = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when == "setup":
        item._pyisp_cpu_start = _cpu()
    elif call.when == "teardown":
        report.user_properties.append(("cpu", _cpu() - getattr(item, "_pyisp_cpu_start", _cpu())))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a test of several CPU seconds or more; it is handed to a worker first")


def pytest_collection_modifyitems(items):
    """The tests marked slow first, the rest in their order (a stable sort): xdist hands out the
    groups first (the largest first), then the other tests in this order, one or two at a time
    to whichever worker is free; a long test left to the end runs alone while the other worker
    idles (the suite's tail was a worker on test_verify's diffs, the other done a minute before)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_terminal_summary(terminalreporter):
    spent = [(value, report.nodeid) for reports in terminalreporter.stats.values() for report in reports
             if hasattr(report, "user_properties") for name, value in report.user_properties if name == "cpu"]
    if not spent:
        return
    spent.sort(reverse=True)
    terminalreporter.write_sep("=", f"CPU seconds: {sum(v for v, _ in spent):.0f} in all, the {CPU_SHOWN} costliest")
    for value, nodeid in spent[:CPU_SHOWN]:
        terminalreporter.write_line(f"{value:8.2f}s  {nodeid}")
