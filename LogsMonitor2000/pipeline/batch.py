"""Per-second aggregates: all that the pipeline keeps of events.

A ``Batch`` holds the accepted events of one second of event time, folded into counts
(plain dicts: a dict subscript is twice as fast as a Counter's) as the parser reads them: a million lines in one second are one Batch, and no object
outlives the line it came from.  Batches are what the reorderer buffers, what windows
hold and what calculators count and discount.

HTTP events fill ``sources``, ``statuses`` and ``bytes_total`` (and ``vhosts`` and
``durations_ms`` when the format carries a virtual host and a request time); MongoDB
operations fill ``methods``, ``durations_ms`` and ``slowest``; Python logging records
fill ``sources`` (their senders), ``statuses`` (their levels) and ``methods`` (the types
of their exceptions).  ``hits`` and ``sections`` are common, and so are ``hosts``: the
HOSTNAME of the syslog messages events came in.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..checkpoint import validate as checked

Key = TypeVar("Key")

#: How many of a second's slowest query shapes a Batch keeps (the text output shows 3).
SLOWEST_KEPT = 3

#: One slow operation: (duration in ms, namespace, operation, masked query shape).
SlowQuery = tuple[float, str, str, str]


def add_counts(total: dict[Key, int], part: Mapping[Key, int]) -> None:
    """``total += part``, touching only the keys of ``part``."""
    if not total:  # a window's first Batch: copied in C
        total.update(part)
        return
    get = total.get
    for key, count in part.items():
        total[key] = get(key, 0) + count


@dataclass(slots=True)
class Batch:
    """The accepted events of the second ``second`` (seconds since the epoch, UTC)."""

    second: int
    hits: int = 0
    sections: dict[str, int] = field(default_factory=dict)
    # HTTP
    sources: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    bytes_total: int = 0
    vhosts: dict[str, int] = field(default_factory=dict)
    # MongoDB
    methods: dict[str, int] = field(default_factory=dict)
    durations_ms: list[float] = field(default_factory=list)
    slowest: list[SlowQuery] = field(default_factory=list)
    # Events received over syslog
    hosts: dict[str, int] = field(default_factory=dict)

    def add_slow(self, query: SlowQuery) -> None:
        """Keep ``query`` if it is among the second's ``SLOWEST_KEPT`` slowest."""
        if len(self.slowest) < SLOWEST_KEPT:
            heapq.heappush(self.slowest, query)
        elif query > self.slowest[0]:
            heapq.heapreplace(self.slowest, query)

    def merge(self, other: Batch) -> None:
        """Fold ``other`` (the same second, counted elsewhere) into this batch."""
        self.hits += other.hits
        self._add_counts_of(other)

    def take_counts(self, other: Batch) -> None:
        """Move everything of ``other`` but its hits into this batch (a Batch of the
        same stats window: see ``parallel.py``)."""
        self._add_counts_of(other)
        other.bytes_total = 0
        other.sections, other.sources, other.statuses, other.vhosts = {}, {}, {}, {}
        other.methods, other.durations_ms, other.slowest, other.hosts = {}, [], [], {}

    def _add_counts_of(self, other: Batch) -> None:
        self.bytes_total += other.bytes_total
        add_counts(self.sections, other.sections)
        add_counts(self.sources, other.sources)
        add_counts(self.statuses, other.statuses)
        add_counts(self.vhosts, other.vhosts)
        add_counts(self.methods, other.methods)
        add_counts(self.hosts, other.hosts)
        self.durations_ms.extend(other.durations_ms)
        for query in other.slowest:
            self.add_slow(query)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--state`` checkpoints)."""
        return {
            "second": self.second,
            "hits": self.hits,
            "sections": dict(self.sections),
            "sources": dict(self.sources),
            "statuses": dict(self.statuses),
            "bytes": self.bytes_total,
            "vhosts": dict(self.vhosts),
            "methods": dict(self.methods),
            "durations_ms": self.durations_ms,
            "slowest": [list(query) for query in self.slowest],
            "hosts": dict(self.hosts),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Batch:
        """The inverse of ``to_json``."""
        return cls(
            second=checked.integer(data["second"]),
            hits=checked.count(data["hits"]),
            sections=checked.counts(data["sections"]),
            sources=checked.counts(data["sources"]),
            statuses=checked.counts(data["statuses"]),
            bytes_total=checked.count(data["bytes"]),
            vhosts=checked.counts(data["vhosts"]),
            methods=checked.counts(data["methods"]),
            durations_ms=[checked.duration(ms) for ms in checked.listed(data["durations_ms"])],
            slowest=slow_queries(data["slowest"]),
            hosts=checked.counts(data.get("hosts", {})),  # (not in older checkpoints)
        )


def slow_queries(data: Any) -> list[SlowQuery]:
    """Slow queries read back from a checkpoint, as a heap."""
    queries = []
    for item in checked.listed(data):
        ms, namespace, operation, shape = checked.listed(item)
        queries.append(
            (
                checked.duration(ms),
                checked.text(namespace),
                checked.text(operation),
                checked.text(shape),
            )
        )
    heapq.heapify(queries)
    return queries
