"""The default output, for people (docs/counting.md, "Choices in corner cases").

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
from typing import Any

from .. import __version__
from ..families.base import CLASSES, PANELS, PERCENTILES, SIZE, SLOWEST, TOP
from ..reports import AlertReport, Figure, Percentiles, Report, StatsReport, Summary, Top
from ..words import clock_time, counted, local_time, milliseconds, printable, shortened, size
from . import RunInfo, Stream

_RESET = "\x1b[0m"
BOLD, DIM, RED, GREEN, YELLOW, CYAN = "1", "2", "1;31", "1;32", "33", "36"

#: Columns every line fits in.
WIDTH = 80
#: Where the items of a labelled list start ("  sections   /api 12 ...").
LABEL_WIDTH = 13
#: Keys longer than this are shortened (with "…").
KEY_CHARS = 40

#: The order of a window's lines by the shape of their panel: the classes and the
#: durations first, then the top lists, then the slowest queries (bytes are on the
#: first line).
LINE_ORDER = {CLASSES: 0, PERCENTILES: 0, TOP: 1, PANELS: 2, SLOWEST: 2}
#: The panels of docs/panels.md the text summary shows (the others: --output json,
#: the report), with their labels.
TEXT_PANELS = {
    "requests": "urls",
    "not_found": "not found",
    "static_requests": "static",
    "referring_sites": "referrers",
    "browsers": "browsers",
    "os": "systems",
}


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


def alert_text(alert: AlertReport, unit: str = "hit") -> str:
    """An alert or recovery in words (also what ``--alert-url`` and ``--alert-log``
    send); ``unit`` is what is counted: hits, MongoDB operations, records."""
    return alert.describe(unit)


def header_settings(run: RunInfo, separator: str) -> str:
    """ "stats every 10 s, alert when ..., allowed lateness 2 s" (the header's line)."""
    parts = [f"stats every {run.stats_interval} s"]
    parts += [rule.description for rule in run.rules]
    parts.append(f"allowed lateness {run.lateness} s")
    return separator.join(parts)


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
        source = "standard input" if run.path == "-" else printable(run.path)
        what = run.format_description or "empty input"
        follow = ", following" if run.follow else ""
        settings = header_settings(run, ", ")
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

    def emit(self, record: Report) -> None:
        if isinstance(record, AlertReport):
            self._write(self._alert(record))
            return
        assert isinstance(record, StatsReport)
        if record.hits:
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
        head += [size(figure.value) for figure in report.figures if figure.panel.shape == SIZE]
        lines = [self.paint(span, BOLD) + "  " + "  ".join(head)]
        return "\n".join(lines + self._details(report)) + "\n"

    def _details(self, report: StatsReport) -> list[str]:
        """The lines under a window's (or the summary's) first one: a panel's line
        (or lines) each, in ``LINE_ORDER``."""
        figures = [
            figure
            for figure in report.figures
            if figure.panel.shape in LINE_ORDER and figure.says_something
        ]
        figures.sort(key=lambda figure: LINE_ORDER[figure.panel.shape])
        lines = []
        for figure in figures:
            lines += self._figure(figure)
        return lines

    def _figure(self, figure: Figure) -> list[str]:
        label, shape, value = figure.panel.text_label, figure.panel.shape, figure.value
        if shape == TOP:
            return self._top_lines(label, value)
        if shape == CLASSES:
            return self._listing(label, [(f"{k} {n:,}", f"{k} {n:,}") for k, n in value.items()])
        if shape == PERCENTILES:
            return self._durations(label, value)
        if shape == PANELS:
            return self._panels(value)
        lines = []
        for i, (ms, namespace, operation, masked) in enumerate(value):
            head = f"  {label if i == 0 else '':<11}{milliseconds(ms):>10}  "
            rest = f"{printable(namespace)}  {printable(operation)}  {printable(masked)}"
            lines.append(head + shortened(rest, WIDTH - len(head)))
        return lines

    def _panels(self, panels: dict[str, Any]) -> list[str]:
        """The main panels as top lists of hits, then the visitors."""
        lines = []
        for key, label in TEXT_PANELS.items():
            entries = panels.get(key) or []
            top: Top = [(entry["key"], entry["hits"]) for entry in entries]
            if any("overcount" in entry for entry in entries):
                top = [(entry["key"], entry["hits"], entry["overcount"]) for entry in entries]
            lines += self._top_lines(label, top)
        visitors = f"{panels['unique_visitors']:,}"
        lines += self._listing("visitors", [(visitors, self.paint(visitors, CYAN))])
        return lines

    def _durations(self, label: str, d: Percentiles) -> list[str]:
        parts = [f"{name} {milliseconds(ms)}" for name, ms in d.items()]
        return self._listing(label, [(part, part) for part in parts])

    def _top_lines(self, label: str, top: Top) -> list[str]:
        pieces = []
        over = 0
        for entry in top:
            key, count = shortened(printable(entry[0]), KEY_CHARS), entry[1]
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

    def _alert(self, alert: AlertReport) -> str:
        lines = wrapped(alert.describe(self.unit), first="!! " if alert.raised else "OK ")
        colour = RED if alert.raised else GREEN
        before = "" if self._spaced else "\n"
        return before + "\n".join(self.paint(line, colour) for line in lines) + "\n\n"

    def _summary(self, summary: Summary) -> str:
        parts = [counted(summary.events, self.unit), f"{summary.invalid:,} invalid"]
        parts.append(f"{summary.late:,} late")
        if summary.unfinished is not None:
            parts.append(f"{summary.unfinished:,} unfinished")
        if summary.other:
            parts.append(f"{summary.other:,} other")
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
            head += [size(figure.value) for figure in totals.figures if figure.panel.shape == SIZE]
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
        for rule in summary.active:
            assert rule.since is not None
            lines += self._note(
                f"the {rule.name} alert is still active (since {local_time(rule.since)})", RED
            )
        if summary.stopped_by is not None:
            lines += self._note("stopped before the end: seconds still open were not reported", DIM)
        return "\n".join(lines) + "\n"

    def _note(self, text: str, style: str) -> list[str]:
        return [self.paint(line, style) for line in wrapped(text, "    ", "  ")]

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self._spaced = text.endswith("\n\n")
