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
from dataclasses import dataclass
from typing import Any

from ..checkpoint import validate
from ..errors import UsageError
from ..pipeline.batch import Batch
from ..reports import AlertReport, Gauge, RuleInfo, RuleState
from ..words import counted, local_time, milliseconds, number
from .base import Context
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


@dataclass(slots=True, frozen=True, kw_only=True)
class SlowAlert(AlertReport):
    """The p95 duration over the alert window crossing ``--slow-ms``."""

    priority = 1
    chart: str = "duration"
    p95_ms: float | None
    count: int
    window_seconds: int
    threshold_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "time": self.time,
            "p95": self.p95_ms,
            "count": self.count,
            "window": self.window_seconds,
            "threshold_ms": float(self.threshold_ms),
        }

    def describe(self, unit: str) -> str:
        when = local_time(self.time)
        p95 = "none" if self.p95_ms is None else milliseconds(self.p95_ms)
        what = "operation" if unit == "operation" else "request"
        detail = f"{counted(self.count, what)} over {self.window_seconds} s"
        if self.raised:
            return (
                f"Slow {what}s - p95 = {p95}, triggered at {when} "
                f"({detail}, > {number(self.threshold_ms)} ms)"
            )
        return (
            f"{what.capitalize()}s fast again - p95 = {p95}, recovered at {when} "
            f"({detail}, <= {number(self.threshold_ms)} ms)"
        )


class SlowRule:
    """Slow when the p95 duration over ``window_seconds`` exceeds ``threshold_ms``."""

    #: It counts the durations of the Batches it holds.
    keeps_values = True

    def __init__(self, *, window_seconds: int, threshold_ms: float, timed: str = "request") -> None:
        self.window_seconds = window_seconds
        self.threshold_ms = threshold_ms
        #: What a duration times: "request", "operation".
        self.name = f"slow {timed}s"
        #: The Batch field that holds the durations.
        self.field = "durations_ms"
        self.durations = SortedBag()
        #: The second the current slowness started at, None when not slow.
        self.slow_since: int | None = None

    @classmethod
    def of(cls, context: Context) -> SlowRule | None:
        """The rule of ``--slow-ms`` (None without it); ``UsageError`` when the run's
        events have no durations."""
        settings = context.settings
        if settings.slow_ms is None or context.family is None:
            return None
        if not context.durations:
            raise UsageError(
                f"--slow-ms needs durations: a MongoDB log, or an access log with a "
                f"request time (--log-format), not {context.format_description}"
            )
        return cls(
            window_seconds=settings.alert_window,
            threshold_ms=settings.slow_ms,
            timed=context.family.timed or "request",
        )

    def count(self, batch: Batch) -> None:
        add = self.durations.add
        for ms in getattr(batch, self.field):
            add(ms)

    def discount(self, batch: Batch) -> None:
        remove = self.durations.remove
        for ms in getattr(batch, self.field):
            remove(ms)

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
            return self._record(True, second, p95)
        if self.slow_since is not None and not slow:
            self.slow_since = None
            return self._record(False, second, p95)
        return None

    def info(self) -> RuleInfo:
        return RuleInfo(
            name=self.name,
            description=f"slow when p95 > {number(self.threshold_ms)} ms",
            chart="duration",
            threshold=self.threshold_ms,
            threshold_label=f"--slow-ms {number(self.threshold_ms)}",
            window_seconds=self.window_seconds,
        )

    def state(self) -> RuleState:
        return RuleState(
            name=self.name, json_key="slow_since", since=self.slow_since, value=self.p95()
        )

    def gauges(self) -> list[Gauge]:
        return [
            Gauge(
                name="slow_alert_active",
                help="1 while the slow alert (p95 duration over --slow-ms) is active.",
                value=int(self.slow_since is not None),
            )
        ]

    def to_json(self) -> dict[str, Any]:
        return {"durations": list(self.durations), "slow_since": self.slow_since}

    def restore(self, data: dict[str, Any]) -> None:
        self.durations = SortedBag()
        for ms in validate.listed(data["durations"]):
            self.durations.add(validate.duration(ms))
        self.slow_since = validate.optional_integer(data["slow_since"])

    def _record(self, raised: bool, second: int, p95: float | None) -> SlowAlert:
        return SlowAlert(
            rule=self.name,
            kind="slow" if raised else "slow-recovery",
            raised=raised,
            time=second,
            p95_ms=p95,
            count=self.durations.size,
            window_seconds=self.window_seconds,
            threshold_ms=self.threshold_ms,
        )
