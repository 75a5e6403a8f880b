"""The HTML page of a run: the ``--report`` file and the ``--serve`` live page.

One self-contained document - inline CSS and SVG, no script but the live page's few
lines, nothing fetched from anywhere - drawn from the run's ``History`` and summary.
The charts are SVG drawn in a 1000 x 200 box that stretches to the page's width
(strokes keep their width); their labels are HTML laid over them, so they keep their
size on a phone and on a wide screen.  Times on the axes are local (``TZ``), and the
zone is named under each chart.  The numbers are all in the page's text too (tables,
and the timeline's data under "Timeline data"), so a reader - or a test - can check
them against ``--output json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from html import escape

from ... import __version__
from ...reports import HttpStatsReport, LogStatsReport, MongoStatsReport, Summary
from .. import RunInfo
from ..history import History, Period, Point
from ..text import alert_text, counted, local_time, milliseconds, number, printable, size

#: The chart's drawing box (the SVG stretches it to the page).
WIDTH, HEIGHT = 1000, 200
#: Status classes and their colours (others get the last one).
STATUS_COLOURS = {"1xx": "#8c8c8c", "2xx": "#2e8b57", "3xx": "#3b7dd8", "4xx": "#e09b2d"}
STATUS_OTHER = "#d64541"
#: The duration percentiles' colours.
PERCENTILE_COLOURS = (("p50", "#3b7dd8"), ("p95", "#e09b2d"), ("p99", "#d64541"))
#: Tick steps of the time axis, in seconds.
TIME_STEPS = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400,
)  # fmt: skip

STYLE = """
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6677; --line: #d8dce3;
  --panel: #f6f7f9; --bg: #fff; --accent: #3b7dd8; --alert: rgba(214, 69, 65, .16); }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7ec; --muted: #9aa3b2;
  --line: #3a4150; --panel: #1e232c; --bg: #14181f; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.35em; margin: 0 0 .2em; }
h2 { font-size: 1.05em; margin: 0 0 .5em; }
p, dl { margin: .2em 0; }
.muted, figcaption small, .unit { color: var(--muted); }
header { border-bottom: 1px solid var(--line); padding-bottom: .6em; margin-bottom: 1em; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 .8em; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
  gap: 10px; margin: 0 0 1em; }
.card { background: var(--panel); border-radius: 8px; padding: 8px 12px; }
.card b { display: block; font-size: 1.35em; font-variant-numeric: tabular-nums; }
.card span { color: var(--muted); font-size: .9em; }
.card.alerting { background: var(--alert); }
.note { background: var(--panel); border-left: 4px solid #e09b2d; padding: 6px 10px;
  margin: 0 0 1em; }
.note.active { border-color: #d64541; }
figure { margin: 0 0 1.6em; }
figcaption { font-weight: 600; margin-bottom: .4em; }
.key { font-weight: normal; font-size: .9em; }
.key i { display: inline-block; width: .8em; height: .8em; border-radius: 2px;
  margin: 0 .25em 0 .7em; vertical-align: -.05em; }
.plot { position: relative; height: 200px; margin: 0 .6em 22px 3.6em;
  border-left: 1px solid var(--line); border-bottom: 1px solid var(--line); }
.plot svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; }
.plot .y, .plot .x { position: absolute; font-size: 12px; color: var(--muted);
  white-space: nowrap; font-variant-numeric: tabular-nums; }
.plot .y { right: 100%; padding-right: 5px; transform: translateY(50%); }
.plot .x { top: 100%; padding-top: 3px; transform: translateX(-50%); }
.plot .t { right: 0; transform: translateY(-100%); color: #d64541; font-size: 12px;
  position: absolute; }
.unit { font-size: 12px; margin: 0 .6em 0 3.6em; text-align: right; }
.grid path { stroke: var(--line); stroke-width: 1; fill: none; }
.slowest { grid-column: 1 / -1; }
.tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr));
  gap: 16px 24px; margin-bottom: 1.4em; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .9em; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.k { overflow-wrap: anywhere; }
