"""Windows over closed per-second Batches, and the fan-out that feeds them.

The reorderer hands over closed seconds in order: the non-empty ones as Batches, and how
far time has closed (``through``).  Each window turns that into ``count`` / ``discount``
calls on its calculator and asks for a verdict when one can have changed:

* ``SlidingWindow`` keeps the Batches of the last ``span`` seconds in a deque.  A verdict
  can only change where a Batch enters or leaves, so the calculator is evaluated at those
  seconds only: a silence of a year costs one step per Batch that leaves, not one per
  second.

      seconds  ─► 10  11  12  13  14  15  16
      batches      b           c
      span 3       [b ....]    enter c ─ evaluate(13)
                       leave b at 13 ┘   leave c at 16 ─ evaluate(16)

* ``TumblingWindow`` counts the Batches of the aligned window ``[k*I, k*I + I)`` and
  reports it once its last second has closed (or the input has ended), then resets the
  calculator.  A window without events is reported only when it closes while a live
  reader waits (a *beat*) and comes after the newest event's window, so the display
  keeps its beat through a silence; the empty windows that the log's own timestamps
  jump over are never reported, and a jump of years costs one step.

``Windows`` is the reorderer's downstream: every window sees every Batch, and the records
they produce leave in order (``docs/counting.md``, "Order").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from ..checkpoint import validate
from .batch import Batch
from ..calculators.base import AlertRule, SlidingCalculator, StagedCalculator, TumblingCalculator
from ..reports import Report


class Window(Protocol):
    """A window turns closed seconds into calculator calls and records."""

    def close(self, batches: list[Batch], through: int, beat: int | None) -> list[Report]:
        """Seconds up to ``through`` closed; ``batches`` are the new non-empty ones;
        ``beat``: they closed while the reader waits, the newest event being there."""

    def finish(self) -> list[Report]:
        """The input ended."""

    def to_json(self) -> dict[str, Any]:
        """The window's and its calculator's state (--state)."""

    def restore(self, data: dict[str, Any]) -> None:
        """Carry on from ``to_json``'s output."""


@runtime_checkable
class TakesParts(Protocol):
    """A window that also takes what workers counted of the Batches it is handed
    (``inputs/parallel.py``: the Batches no longer hold it)."""

    def add_parts(self, parts: dict[str, Any]) -> None: ...


Calc = TypeVar("Calc", bound=SlidingCalculator)


