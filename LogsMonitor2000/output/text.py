"""The default output, for people (SPEC §7).

A header, one compact block per stats window, alerts and recoveries on lines of their
own that stand out (never rewritten in place), and a summary that is a report of the
whole run.  Every line fits ``WIDTH`` columns: lists wrap under their first item, long
keys are shortened, sentences wrap between words (so the alert's words read the same
with the line breaks taken out).  A run of empty windows (a live input's silence) is
one line, ``quiet since``.  Times are local ISO-8601 (``TZ``).  Colour only when asked
for: ``cli`` decides (a terminal, no ``NO_COLOR``, no ``--no-color``).  Keys from the
log are escaped before they reach the terminal.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone

from .. import __version__
from ..reports import (
    Alert,
    HttpStatsReport,
    LogStatsReport,
    MongoStatsReport,
    Percentiles,
    Record,
    SlowAlert,
    StatsReport,
    Summary,
    Top,
)
from . import RunInfo, Stream

_RESET = "\x1b[0m"
BOLD, DIM, RED, GREEN, YELLOW, CYAN = "1", "2", "1;31", "1;32", "33", "36"

#: Columns every line fits in.
WIDTH = 80
#: Where the items of a labelled list start ("  sections   /api 12 ...").
LABEL_WIDTH = 13
#: Keys longer than this are shortened (with "…").
KEY_CHARS = 40


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


def shortened(text: str, chars: int = KEY_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def size(nbytes: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"):
        if value < 1024:
            return f"{nbytes} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.3g} YiB"


def milliseconds(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def number(value: float) -> str:
    """10.0 -> '10', 10.5 -> '10.5'."""
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def counted(count: int, noun: str) -> str:
    """1 -> '1 hit', 4344 -> '4,344 hits'."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def wrapped(text: str, indent: str = "   ", first: str = "") -> list[str]:
    """A sentence broken between words into lines of at most ``WIDTH`` columns."""
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


#: The kinds of alert records that start an alert (the others end one).
RAISED = ("alert", "slow")


def alert_text(alert: Alert | SlowAlert, unit: str = "hit") -> str:
    """An alert or recovery in words (also what ``--alert-url`` and ``--alert-log``
    send); ``unit`` is what is counted: hits, or MongoDB operations."""
    when = local_time(alert.time)
    if isinstance(alert, Alert):
        detail = f"average {alert.average:.2f}/s over {alert.window_seconds} s"
        if alert.kind == "alert":
            return (
                f"High traffic generated an alert - {unit}s = {alert.hits}, "
                f"triggered at {when} ({detail} > {number(alert.threshold)}/s)"
            )
        return (
            f"High traffic alert recovered - {unit}s = {alert.hits}, "
            f"recovered at {when} ({detail} <= {number(alert.threshold)}/s)"
        )
    p95 = "none" if alert.p95_ms is None else milliseconds(alert.p95_ms)
    what = "operation" if unit == "operation" else "request"
    detail = f"{counted(alert.count, what)} over {alert.window_seconds} s"
    if alert.kind == "slow":
        return (
            f"Slow {what}s - p95 = {p95}, triggered at {when} "
            f"({detail}, > {number(alert.threshold_ms)} ms)"
        )
    return (
        f"{what.capitalize()}s fast again - p95 = {p95}, recovered at {when} "
        f"({detail}, <= {number(alert.threshold_ms)} ms)"
    )


