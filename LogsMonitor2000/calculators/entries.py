"""A panel's entries (``panels.py``, docs/panels.md): each key's hits, bytes, visitors
and request times, exact up to ``TOP_CAPACITY`` keys, then Space-Saving on the hits (a
new key takes the place of the one with the fewest and starts from its hits,
``overcount``; its bytes, visitors and times are counted from then on)."""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from typing import Any

from ..checkpoint import validate
from .bounded import TOP_CAPACITY, DurationSketch
from .distinct import packed, unpacked

#: The days whose visitors an entry keeps one by one: its first and its latest two.
KEPT_DAYS = 3
#: Request times an entry gathers before it adds them to its sketch.
FRESH_TIMES = 512
#: Request times an entry keeps as they are before its sketch takes over.
EXACT_TIMES = 64


class Entry:
    """A panel's key: its hits, bytes, visitors and request times."""

    __slots__ = ("hits", "bytes", "overcount", "done", "days", "times", "fresh", "shipped")

    def __init__(self, hits: int = 0, overcount: int = 0) -> None:
        self.hits = hits
        self.bytes = 0
        self.overcount = overcount
        #: The visitors (ids) of its first day and of its latest two, and the number
        #: of those between: a part counted elsewhere (a chunk of a file, another
        #: input) merged here may bring more of them (``KEPT_DAYS``).
        self.days: dict[str, set[int]] = {}
        self.done = 0
        self.times: DurationSketch | None = None
        #: Request times not yet in ``times`` (added a few hundred at a time).
        self.fresh: list[float] | None = None
        #: The visitors by day as another process packed them (``days`` empty
        #: meanwhile, see ``distinct.packed``).
        self.shipped: dict[str, bytes] | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        days = {day: packed(seen) for day, seen in self.visitor_days().items()}
        return self.hits, self.bytes, self.overcount, self.done, days, self.times, self.fresh

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.hits, self.bytes, self.overcount, self.done, self.shipped, self.times, self.fresh = (
            state
        )
        self.days = {}

    def visitor_days(self) -> Mapping[str, Collection[int]]:
        """The ids of its visitors by day (sets, or shipped ones: arrays)."""
        shipped = self.shipped
        if shipped is None:
            return self.days
        return {day: unpacked(blob) for day, blob in shipped.items()}

    def seen_on(self, day: str) -> set[int] | None:
        """The visitors of ``day`` (a new set for a new day); None for a day before the
        two it keeps (its visitors only counted)."""
        if self.shipped is not None:  # (counting on: sets again)
            self.days = {day: set(seen) for day, seen in self.visitor_days().items()}
            self.shipped = None
        days = self.days
        found = days.get(day)
        if found is None:
            if len(days) >= KEPT_DAYS and day < sorted(days)[-2]:
                return None
            found = days[day] = set()
            if len(days) > KEPT_DAYS:
                self.done += len(days.pop(sorted(days)[1]))
        return found

    def visit(self, day: str, visitor: int) -> None:
        seen = self.seen_on(day)
        if seen is None:
            self.done += 1
        else:
            seen.add(visitor)

    def time(self, values: list[float]) -> None:
        fresh = self.fresh
        if fresh is None:
            self.fresh = fresh = []
        fresh += values
        if len(fresh) >= FRESH_TIMES:
            self.settle_times()

    def settle_times(self) -> DurationSketch | None:
        """The request times, every one in the sketch (None: none)."""
        if self.fresh:
            if self.times is None:
                self.times = DurationSketch(EXACT_TIMES)
            self.times.add(self.fresh)
        self.fresh = None
        return self.times

    @property
    def visitors(self) -> int:
        return self.done + sum(len(seen) for seen in self.visitor_days().values())

    def merge(self, other: Entry) -> None:
        self.hits += other.hits
        self.bytes += other.bytes
        self.overcount += other.overcount
        self.done += other.done
        for day, theirs in sorted(other.visitor_days().items()):
            mine = self.seen_on(day)
            if mine is None:
                self.done += len(theirs)
            else:
                mine.update(theirs)
        sketch = other.settle_times()
        if sketch is not None:
            if self.times is None:
                self.times = DurationSketch(EXACT_TIMES)
            self.times.merge(sketch)

    def to_json(self, *, timed: bool, estimated: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"hits": self.hits, "visitors": self.visitors, "bytes": self.bytes}
        if timed:
            sketch = self.settle_times()
            found = sketch.percentiles() if sketch is not None else None
            if sketch is None or found is None:
                data.update(avg_ms=None, max_ms=None, p95_ms=None)
            else:
                data.update(
                    avg_ms=round(sketch.total / sketch.count, 3),
                    max_ms=sketch.max,
                    p95_ms=found[1],
                )
        if estimated:
            data["overcount"] = self.overcount
        return data

    def state(self) -> list[Any]:
        sketch = self.settle_times()
        times = sketch.to_json() if sketch is not None else None
        return [
            self.hits,
            self.bytes,
            self.overcount,
            self.done,
            {day: sorted(seen) for day, seen in self.visitor_days().items()},
            times,
        ]

    @classmethod
    def from_state(cls, data: Any) -> Entry:
        hits, nbytes, overcount, done, days, times = validate.listed(data)
        entry = cls(validate.count(hits), validate.count(overcount))
        entry.bytes, entry.done = validate.count(nbytes), validate.count(done)
        entry.days = {
            validate.text(day): {validate.count(visitor) for visitor in validate.listed(seen)}
            for day, seen in validate.mapping(days).items()
        }
        if len(entry.days) > KEPT_DAYS:
            raise ValueError(f"an entry keeps the visitors of {KEPT_DAYS} days")
        if times is not None:
            entry.times = DurationSketch(EXACT_TIMES)
            entry.times.restore(validate.mapping(times))
        return entry