td.bar { width: 30%; }
td.bar span { display: block; height: .8em; margin-top: .3em; background: var(--accent);
  border-radius: 2px; min-width: 1px; }
details { margin: 0 0 1em; }
summary { cursor: pointer; font-weight: 600; }
.scroll { max-height: 420px; overflow: auto; }
code { font-size: .92em; overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: .85em; border-top: 1px solid var(--line);
  padding-top: .5em; }
@media (max-width: 560px) { body { font-size: 14px; } main { padding: 10px; }
  .plot { height: 160px; margin-left: 3.1em; }
  .cards { grid-template-columns: repeat(3, 1fr); gap: 6px; }
  .card { padding: 6px 8px; } .card b { font-size: 1.1em; } .card span { font-size: .8em; }
  .tables { grid-template-columns: 1fr; } .plot .x.alt { display: none; } }
"""

#: The live page's script: each record of ``/events`` shows at once in the latest
#: window's line; the rest of the page is fetched again (at most every 0.5 s) and
#: swapped in, once it includes that record.  A browser that missed more than the
#: server keeps is told to reload.
SCRIPT = """
(() => {
  const main = () => document.querySelector("main");
  const state = document.getElementById("live");
  let wanted = 0, timer = null;
  function refresh() {
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        const answer = await fetch(location.pathname, {cache: "no-store"});
        const page = new DOMParser().parseFromString(await answer.text(), "text/html");
        const fresh = page.querySelector("main");
        if (Number(fresh.dataset.records) >= wanted) main().replaceWith(fresh);
        else refresh();
      } catch (error) { refresh(); }
    }, 500);
  }
  const events = new EventSource("events?after=" + main().dataset.records);
  events.onopen = () => { state.textContent = "live"; };
  events.onerror = () => { state.textContent = "reconnecting..."; };
  events.addEventListener("reload", () => location.reload());
  for (const kind of ["stats", "alert", "recovery", "slow", "slow-recovery"]) {
    events.addEventListener(kind, (message) => {
      wanted = Math.max(wanted, Number(message.lastEventId));
      if (kind === "stats") {
        const record = JSON.parse(message.data);
        const latest = document.getElementById("latest");
        if (latest) latest.textContent = record.hits.toLocaleString("en-US");
      }
      refresh();
    });
  }
})();
"""


def render(run: RunInfo | None, history: History, summary: Summary, *, live: bool) -> str:
    """The whole page, as a string."""
    unit = run.unit if run else "hit"
    totals = summary.totals
    body = [_header(run, summary, live=live), _cards(summary, history, unit, live=live)]
    body += _notes(summary, unit)
    if history.points:
        body.append(_rate_chart(history, run, unit))
        if any(point.status for point in history.points):
            body.append(_status_chart(history))
        if any(point.duration for point in history.points):
            body.append(_duration_chart(history, run))
    elif not live:
        body.append('<p class="muted">No stats window was reported.</p>')
    if totals is not None and summary.events:
        body.append(_tables(totals, summary.events, unit))
    body.append(_alerts(history, unit))
    if history.points:
        body.append(_timeline_data(history))
    body.append(
        f"<footer>LogsMonitor2000 {escape(__version__)} · times are local "
        f"({escape(_zone(summary.first))})</footer>"
    )
    title = "LogsMonitor2000 " + ("live" if live else "report")
    if run is not None:
        title += " · " + run.path
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(printable(title))}</title><style>{STYLE}</style></head>\n"
        f'<body><main data-records="{history.records}">\n'
        + "\n".join(body)
        + "\n</main>"
        + (f"<script>{SCRIPT}</script>" if live else "")
        + "</body></html>\n"
    )


# -- the header and the summary -----------------------------------------------------------


def _header(run: RunInfo | None, summary: Summary, *, live: bool) -> str:
    rows: list[tuple[str, str]] = []
    if run is not None:
        inputs = "standard input" if run.path == "-" else run.path
        rows.append(("inputs", escape(printable(inputs))))
        rows.append(("format", escape(run.format_description or "empty input")))
        settings = (
            f"stats every {run.stats_interval} s; alert when the average over "
            f"{run.alert_window} s exceeds {number(run.threshold)}/s"
            + ("" if run.slow_ms is None else f"; slow when p95 > {number(run.slow_ms)} ms")
            + f"; allowed lateness {run.lateness} s"
        )
        rows.append(("settings", escape(settings)))
        if run.filters:
            rows.append(("filters", f"<code>{escape(printable(' '.join(run.filters)))}</code>"))
        if run.anonymize:
            rows.append(("privacy", "sources anonymized (IPv4: last octet; IPv6: 80 bits)"))
    if summary.first is not None and summary.last is not None:
        rows.append(("log time", f"{_when(summary.first)} .. {_when(summary.last)}"))
    state = ""
    if live:
        state = ' <small class="muted">· <span id="live">connecting...</span></small>'
    title = "LogsMonitor2000 " + ("live" if live else "report")
    return (
        f"<header><h1>{title}{state}</h1><dl>"
        + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
        + "</dl></header>"
    )


def _cards(summary: Summary, history: History, unit: str, *, live: bool) -> str:
    cards = [(f"{summary.events:,}", "events" if unit == "hit" else f"{unit}s", "")]
    if summary.totals is not None and summary.first is not None and summary.last is not None:
        seconds = summary.last - summary.first + 1
        cards.append((f"{summary.events / seconds:.2f}", f"{unit}s/s on average", ""))
    if isinstance(summary.totals, HttpStatsReport):
        cards.append((size(summary.totals.bytes_total), "sent", ""))
    cards.append((f"{summary.invalid:,}", "invalid", ""))
    cards.append((f"{summary.late:,}", "late", ""))
    if summary.filtered is not None:
        cards.append((f"{summary.filtered:,}", "filtered out", ""))
    if summary.unfinished is not None:
        cards.append((f"{summary.unfinished:,}", "unfinished", ""))
    cards.append((f"{len(history.alerts):,}", "traffic alerts", ""))
    if summary.alert_since is not None:
        cards.append(("alert", f"since {_when(summary.alert_since)}", " alerting"))
    latest = history.latest
    if live:
        hits = f"{latest.hits:,}" if latest else "-"
        span = f"{_clock(latest.start)}-{_clock(latest.end)}" if latest else "no window yet"
        cards.append(
            (
                f'<span id="latest">{hits}</span>',
                f"{unit}s in the latest window ({span})",
                "",
            )
        )
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card{extra}"><b>{value}</b><span>{escape(label)}</span></div>'
            for value, label, extra in cards
        )
        + "</div>"
    )


def _notes(summary: Summary, unit: str) -> list[str]:
    notes = []
    if summary.late:
        notes.append(
            f"{counted(summary.late, 'event')} arrived more than {summary.lateness_seconds} s "
            f"late (the latest by {summary.max_lateness} s): run again with "
            f"<code>--buffer {summary.max_lateness}</code> to count them."
        )
    if summary.invalid:
        notes.append(
            f"{counted(summary.invalid, 'invalid record')} skipped "
            "(<code>-v</code> names the first ones)."
        )
    html = [f'<p class="note">{note}</p>' for note in notes]
    if summary.alert_since is not None:
        html.append(
            '<p class="note active">The high traffic alert is active since '
            f"{_when(summary.alert_since)}.</p>"
        )
    if summary.slow_since is not None:
        what = "operations" if unit == "operation" else "requests"
        html.append(
            f'<p class="note active">The slow {what} alert is active since '
            f"{_when(summary.slow_since)}.</p>"
        )
    return html


# -- charts ---------------------------------------------------------------------------------


class _Axes:
    """The mapping of a chart's times and values to its drawing box."""

    def __init__(self, start: int, end: int, top: float) -> None:
        self.start, self.end = start, max(end, start + 1)
        self.top = top

    def x(self, second: float) -> float:
        return (second - self.start) * WIDTH / (self.end - self.start)

    def y(self, value: float) -> float:
        return HEIGHT - min(value, self.top) * HEIGHT / self.top


