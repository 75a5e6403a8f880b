"""Counts of a whole run in bounded memory (docs/counting.md, "The summary"): top lists and duration percentiles.

* ``TopCounts`` counts keys exactly while it holds at most ``capacity`` of them (10,000).
  Past that it is Space-Saving (Metwally, Agrawal and El Abbadi, 2005), with weights: a
  new key takes the place of the smallest one and starts at its count, which it may
  overstate by at most that much (``overcount``).  A reported count is then an upper
  bound, ``count - overcount`` a lower one, and no count is over by more than
  ``total / capacity``.
* ``DurationSketch`` keeps durations exactly while there are at most
  ``EXACT_DURATIONS`` distinct values, then as log-spaced buckets (as DDSketch does):
  a percentile is then within 1% of the true value; the maximum stays exact.

Windows need neither: a window's counts are exact (``stats.py``).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ..checkpoint import validate
from ..pipeline.batch import add_counts
from .counting import nearest_rank, top

#: Keys a top list counts exactly, and the Space-Saving capacity beyond.
TOP_CAPACITY = 10_000
#: Distinct durations kept as they are before the sketch takes over.
EXACT_DURATIONS = 10_000
#: The sketch's relative accuracy, and the ratio of its buckets' bounds.
RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)

#: A top list entry: (key, count), or (key, count, overcount) for estimates.
Entry = tuple[str, int] | tuple[str, int, int]


class TopCounts:
    """Counts of keys: exact up to ``capacity`` keys (always, when it is None),
    Space-Saving estimates beyond."""

    def __init__(self, capacity: int | None = TOP_CAPACITY) -> None:
        self.capacity = capacity
        self.counts: dict[str, int] = {}
        #: How much each count may be over (keys that came in after the list was full).
        self.overcounts: dict[str, int] = {}
        #: Whether a key was ever pushed out: the counts are estimates from then on.
        self.estimated = False
        #: (count when pushed, key): each key has an entry at or below its count, so
        #: the smallest is found by looking at the top (see ``_pop_smallest``).
        self._heap: list[tuple[int, str]] = []

    def add(self, part: Mapping[str, int]) -> None:
        counts, capacity = self.counts, self.capacity
        if capacity is None or len(counts) + len(part) <= capacity:  # exact
            add_counts(counts, part)
            return
        for key, weight in part.items():
            count = counts.get(key)
            if count is not None:
                counts[key] = count + weight
            elif len(counts) < capacity:
                counts[key] = weight
                if self._heap:
                    heapq.heappush(self._heap, (weight, key))
            else:
                smallest, floor = self._pop_smallest()
                del counts[smallest]
                self.overcounts.pop(smallest, None)
                counts[key] = floor + weight
                self.overcounts[key] = floor
                self.estimated = True
                heapq.heappush(self._heap, (floor + weight, key))

    def top(self, n: int) -> list[Entry]:
        """The ``n`` largest counts, count descending then key ascending; with their
        overcounts once the counts are estimates."""
        best = top(self.counts, n)
        if not self.estimated:
            return list(best)
        over = self.overcounts
        return [(key, count, over.get(key, 0)) for key, count in best]

    def _pop_smallest(self) -> tuple[str, int]:
        heap, counts = self._heap, self.counts
        if not heap or len(heap) > 2 * len(counts):
            heap[:] = [(count, key) for key, count in counts.items()]
            heapq.heapify(heap)
        while True:
            pushed, key = heap[0]
            count = counts.get(key)
            if count is None:  # pushed out already
                heapq.heappop(heap)
            elif count != pushed:  # it grew since: look again
                heapq.heapreplace(heap, (count, key))
            else:
                heapq.heappop(heap)
                return key, count

    def merge(self, other: TopCounts) -> None:
        """Add ``other``'s counts (and overcounts): the counts of both parts, exact
        while the two together have at most ``capacity`` keys."""
        if not self.counts and not self.estimated:  # (a copy)
            self.counts = dict(other.counts)
            self.overcounts = dict(other.overcounts)
            self.estimated = other.estimated
            self._heap = []
            return
        self.add(other.counts)
        for key, over in other.overcounts.items():
            if key in self.counts:
                self.overcounts[key] = self.overcounts.get(key, 0) + over
        self.estimated = self.estimated or other.estimated

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts, "overcounts": self.overcounts, "estimated": self.estimated}

    def restore(self, data: dict[str, Any]) -> None:
        self.counts = validate.counts(data["counts"])
        self.overcounts = validate.counts(data["overcounts"])
        self.estimated = validate.boolean(data["estimated"])
        if self.capacity is not None and len(self.counts) > self.capacity:
            raise ValueError("more keys than the top list keeps")
        self._heap = []


class DurationSketch:
    """Durations (ms): percentiles exact while at most ``exact_limit`` values are
    distinct (always, when it is None), within ``RELATIVE_ACCURACY`` past that."""

    def __init__(self, exact_limit: int | None = EXACT_DURATIONS) -> None:
        self.exact_limit = exact_limit
        #: Distinct values and their counts, until there are too many.
        self.exact: Counter[float] | None = Counter()
        #: Bucket i holds the values in (GAMMA ** (i - 1), GAMMA ** i]; zeros apart.
        self.buckets: dict[int, int] = {}
        self.zeros = 0
        self.count = 0
        self.max = 0.0
        #: Their sum (an average's numerator).
        self.total = 0.0

    def add(self, values: list[float]) -> None:
        if not values:
            return
        self.count += len(values)
        self.max = max(self.max, max(values))
        self.total += sum(values)
        if self.exact is not None:
            self.exact.update(values)
            self._sketch_if_too_many()
            return
        self._bucket(Counter(values).items())

    def merge(self, other: DurationSketch) -> None:
        """Add ``other``'s durations."""
        if other.count == 0:
            return
        self.count += other.count
        self.max = max(self.max, other.max)
        self.total += other.total
        if other.exact is not None:
            if self.exact is not None:
                self.exact.update(other.exact)
                self._sketch_if_too_many()
            else:
                self._bucket(other.exact.items())
            return
        if self.exact is not None:
            exact, self.exact = self.exact, None
            self._bucket(exact.items())
        add_counts(self.buckets, other.buckets)
        self.zeros += other.zeros

    def _sketch_if_too_many(self) -> None:
        exact = self.exact
        if exact is not None and self.exact_limit is not None and len(exact) > self.exact_limit:
            self.exact = None
            self._bucket(exact.items())

    def _bucket(self, counted: Iterable[tuple[float, int]]) -> None:
        buckets = self.buckets
        for value, n in counted:
            if value <= 0.0:
                self.zeros += n
            else:
                index = math.ceil(math.log(value) / _LOG_GAMMA)
                buckets[index] = buckets.get(index, 0) + n

    def percentiles(self) -> tuple[float, float, float, float] | None:
        """p50, p95, p99 (nearest rank) and the maximum; None without durations."""
        if self.count == 0:
            return None
        if self.exact is not None:
            ordered = sorted(self.exact.items())
        else:
            ordered = [(0.0, self.zeros)] if self.zeros else []
            ordered += [
                (min(self.max, 2 * GAMMA**index / (GAMMA + 1)), count)
                for index, count in sorted(self.buckets.items())
            ]
        p50, p95, p99 = (nearest_rank(ordered, self.count, p) for p in (50, 95, 99))
        return p50, p95, p99, self.max

    def to_json(self) -> dict[str, Any]:
        return {
            "exact": None if self.exact is None else [[ms, n] for ms, n in self.exact.items()],
            "buckets": [[index, n] for index, n in self.buckets.items()],
            "zeros": self.zeros,
            "count": self.count,
            "max": self.max,
            "total": self.total,
        }

    def restore(self, data: dict[str, Any]) -> None:
        exact = data["exact"]
        self.exact = None
        if exact is not None:
            pairs = [validate.listed(pair) for pair in validate.listed(exact)]
            self.exact = Counter({validate.duration(ms): validate.count(n) for ms, n in pairs})
        pairs = [validate.listed(pair) for pair in validate.listed(data["buckets"])]
        self.buckets = {validate.integer(index): validate.count(n) for index, n in pairs}
        self.zeros, self.count = validate.count(data["zeros"]), validate.count(data["count"])
        self.max = validate.duration(data["max"])
        self.total = validate.duration(data.get("total", 0.0))  # (older checkpoints lack it)
