"""Helpers shared by the tests: running the monitor for real, in a subprocess or in
process, and collecting what it reports as JSON-ready dicts."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import unittest
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from LogsMonitor2000.calculators.panels import TOP_PANELS
from LogsMonitor2000.cli import main
from LogsMonitor2000.pipeline.monitor import Monitor
from LogsMonitor2000.output import RunInfo
from LogsMonitor2000.reports import Report, Summary
from LogsMonitor2000.settings import Settings
from LogsMonitor2000.inputs import Idle
from LogsMonitor2000.inputs.base import Defaults

TOP = Path(__file__).resolve().parent.parent
DATA = TOP / "tests" / "data"

#: The slow group: end-to-end cases that take many seconds (live files, signals,
#: servers, large inputs).  ``python -m unittest`` skips them; ``bash .ci/run`` (or
#: ``LOGSMONITOR2000_SLOW=1 python -m unittest``) runs them too.
SLOW = os.environ.get("LOGSMONITOR2000_SLOW") == "1"
slow = unittest.skipUnless(SLOW, "slow: LOGSMONITOR2000_SLOW=1 runs it (bash .ci/run does)")


def monitor_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "LogsMonitor2000", *args]


def environment(**extra: str) -> dict[str, str]:
    """The test environment for a subprocess: UTC unless told otherwise, no colour."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.setdefault("TZ", "UTC")
    env.update(extra)
    return env


def run_monitor(
    *args: str, input: str | bytes | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m LogsMonitor2000 *args`` to its end, run in this process (``cli.main``,
    with its own standard streams): what it printed, and its exit status.  ``env`` may
    set ``TZ`` (for the run only)."""
    if set(env) - {"TZ"}:
        raise ValueError("only TZ can be set for a run in process: use run_process")
    data = input.encode("utf-8") if isinstance(input, str) else input or b""
    out, err = io.StringIO(), io.StringIO()
    with time_zone(env.get("TZ", "UTC")), working_directory(TOP):
        status = main(list(args), stdout=out, stderr=err, stdin=io.BytesIO(data))
    return subprocess.CompletedProcess(list(args), status, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def time_zone(zone: str) -> Iterator[None]:
    """``TZ`` set to ``zone`` while the block runs."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@contextlib.contextmanager
def working_directory(folder: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_process(
    *args: str, input: str | bytes | None = None, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m LogsMonitor2000 *args`` to its end, in a process of its own (where
    the process is the point: signals, its standard streams, its environment)."""
    return subprocess.run(
        monitor_command(*args),
        input=input.decode("utf-8", "surrogateescape") if isinstance(input, bytes) else input,
        capture_output=True,
        text=True,
        cwd=TOP,
        env=environment(**env),
        timeout=timeout,
    )


def json_lines(stdout: str, *, panels: bool = False) -> list[dict[str, Any]]:
    """The JSON records of an output; without the summary's panels (docs/panels.md)
    unless asked: the references of docs/counting.md's other sections don't have them
    (tests/calculators/test_panels.py compares the panels with their own)."""
    records = [json.loads(line) for line in stdout.splitlines()]
    return records if panels else [without_panels(record) for record in records]


def without_panels(record: dict[str, Any]) -> dict[str, Any]:
    """A summary without the panels' keys (anything else as it is)."""
    if record.get("type") != "summary":
        return record
    return {key: value for key, value in record.items() if key not in PANEL_KEYS}


#: The summary's keys that are panels of an access log (docs/panels.md).
PANEL_KEYS = (*TOP_PANELS, "visit_time", "visitors", "unique_visitors")


class Collector:
    """A notifier that keeps what it is given, as the JSON objects it would print."""

    def __init__(self) -> None:
        self.run: RunInfo | None = None
        self.records: list[dict[str, Any]] = []
        self.summary: dict[str, Any] | None = None
        self.panels: dict[str, Any] = {}

    def start(self, run: RunInfo) -> None:
        self.run = run

    def emit(self, record: Report) -> None:
        self.records.append(record.to_json())

    def flush(self) -> None:
        pass

    def finish(self, summary: Summary) -> None:
        data = summary.to_json()
        #: The summary's panels (docs/panels.md), kept apart (see ``json_lines``).
        self.panels = {key: data[key] for key in PANEL_KEYS if key in data}
        self.summary = without_panels(data)


class Blocks(Defaults):
    """A source made of given blocks and Idle items (a finished or live input), with
    its own wall clock: a block is read at the time of the Idle item before it (0.0
    before any), so that a run is the same whatever the machine does."""

    def __init__(self, items: list[str | Idle]) -> None:
        self.items = items
        self.now = 0.0
        #: With Idle items, it stands for a live input.
        self.live = any(isinstance(item, Idle) for item in items)

    def __iter__(self) -> Iterator[str | Idle]:
        for item in self.items:
            if isinstance(item, Idle):
                self.now = item.now
            yield item

    def clock(self) -> float:
        return self.now

    def close(self) -> None:
        pass


def analyse(
    blocks: list[str | Idle],
    *,
    warnings: list[str] | None = None,
    panels: bool = False,
    **options: Any,
) -> list[dict[str, Any]]:
    """Run the monitor in process over ``blocks``; records then the summary (with the
    panels' keys when asked)."""
    collector = Collector()
    sink = warnings if warnings is not None else []
    source = Blocks(blocks)
    monitor = Monitor(
        Settings(paths=("test",), **options), collector, warn=sink.append, clock=source.clock
    )
    monitor.run([source])
    assert collector.summary is not None
    summary = {**collector.summary, **collector.panels} if panels else collector.summary
    return collector.records + [summary]


def blocks_of(text: str, lines_per_block: int) -> list[str | Idle]:
    """``text`` cut into blocks of ``lines_per_block`` complete lines."""
    lines = text.splitlines(keepends=True)
    return ["".join(lines[i : i + lines_per_block]) for i in range(0, len(lines), lines_per_block)]


def csv_line(time: int, section: str, source: str, status: int, size: int) -> str:
    return f'"{source}","-","-",{time},"GET {section}/page HTTP/1.0",{status},{size}\n'