class SlidingWindow(Generic[Calc]):
    """The Batches of the seconds ``(s - span, s]`` as ``s`` moves on."""

    def __init__(self, *, span_seconds: int, calculator: Calc, batch: type[Batch] = Batch) -> None:
        self.span_seconds = span_seconds
        self.calculator = calculator
        #: The family's Batch class (for a checkpoint's Batches).
        self.batch = batch
        self.batches: deque[Batch] = deque()

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> list[Report]:
        records: list[Report] = []
        for batch in batches:
            second = batch.second
            self._leave_before(second, records)
            # A Batch leaving at this very second is judged together with the one entering.
            if self.batches and self.batches[0].second + self.span_seconds == second:
                self.calculator.discount(self.batches.popleft())
            self.batches.append(batch)
            self.calculator.count(batch)
            self._evaluate(second, records)
        self._leave_before(through + 1, records)
        return records

    def finish(self) -> list[Report]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "batches": [batch.to_json() for batch in self.batches],
            "calculator": self.calculator.to_json(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.batches = deque(
            self.batch.from_json(item) for item in validate.listed(data["batches"])
        )
        self.calculator.restore(data["calculator"])

    def _leave_before(self, second: int, records: list[Report]) -> None:
        """Move through the seconds before ``second``, where nothing enters."""
        span = self.span_seconds
        while self.batches and self.batches[0].second + span < second:
            leaving = self.batches.popleft()
            self.calculator.discount(leaving)
            self._evaluate(leaving.second + span, records)

    def _evaluate(self, second: int, records: list[Report]) -> None:
        record = self.calculator.evaluate(second)
        if record is not None:
            records.append(record)


class StagedWindow:
    """The measures a calculator keeps of the Batches of its window, in ``stages``: a
    Batch of second ``b`` is measured as it enters, passes the first stage at
    ``b + stages[0]`` (out of the window ``(s - W, s]``), the next at ``b + stages[1]``
    (out of a baseline before it), and so on; the last stage is its leaving.  The
    calculator is evaluated at each second where a measure entered or moved, or that it
    asks to be woken at, never during a stretch without change: a silence costs one
    step per measure, as in ``SlidingWindow``."""

    def __init__(self, calculator: StagedCalculator) -> None:
        self.calculator = calculator
        self.stages = calculator.stages
        #: (second, measure) of the Batches in each stage, oldest first.
        self.queues: list[deque[tuple[int, Any]]] = [deque() for _ in self.stages]

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> list[Report]:
        records: list[Report] = []
        calculator = self.calculator
        for batch in batches:
            second = batch.second
            self._advance(second - 1, records)
            self._move_at(second)  # (judged together with the Batch entering)
            measure = calculator.measure(batch)
            self.queues[0].append((second, measure))
            calculator.enter(measure)
            self._evaluate(second, records)
        self._advance(through, records)
        return records

    def finish(self) -> list[Report]:
        return []

    def _next(self) -> int | None:
        """The next second where something moves or the calculator is woken."""
        moves = [queue[0][0] + stage for queue, stage in zip(self.queues, self.stages) if queue]
        woken = self.calculator.wake()
        if woken is not None:
            moves.append(woken)
        return min(moves, default=None)

    def _advance(self, through: int, records: list[Report]) -> None:
        """Move through the seconds up to ``through``, where nothing enters."""
        while (second := self._next()) is not None and second <= through:
            self._move_at(second)
            self._evaluate(second, records)

    def _move_at(self, second: int) -> None:
        queues, last = self.queues, len(self.queues) - 1
        for index, stage in enumerate(self.stages):
            queue = queues[index]
            while queue and queue[0][0] + stage <= second:
                item = queue.popleft()
                self.calculator.move(item[1], index)
                if index < last:
                    queues[index + 1].append(item)

    def _evaluate(self, second: int, records: list[Report]) -> None:
        record = self.calculator.evaluate(second)
        if record is not None:
            records.append(record)

    def to_json(self) -> dict[str, Any]:
        return {
            "queues": [[[second, measure] for second, measure in queue] for queue in self.queues],
            "calculator": self.calculator.to_json(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        calculator = self.calculator
        queues = validate.listed(data["queues"])
        if len(queues) != len(self.stages):
            raise ValueError("a staged window has a queue per stage")
        calculator.restart()
        self.queues = []
        for index, items in enumerate(queues):
            queue: deque[tuple[int, Any]] = deque()
            for item in validate.listed(items):
                second, measure = validate.listed(item)
                measure = calculator.measure_from_json(measure)
                queue.append((validate.integer(second), measure))
                calculator.enter(measure)
                for passed in range(index):
                    calculator.move(measure, passed)
            self.queues.append(queue)
        calculator.restore(data["calculator"])


class TumblingWindow:
    """Aligned windows ``[k * span, (k + 1) * span)``, reported when complete."""

    def __init__(self, *, span_seconds: int, calculator: TumblingCalculator) -> None:
        self.span_seconds = span_seconds
        self.calculator = calculator
        #: The start of the window being counted (None when no Batch is counted).
        self.start: int | None = None
        #: Whether a Batch was counted since the last report.
        self.counted = False
        #: The end of the last empty window reported on a beat.
        self.beat_end: int | None = None

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> list[Report]:
        records: list[Report] = []
        for batch in batches:
            self._report_through(batch.second - 1, records)
            if self.start is None:
                self.start = batch.second - batch.second % self.span_seconds
            self.calculator.count(batch)
            self.counted = True
        self._report_through(through, records)
        if beat is not None:
            self._beat(beat, through, records)
        return records

    def finish(self) -> list[Report]:
        records: list[Report] = []
        if self.counted:
            self._report_current(records)
        return records

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "counted": self.counted,
            "beat_end": self.beat_end,
            "calculator": self.calculator.to_json(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.start = validate.optional_integer(data["start"])
        self.counted = validate.boolean(data["counted"])
        self.beat_end = validate.optional_integer(data["beat_end"])
        self.calculator.restore(data["calculator"])

    def _report_through(self, second: int, records: list[Report]) -> None:
        """Report the window being counted if its last second is at or before ``second``."""
        if self.start is not None and self.start + self.span_seconds <= second + 1:
            self._report_current(records)

    def _report_current(self, records: list[Report]) -> None:
        assert self.start is not None
        end = self.start + self.span_seconds
        records.append(self.calculator.report(self.start, end))
        self.calculator.reset()
        self.counted = False
        self.start = None

    def _beat(self, newest: int, through: int, records: list[Report]) -> None:
        """The reader waits: report the empty windows after the newest event's window
        that closed (the window being counted, if any, is the newest event's or an
        earlier one, and it is complete when any of these is)."""
        span = self.span_seconds
        start = newest - newest % span + span
        if self.beat_end is not None and self.beat_end > start:
            start = self.beat_end
        while start + span <= through + 1:
            records.append(self.calculator.report(start, start + span))
            start += span
            self.beat_end = start


class WholeRun:
    """Every Batch of the run, counted once and never discounted: the summary's totals
    (the calculator keeps them bounded, see ``calculators/bounded.py``)."""

    def __init__(self, calculator: TumblingCalculator) -> None:
        self.calculator = calculator

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> list[Report]:
        for batch in batches:
            self.calculator.count(batch)
        return []

    def finish(self) -> list[Report]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {"calculator": self.calculator.to_json()}

    def restore(self, data: dict[str, Any]) -> None:
        self.calculator.restore(data["calculator"])


class Tap:
    """Every Batch handed to ``count`` once; nothing kept, nothing checkpointed (the
    ``/metrics`` counters: a restart starts them over, as Prometheus expects)."""

    def __init__(self, count: Callable[[Batch], None]) -> None:
        self.count = count

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> list[Report]:
        for batch in batches:
            self.count(batch)
        return []

    def finish(self) -> list[Report]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {}

    def restore(self, data: dict[str, Any]) -> None:
        pass


def rule_window(rule: AlertRule, batch: type[Batch]) -> Window:
    """The window an alert rule is evaluated over."""
    if isinstance(rule, StagedCalculator):
        return StagedWindow(rule)
    assert isinstance(rule, SlidingCalculator)
    return SlidingWindow(span_seconds=rule.window_seconds, calculator=rule, batch=batch)


class Windows:
    """The reorderer's downstream: feeds every window and emits records in order.

    Once every window has counted a Batch, its ``Values`` (durations) are let go unless
    a window that keeps Batches needs them (``--slow-ms``): the sliding traffic window
    holds two minutes of Batches, and at tens of thousands of requests a second their
    request times would be most of the memory."""

    def __init__(
        self,
        windows: Sequence[Window],
        emit: Callable[[Report], None],
        *,
        keep_values: bool = True,
    ) -> None:
        self.windows = list(windows)
        self.emit = emit
        self.keep_values = keep_values

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> None:
        records: list[Report] = []
        for window in self.windows:
            records += window.close(batches, through, beat)
        if not self.keep_values:
            for batch in batches:
                batch.drop_values()
        self._emit_in_order(records)

    def finish(self) -> None:
        records: list[Report] = []
        for window in self.windows:
            records += window.finish()
        self._emit_in_order(records)

    def _emit_in_order(self, records: list[Report]) -> None:
        if len(records) > 1:
            records.sort(key=_sort_key)
        for record in records:
            self.emit(record)


def _sort_key(record: Report) -> tuple[int, int]:
    return record.sort_key()