class TextNotifier:
    """Renders records as text blocks."""

    def __init__(self, stream: Stream, *, color: bool) -> None:
        self.stream = stream
        self.color = color
        #: What the windows count ("hit", "operation"): known at ``start``.
        self.unit = "hit"
        #: Inside a run of empty windows (a live input's silence): said once.
        self.quiet = False
        #: -v names the invalid records: the summary needn't say that it would.
        self.verbose = False
        #: Whether what was written last ends with a blank line.
        self._spaced = False

    def paint(self, text: str, style: str) -> str:
        return f"\x1b[{style}m{text}{_RESET}" if self.color else text

    def start_quietly(self, run: RunInfo) -> None:
        """What the run is, without the header (the dashboard prints the summary)."""
        self.unit, self.verbose = run.unit, run.verbose

    def start(self, run: RunInfo) -> None:
        self.start_quietly(run)
        source = "standard input" if run.path == "-" else run.path
        what = run.format_description or "empty input"
        follow = ", following" if run.follow else ""
        settings = (
            f"stats every {run.stats_interval} s, alert when the average over "
            f"{run.alert_window} s exceeds {number(run.threshold)}/s"
            + ("" if run.slow_ms is None else f", slow when p95 > {number(run.slow_ms)} ms")
            + f", allowed lateness {run.lateness} s"
        )
        lines = wrapped(f"{source} ({what}){follow}", first=f"LogsMonitor2000 {__version__}  ")
        lines[0] = lines[0].replace("LogsMonitor2000", self.paint("LogsMonitor2000", BOLD), 1)
        lines += [self.paint(line, DIM) for line in wrapped(settings, indent="")]
        if run.filters:
            lines += [
                self.paint(line, DIM) for line in wrapped(" ".join(run.filters), "  ", "only ")
            ]
        if run.anonymize:
            lines.append(
                self.paint("--anonymize: sources without their last octet (IPv6: 80 bits)", DIM)
            )
        self._write("\n".join(lines) + "\n\n")

    def emit(self, record: Record) -> None:
        if not isinstance(record, StatsReport):
            self._write(self._alert(record))
        elif record.hits:
            self.quiet = False
            self._write(self._stats(record))
        elif not self.quiet:  # the first of a run of empty windows
            self.quiet = True
            since = f"quiet since {local_time(record.start)}: no {self.unit}s"
            self._write(self.paint(since, DIM) + "\n")

    def flush(self) -> None:
        self.stream.flush()

    def finish(self, summary: Summary) -> None:
        self._write(self._summary(summary))
        self.stream.flush()

    # -- blocks -------------------------------------------------------------------------

    def _stats(self, report: StatsReport) -> str:
        span = f"{local_time(report.start)} .. {clock_time(report.end)}"
        rate = report.hits / (report.end - report.start)
        head = [counted(report.hits, self.unit), f"{rate:.1f}/s"]
        if isinstance(report, HttpStatsReport):
            head.append(size(report.bytes_total))
        lines = [self.paint(span, BOLD) + "  " + "  ".join(head)]
        return "\n".join(lines + self._details(report)) + "\n"

    def _details(self, report: StatsReport) -> list[str]:
        """The lines under a window's (or the summary's) first one."""
        if isinstance(report, LogStatsReport):
            levels = [(f"{level} {n:,}", f"{level} {n:,}") for level, n in report.levels.items()]
            return (
                self._listing("levels", levels)
                + self._top_lines("loggers", report.sections)
                + self._top_lines("senders", report.sources)
                + self._top_lines("exceptions", report.exceptions)
                + self._top_lines("hosts", report.hosts or [])
            )
        if isinstance(report, HttpStatsReport):
            status = [
                (f"{cls} {count:,}", f"{cls} {count:,}") for cls, count in report.status.items()
            ]
            return (
                self._listing("status", status)
                + ([] if report.duration is None else self._durations(report.duration))
                + self._top_lines("sections", report.sections)
                + self._top_lines("sources", report.sources)
                + self._top_lines("vhosts", report.vhosts or [])
                + self._top_lines("hosts", report.hosts or [])
            )
        assert isinstance(report, MongoStatsReport)
        lines = [] if report.duration is None else self._durations(report.duration)
        lines += self._top_lines("namespaces", report.sections)
        lines += self._top_lines("operations", report.methods)
        lines += self._top_lines("hosts", report.hosts or [])
        for i, (ms, namespace, operation, shape) in enumerate(report.slowest):
            head = f"  {'slowest' if i == 0 else '':<11}{milliseconds(ms):>10}  "
            rest = f"{printable(namespace)}  {printable(operation)}  {printable(shape)}"
            lines.append(head + shortened(rest, WIDTH - len(head)))
        return lines

    def _durations(self, d: Percentiles) -> list[str]:
        parts = [
            f"{name} {milliseconds(ms)}"
            for name, ms in (("p50", d.p50), ("p95", d.p95), ("p99", d.p99), ("max", d.max))
        ]
        return self._listing("durations", [(part, part) for part in parts])

    def _top_lines(self, label: str, top: Top) -> list[str]:
        pieces = []
        over = 0
        for entry in top:
            key, count = shortened(printable(entry[0])), entry[1]
            if len(entry) == 3:
                over = max(over, entry[2])
            pieces.append((f"{key} {count:,}", f"{key} " + self.paint(f"{count:,}", CYAN)))
        lines = self._listing(label, pieces)
        if len(top) and len(top[0]) == 3:
            lines += wrapped(
                f"({label}: estimated counts, each at most {over:,} over)",
                " " * LABEL_WIDTH,
                " " * LABEL_WIDTH,
            )
        return lines

    def _listing(self, label: str, pieces: list[tuple[str, str]]) -> list[str]:
        """``  label      item  item ...``, wrapped under the first item.  Each piece is
        (what it shows, what is written: the same with colour)."""
        if not pieces:
            return []
        lines, line, used = [], f"  {label:<{LABEL_WIDTH - 2}}", LABEL_WIDTH
        first = True
        for visible, written in pieces:
            needed = len(visible) + (0 if first else 2)
            if not first and used + needed > WIDTH:
                lines.append(line)
                line, used, needed = " " * LABEL_WIDTH, LABEL_WIDTH, len(visible)
            line += ("" if used == LABEL_WIDTH else "  ") + written
            used += needed
            first = False
        lines.append(line)
        return lines

    def _alert(self, alert: Alert | SlowAlert) -> str:
        raised = alert.kind in RAISED
        lines = wrapped(alert_text(alert, self.unit), first="!! " if raised else "OK ")
        colour = RED if raised else GREEN
        before = "" if self._spaced else "\n"
        return before + "\n".join(self.paint(line, colour) for line in lines) + "\n\n"

    def _summary(self, summary: Summary) -> str:
        parts = [counted(summary.events, "event"), f"{summary.invalid:,} invalid"]
        parts.append(f"{summary.late:,} late")
        if summary.unfinished is not None:
            parts.append(f"{summary.unfinished:,} unfinished")
        if summary.filtered is not None:
            parts.append(f"{summary.filtered:,} filtered")
        if summary.undelivered:
            parts.append(f"{counted(summary.undelivered, 'alert')} undelivered")
        if summary.dropped is not None:
            parts.append(f"{summary.dropped:,} dropped")
        lines = [] if self._spaced else [""]
        lines.append(self.paint("Summary", BOLD) + "  " + "  ".join(parts))
        for one in summary.inputs or []:
            counts = f"{counted(one.events, 'event')}, {one.invalid:,} invalid, {one.late:,} late"
            lines += wrapped(f"{printable(one.name)}: {counts}", "      ", "    ")
        totals = summary.totals
        if totals is not None and summary.events:
            head = [f"{local_time(totals.start)} .. {local_time(totals.end - 1)}"]
            if isinstance(totals, HttpStatsReport):
                head.append(size(totals.bytes_total))
            lines += wrapped("  ".join(head), "  ", "  ")
            lines += self._details(totals)
        if summary.late:
            lines += self._note(
                f"{counted(summary.late, 'event')} arrived more than "
                f"{summary.lateness_seconds} s late (the latest by {summary.max_lateness} s): "
                f"run again with --buffer {summary.max_lateness} to count them",
                YELLOW,
            )
        if summary.invalid and not self.verbose:
            lines += self._note(
                f"{counted(summary.invalid, 'invalid record')} skipped: -v names the first ones",
                DIM,
            )
        if summary.alert_since is not None:
            lines += self._note(
                f"the high traffic alert is still active (since {local_time(summary.alert_since)})",
                RED,
            )
        if summary.slow_since is not None:
            lines += self._note(
                f"the slow {'operation' if self.unit == 'operation' else 'request'}s alert "
                f"is still active (since {local_time(summary.slow_since)})",
                RED,
            )
        if summary.stopped_by is not None:
            lines += self._note("stopped before the end: seconds still open were not reported", DIM)
        return "\n".join(lines) + "\n"

    def _note(self, text: str, style: str) -> list[str]:
        return [self.paint(line, style) for line in wrapped(text, "    ", "  ")]

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self._spaced = text.endswith("\n\n")
