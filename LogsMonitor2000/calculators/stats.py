"""Stats of a tumbling window (SPEC §4 and §6): hits, top lists, status classes, bytes,
and for MongoDB operations, duration percentiles and the slowest query shapes."""

from __future__ import annotations

import heapq
from collections import Counter

from ..batch import SLOWEST_KEPT, Batch, SlowQuery
from ..records import HttpStatsReport, MongoStatsReport, Percentiles
from .counting import add_counts, nearest_rank, subtract_counts, top


class HttpStats:
    """Hits, top sections and sources, status classes and bytes of a window."""

    def __init__(self, *, top_n: int) -> None:
        self.top_n = top_n
        self.hits = 0
        self.sections: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.bytes_total = 0

    def count(self, batch: Batch) -> None:
        self.hits += batch.hits
        add_counts(self.sections, batch.sections)
        add_counts(self.sources, batch.sources)
        add_counts(self.statuses, batch.statuses)
        self.bytes_total += batch.bytes_total

    def discount(self, batch: Batch) -> None:
        self.hits -= batch.hits
        subtract_counts(self.sections, batch.sections)
        subtract_counts(self.sources, batch.sources)
        subtract_counts(self.statuses, batch.statuses)
        self.bytes_total -= batch.bytes_total

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
        self.sections: Counter[str] = Counter()
        self.methods: Counter[str] = Counter()
        #: Known durations (ms) as a multiset.
        self.durations: Counter[float] = Counter()
        #: The per-second slowest queries of the window's Batches, as a multiset.
        self.slow_candidates: Counter[SlowQuery] = Counter()

    def count(self, batch: Batch) -> None:
        self.hits += batch.hits
        add_counts(self.sections, batch.sections)
        add_counts(self.methods, batch.methods)
        add_counts(self.durations, Counter(batch.durations_ms))
        add_counts(self.slow_candidates, Counter(batch.slowest))

    def discount(self, batch: Batch) -> None:
        self.hits -= batch.hits
        subtract_counts(self.sections, batch.sections)
        subtract_counts(self.methods, batch.methods)
        subtract_counts(self.durations, Counter(batch.durations_ms))
        subtract_counts(self.slow_candidates, Counter(batch.slowest))

    def report(self, start: int, end: int) -> MongoStatsReport:
        return MongoStatsReport(
            start=start,
            end=end,
            hits=self.hits,
            sections=top(self.sections, self.top_n),
            methods=top(self.methods, self.top_n),
            duration=percentiles(self.durations),
            slowest=heapq.nlargest(SLOWEST_KEPT, self.slow_candidates.elements()),
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
