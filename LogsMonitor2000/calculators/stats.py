"""Stats of a tumbling window (SPEC §4 and §6): hits, top lists, status classes, bytes,
and for MongoDB operations, duration percentiles and the slowest query shapes.

The same calculators, ``bounded``, count the whole run for the summary (SPEC §6): their
top lists and percentiles then stay within a fixed memory however many distinct keys
and durations the run has (``bounded.py``), where a window's are exact.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from ..checkpoint import validate as checked
from ..pipeline.batch import SLOWEST_KEPT, Batch, SlowQuery, slow_queries
from ..reports import HttpStatsReport, LogStatsReport, MongoStatsReport, Percentiles, Top
from .bounded import TOP_CAPACITY, DurationSketch, TopCounts


@dataclass
class Carried:
    """What the run's formats carry beyond the common fields, so what HTTP stats report
    (set as the inputs' formats become known)."""

    vhost: bool = False
    duration: bool = False
    #: Events come over syslog, with the HOSTNAME of their messages.
    hosts: bool = False


class _Counted:
    """What HTTP and logging stats share: events, top sections and sources, the syslog
    hosts, and counts by status class (by level for logging records)."""

    hits: int
    sections: TopCounts
    sources: TopCounts
    hosts: TopCounts
    statuses: dict[str, int]

    def __init__(
        self, *, top_n: int, bounded: bool = False, carried: Carried | None = None
    ) -> None:
        self.top_n = top_n
        self.bounded = bounded
        self.carried = carried or Carried()
        self.reset()

    def count(self, batch: Batch) -> None:
        self.hits += batch.hits
        self.sections.add(batch.sections)
        self.sources.add(batch.sources)
        if batch.hosts:
            self.hosts.add(batch.hosts)
        statuses = self.statuses
        for status, count in batch.statuses.items():
            statuses[status] = statuses.get(status, 0) + count

    def reset(self) -> None:
        capacity = self._capacity()
        self.hits = 0
        self.sections = TopCounts(capacity)
        self.sources = TopCounts(capacity)
        self.hosts = TopCounts(capacity)
        self.statuses = {}

    def _capacity(self) -> int | None:
        return TOP_CAPACITY if self.bounded else None

    def _copy_into(self, twin: _Counted) -> None:
        twin.hits, twin.statuses = self.hits, dict(self.statuses)
        twin.sections, twin.sources = self.sections.copy(), self.sources.copy()
        twin.hosts = self.hosts.copy()

    def to_json(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "sections": self.sections.to_json(),
            "sources": self.sources.to_json(),
            "hosts": self.hosts.to_json(),
            "statuses": self.statuses,
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.hits = checked.count(data["hits"])
        self.sections.restore(data["sections"])
        self.sources.restore(data["sources"])
        if "hosts" in data:  # (not in older checkpoints)
            self.hosts.restore(data["hosts"])
        self.statuses = checked.counts(data["statuses"])


class HttpStats(_Counted):
    """Hits, top sections and sources, status classes and bytes of a window; the top
    virtual hosts and request-time percentiles when the formats carry them."""

    vhosts: TopCounts
    bytes_total: int
    durations: DurationSketch

    def count(self, batch: Batch) -> None:
        super().count(batch)
        if batch.vhosts:
            self.vhosts.add(batch.vhosts)
        self.bytes_total += batch.bytes_total
        self.durations.add(batch.durations_ms)

    def reset(self) -> None:
        super().reset()
        self.vhosts = TopCounts(self._capacity())
        self.bytes_total = 0
        #: Request times (ms): exact in a window, a sketch for the whole run.
        self.durations = DurationSketch() if self.bounded else DurationSketch(exact_limit=None)

    def copy(self) -> HttpStats:
        twin = HttpStats(top_n=self.top_n, bounded=self.bounded, carried=self.carried)
        self._copy_into(twin)
        twin.bytes_total = self.bytes_total
        twin.vhosts, twin.durations = self.vhosts.copy(), self.durations.copy()
        return twin

    def to_json(self) -> dict[str, Any]:
        return super().to_json() | {
            "vhosts": self.vhosts.to_json(),
            "bytes": self.bytes_total,
            "durations": self.durations.to_json(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        super().restore(data)
        self.vhosts.restore(data["vhosts"])
        self.bytes_total = checked.count(data["bytes"])
        self.durations.restore(data["durations"])

    def report(self, start: int, end: int) -> HttpStatsReport:
        return HttpStatsReport(
            start=start,
            end=end,
            hits=self.hits,
            sections=self.sections.top(self.top_n),
            sources=self.sources.top(self.top_n),
            status=dict(sorted(self.statuses.items())),
            bytes_total=self.bytes_total,
            vhosts=(
                self.vhosts.top(self.top_n) if self.carried.vhost or self.vhosts.counts else None
            ),
            duration=percentiles(self.durations),
            hosts=hosts_top(self.hosts, self.top_n, self.carried),
        )


class MongoStats:
    """Operations, top namespaces and operations, duration percentiles and the slowest
    query shapes of a window."""

    hits: int
    sections: TopCounts
    methods: TopCounts
    hosts: TopCounts
    #: Known durations (ms): exact in a window, a sketch for the whole run.
    durations: DurationSketch
    #: The slowest queries so far.
    slowest: list[SlowQuery]

    def __init__(
        self, *, top_n: int, bounded: bool = False, carried: Carried | None = None
    ) -> None:
        self.top_n = top_n
        self.bounded = bounded
        self.carried = carried or Carried()
        self.reset()

    def count(self, batch: Batch) -> None:
        self.hits += batch.hits
        self.sections.add(batch.sections)
        self.methods.add(batch.methods)
        if batch.hosts:
            self.hosts.add(batch.hosts)
        self.durations.add(batch.durations_ms)
        if batch.slowest:
            self.slowest = heapq.nlargest(SLOWEST_KEPT, self.slowest + batch.slowest)

    def reset(self) -> None:
        capacity = TOP_CAPACITY if self.bounded else None
        self.hits = 0
        self.sections = TopCounts(capacity)
        self.methods = TopCounts(capacity)
        self.hosts = TopCounts(capacity)
        self.durations = DurationSketch() if self.bounded else DurationSketch(exact_limit=None)
        self.slowest = []

    def copy(self) -> MongoStats:
        twin = MongoStats(top_n=self.top_n, bounded=self.bounded, carried=self.carried)
        twin.hits, twin.slowest = self.hits, list(self.slowest)
        twin.sections, twin.methods = self.sections.copy(), self.methods.copy()
        twin.hosts = self.hosts.copy()
        twin.durations = self.durations.copy()
        return twin

    def to_json(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "sections": self.sections.to_json(),
            "methods": self.methods.to_json(),
            "hosts": self.hosts.to_json(),
            "durations": self.durations.to_json(),
            "slowest": [list(query) for query in self.slowest],
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.hits = checked.count(data["hits"])
        self.sections.restore(data["sections"])
        self.methods.restore(data["methods"])
        if "hosts" in data:  # (not in older checkpoints)
            self.hosts.restore(data["hosts"])
        self.durations.restore(data["durations"])
        self.slowest = slow_queries(data["slowest"])

    def report(self, start: int, end: int) -> MongoStatsReport:
        return MongoStatsReport(
            start=start,
            end=end,
            hits=self.hits,
            sections=self.sections.top(self.top_n),
            methods=self.methods.top(self.top_n),
            duration=percentiles(self.durations),
            slowest=self.slowest,
            hosts=hosts_top(self.hosts, self.top_n, self.carried),
        )


#: Levels shown most severe first (others after them, by name).
SEVERITY = ("CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "INFO", "DEBUG", "NOTSET")


class LogStats(_Counted):
    """Records, top loggers and senders, levels and exception types of a window of
    Python logging records (a Batch's ``sections``, ``sources``, ``statuses`` and
    ``methods``)."""

    exceptions: TopCounts

    def count(self, batch: Batch) -> None:
        super().count(batch)
        if batch.methods:
            self.exceptions.add(batch.methods)

    def reset(self) -> None:
        super().reset()
        self.exceptions = TopCounts(self._capacity())

    def copy(self) -> LogStats:
        twin = LogStats(top_n=self.top_n, bounded=self.bounded, carried=self.carried)
        self._copy_into(twin)
        twin.exceptions = self.exceptions.copy()
        return twin

    def to_json(self) -> dict[str, Any]:
        return super().to_json() | {"exceptions": self.exceptions.to_json()}

    def restore(self, data: dict[str, Any]) -> None:
        super().restore(data)
        self.exceptions.restore(data["exceptions"])

    def report(self, start: int, end: int) -> LogStatsReport:
        order = {level: i for i, level in enumerate(SEVERITY)}
        levels = sorted(self.statuses.items(), key=lambda item: (order.get(item[0], 99), item[0]))
        return LogStatsReport(
            start=start,
            end=end,
            hits=self.hits,
            sections=self.sections.top(self.top_n),
            sources=self.sources.top(self.top_n),
            levels=dict(levels),
            exceptions=self.exceptions.top(self.top_n),
            hosts=hosts_top(self.hosts, self.top_n, self.carried),
        )


def hosts_top(hosts: TopCounts, top_n: int, carried: Carried) -> Top | None:
    """The top syslog HOSTNAMEs when events come over syslog (None otherwise)."""
    return hosts.top(top_n) if carried.hosts or hosts.counts else None


def percentiles(durations: DurationSketch) -> Percentiles | None:
    """p50, p95, p99 and max of the durations, None when there are none."""
    found = durations.percentiles()
    if found is None:
        return None
    p50, p95, p99, most = found
    return Percentiles(p50=p50, p95=p95, p99=p99, max=most)
