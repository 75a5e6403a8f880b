"""Slow operations (``--slow-ms``): the p95 duration over the alert window.

Beside the traffic alert, over the same window W: the nearest-rank p95 of the known
durations of the operations in ``(s - W, s]``.  Not slow and p95 > ``--slow-ms``: a
``slow`` record at ``s``; slow and p95 back at or below it, or no durations left in the
window: ``slow-recovery``.  Like the traffic alert, the verdict after a second depends
only on what is counted, so the window asks only where a Batch enters or leaves.

The durations live in a ``SortedBag``: sorted blocks of at most ``2 * LOAD`` values, so
adding, removing and finding the k-th value cost a bisect and a short list operation,
not a sort of the whole window.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Any, Literal

from ..checkpoint import validate as checked
from ..pipeline.batch import Batch
from ..reports import SlowAlert
from .counting import rank

LOAD = 256


class SortedBag:
    """A sorted multiset of floats: add, remove, the k-th smallest."""

    def __init__(self) -> None:
        self._blocks: list[list[float]] = []
        self._maxes: list[float] = []
        self.size = 0

    def add(self, value: float) -> None:
        if not self._blocks:
            self._blocks.append([value])
            self._maxes.append(value)
        else:
            i = min(bisect_left(self._maxes, value), len(self._blocks) - 1)
            block = self._blocks[i]
            insort(block, value)
            self._maxes[i] = block[-1]
            if len(block) > 2 * LOAD:
                self._blocks[i : i + 1] = [block[:LOAD], block[LOAD:]]
                self._maxes[i : i + 1] = [block[LOAD - 1], block[-1]]
        self.size += 1

    def remove(self, value: float) -> None:
        """Remove one ``value``, which must be there."""
        i = bisect_left(self._maxes, value)
        block = self._blocks[i]
        del block[bisect_left(block, value)]
        if block:
            self._maxes[i] = block[-1]
        else:
            del self._blocks[i]
            del self._maxes[i]
        self.size -= 1

    def __getitem__(self, index: int) -> float:
        """The ``index``-th smallest value (0-based)."""
        for block in self._blocks:
            if index < len(block):
                return block[index]
            index -= len(block)
        raise IndexError(index)

    def __iter__(self) -> Iterator[float]:
        return (value for block in self._blocks for value in block)


class SlowQueries:
    """Slow when the p95 duration over ``window_seconds`` exceeds ``threshold_ms``."""

    def __init__(self, *, window_seconds: int, threshold_ms: float) -> None:
        self.window_seconds = window_seconds
        self.threshold_ms = threshold_ms
        self.durations = SortedBag()
        #: The second the current slowness started at, None when not slow.
        self.slow_since: int | None = None

    def count(self, batch: Batch) -> None:
        for ms in batch.durations_ms:
            self.durations.add(ms)

    def discount(self, batch: Batch) -> None:
        for ms in batch.durations_ms:
            self.durations.remove(ms)

    def p95(self) -> float | None:
        """The nearest-rank p95 of the window's durations (None when there are none)."""
        size = self.durations.size
        if size == 0:
            return None
        return self.durations[rank(95, size) - 1]

    def evaluate(self, second: int) -> SlowAlert | None:
        p95 = self.p95()
        slow = p95 is not None and p95 > self.threshold_ms
        if self.slow_since is None and slow:
            self.slow_since = second
            return self._record("slow", second, p95)
        if self.slow_since is not None and not slow:
            self.slow_since = None
            return self._record("slow-recovery", second, p95)
        return None

    def to_json(self) -> dict[str, Any]:
        return {"durations": list(self.durations), "slow_since": self.slow_since}

    def restore(self, data: dict[str, Any]) -> None:
        self.durations = SortedBag()
        for ms in checked.listed(data["durations"]):
            self.durations.add(checked.duration(ms))
        self.slow_since = checked.optional_integer(data["slow_since"])

    def _record(
        self, kind: Literal["slow", "slow-recovery"], second: int, p95: float | None
    ) -> SlowAlert:
        return SlowAlert(
            kind=kind,
            time=second,
            p95_ms=p95,
            count=self.durations.size,
            window_seconds=self.window_seconds,
            threshold_ms=self.threshold_ms,
        )
