"""Several inputs, one stream of closed seconds (docs/counting.md, "Several inputs").

Every input has a reorderer of its own: its own M, its own lateness.  Their closed
seconds meet here, as watermarks are aligned in Flink or bytewax: a second is closed
for the run once every input that has not ended has closed it - the smallest of their
closed seconds - and an ended input holds nothing back.  The Batches of one second from
several inputs are merged into one, then handed to the windows in order.

::

    input a   closed ..... 103 │
    input b   closed ... 101   │   run: closed through 101 (b holds it back)
    input c   ended            │   (c holds nothing back)

A live input that has seen no event yet and is waiting (a followed file that doesn't
exist yet, a listener nobody sent to) holds nothing back either: it could hold the run
back for ever.  Its events for seconds the run has already closed are late *in that
input* (``Reorderer.floor``).
"""

from __future__ import annotations

import heapq
from typing import Any

from ..checkpoint import validate
from .batch import Batch
from .reorder import Downstream, Reorderer


class Watermarks:
    """Merges the closed seconds of several reorderers (see the module docstring)."""

    def __init__(self, downstream: Downstream) -> None:
        self.downstream = downstream
        #: The family's Batch class (``families/``), for a checkpoint's Batches.
        self.batch: type[Batch] = Batch
        self.reorderers: list[Reorderer | None] = []
        #: Per input: the newest second it closed (None: none yet), whether it ended,
        #: whether it holds the run back.
        self._closed: list[int | None] = []
        self._ended: list[bool] = []
        self._holding: list[bool] = []
        #: The newest second closed for the run.
        self.through: int | None = None
        self._open: dict[int, Batch] = {}
        self._heap: list[int] = []

    def add_input(self) -> int:
        """A new input: its number, for ``attach`` and ``waiting_empty``."""
        self.reorderers.append(None)
        self._closed.append(None)
        self._ended.append(False)
        self._holding.append(True)
        return len(self.reorderers) - 1

    def attach(self, index: int, reorderer: Reorderer) -> None:
        """The input's format is known: its reorderer feeds ``end(index)``."""
        self.reorderers[index] = reorderer
        reorderer.floor = self.through

    def end(self, index: int) -> _InputEnd:
        """What input ``index``'s reorderer hands its closed seconds to."""
        return _InputEnd(self, index)

    def waiting_empty(self, index: int, waiting: bool) -> None:
        """A live input waits, or stops waiting; without events, while it waits, it
        holds nothing back."""
        reorderer = self.reorderers[index]
        holding = not (waiting and (reorderer is None or reorderer.newest is None))
        if holding != self._holding[index]:
            self._holding[index] = holding
            if not holding:
                self._release(None)

    def ended(self, index: int) -> None:
        """Input ``index`` ended: it holds nothing back any more."""
        self._ended[index] = True
        self._release(None)
        if all(self._ended):
            self.downstream.finish()

    @property
    def pending(self) -> list[Batch]:
        """The seconds closed by some inputs but not yet by the run, oldest first."""
        return [self._open[second] for second in sorted(self._open)]

    def closed_by(self, index: int, batches: list[Batch], through: int, beat: int | None) -> None:
        for batch in batches:
            mine = self._open.get(batch.second)
            if mine is None:
                self._open[batch.second] = batch
                heapq.heappush(self._heap, batch.second)
            else:
                mine.merge(batch)
        self._closed[index] = through
        self._release(beat)

    def _release(self, beat: int | None) -> None:
        limit: int | None = None
        for closed, ended, holding in zip(self._closed, self._ended, self._holding):
            if ended or not holding:
                continue
            if closed is None:
                return  # it may still bring any second
            limit = closed if limit is None else min(limit, closed)
        if limit is None:  # nothing holds the run back (all ended, say): all that closed goes
            limit = max((c for c in self._closed if c is not None), default=None)
            if limit is None:
                return
        if self.through is not None and limit <= self.through:
            return
        heap, batches = self._heap, []
        while heap and heap[0] <= limit:
            batches.append(self._open.pop(heapq.heappop(heap)))
        self.through = limit
        for reorderer in self.reorderers:
            if reorderer is not None:
                reorderer.floor = limit
        if beat is not None:  # the windows after the newest event of every input
            beat = max(
                (r.event_newest for r in self.reorderers if r and r.event_newest is not None),
                default=beat,
            )
        self.downstream.close(batches, limit, beat)

    # --state checkpoints -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "closed": self._closed,
            "ended": self._ended,
            "through": self.through,
            "open": [batch.to_json() for batch in self.pending],
        }

    def restore(self, data: dict[str, Any]) -> None:
        closed = [validate.optional_integer(c) for c in validate.listed(data["closed"])]
        ended = [validate.boolean(e) for e in validate.listed(data["ended"])]
        if len(closed) != len(self._closed) or len(ended) != len(self._ended):
            raise ValueError("another number of inputs")
        self._closed, self._ended = closed, ended
        self.through = validate.optional_integer(data["through"])
        self._open = {}
        for item in validate.listed(data["open"]):
            batch = self.batch.from_json(validate.mapping(item))
            self._open[batch.second] = batch
        self._heap = sorted(self._open)


class _InputEnd:
    """The downstream of one input's reorderer."""

    def __init__(self, watermarks: Watermarks, index: int) -> None:
        self.watermarks = watermarks
        self.index = index

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> None:
        self.watermarks.closed_by(self.index, batches, through, beat)

    def finish(self) -> None:
        self.watermarks.ended(self.index)
