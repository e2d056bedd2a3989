"""pytest plugin for the notebook tier: prints how long each notebook took under nbval."""

from __future__ import annotations

import collections
import time

_seconds = collections.defaultdict(float)
_failed = collections.Counter()


def pytest_runtest_protocol(item, nextitem):
    item._course_started = time.perf_counter()


def pytest_runtest_logreport(report):
    if report.when == "call" and report.failed:
        _failed[report.nodeid.split("::")[0]] += 1


def pytest_runtest_teardown(item, nextitem):
    _seconds[item.nodeid.split("::")[0]] += time.perf_counter() - getattr(item, "_course_started", time.perf_counter())


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    write = terminalreporter.write_line
    width = max(len(name) for name in _seconds)
    write("")
    write(f"{'notebook (smoke budget)':<{width}}  seconds  failed cells")
    for name, seconds in sorted(_seconds.items()):
        write(f"{name:<{width}}  {seconds:>7.1f}  {_failed[name]:>12}")
    write(f"{'total':<{width}}  {sum(_seconds.values()):>7.1f}")