def _chart(
    caption: str,
    key: str,
    axes: _Axes,
    drawing: Sequence[str],
    *,
    unit: str,
    y_label: str = "{}",
    threshold: tuple[float, str] | None = None,
    periods: Sequence[Period] = (),
) -> str:
    """A chart: its caption and key, the SVG ``drawing`` over a grid, and the axes'
    labels as HTML."""
    ticks = _value_ticks(axes.top)
    grid = "".join(f"M0 {axes.y(value):.1f}H{WIDTH}" for value in ticks[1:])
    shaded = "".join(
        f'<rect x="{axes.x(p.start):.1f}" y="0" height="{HEIGHT}" '
        f'width="{max(axes.x(p.end if p.end is not None else axes.end) - axes.x(p.start), 1.5):.1f}"'
        f' fill="var(--alert)"/>'
        for p in periods
    )
    labels = [
        f'<span class="y" style="bottom:{value / axes.top * 100:.2f}%">'
        f"{escape(y_label.format(_tick_text(value)))}</span>"
        for value in ticks
    ]
    labels += [  # (every other one is hidden on a narrow screen)
        f'<span class="x{" alt" if i % 2 else ""}" style="left:{axes.x(second) / WIDTH * 100:.2f}%">'
        f"{escape(text)}</span>"
        for i, (second, text) in enumerate(_time_ticks(axes.start, axes.end))
    ]
    line = ""
    if threshold is not None:
        value, text = threshold
        y = axes.y(value)
        line = (
            f'<path d="M0 {y:.1f}H{WIDTH}" stroke="#d64541" stroke-width="1.5" '
            'stroke-dasharray="6 4" fill="none" vector-effect="non-scaling-stroke"/>'
        )
        labels.append(
            f'<span class="t" style="bottom:{(HEIGHT - y) / HEIGHT * 100:.2f}%">'
            f"{escape(text)}</span>"
        )
    return (
        f'<figure><figcaption>{escape(caption)} <span class="key">{key}</span></figcaption>'
        f'<div class="plot" role="img" aria-label="{escape(caption)}">'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg"><g class="grid"><path d="{grid}" '
        f'vector-effect="non-scaling-stroke"/></g>{shaded}{"".join(drawing)}{line}</svg>'
        + "".join(labels)
        + f'</div><div class="unit">{escape(unit)} · local time '
        f"({escape(_zone(axes.start))})</div></figure>"
    )


