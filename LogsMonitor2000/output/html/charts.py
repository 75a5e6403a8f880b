"""The report's charts: SVG in a 1000 x 200 box that stretches to the page's width
(strokes keep their width), their labels HTML laid over them, so they keep their size
on a phone and on a wide screen.  Times on the axes are local (``TZ``), and the zone
is named under each chart.  Drawn from the run's ``History``: the rate (with the rate
rules' threshold and alert periods), the stacked classes a panel charts (HTTP: the
status classes) and the durations' percentiles (with the duration rules')."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from html import escape

from ...words import local_time
from .. import RunInfo
from ...reports import RuleState
from ..history import History, Period, Point

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
    if threshold is not None:  # (its label in the key: never over the data)
        value, text = threshold
        y = axes.y(value)
        line = (
            f'<path d="M0 {y:.1f}H{WIDTH}" stroke="#d64541" stroke-width="1.5" '
            'stroke-dasharray="6 4" fill="none" vector-effect="non-scaling-stroke"/>'
        )
        key += f'<i class="dashed"></i>{escape(text)}'
    return (
        f'<figure><figcaption>{escape(caption)} <span class="key">{key}</span></figcaption>'
        f'<div class="plot" role="img" aria-label="{escape(caption)}">'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg"><g class="grid"><path d="{grid}" '
        f'vector-effect="non-scaling-stroke"/></g>{shaded}{"".join(drawing)}{line}</svg>'
        + "".join(labels)
        + f'</div><div class="unit">{escape(unit)} · local time '
        f"({escape(zone(axes.start))})</div></figure>"
    )


def rate_chart(history: History, run: RunInfo | None, unit: str) -> str:
    points = history.points
    axes = _Axes(points[0].start, points[-1].end, 1.0)
    rates = [point.hits / (point.end - point.start) for point in points]
    rule = run.rule("rate") if run else None
    threshold = rule.threshold if rule else None
    axes.top = _nice_top(max(rates + [threshold * 1.15 if threshold else 0.0]))
    path = _steps(axes, points, rates)
    drawing = [f'<path d="{path}" fill="var(--accent)" fill-opacity=".8"/>']
    key = '<i style="background:var(--alert)"></i>alert'
    return _chart(
        f"{unit.capitalize()}s per second",
        key,
        axes,
        drawing,
        unit=f"{unit}s/s per {span_text(history.span)}",
        threshold=(threshold, rule.threshold_label) if rule and threshold else None,
        periods=history.periods_on("rate"),
    )


def status_chart(history: History) -> str:
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
        unit=f"responses/s per {span_text(history.span)}, stacked",
        periods=history.periods_on("status"),  # (the share rules')
    )


def duration_chart(history: History, run: RunInfo | None) -> str:
    points = history.points
    top = max(point.duration[2] for point in points if point.duration)
    rule = run.rule("duration") if run else None
    slow = rule.threshold if rule else None
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
    periods = history.periods_on("duration")
    if periods:
        key += '<i style="background:var(--alert)"></i>slow alert'
    merged = (
        "" if history.span == (run.stats_interval if run else history.span) else ", the highest"
    )
    return _chart(
        "Durations",
        key,
        axes,
        drawing,
        unit=f"ms per {span_text(history.span)}{merged}",
        y_label="{}",
        threshold=(slow, rule.threshold_label) if rule and slow else None,
        periods=periods,
    )


def rule_chart(rule: RuleState, history: History, end: int) -> str:
    """An ``--alert`` rule's value over time (a step line, undefined stretches left
    blank), its threshold dashed (it moves with a baseline), its alert periods shaded."""
    samples = rule.series
    axes = _Axes(samples[0][0], max(end, samples[-1][0] + 1), 1.0)
    seen = [value for _, value, _ in samples if value is not None]
    seen += [threshold for _, value, threshold in samples if value is not None]
    axes.top = _nice_top(max(seen, default=0.0) * 1.15)
    value_path: list[str] = []
    threshold_path: list[str] = []
    joined = False  # (the sample before was defined: the steps join)
    for index, (start, value, threshold) in enumerate(samples):
        stop = samples[index + 1][0] if index + 1 < len(samples) else axes.end
        x0, x1 = axes.x(start), axes.x(stop)
        if value is None:
            joined = False
            continue
        for path, y in ((value_path, axes.y(value)), (threshold_path, axes.y(threshold))):
            path.append(f"V{y:.1f}H{x1:.1f}" if joined else f"M{x0:.1f} {y:.1f}H{x1:.1f}")
        joined = True
    drawing = [
        f'<path d="{"".join(value_path)}" stroke="var(--accent)" stroke-width="2" '
        'fill="none" vector-effect="non-scaling-stroke"/>',
        f'<path d="{"".join(threshold_path)}" stroke="#d64541" stroke-width="1.5" '
        'stroke-dasharray="6 4" fill="none" vector-effect="non-scaling-stroke"/>',
    ]
    key = (
        '<i style="background:var(--accent)"></i>value<i class="dashed"></i>threshold'
        '<i style="background:var(--alert)"></i>alert'
    )
    return _chart(
        f"Rule {rule.name}",
        key,
        axes,
        drawing,
        unit=rule.label,
        periods=history.periods.get(rule.name, []),
    ).replace("<figure>", f'<figure class="rule" data-rule="{escape(rule.name)}">', 1)


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


def span_text(seconds: int) -> str:
    for unit, size_ in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size_ and seconds % size_ == 0:
            return f"{seconds // size_} {unit}"
    return f"{seconds} s"


def lasted(seconds: int) -> str:
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


def _local(second: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(second, timezone.utc).astimezone()
    except (OverflowError, OSError, ValueError):
        return None


def _utc_offset(second: int) -> int:
    moment = _local(second)
    offset = moment.utcoffset() if moment else None
    return int(offset.total_seconds()) if offset else 0


def zone(second: int | None) -> str:
    moment = _local(second if second is not None else 0)
    if moment is None:
        return "UTC"
    offset = _utc_offset(second or 0)
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    name = moment.tzname() or ""
    utc = f"UTC{sign}{hours:02d}:{minutes:02d}"
    return utc if name in ("", "UTC", utc) else f"{name}, {utc}"


def when(second: int) -> str:
    """A local time for people: 2019-02-07 22:11:00."""
    moment = _local(second)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else local_time(second)


def clock(second: int) -> str:
    moment = _local(second)
    return moment.strftime("%H:%M:%S") if moment else local_time(second)
