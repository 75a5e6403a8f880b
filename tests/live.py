"""A monitor running live in a subprocess, its output read as it comes, with the
monotonic time each line arrived (for latency checks)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from tests.support import TOP, environment, monitor_command

#: Generous timeouts: the machine may be slow and shared.
PATIENCE = 30.0


def csv_row(time_: int, source: str = "10.0.0.1", section: str = "/api") -> str:
    return f'"{source}","-","-",{time_},"GET {section}/x HTTP/1.0",200,10\n'


def append(path: Path, text: str) -> None:
    """Append like a log writer does: opened in append mode, flushed."""
    with open(path, "a", encoding="utf-8") as log:
        log.write(text)
        log.flush()


class LiveMonitor:
    """``python -m LogsMonitor2000 ... --follow --output json`` in the background (or
    ``--output text``, its lines kept in ``text``); the monitor of this checkout, or of
    the one at ``checkout``."""

    def __init__(
        self,
        *args: str,
        stdin: int | IO[bytes] | None = None,
        output: str = "json",
        checkout: Path = TOP,
    ) -> None:
        self.output = output
        self.text: list[str] = []
        self.process = subprocess.Popen(
            monitor_command(*args, "--follow", "--output", output),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=checkout,
            env=environment(),
        )
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self.stderr = ""
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            if not raw.endswith(b"\n"):
                break  # (a line cut short by kill -9)
            with self._changed:
                if self.output == "json":
                    self.lines.append((time.monotonic(), json.loads(raw)))
                else:
                    self.text.append(raw.decode())
                self._changed.notify_all()
        self.process.stdout.close()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            with self._changed:
                self.stderr += raw.decode()
                self._changed.notify_all()
        self.process.stderr.close()

    @property
    def records(self) -> list[dict[str, Any]]:
        with self._changed:
            return [record for _, record in self.lines]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = PATIENCE
    ) -> float:
        """Wait until ``predicate(records)`` holds; the monotonic time it first did."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                records = [record for _, record in self.lines]
                if predicate(records):
                    return self.lines[-1][0] if self.lines else time.monotonic()
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None and not self._alive():
                    raise AssertionError(
                        f"gave up waiting; records: {records[-5:]}; stderr: {self.stderr!r}"
                    )
                self._changed.wait(min(left, 0.5))

    def wait_for_text(self, text: str, timeout: float = PATIENCE) -> None:
        """Wait until a line of the text output holds ``text``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.text):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{text!r} not in {self.text[-10:]}")
                self._changed.wait(min(left, 0.5))

    def wait_for_stderr(self, text: str, timeout: float = PATIENCE) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while text not in self.stderr:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{text!r} not on stderr: {self.stderr!r}")
                self._changed.wait(min(left, 0.5))

    def _alive(self) -> bool:
        return any(reader.is_alive() for reader in self._readers)

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Send ``signum`` and wait for the process and its output to end."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        status = self.process.wait(timeout=PATIENCE)
        for reader in self._readers:
            reader.join(timeout=PATIENCE)
        return status

    def kill(self) -> None:
        """kill -9."""
        self.process.kill()
        self.process.wait(timeout=PATIENCE)
        for reader in self._readers:
            reader.join(timeout=PATIENCE)

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> LiveMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.kill()


def grow(
    log: Path, lines_of: Callable[[int], str], seconds: range, pause: float
) -> threading.Event:
    """A log growing in the background: ``lines_of(second)`` appended for each second
    of ``seconds``, one every ``pause`` s.  The event is set once all are written."""
    done = threading.Event()

    def write() -> None:
        for second in seconds:
            append(log, lines_of(second))
            time.sleep(pause)
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done


def settled(records: list[dict[str, Any]], through: int) -> set[str]:
    """The records the lines alone decide, as JSON text: all but the summary and the
    records after the second ``through`` (the empty windows of a silence after the
    last line, which depend on the wall clock)."""
    kept = set()
    for record in records:
        time_ = record.get("time", record.get("end", 0) - 1)
        if record["type"] != "summary" and time_ <= through:
            kept.add(json.dumps(record, sort_keys=True))
    return kept


def stats(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in records if record["type"] == "stats"]


def hits_seen(records: list[dict[str, Any]]) -> int:
    return sum(record["hits"] for record in stats(records))