def _rate_chart(history: History, run: RunInfo | None, unit: str) -> str:
    points = history.points
    axes = _Axes(points[0].start, points[-1].end, 1.0)
    rates = [point.hits / (point.end - point.start) for point in points]
    threshold = run.threshold if run else None
    axes.top = _nice_top(max(rates + [threshold * 1.15 if threshold else 0.0]))
    path = _steps(axes, points, rates)
    drawing = [f'<path d="{path}" fill="var(--accent)" fill-opacity=".8"/>']
    key = '<i style="background:var(--alert)"></i>alert'
    return _chart(
        f"{unit.capitalize()}s per second",
        key,
        axes,
        drawing,
        unit=f"{unit}s/s per {_span_text(history.span)}",
        threshold=(threshold, f"threshold {number(threshold)}/s") if threshold else None,
        periods=history.alerts,
    )


def _status_chart(history: History) -> str:
    points = history.points
    classes = sorted({key for point in points for key in point.status})
    axes = _Axes(points[0].start, points[-1].end, 1.0)
    seconds = [point.end - point.start for point in points]
    stacked: list[list[float]] = []  # the cumulative rates, class by class
    running = [0.0] * len(points)
    for cls in classes:
        running = [
            total + point.status.get(cls, 0) / span
            for total, point, span in zip(running, points, seconds)
        ]
        stacked.append(running)
    axes.top = _nice_top(max(stacked[-1]))
    drawing = [
        f'<path d="{_steps(axes, points, rates)}" fill="{_status_colour(cls)}"/>'
        for cls, rates in reversed(list(zip(classes, stacked)))
    ]
    key = "".join(f'<i style="background:{_status_colour(cls)}"></i>{cls}' for cls in classes)
    return _chart(
        "Status classes",
        key,
        axes,
        drawing,
        unit=f"responses/s per {_span_text(history.span)}, stacked",
    )


