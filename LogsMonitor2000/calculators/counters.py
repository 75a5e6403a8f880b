"""The counters behind ``/metrics``: monotonic, and with a bounded set of labels.

Prometheus wants counters that only go up and labels that don't explode.  Every
closed Batch is counted once (the window is a ``Tap``: never discounted, never
checkpointed - a restart starts the counters over, which Prometheus reads as a
reset).  The first ``FIRST_SEEN`` distinct sections (MongoDB namespaces, operations)
get a label of their own as they come - most sites have fewer - and a later one gets
one once it is among the run's busiest (``label``, asked with the summary's top
list), up to ``MAX_LABELS`` in all.  A key's events count under its label from then
on; the others' - and a promoted key's from before - under ``other``.  So the labels
add up to every event, no counter ever goes down, and ``rate()`` of a label is that
key's traffic since it got one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from ..bounds import add_capped
from ..families import Family
from ..families.base import BOUNDED, BY, HISTOGRAM, TOTAL, Counter
from ..pipeline.batch import Batch

#: The most keys with a label of their own, per list, and how many of them are given
#: to the first keys seen.
MAX_LABELS = 50
FIRST_SEEN = 40
#: The label of every other key.
OTHER = "other"
#: The duration histogram's upper bounds, in seconds (Prometheus' default buckets).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Labelled:
    """Counts per key, for the keys given a label, and ``other``."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {OTHER: 0}

    def add(self, part: dict[str, int]) -> None:
        counts = self.counts
        other = 0
        for key, count in part.items():
            if key in counts and key != OTHER:
                counts[key] += count
            elif len(counts) <= FIRST_SEEN and key != OTHER:  # (other is one of them)
                counts[key] = count
            else:
                other += count
        counts[OTHER] += other

    def label(self, keys: Iterable[str]) -> None:
        counts = self.counts
        for key in keys:
            if key not in counts and len(counts) <= MAX_LABELS:  # (other is one of them)
                counts[key] = 0


class EventCounters:
    """Every event the windows were handed, counted as the family's ``/metrics``
    counters say (``families/base.py``)."""

    def __init__(self, family: Family) -> None:
        self.family = family
        #: Per counter: an int (``TOTAL``), a dict (``BY``), a ``Labelled``
        #: (``BOUNDED``) or a ``Histogram``.
        self.values: list[Any] = [_empty(counter.kind) for counter in family.counters]

    def count(self, batch: Batch) -> None:
        for i, counter in enumerate(self.family.counters):
            part = getattr(batch, counter.field)
            kind = counter.kind
            if kind == TOTAL:
                self.values[i] += part
            elif kind == BY:
                add_capped(self.values[i], part)
            elif part:
                self.values[i].add(part)

    def label(self, field: str, keys: Iterable[str]) -> None:
        """The summary's busiest keys of ``field`` get a label of their own."""
        for counter, value in zip(self.family.counters, self.values):
            if counter.kind == BOUNDED and counter.field == field:
                value.label(keys)

    def counted(self) -> list[tuple[Counter, Any]]:
        """Each counter with its value, in order."""
        return list(zip(self.family.counters, self.values))


class Histogram:
    """Durations (ms) in Prometheus' buckets (``BUCKETS``, in seconds)."""

    def __init__(self) -> None:
        #: Per bucket (and one past the last): durations at or under it.
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.sum_seconds = 0.0
        self.count = 0

    def add(self, durations_ms: list[float]) -> None:
        buckets = self.buckets
        for ms in durations_ms:
            buckets[bisect_left(BUCKETS, ms / 1000)] += 1
        self.sum_seconds += sum(durations_ms) / 1000
        self.count += len(durations_ms)

    def cumulative(self) -> list[int]:
        """How many durations are at or under each bound of ``BUCKETS``, then all."""
        total, cumulative = 0, []
        for count in self.buckets:
            total += count
            cumulative.append(total)
        return cumulative


def _empty(kind: str) -> Any:
    if kind == TOTAL:
        return 0
    if kind == BY:
        return {}
    if kind == BOUNDED:
        return Labelled()
    assert kind == HISTOGRAM
    return Histogram()
