"""What the pictures remember of a run: a bounded timeline, the alert periods, the
last alerts.

The HTML report, the live page and the dashboard draw the whole run, however long it
is, from at most ``MAX_POINTS`` timeline points.  A point starts as one stats window;
when there would be more, the grid doubles (a point then stands for two windows'
time, then four...) and adjacent points are merged pairwise, so memory is bounded
and every point still covers an aligned span of the same length: its hits over its
span is the rate at that time, quiet seconds included.  Alert periods are bounded
too: the two closest neighbours are merged into one.  Nothing here is computed from
events: only the records the calculators reported are remembered.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..families.base import CLASSES, PERCENTILES
from ..reports import AlertReport, Report, StatsReport

#: The most timeline points (and alert periods) kept.
MAX_POINTS = 2000
#: How many of the last alerts and recoveries are kept for the dashboard.
RECENT_ALERTS = 5


@dataclass(slots=True)
class Point:
    """The stats windows of the span ``[start, end)``, added up."""

    start: int
    end: int
    hits: int
    #: The counts of the charted classes (HTTP: the status classes).
    status: dict[str, int] = field(default_factory=dict)
    #: p50, p95 and p99 in ms (the largest of each among the windows merged), when
    #: the windows had durations.
    duration: tuple[float, float, float] | None = None

    def merge(self, other: Point, end: int) -> None:
        self.end = end
        self.hits += other.hits
        for key, count in other.status.items():
            self.status[key] = self.status.get(key, 0) + count
        if other.duration is not None:
            if self.duration is None:
                self.duration = other.duration
            else:
                p50, p95, p99 = zip(self.duration, other.duration)
                self.duration = (max(p50), max(p95), max(p99))


@dataclass(slots=True)
class Period:
    """An alert from ``start`` to ``end`` (None: still active)."""

    start: int
    end: int | None


class History:
    """The records of a run, kept for drawing (see the module's docstring)."""

    def __init__(self, interval: int, *, max_points: int = MAX_POINTS) -> None:
        #: The span of one point: the stats interval, doubled as often as needed.
        self.span = interval
        self.max_points = max_points
        self.points: list[Point] = []
        #: Per rule (by name, in the order they first came): its alert periods, and
        #: the chart it is drawn on.
        self.periods: dict[str, list[Period]] = {}
        self.charts: dict[str, str] = {}
        self.recent: deque[AlertReport] = deque(maxlen=RECENT_ALERTS)
        #: The last stats window (as reported, not merged).
        self.latest: StatsReport | None = None
        #: How many records have been added (the live page's version), and the run
        #: whose records they are (the live server's: the page's events name it).
        self.records = 0
        self.run = ""

    def add(self, record: Report) -> None:
        self.records += 1
        if isinstance(record, StatsReport):
            self.latest = record
            self.add_point(point_of(record))
            return
        assert isinstance(record, AlertReport)
        self.recent.append(record)
        periods = self.periods.setdefault(record.rule, [])
        self.charts[record.rule] = record.chart
        if record.raised:
            periods.append(Period(record.time, None))
            if len(periods) > self.max_points:
                _merge_closest(periods)
        elif periods and periods[-1].end is None:
            periods[-1].end = record.time

    def periods_on(self, chart: str) -> list[Period]:
        """The alert periods of the rules drawn on ``chart``, in time order."""
        found = [
            period
            for rule, periods in self.periods.items()
            if self.charts[rule] == chart
            for period in periods
        ]
        return sorted(found, key=lambda period: period.start)

    def add_point(self, point: Point) -> None:
        """Add a stats window's point (``add`` does it for a ``StatsReport``; a store
        keeps them for a live page's past)."""
        points, span = self.points, self.span
        start = point.start - point.start % span
        if points and points[-1].start == start:
            points[-1].merge(point, start + span)
            return
        point.start, point.end = start, start + span
        points.append(point)
        if len(points) > self.max_points:
            self._coarsen()

    def _coarsen(self) -> None:
        """Double the span of a point and merge the points that now share one."""
        self.span *= 2
        span = self.span
        merged: list[Point] = []
        for point in self.points:
            start = point.start - point.start % span
            if merged and merged[-1].start == start:
                merged[-1].merge(point, start + span)
            else:
                point.start, point.end = start, start + span
                merged.append(point)
        self.points = merged


def _merge_closest(periods: list[Period]) -> None:
    """Merge the two neighbouring (ended) periods with the shortest gap between them."""
    gaps = (periods[i + 1].start - (periods[i].end or 0) for i in range(len(periods) - 2))
    i = min(enumerate(gaps), key=lambda item: item[1])[0]
    periods[i].end = periods.pop(i + 1).end


def point_of(report: StatsReport) -> Point:
    duration = None
    found = report.figure(PERCENTILES)
    if found is not None:
        duration = (found.value.p50, found.value.p95, found.value.p99)
    charted = report.figure(CLASSES, chart=True)
    status = dict(charted.value) if charted is not None else {}
    return Point(report.start, report.end, report.hits, status, duration)