def _duration_chart(history: History, run: RunInfo | None) -> str:
    points = history.points
    top = max(point.duration[2] for point in points if point.duration)
    slow = run.slow_ms if run else None
    axes = _Axes(points[0].start, points[-1].end, _nice_top(max(top, (slow or 0) * 1.15)))
    drawing = []
    timed = [(point, point.duration) for point in points if point.duration is not None]
    for i, (name, colour) in enumerate(PERCENTILE_COLOURS):
        # A line through the middle of every point with durations (a window without
        # any is stepped over: a quiet MongoDB has many).
        line = " ".join(
            f"{axes.x((point.start + point.end) / 2):.1f} {axes.y(duration[i]):.1f}"
            for point, duration in timed
        )
        drawing.append(
            f'<path d="M{line}" stroke="{colour}" stroke-width="1.6" fill="none" '
            'stroke-linejoin="round" vector-effect="non-scaling-stroke"/>'
        )
    key = "".join(
        f'<i style="background:{colour}"></i>{name}' for name, colour in PERCENTILE_COLOURS
    )
    if history.slow:
        key += '<i style="background:var(--alert)"></i>slow alert'
    merged = (
        "" if history.span == (run.stats_interval if run else history.span) else ", the highest"
    )
    return _chart(
        "Durations",
        key,
        axes,
        drawing,
        unit=f"ms per {_span_text(history.span)}{merged}",
        y_label="{}",
        threshold=(slow, f"--slow-ms {number(slow)}") if slow else None,
        periods=history.slow,
    )


def _steps(axes: _Axes, points: Sequence[Point], values: Sequence[float]) -> str:
    """A filled step area under ``values`` (one per point), down to 0 between points
    that are not adjacent."""
    bottom = f"{HEIGHT}"
    parts: list[str] = []
    previous_end: int | None = None
    for point, value in zip(points, values):
        if previous_end != point.start:
            if parts:
                parts.append(f"V{bottom}Z")
            parts.append(f"M{axes.x(point.start):.1f} {bottom}")
        parts.append(f"V{axes.y(value):.1f}H{axes.x(point.end):.1f}")
        previous_end = point.end
    if parts:
        parts.append(f"V{bottom}Z")
    return "".join(parts)


