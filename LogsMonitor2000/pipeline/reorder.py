"""Allowed lateness: events in arrival order in, closed seconds in time order out.

The vocabulary is bytewax's.  Every event has an *event time* ``t`` in whole seconds.
``M`` (``newest``) is the newest event time accepted so far and the *allowed lateness*
``B`` is ``--buffer``.  The *watermark* is ``M - B``:

* an event with ``t < M - B`` is *late*: it only counts in ``late``;
* any other event is accepted into the Batch of its second, even when older than M;
* a second ``s`` is *closed* once ``s < M - B``: nothing can enter it any more, so it
  leaves, in order, for the windows downstream.

::

    event time ─►   95   96   97   98   99   100
                               watermark ▲ (M = 100, B = 2)
    closed: ... 97 ─┘└─ open: 98 99 100    t = 97 is late, t = 98 is accepted

Open seconds wait in a dict keyed by second, with a heap of those seconds to release them
in order: one heap push per new second, never one per line.  The watermark never moves
backwards.  Closed seconds are handed over by ``release``, once per block read rather
than once per new second: an event can't enter a closed second (it would be late), so
the records are the same, and the windows work in bulk.

On a live input the clock moves while the reader waits for more (``idle``), so windows
keep closing during a silence: ``M = max(M, s + floor(now - t))``, where ``s`` is the
newest accepted event's second and ``t`` the wall-clock time it was read at (``now``
when the block holding it came in; events of the second ``s`` read later move ``t``
on).  A writer that stamps its lines with the current second is then never late, even
with ``B = 0``.  Nothing else moves M.  Seconds closed while the reader waits go
downstream as a *beat*: the windows after the newest event's are reported even when
empty (docs/counting.md, "Stats windows").
"""

from __future__ import annotations

import heapq
import math
from typing import Any, Protocol

from ..checkpoint import validate
from .batch import Batch


class Downstream(Protocol):
    """What the reorderer feeds: the windows."""

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> None:
        """Every second up to ``through`` is closed; ``batches`` are the newly closed
        non-empty seconds, oldest first.  ``beat`` is set when they closed while the
        reader waits: the newest event's second (the windows after its own are the
        beat of a silence)."""

    def finish(self) -> None:
        """The input ended: every second has been closed."""


