"""The default output, for people (SPEC §7).

A header, one compact block per stats window, alerts and recoveries on lines of their
own that stand out (never rewritten in place), and a summary.  Times are local ISO-8601
(``TZ``).  Colour only when asked for: ``cli`` decides (a terminal, no ``NO_COLOR``, no
``--no-color``).  Keys from the log are escaped before they reach the terminal.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TextIO

from .. import __version__
from ..records import (
    Alert,
    HttpStatsReport,
    MongoStatsReport,
    Record,
    SlowAlert,
    StatsReport,
    Summary,
    Top,
)
from . import RunInfo

_RESET = "\x1b[0m"
BOLD, DIM, RED, GREEN, YELLOW, CYAN = "1", "2", "1;31", "1;32", "33", "36"


def local_time(second: int) -> str:
    """``second`` as local ISO-8601 with its offset, e.g. 2019-02-07T22:11:00+01:00."""
    try:
        return datetime.fromtimestamp(second, timezone.utc).astimezone().isoformat()
    except (OverflowError, OSError, ValueError):
        return f"@{second}"  # beyond what datetime can show


def clock_time(second: int) -> str:
    """The local time of day of ``second``, e.g. 22:11:10."""
    return local_time(second).partition("T")[2][:8] or local_time(second)


def printable(key: str) -> str:
    """A key from the log, with control characters escaped."""
    if key.isprintable():
        return key
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in key)


def size(nbytes: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{nbytes} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def milliseconds(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def number(value: float) -> str:
    """10.0 -> '10', 10.5 -> '10.5'."""
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


#: The kinds of alert records that start an alert (the others end one).
RAISED = ("alert", "slow")


def alert_text(alert: Alert | SlowAlert) -> str:
    """An alert or recovery in words (also what ``--alert-url`` and ``--alert-log`` send)."""
    when = local_time(alert.time)
    if isinstance(alert, Alert):
        detail = f"average {alert.average:.2f}/s over {alert.window_seconds} s"
        if alert.kind == "alert":
            return (
                f"High traffic generated an alert - hits = {alert.hits}, "
                f"triggered at {when} ({detail} > {number(alert.threshold)}/s)"
            )
        return (
            f"High traffic alert recovered - hits = {alert.hits}, "
            f"recovered at {when} ({detail} <= {number(alert.threshold)}/s)"
        )
    p95 = "none" if alert.p95_ms is None else milliseconds(alert.p95_ms)
    detail = f"{alert.count:,} operations over {alert.window_seconds} s"
    if alert.kind == "slow":
        return (
            f"Slow operations - p95 = {p95}, triggered at {when} "
            f"({detail}, > {number(alert.threshold_ms)} ms)"
        )
    return (
        f"Operations fast again - p95 = {p95}, recovered at {when} "
        f"({detail}, <= {number(alert.threshold_ms)} ms)"
    )


class TextNotifier:
    """Renders records as text blocks."""

    def __init__(self, stream: TextIO, *, color: bool) -> None:
        self.stream = stream
        self.color = color
        #: Inside a run of empty windows (a live input's silence): said once.
        self.quiet = False

    def paint(self, text: str, style: str) -> str:
        return f"\x1b[{style}m{text}{_RESET}" if self.color else text

    def start(self, run: RunInfo) -> None:
        source = "standard input" if run.path == "-" else run.path
        what = run.format_description or "empty input"
        alert = (
            f"alert when the average over {run.alert_window} s exceeds "
            f"{number(run.threshold)}/s"
        )
        slow = "" if run.slow_ms is None else f", slow when p95 > {number(run.slow_ms)} ms"
        follow = ", following" if run.follow else ""
        self._write(
            self.paint(f"LogsMonitor2000 {__version__}", BOLD)
            + f"  {source} ({what}){follow}\n"
            + self.paint(
                f"stats every {run.stats_interval} s, {alert}{slow}, "
                f"allowed lateness {run.lateness} s",
                DIM,
            )
            + "\n\n"
        )

    def emit(self, record: Record) -> None:
        if not isinstance(record, StatsReport):
            self._write(self._alert(record))
        elif record.hits:
            self.quiet = False
            self._write(self._stats(record))
        elif not self.quiet:  # the first of a run of empty windows
            self.quiet = True
            what = "hits" if isinstance(record, HttpStatsReport) else "operations"
            self._write(
                self.paint(f"quiet since {local_time(record.start)}: no {what}", DIM) + "\n"
            )

    def flush(self) -> None:
        self.stream.flush()

    def finish(self, summary: Summary) -> None:
        self._write(self._summary(summary))
        self.stream.flush()

    # -- blocks -------------------------------------------------------------------------

    def _stats(self, report: StatsReport) -> str:
        span = f"{local_time(report.start)} .. {clock_time(report.end)}"
        rate = report.hits / (report.end - report.start)
        if isinstance(report, HttpStatsReport):
            head = [
                f"{report.hits:,} hits",
                f"{rate:.1f}/s",
                "  ".join(f"{cls} {count:,}" for cls, count in report.status.items()),
                size(report.bytes_total),
            ]
            rows = [("sections", report.sections), ("sources", report.sources)]
            extra: list[str] = []
        else:
            assert isinstance(report, MongoStatsReport)
            head = [f"{report.hits:,} ops", f"{rate:.1f}/s"]
            if report.duration is not None:
                d = report.duration
                head.append(
                    f"p50 {milliseconds(d.p50)}  p95 {milliseconds(d.p95)}  "
                    f"p99 {milliseconds(d.p99)}  max {milliseconds(d.max)}"
                )
            rows = [("namespaces", report.sections), ("operations", report.methods)]
            extra = [
                f"  {'slowest' if i == 0 else '':<11}{milliseconds(ms):>10}  "
                f"{printable(ns)}  {printable(op)}  {printable(shape)}"
                for i, (ms, ns, op, shape) in enumerate(report.slowest)
            ]
        lines = [self.paint(span, BOLD) + "  " + "  ".join(part for part in head if part)]
        lines += [f"  {label:<11}" + self._top(top) for label, top in rows if top]
        return "\n".join(lines + extra) + "\n"

    def _top(self, top: Top) -> str:
        return "  ".join(
            f"{printable(key)} " + self.paint(f"{count:,}", CYAN) for key, count in top
        )

    def _alert(self, alert: Alert | SlowAlert) -> str:
        if alert.kind in RAISED:
            return "\n" + self.paint(f"!! {alert_text(alert)}", RED) + "\n\n"
        return "\n" + self.paint(f"OK {alert_text(alert)}", GREEN) + "\n\n"

    def _summary(self, summary: Summary) -> str:
        parts = [f"{summary.events:,} events"]
        if summary.first is not None and summary.last is not None:
            parts.append(f"{local_time(summary.first)} .. {local_time(summary.last)}")
        parts.append(f"{summary.invalid:,} invalid")
        parts.append(f"{summary.late:,} late")
        if summary.unfinished is not None:
            parts.append(f"{summary.unfinished:,} unfinished")
        if summary.filtered is not None:
            parts.append(f"{summary.filtered:,} filtered")
        if summary.undelivered:
            parts.append(f"{summary.undelivered:,} alerts undelivered")
        lines = ["", self.paint("Summary", BOLD) + "  " + "  ".join(parts)]
        if summary.late:
            lines.append(
                self.paint(
                    f"  {summary.late:,} events arrived more than {summary.lateness_seconds} s "
                    f"late (the latest by {summary.max_lateness} s): run again with "
                    f"--buffer {summary.max_lateness} to count them",
                    YELLOW,
                )
            )
        if summary.alert_since is not None:
            lines.append(
                self.paint(
                    f"  the high traffic alert is still active "
                    f"(since {local_time(summary.alert_since)})",
                    RED,
                )
            )
        if summary.slow_since is not None:
            lines.append(
                self.paint(
                    f"  the slow operations alert is still active "
                    f"(since {local_time(summary.slow_since)})",
                    RED,
                )
            )
        if summary.stopped_by is not None:
            lines.append(
                self.paint("  stopped before the end: seconds still open were not reported", DIM)
            )
        return "\n".join(lines) + "\n"

    def _write(self, text: str) -> None:
        self.stream.write(text)