def _nice_top(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value * 0.999999:
            return step * power
    return 10 * power


def _value_ticks(top: float) -> list[float]:
    """0 and four or five round values up to ``top`` (a ``_nice_top``)."""
    mantissa = top / 10 ** math.floor(math.log10(top))
    count = 4 if abs(mantissa - 2) < 1e-9 else 5
    return [top * i / count for i in range(count + 1)]


def _tick_text(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _time_ticks(start: int, end: int) -> list[tuple[int, str]]:
    """Round local times between ``start`` and ``end`` (at most seven), with labels."""
    span = end - start
    step = next((s for s in TIME_STEPS if span / s <= 7), TIME_STEPS[-1])
    offset = _utc_offset(start)
    first = start - (start + offset) % step
    if first < start:
        first += step
    ticks = []
    previous_day = None
    for second in range(first, end + 1, step):
        moment = _local(second)
        if moment is None:
            break
        day = moment.date()
        if step >= 86400:
            text = moment.strftime("%b %d")
        elif step < 60:
            text = moment.strftime("%H:%M:%S")
        else:
            text = moment.strftime("%H:%M")
        if step < 86400 and (previous_day is None or day != previous_day) and span > 43200:
            text = moment.strftime("%b %d ") + text
        previous_day = day
        ticks.append((second, text))
    return ticks


def _span_text(seconds: int) -> str:
    for unit, size_ in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size_ and seconds % size_ == 0:
            return f"{seconds // size_} {unit}"
    return f"{seconds} s"


def _lasted(seconds: int) -> str:
    """146 -> '2 min 26 s'."""
    parts = []
    for unit, size_ in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size_:
            parts.append(f"{seconds // size_} {unit}")
            seconds %= size_
    if seconds or not parts:
        parts.append(f"{seconds} s")
    return " ".join(parts[:2])


def _status_colour(cls: str) -> str:
    return STATUS_COLOURS.get(cls, STATUS_OTHER)


# -- tables ------------------------------------------------------------------------------


def _tables(
    totals: HttpStatsReport | MongoStatsReport | LogStatsReport, events: int, unit: str
) -> str:
    tables = []
    if isinstance(totals, LogStatsReport):
        tables.append(_top_table("Loggers", "logger", totals.sections, events, unit))
        levels = list(totals.levels.items())
        tables.append(_top_table("Levels", "level", levels, events, unit))
        tables.append(_top_table("Senders", "sender", totals.sources, events, unit))
        if totals.exceptions:
            tables.append(_top_table("Exceptions", "type", totals.exceptions, events, unit))
        if totals.hosts:
            tables.append(_top_table("Syslog hosts", "host", totals.hosts, events, unit))
    elif isinstance(totals, HttpStatsReport):
        tables.append(_top_table("Sections", "section", totals.sections, events, unit))
        tables.append(_top_table("Sources", "source", totals.sources, events, unit))
        if totals.vhosts:
            tables.append(_top_table("Virtual hosts", "host", totals.vhosts, events, unit))
        if totals.hosts:
            tables.append(_top_table("Syslog hosts", "host", totals.hosts, events, unit))
        status = [(cls, count) for cls, count in totals.status.items()]
        tables.append(_top_table("Status classes", "class", status, events, "response"))
        if totals.duration is not None:
            tables.append(_percentile_table(totals))
    else:
        tables.append(_top_table("Namespaces", "namespace", totals.sections, events, unit))
        tables.append(_top_table("Operations", "operation", totals.methods, events, unit))
        if totals.hosts:
            tables.append(_top_table("Syslog hosts", "host", totals.hosts, events, unit))
        if totals.duration is not None:
            tables.append(_percentile_table(totals))
        if totals.slowest:
            rows = "".join(
                f'<tr><td class="n">{escape(milliseconds(ms))}</td>'
                f'<td class="k">{escape(printable(namespace))}</td>'
                f'<td class="k">{escape(printable(operation))}</td>'
                f'<td class="k"><code>{escape(printable(shape))}</code></td></tr>'
                for ms, namespace, operation, shape in totals.slowest
            )
            tables.append(
                '<section class="slowest"><h2>Slowest query shapes</h2><table><thead><tr>'
                '<th class="n">duration</th><th>namespace</th><th>operation</th>'
                f"<th>shape</th></tr></thead><tbody>{rows}</tbody></table></section>"
            )
    return '<div class="tables">' + "".join(tables) + "</div>"


def _top_table(
    title: str,
    column: str,
    top: Sequence[tuple[str, int] | tuple[str, int, int]],
    events: int,
    unit: str,
) -> str:
    largest = max((entry[1] for entry in top), default=1) or 1
    rows = []
    estimated = 0
    for entry in top:
        key, count = entry[0], entry[1]
        if len(entry) == 3:
            estimated = max(estimated, entry[2])
        rows.append(
            f'<tr><td class="k">{escape(printable(key))}</td><td class="n">{count:,}</td>'
            f'<td class="n">{count / events * 100 if events else 0:.1f}%</td>'
            f'<td class="bar"><span style="width:{count / largest * 100:.1f}%"></span></td></tr>'
        )
    note = ""
    if estimated:
        note = (
            f'<p class="muted">Estimated counts: each at most {estimated:,} over '
            "(more distinct keys than are counted exactly).</p>"
        )
    return (
        f'<section class="top" data-list="{escape(column)}"><h2>{escape(title)}</h2>'
        f'<table><thead><tr><th>{escape(column)}</th><th class="n">{escape(unit)}s</th>'
        f'<th class="n">share</th><th></th></tr></thead><tbody>{"".join(rows)}</tbody>'
        f"</table>{note}</section>"
    )


def _percentile_table(totals: HttpStatsReport | MongoStatsReport) -> str:
    d = totals.duration
    assert d is not None
    rows = "".join(
        f'<tr><td>{name}</td><td class="n">{escape(milliseconds(ms))}</td></tr>'
        for name, ms in (("p50", d.p50), ("p95", d.p95), ("p99", d.p99), ("max", d.max))
    )
    return (
        '<section class="durations"><h2>Durations</h2><table><thead><tr><th>percentile</th>'
        f'<th class="n">duration</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )


def _alerts(history: History, unit: str) -> str:
    rows = []
    kinds = (("high traffic", history.alerts), ("slow", history.slow))
    for kind, periods in kinds:
        for period in periods:
            end = _when(period.end) if period.end is not None else "still active"
            length = "" if period.end is None else _lasted(period.end - period.start)
            rows.append(
                f"<tr><td>{kind}</td><td>{_when(period.start)}</td><td>{end}</td>"
                f'<td class="n">{length}</td></tr>'
            )
    if not rows:
        return '<section class="alerts"><h2>Alerts</h2><p class="muted">None.</p></section>'
    recent = "".join(
        f"<li>{escape(alert_text(alert, unit))}</li>" for alert in reversed(history.recent)
    )
    return (
        f'<section class="alerts"><h2>Alerts</h2><details{" open" if len(rows) <= 20 else ""}>'
        f'<summary>{len(rows):,} alert periods</summary><div class="scroll"><table><thead>'
        '<tr><th>alert</th><th>from</th><th>to</th><th class="n">for</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div></details>'
        f'<p class="muted">Latest:</p><ul>{recent}</ul></section>'
    )


def _timeline_data(history: History) -> str:
    points = history.points
    classes = sorted({key for point in points for key in point.status})
    durations = any(point.duration for point in points)
    head = "".join(f'<th class="n">{cls}</th>' for cls in classes)
    if durations:
        head += '<th class="n">p50 ms</th><th class="n">p95 ms</th><th class="n">p99 ms</th>'
    rows = []
    for point in points:
        cells = "".join(f'<td class="n">{point.status.get(cls, 0):,}</td>' for cls in classes)
        if durations:
            cells += "".join(
                f'<td class="n">{"-" if point.duration is None else f"{ms:.3f}"}</td>'
                for ms in (point.duration or (0, 0, 0))
            )
        rate = point.hits / (point.end - point.start)
        rows.append(
            f'<tr data-start="{point.start}" data-end="{point.end}"><td>{_when(point.start)}</td>'
            f'<td class="n">{point.hits:,}</td><td class="n">{rate:.2f}</td>{cells}</tr>'
        )
    return (
        '<details class="timeline"><summary>Timeline data</summary>'
        f'<p class="muted">One row per {_span_text(history.span)}.</p><div class="scroll">'
        '<table><thead><tr><th>from</th><th class="n">count</th><th class="n">per s</th>'
        f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></details>'
    )


# -- time -------------------------------------------------------------------------------


def _local(second: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(second, timezone.utc).astimezone()
    except (OverflowError, OSError, ValueError):
        return None


def _utc_offset(second: int) -> int:
    moment = _local(second)
    offset = moment.utcoffset() if moment else None
    return int(offset.total_seconds()) if offset else 0


def _zone(second: int | None) -> str:
    moment = _local(second if second is not None else 0)
    if moment is None:
        return "UTC"
    offset = _utc_offset(second or 0)
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    name = moment.tzname() or ""
    utc = f"UTC{sign}{hours:02d}:{minutes:02d}"
    return utc if name in ("", "UTC", utc) else f"{name}, {utc}"


def _when(second: int) -> str:
    """A local time for people: 2019-02-07 22:11:00."""
    moment = _local(second)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else local_time(second)


def _clock(second: int) -> str:
    moment = _local(second)
    return moment.strftime("%H:%M:%S") if moment else local_time(second)
