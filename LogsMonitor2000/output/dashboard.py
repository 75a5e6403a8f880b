"""``--dashboard``: a full-screen terminal view of a live run (curses), redrawn in place.

From the top: the run and the alert's state as a banner; a sparkline of the hits per
second over the alert window, with the threshold; the latest stats window (status
classes, sections and sources - MongoDB: namespaces, operations and durations); the
run's counts (events, late, invalid, filtered); an access log's panels of what and who
(docs/panels.md), one at a time - ``p`` shows the next one; the last alerts.  It is
redrawn when a record came, at most ``REDRAW_SECONDS`` apart, and every second for the
clock.  ``q`` quits (exit 0; Ctrl-C still means 130), and the summary is printed as text
once the terminal is restored.  A resized terminal is redrawn at its new size; a
tiny one shows what fits.  Colours unless ``NO_COLOR`` is set (``cli`` decides).
"""

from __future__ import annotations

import curses
import math
import textwrap
import time
from collections.abc import Callable
from typing import Any

from ..families.base import PANELS, PERCENTILES, SIZE, SLOWEST, TOP
from ..reports import Figure, Report, Summary
from ..words import clock_time, counted, local_time, milliseconds, number, printable, size
from . import LiveState, RunInfo, Stream
from .history import History
from .html.panels import TABLES
from .text import LINE_ORDER, TextNotifier

#: A line of the screen: one text and its style, or pieces of several styles.
Line = tuple[str, int] | list[tuple[str, int]]

#: The eight heights of a chart's cell, and the chart's rows and its axis' width.
BARS = "▁▂▃▄▅▆▇█"
CHART_ROWS = 4
AXIS_COLUMNS = 9
REDRAW_SECONDS = 0.25
#: Colour pairs.
TITLE, ALARM, GOOD, MUTED, ACCENT = 1, 2, 3, 4, 5