class Gathered:
    """Visits gathered for a key before they are added to its entry once."""

    __slots__ = ("hits", "bytes", "seen", "times")

    def __init__(self) -> None:
        self.hits = self.bytes = 0
        self.seen: set[int] = set()
        self.times: list[float] | None = None

    def add_times(self, times: list[float]) -> None:
        if self.times is None:
            self.times = []
        self.times += times

    def merge(self, other: Gathered) -> None:
        self.hits += other.hits
        self.bytes += other.bytes
        self.seen |= other.seen
        if other.times is not None:
            self.add_times(other.times)

    def counts_into(self, table: Table, key: str) -> Entry:
        """Add the hits, bytes and times to ``key``'s entry (its visitors: ``into``)."""
        entry = table.entry(key, self.hits)
        entry.bytes += self.bytes
        if self.times is not None:
            entry.time(self.times)
        return entry

    def into(self, table: Table, key: str, day: str) -> None:
        entry = self.counts_into(table, key)
        seen = entry.seen_on(day)
        if seen is None:
            entry.done += len(self.seen)
        else:
            seen |= self.seen


class Table:
    """A panel's entries: exact up to ``capacity`` keys, Space-Saving beyond."""

    def __init__(self, capacity: int | None = TOP_CAPACITY) -> None:
        self.capacity = capacity
        self.entries: dict[str, Entry] = {}
        self.estimated = False
        self._heap: list[tuple[int, str]] = []

    def entry(self, key: str, hits: int) -> Entry:
        """``key``'s entry, with ``hits`` more."""
        entries = self.entries
        found = entries.get(key)
        if found is not None:
            found.hits += hits
            return found
        if self.capacity is None or len(entries) < self.capacity:
            found = entries[key] = Entry(hits)
            return found
        floor = self._pop_smallest()
        self.estimated = True
        found = entries[key] = Entry(floor + hits, floor)
        heapq.heappush(self._heap, (found.hits, key))
        return found

    def add(
        self,
        key: str,
        hits: int,
        nbytes: int,
        day: str,
        visitor: int,
        times: list[float] | None,
    ) -> None:
        """Count ``hits`` requests of ``visitor`` on ``day`` for ``key``."""
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entry(key, hits)
        else:
            entry.hits += hits
        entry.bytes += nbytes
        seen = entry.days.get(day)
        if seen is not None:
            seen.add(visitor)
        else:
            entry.visit(day, visitor)
        if times is not None:
            entry.time(times)

    def _pop_smallest(self) -> int:
        """Push out the entry with the fewest hits; its hits."""
        heap, entries = self._heap, self.entries
        if not heap or len(heap) > 2 * len(entries):
            heap[:] = [(entry.hits, key) for key, entry in entries.items()]
            heapq.heapify(heap)
        while True:
            pushed, key = heap[0]
            found = entries.get(key)
            if found is None:
                heapq.heappop(heap)
            elif found.hits != pushed:
                heapq.heapreplace(heap, (found.hits, key))
            else:
                heapq.heappop(heap)
                del entries[key]
                return found.hits

    def top(self, n: int | None) -> list[tuple[str, Entry]]:
        ranked = sorted(self.entries.items(), key=lambda item: (-item[1].hits, item[0]))
        return ranked if n is None else ranked[:n]

    def merge(self, other: Table) -> None:
        for key, theirs in other.entries.items():
            mine = self.entries.get(key)
            if mine is None:
                mine = self.entry(key, 0)
            mine.merge(theirs)
        self.estimated = self.estimated or other.estimated

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": {key: entry.state() for key, entry in self.entries.items()},
            "estimated": self.estimated,
        }

    def restore(self, data: dict[str, Any]) -> None:
        entries = validate.mapping(data["entries"])
        if self.capacity is not None and len(entries) > self.capacity:
            raise ValueError("more keys than a panel keeps")
        self.entries = {key: Entry.from_state(value) for key, value in entries.items()}
        self.estimated = validate.boolean(data["estimated"])
        self._heap = []
