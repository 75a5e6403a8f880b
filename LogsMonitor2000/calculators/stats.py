"""Stats of a tumbling window (SPEC §4 and §6): hits, top lists, status classes, bytes,
and for MongoDB operations, duration percentiles and the slowest query shapes."""

from __future__ import annotations

import heapq
from collections import Counter
from typing import Any

from ..batch import SLOWEST_KEPT, Batch, SlowQuery, add_counts
from ..records import HttpStatsReport, MongoStatsReport, Percentiles
from .counting import nearest_rank, top


class HttpStats:
    """Hits, top sections and sources, status classes and bytes of a window."""

    def __init__(self, *, top_n: int) -> None:
        self.top_n = top_n
        self.hits = 0
        self.sections: dict[str, int] = {}
        self.sources: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.bytes_total = 0

    def count(self, batch: Batch) -> None:
        self.hits += batch.hits
        add_counts(self.sections, batch.sections)
        add_counts(self.sources, batch.sources)
        add_counts(self.statuses, batch.statuses)
        self.bytes_total += batch.bytes_total

    def reset(self) -> None:
        self.hits = 0
        self.sections = {}
        self.sources = {}
        self.statuses = {}
        self.bytes_total = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "sections": self.sections,
            "sources": self.sources,
            "statuses": self.statuses,
            "bytes": self.bytes_total,
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.hits = int(data["hits"])
        self.sections = dict(data["sections"])
        self.sources = dict(data["sources"])
        self.statuses = dict(data["statuses"])
        self.bytes_total = int(data["bytes"])

    def report(self, start: int, end: int) -> HttpStatsReport:
        return HttpStatsReport(
            start=start,
            end=end,
            hits=self.hits,
            sections=top(self.sections, self.top_n),
            sources=top(self.sources, self.top_n),
            status=dict(sorted(self.statuses.items())),
            bytes_total=self.bytes_total,
        )


class MongoStats:
    """Operations, top namespaces and operations, duration percentiles and the slowest
    query shapes of a window."""

    def __init__(self, *, top_n: int) -> None:
        self.top_n = top_n
        self.hits = 0
        self.sections: dict[str, int] = {}
        self.methods: dict[str, int] = {}
        #: Known durations (ms) as a multiset.
        self.durations: Counter[float] = Counter()
        #: The window's slowest queries so far.
        self.slowest: list[SlowQuery] = []

    def count(self, batch: Batch) -> None:
        self.hits += batch.hits
        add_counts(self.sections, batch.sections)
        add_counts(self.methods, batch.methods)
        self.durations.update(batch.durations_ms)
        self.slowest = heapq.nlargest(SLOWEST_KEPT, self.slowest + batch.slowest)

    def reset(self) -> None:
        self.hits = 0
        self.sections = {}
        self.methods = {}
        self.durations = Counter()
        self.slowest = []

    def to_json(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "sections": self.sections,
            "methods": self.methods,
            "durations": [[ms, count] for ms, count in self.durations.items()],
            "slowest": [list(query) for query in self.slowest],
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.hits = int(data["hits"])
        self.sections = dict(data["sections"])
        self.methods = dict(data["methods"])
        self.durations = Counter({float(ms): int(count) for ms, count in data["durations"]})
        self.slowest = [
            (float(ms), str(ns), str(op), str(shape)) for ms, ns, op, shape in data["slowest"]
        ]

    def report(self, start: int, end: int) -> MongoStatsReport:
        return MongoStatsReport(
            start=start,
            end=end,
            hits=self.hits,
            sections=top(self.sections, self.top_n),
            methods=top(self.methods, self.top_n),
            duration=percentiles(self.durations),
            slowest=self.slowest,
        )


def percentiles(durations: Counter[float]) -> Percentiles | None:
    """p50, p95, p99 and max of a multiset of durations, None when it is empty."""
    total = durations.total()
    if total == 0:
        return None
    ordered = sorted(durations.items())
    return Percentiles(
        p50=nearest_rank(ordered, total, 50),
        p95=nearest_rank(ordered, total, 95),
        p99=nearest_rank(ordered, total, 99),
        max=ordered[-1][0],
    )
