"""The HTML page of a run: the ``--report`` file and the ``--serve`` live page.

One self-contained document - inline CSS and SVG, no script but the live page's few
lines, nothing fetched from anywhere - drawn from the run's ``History`` and summary:
a header, cards of the run's counts, notes, the charts (``charts.py``), a table per
panel of the summary (``families/``: a top list's keys with their counts and shares,
the classes, the durations' percentiles, the slowest queries), an access log's panels
of what and who (``panels.py``), the alerts, and the
timeline's data under "Timeline data", so that a reader - or a test - can check every
number against ``--output json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ... import __version__
from ...families.base import CLASSES, PANELS, PERCENTILES, SIZE, SLOWEST, TOP
from ...reports import Figure, Percentiles, StatsReport, Summary
from ...words import counted, milliseconds, printable, size
from .. import RunInfo
from ..history import History
from ..text import header_settings
from .charts import (
    duration_chart,
    lasted,
    rate_chart,
    rule_chart,
    span_text,
    status_chart,
    when,
    zone,
)
from .charts import clock as _clock
from .panels import panel_sections
from .style import SCRIPT, STYLE


def render(run: RunInfo | None, history: History, summary: Summary, *, live: bool) -> str:
    """The whole page, as a string."""
    unit = run.unit if run else "hit"
    totals = summary.totals
    body = [_header(run, summary, live=live), _cards(run, summary, history, live=live)]
    body += _notes(summary)
    if history.points:
        body.append(rate_chart(history, run, unit))
        if any(point.status for point in history.points):
            body.append(status_chart(history))
        if any(point.duration for point in history.points):
            body.append(duration_chart(history, run))
        end = history.points[-1].end
        body += [rule_chart(rule, history, end) for rule in summary.rules if rule.series]
    elif not live:
        body.append('<p class="muted">No stats window was reported.</p>')
    if totals is not None and summary.events:
        body.append(_tables(totals, summary.events, unit))
        body += [
            panel_sections(figure.value)
            for figure in totals.figures
            if figure.panel.shape == PANELS
        ]
    body.append(_alerts(history, unit, summary.last))
    if history.points:
        body.append(_timeline_data(history))
    body.append(
        f"<footer>LogsMonitor2000 {escape(__version__)} · times are local "
        f"({escape(zone(summary.first))})</footer>"
    )
    title = "LogsMonitor2000 " + ("live" if live else "report")
    if run is not None:
        title += " · " + run.path
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(printable(title))}</title><style>{STYLE}</style></head>\n"
        f'<body><main data-records="{history.records}" data-run="{history.run}">\n'
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
        rows.append(("settings", escape(header_settings(run, "; "))))
        if run.filters:
            rows.append(("filters", f"<code>{escape(printable(' '.join(run.filters)))}</code>"))
        if run.anonymize:
            rows.append(("privacy", "sources anonymized (IPv4: last octet; IPv6: 80 bits)"))
    if summary.first is not None and summary.last is not None:
        rows.append(("log time", f"{when(summary.first)} .. {when(summary.last)}"))
    state = ""
    if live:
        state = ' <small class="muted">· <span id="live">connecting...</span></small>'
    title = "LogsMonitor2000 " + ("live" if live else "report")
    return (
        f"<header><h1>{title}{state}</h1><dl>"
        + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
        + "</dl></header>"
    )


def _cards(run: RunInfo | None, summary: Summary, history: History, *, live: bool) -> str:
    """The run's counts.  The live page counts the windows reported so far, as its
    charts do (the seconds still open come in the next windows); a report, the whole
    run."""
    unit = run.unit if run else "hit"
    noun = run.noun if run else "events"
    points = history.points
    if live:
        events = sum(point.hits for point in points)
        seconds = points[-1].end - points[0].start if points else 0
        cards = [(f"{events:,}", f"{noun} in the windows so far", "")]
    else:
        events, first, last = summary.events, summary.first, summary.last
        known = first is not None and last is not None and summary.totals is not None
        seconds = last - first + 1 if known and first is not None and last is not None else 0
        cards = [(f"{events:,}", noun, "")]
    if seconds:
        cards.append((f"{events / seconds:.2f}", f"{unit}s/s on average", ""))
    for figure in summary.totals.figures if summary.totals is not None else ():
        if figure.panel.shape == SIZE:
            cards.append((size(figure.value), figure.panel.text_label, ""))
    cards.append((f"{summary.invalid:,}", "invalid", ""))
    cards.append((f"{summary.late:,}", "late", ""))
    if summary.filtered is not None:
        cards.append((f"{summary.filtered:,}", "filtered out", ""))
    if summary.unfinished is not None:
        cards.append((f"{summary.unfinished:,}", "unfinished", ""))
    for rule in run.rules if run else ():
        periods = len(history.periods.get(rule.name, ()))
        cards.append((f"{periods:,}", f"{rule.name} alerts", ""))
    for state in summary.active:
        assert state.since is not None
        cards.append(("alert", f"{state.name} since {when(state.since)}", " alerting"))
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


def _notes(summary: Summary) -> list[str]:
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
    for state in summary.active:
        assert state.since is not None
        html.append(
            f'<p class="note active">The {escape(state.name)} alert is active since '
            f"{when(state.since)}.</p>"
        )
    return html


# -- tables ------------------------------------------------------------------------------

#: The order of the summary's tables by the shape of their panel: the top lists, the
#: classes, the durations, the slowest queries.
TABLE_ORDER = {TOP: 0, CLASSES: 1, PERCENTILES: 2, SLOWEST: 3}


def _tables(totals: StatsReport, events: int, unit: str) -> str:
    figures = [f for f in totals.figures if f.panel.shape in TABLE_ORDER and f.says_something]
    figures.sort(key=lambda figure: TABLE_ORDER[figure.panel.shape])
    tables = [_table(figure, events, unit) for figure in figures]
    return '<div class="tables">' + "".join(table for table in tables if table) + "</div>"


def _table(figure: Figure, events: int, unit: str) -> str:
    """A panel's table ("": nothing to show)."""
    panel, value = figure.panel, figure.value
    if panel.shape == TOP:
        return _top_table(panel.title, panel.column, value, events, unit) if value else ""
    if panel.shape == CLASSES:
        classes = list(value.items())
        return _top_table(panel.title, panel.column, classes, events, panel.counted or unit)
    if panel.shape == PERCENTILES:
        return _percentile_table(panel.title, value)
    if not value:
        return ""
    rows = "".join(
        f'<tr><td class="n">{escape(milliseconds(ms))}</td>'
        f'<td class="k">{escape(printable(namespace))}</td>'
        f'<td class="k">{escape(printable(operation))}</td>'
        f'<td class="k"><code>{escape(printable(shape))}</code></td></tr>'
        for ms, namespace, operation, shape in value
    )
    return (
        f'<section class="slowest"><h2>{escape(panel.title)}</h2><table><thead><tr>'
        '<th class="n">duration</th><th>namespace</th><th>operation</th>'
        f"<th>shape</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


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


def _percentile_table(title: str, d: Percentiles) -> str:
    rows = "".join(
        f'<tr><td>{name}</td><td class="n">{escape(milliseconds(ms))}</td></tr>'
        for name, ms in d.items()
    )
    return (
        f'<section class="durations"><h2>{escape(title)}</h2><table><thead><tr>'
        f'<th>percentile</th><th class="n">duration</th></tr></thead><tbody>{rows}</tbody>'
        "</table></section>"
    )


def _alerts(history: History, unit: str, last: int | None) -> str:
    """The alert periods (one still active: how long so far, to the newest event)."""
    rows = []
    for kind, periods in history.periods.items():
        for period in periods:
            if period.end is not None:
                end, length = when(period.end), lasted(period.end - period.start)
            else:
                end = "still active"
                length = f"{lasted(max(last or period.start, period.start) - period.start)} so far"
            rows.append(
                f"<tr><td>{kind}</td><td>{when(period.start)}</td><td>{end}</td>"
                f'<td class="n">{length}</td></tr>'
            )
    if not rows:
        return '<section class="alerts"><h2>Alerts</h2><p class="muted">None.</p></section>'
    recent = "".join(
        f"<li>{escape(alert.describe(unit))}</li>" for alert in reversed(history.recent)
    )
    return (
        f'<section class="alerts"><h2>Alerts</h2><details{" open" if len(rows) <= 20 else ""}>'
        f'<summary>{counted(len(rows), "alert period")}</summary><div class="scroll"><table>'
        '<thead><tr><th>alert</th><th>from</th><th>to</th><th class="n">for</th></tr></thead>'
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
            f'<tr data-start="{point.start}" data-end="{point.end}"><td>{when(point.start)}</td>'
            f'<td class="n">{point.hits:,}</td><td class="n">{rate:.2f}</td>{cells}</tr>'
        )
    return (
        '<details class="timeline"><summary>Timeline data</summary>'
        f'<p class="muted">One row per {span_text(history.span)}.</p><div class="scroll">'
        '<table><thead><tr><th>from</th><th class="n">count</th><th class="n">per s</th>'
        f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></details>'
    )