class Reorderer:
    """Buffers open seconds for ``lateness_seconds`` and releases them in order."""

    def __init__(
        self, *, lateness_seconds: int, downstream: Downstream, batch: type[Batch] = Batch
    ) -> None:
        self.lateness_seconds = lateness_seconds
        self.downstream = downstream
        #: The family's Batch class (``families/``).
        self.batch = batch
        #: M, the newest accepted event time (moved on by the wall clock on live inputs).
        self.newest: int | None = None
        #: s, the newest accepted event's second, and t, the wall-clock (monotonic) time
        #: an event of that second was last read at (None: not known since a restore).
        self.event_newest: int | None = None
        self.read_at: float | None = None
        #: The wall-clock time the block being parsed was read at (set by its reader).
        self.now = 0.0
        #: The newest second the run has closed, when this is one of several inputs
        #: (``watermarks.py``): an event at or before it is late here too.
        self.floor: int | None = None
        #: The newest closed second: everything up to it has gone downstream.
        self.closed_through: int | None = None
        #: Accounting for the summary.
        self.late = 0
        self.max_lateness = 0
        self.first: int | None = None
        self.last: int | None = None
        #: The oldest event time seen, accepted or late (for ``merge``).
        self.earliest: int | None = None
        self.released_hits = 0
        self._open: dict[int, Batch] = {}
        self._heap: list[int] = []

    @property
    def accepted(self) -> int:
        """Accepted events so far, released or still open."""
        return self.released_hits + sum(batch.hits for batch in self._open.values())

    def batch_for(self, second: int) -> Batch | None:
        """The Batch an event of time ``second`` goes into, or None when it is late."""
        if self.earliest is None or second < self.earliest:
            self.earliest = second
        newest = self.newest
        if newest is None or second > newest:
            floor = self.floor
            if floor is not None and second <= floor:  # this input started late
                self._late(floor + 1 + self.lateness_seconds - second)
                return None
            batch = self._open_batch(second)
            self.newest = self.event_newest = second
            self.read_at = self.now
            return batch
        lateness = newest - second
        if lateness > self.max_lateness:
            self.max_lateness = lateness
        if lateness > self.lateness_seconds:
            self.late += 1
            return None
        floor = self.floor
        if floor is not None and second <= floor:
            self._late(floor + 1 + self.lateness_seconds - second)
            return None
        if self.event_newest is None or second >= self.event_newest:
            self.event_newest = second
            self.read_at = self.now
        return self._open.get(second) or self._open_batch(second)

    def _late(self, lateness: int) -> None:
        """An event of a second the run already closed (see ``floor``)."""
        self.max_lateness = max(self.max_lateness, lateness)
        self.late += 1

    def open_batches(self) -> list[Batch]:
        """The seconds not yet released, oldest first."""
        return [self._open[second] for second in sorted(self._open)]

    def merge(self, chunk: Reorderer) -> None:
        """Take over what another reorderer read on its own, from an empty start, as if
        its events had come here after this one's.

        With M0 this one's newest time and L the chunk's own running maximum, an event
        of the chunk is late here when ``t < max(M0, L) - B``: when it was late there,
        or when ``t < M0 - B`` - which depends on its second only, so a whole Batch is
        judged at once.  Likewise its lateness here is the larger of its lateness there
        and ``M0 - t``, largest for the chunk's earliest event."""
        m0 = self.newest
        if chunk.newest is None:
            assert chunk.late == 0
            return
        watermark = None if m0 is None else m0 - self.lateness_seconds
        for batch in chunk.open_batches():
            if watermark is not None and batch.second < watermark:
                self.late += batch.hits
                continue
            mine = self._open.get(batch.second)
            if mine is None:
                self._adopt(batch)
            else:
                mine.merge(batch)
        self.late += chunk.late
        self.max_lateness = max(self.max_lateness, chunk.max_lateness)
        if m0 is not None and chunk.earliest is not None:
            self.max_lateness = max(self.max_lateness, m0 - chunk.earliest)
        if self.earliest is None or (chunk.earliest is not None and chunk.earliest < self.earliest):
            self.earliest = chunk.earliest
        if m0 is None or chunk.newest > m0:
            self.newest = self.event_newest = chunk.newest

    def turns_away(self, second: int) -> bool:
        """Whether ``merge`` would turn events of ``second`` away as late."""
        return self.newest is not None and second < self.newest - self.lateness_seconds

    def merge_splits(self, chunk: Reorderer, span: int) -> bool:
        """Whether ``merge`` would take some of the chunk's Batches of an aligned window
        of ``span`` seconds and turn away others as late."""
        if self.newest is None or chunk.earliest is None:
            return False
        watermark = self.newest - self.lateness_seconds
        if chunk.earliest >= watermark:
            return False  # the usual case: nothing is turned away
        late_in: dict[int, bool] = {}
        for second in chunk._open:
            late = second < watermark
            if late_in.setdefault(second // span, late) != late:
                return True
        return False

    def release(self) -> None:
        """Hand the seconds closed since the last call over to the windows."""
        if self.newest is not None:
            self._close_before(self.newest - self.lateness_seconds)

    def idle(self, now: float) -> None:
        """A live reader is waiting at the end of its input, at wall-clock (monotonic)
        time ``now``: M moves on with the clock, and what closes is a beat."""
        second = self.event_newest
        if second is None or self.newest is None:
            return  # no event yet: start-up does not move the clock
        if self.read_at is None:  # restored from a checkpoint: the clock starts now
            self.read_at = now
        moved = second + math.floor(now - self.read_at)
        if moved > self.newest:
            self.newest = moved
        self._close_before(self.newest - self.lateness_seconds, beat=second)

    def finish(self) -> None:
        """The input ended: close every second up to M and tell the windows."""
        batches = [self._open[second] for second in sorted(self._open)]
        self._open.clear()
        self._heap.clear()
        if self.newest is not None:
            self._release(batches, self.newest)
        self.downstream.finish()

    def _open_batch(self, second: int) -> Batch:
        return self._adopt(self.batch(second))

    def _adopt(self, batch: Batch) -> Batch:
        second = batch.second
        self._open[second] = batch
        heapq.heappush(self._heap, second)
        if self.first is None or second < self.first:
            self.first = second
        if self.last is None or second > self.last:
            self.last = second
        return batch

    def _close_before(self, watermark: int, beat: int | None = None) -> None:
        heap = self._heap
        batches = []
        while heap and heap[0] < watermark:
            batches.append(self._open.pop(heapq.heappop(heap)))
        self._release(batches, watermark - 1, beat)

    def _release(self, batches: list[Batch], through: int, beat: int | None = None) -> None:
        if self.closed_through is not None and through <= self.closed_through:
            assert not batches, "a closed second received events"
            return
        self.closed_through = through
        for batch in batches:
            self.released_hits += batch.hits
        self.downstream.close(batches, through, beat)

    # --state checkpoints -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The reorderer's whole state, JSON-ready."""
        return {
            "newest": self.newest,
            "event_newest": self.event_newest,
            "closed_through": self.closed_through,
            "late": self.late,
            "max_lateness": self.max_lateness,
            "first": self.first,
            "last": self.last,
            "earliest": self.earliest,
            "released_hits": self.released_hits,
            "open": [self._open[second].to_json() for second in sorted(self._open)],
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Carry on from ``to_json``'s output (a fresh reorderer only)."""
        self.newest = validate.optional_integer(data["newest"])
        self.event_newest = validate.optional_integer(data["event_newest"])
        self.read_at = None
        self.closed_through = validate.optional_integer(data["closed_through"])
        self.late = validate.count(data["late"])
        self.max_lateness = validate.count(data["max_lateness"])
        self.first = validate.optional_integer(data["first"])
        self.last = validate.optional_integer(data["last"])
        self.earliest = validate.optional_integer(data["earliest"])
        self.released_hits = validate.count(data["released_hits"])
        self._open = {}
        for item in validate.listed(data["open"]):
            batch = self.batch.from_json(item)
            self._open[batch.second] = batch
        self._heap = sorted(self._open)