class DashboardNotifier:
    """Draws the run on the terminal; the summary goes to ``stream`` at the end."""

    def __init__(self, stream: Stream, *, interval: int, color: bool) -> None:
        self.text = TextNotifier(stream, color=color)
        self.color = color
        self.history = History(interval)
        self.run: RunInfo | None = None
        #: The run so far, and what ``q`` calls (set by ``cli``).
        self.probe: Callable[[], LiveState] | None = None
        self.on_quit: Callable[[], None] | None = None
        self.screen: curses.window | None = None
        self._changed = True
        self._drawn_at = 0.0
        #: The panel shown (an index in ``TABLES``; ``p`` moves to the next one).
        self.panel = 0

    # -- the notifier -------------------------------------------------------------------

    def start(self, run: RunInfo) -> None:
        self.run = run
        self.text.start_quietly(run)
        self.history.span = run.stats_interval
        self._changed = True

    def emit(self, record: Report) -> None:
        self.history.add(record)
        self._changed = True

    def flush(self) -> None:
        if self.screen is None:
            return
        self._keys()
        now = time.monotonic()
        if now - self._drawn_at >= (REDRAW_SECONDS if self._changed else 1.0):
            try:
                self.draw()
            except curses.error:  # (the terminal is gone: SIGHUP ends the run)
                self._drawn_at = now

    def finish(self, summary: Summary) -> None:
        self.close()
        self.text.finish(summary)

    # -- the terminal -------------------------------------------------------------------

    def open(self) -> None:
        """Take the terminal (``curses.error`` when it can't be)."""
        screen = curses.initscr()
        try:
            curses.noecho()
            curses.cbreak()
            screen.keypad(True)
            screen.nodelay(True)
            try:
                curses.curs_set(0)
            except curses.error:
                pass
            if self.color and curses.has_colors():
                curses.start_color()
                curses.use_default_colors()
                for pair, colour in [
                    (TITLE, curses.COLOR_CYAN),
                    (ALARM, curses.COLOR_RED),
                    (GOOD, curses.COLOR_GREEN),
                    (MUTED, curses.COLOR_BLUE),
                    (ACCENT, curses.COLOR_YELLOW),
                ]:
                    curses.init_pair(pair, colour, -1)
            else:
                self.color = False
        except curses.error:
            curses.endwin()
            raise
        self.screen = screen

    def close(self) -> None:
        """Give the terminal back as it was - each step tried whatever the one before
        did: a terminal that hung up answers them with errors."""
        screen, self.screen = self.screen, None
        if screen is None:
            return
        steps: list[Callable[[], object]] = [
            lambda: screen.keypad(False),
            curses.nocbreak,
            curses.echo,
            curses.endwin,
        ]
        for step in steps:
            try:
                step()
            except curses.error:
                pass

    def _keys(self) -> None:
        assert self.screen is not None
        while True:
            try:
                key = self.screen.getch()
            except curses.error:
                return
            if key == -1:
                return
            if key in (ord("q"), ord("Q")) and self.on_quit is not None:
                self.on_quit()
            elif key in (ord("p"), ord("P")):
                self.panel = (self.panel + 1) % len(TABLES)
                self._changed = True
            elif key == curses.KEY_RESIZE:
                curses.update_lines_cols()
                self.screen.clear()
                self._changed = True

    def _style(self, pair: int, *extra: int) -> int:
        attributes = 0
        for attribute in extra:
            attributes |= attribute
        return attributes | (curses.color_pair(pair) if self.color else 0)

    # -- drawing ----------------------------------------------------------------------------

    def draw(self) -> None:
        screen = self.screen
        assert screen is not None
        state = self.probe() if self.probe is not None else None
        screen.erase()
        height, width = screen.getmaxyx()
        rows = [row if isinstance(row, list) else [row] for row in self._lines(state, width)]
        for y, row in enumerate(rows[: max(height - 1, 0)]):
            x = 0
            for text, style in row:
                _put(screen, y, x, text[: max(width - 1 - x, 0)], style)
                x += len(text)
        footer = f"q quits · {time.strftime('%H:%M:%S')}"
        _put(screen, height - 1, 0, footer[: width - 1], self._style(MUTED))
        screen.refresh()
        self._changed = False
        self._drawn_at = time.monotonic()

    def _lines(self, state: LiveState | None, width: int) -> list[Line]:
        run = self.run
        unit = run.unit if run else "hit"
        lines: list[Line] = []
        title = "LogsMonitor2000"
        if run is not None:
            title += f"  {printable(run.path)} ({run.format_description or 'no format yet'})"
        lines.append((title, self._style(TITLE, curses.A_BOLD)))
        summary = state.summary if state else None
        for rule in summary.rules if summary is not None else ():
            info = state.rule("rate") if state is not None else None
            if rule.since is not None:
                banner = f" {rule.name.upper()} since {local_time(rule.since)} "
                lines.append((banner.ljust(width - 1), self._style(ALARM, curses.A_REVERSE)))
            elif info is not None and rule.name == info.name and rule.value is not None:
                calm = (
                    f" traffic normal: {rule.value:.2f}/s (alert above "
                    f"{number(info.threshold)}/s) "
                )
                lines.append((calm.ljust(width - 1), self._style(GOOD, curses.A_REVERSE)))
        lines.append(("", 0))
        if state is not None and run is not None:
            lines += self._sparkline(state, run, width)
        lines += self._latest(unit)
        if summary is not None:
            counts = [counted(summary.events, unit), f"{summary.late:,} late"]
            counts.append(f"{summary.invalid:,} invalid")
            if summary.filtered is not None:
                counts.append(f"{summary.filtered:,} filtered")
            if summary.unfinished is not None:
                counts.append(f"{summary.unfinished:,} unfinished")
            lines.append(("", 0))
            lines.append(("run      " + "  ".join(counts), 0))
            if summary.totals is not None:
                for figure in summary.totals.figures:
                    if figure.panel.shape == PANELS:
                        lines += self._panel_lines(figure.value, width)
        if self.history.recent:
            lines.append(("", 0))
            lines.append(("last alerts", self._style(TITLE, curses.A_BOLD)))
            for alert in reversed(self.history.recent):
                style = self._style(ALARM if alert.raised else GOOD)
                text = textwrap.wrap(alert.describe(unit), max(width - 5, 20))
                lines += [
                    (("  " if i == 0 else "    ") + part, style) for i, part in enumerate(text)
                ]
        return lines

    def _sparkline(
        self, state: LiveState, run: RunInfo, width: int, height: int = CHART_ROWS
    ) -> list[Line]:
        """The events of each second, one column a second, as many seconds of the rate
        rule's window as the terminal is wide, ``height`` rows high (eight steps a row);
        the threshold's row dotted, a second above it in the alarm's colour."""
        through = state.through
        rule = state.rule("rate")
        if rule is None:
            return []
        window, threshold = rule.window_seconds, rule.threshold
        if through is None:
            return [(f"{run.unit}s per second: none yet", self._style(MUTED)), ("", 0)]
        columns = max(min(width - AXIS_COLUMNS - 1, window), 1)
        first = through - columns + 1
        counts = [0] * columns
        for second, hits in state.per_second:
            if first <= second <= through:
                counts[second - first] = hits
        peak = max(counts)
        top = max(peak, threshold, 1e-9)
        steps = height * len(BARS)
        levels = [min(steps, math.ceil(count / top * steps)) for count in counts]
        limit = threshold / top * steps  # (the threshold's height, in steps)
        lines: list[Line] = []
        for row in range(height - 1, -1, -1):  # from the top row down
            label = f"{top:>{AXIS_COLUMNS - 2}.1f} |" if row == height - 1 else ""
            pieces: list[tuple[str, int]] = [(label.rjust(AXIS_COLUMNS), self._style(MUTED))]
            dotted = row * len(BARS) <= limit < (row + 1) * len(BARS)
            for count, level in zip(counts, levels):
                filled = level - row * len(BARS)
                if filled >= len(BARS):
                    cell = BARS[-1]
                elif filled > 0:
                    cell = BARS[filled - 1]
                else:
                    cell = "·" if dotted else " "
                style = self._style(ALARM if count > threshold else ACCENT if filled > 0 else MUTED)
                if len(pieces) > 1 and pieces[-1][1] == style:
                    pieces[-1] = (pieces[-1][0] + cell, style)
                else:
                    pieces.append((cell, style))
            lines.append(pieces)
        busiest = first + counts.index(peak)
        caption = (
            f"{run.unit}s per second, the last {columns} s: the busiest second "
            f"{clock_time(busiest)} with {peak:,}; alert when the average over {window} s "
            f"exceeds {number(threshold)}/s (dotted)"
        )
        axis = f"{'0 +':>{AXIS_COLUMNS}}{'-' * max(columns - 9, 0)} {clock_time(through)}"
        return [
            (line, self._style(MUTED)) for line in textwrap.wrap(caption, max(width - 1, 20))
        ] + [
            *lines,
            (axis, self._style(MUTED)),
            ("", 0),
        ]

    def _panel_lines(self, value: dict[str, Any], width: int) -> list[Line]:
        """The panel chosen with ``p``: its top entries, hits, visitors, bytes (and the
        average request time when the log has them)."""
        key, title, _ = TABLES[self.panel]
        entries = value.get(key) or []
        head = f"{title} ({self.panel + 1}/{len(TABLES)}, p: next)"
        head += f"  {value.get('unique_visitors', 0):,} unique visitors"
        lines: list[Line] = [("", 0), (head, self._style(TITLE, curses.A_BOLD))]
        if not entries:
            return lines + [("  none", self._style(MUTED))]
        timed = "avg_ms" in entries[0]
        columns = f"{'hits':>9} {'visitors':>8} {'bytes':>9}" + (f" {'avg':>9}" if timed else "")
        column = max(width - len(columns) - 4, 8)  # (the last column is never drawn)
        lines.append((f"  {'':<{column}} {columns}", self._style(MUTED)))
        for entry in entries:
            figures = f"{entry['hits']:>9,} {entry['visitors']:>8,} {size(entry['bytes']):>9}"
            if timed:
                avg = entry["avg_ms"]
                figures += f" {'-' if avg is None else milliseconds(avg):>9}"
            lines.append((f"  {printable(entry['key'])[:column]:<{column}} {figures}", 0))
        return lines

    def _latest(self, unit: str) -> list[Line]:
        latest = self.history.latest
        if latest is None:
            return [("no stats window yet", self._style(MUTED))]
        rate = latest.hits / (latest.end - latest.start)
        head = f"{local_time(latest.start)} .. {clock_time(latest.end)}  "
        head += f"{counted(latest.hits, unit)}  {rate:.1f}/s"
        head += "".join(f"  {size(f.value)}" for f in latest.figures if f.panel.shape == SIZE)
        lines = [(head, curses.A_BOLD)]
        figures = [f for f in latest.figures if f.panel.shape in LINE_ORDER and f.says_something]
        figures.sort(key=lambda figure: LINE_ORDER[figure.panel.shape])
        for figure in figures:
            lines += [(line, 0) for line in _figure_lines(figure)]
        return [(printable(text), style) for text, style in lines]  # (keys from the log)


def _figure_lines(figure: Figure) -> list[str]:
    """A panel's line (the slowest queries: a line each; nothing when it is empty)."""
    label, shape, value = figure.panel.text_label, figure.panel.shape, figure.value
    if shape == SLOWEST:
        return [
            f"  {milliseconds(ms):>9}  {namespace}  {operation}  {masked}"
            for ms, namespace, operation, masked in value
        ]
    if shape == TOP:
        items = [f"{entry[0]} {entry[1]:,}" for entry in value]
    elif shape == PERCENTILES:
        items = [f"{name} {milliseconds(ms)}" for name, ms in value.items()]
    else:
        items = [f"{key} {count:,}" for key, count in value.items()]
    return [f"{label:<8} " + "  ".join(items)] if items else []


def _put(screen: curses.window, y: int, x: int, text: str, style: int) -> None:
    if not text:
        return
    try:
        screen.addstr(y, x, text, style)
    except curses.error:  # the bottom-right corner, or a terminal that just shrank
        pass
