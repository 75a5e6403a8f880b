"""Calculators: incremental statistics over windows of closed per-second Batches.

Like river's rolling statistics, a calculator owns its running totals and is told when a
Batch enters its window (``count``) and when it leaves (``discount``, which undoes
``count`` exactly).  In a tumbling window every Batch leaves at once, so a tumbling
calculator is ``reset`` instead.  The window (see ``window.py``) decides when those
happen and when to ask for a verdict, so a calculator never looks at the clock.

Adding a calculator (an error-rate alert, say) means one new module here and one line
where ``monitor.py`` builds the windows; nothing else changes.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..pipeline.batch import Batch
from ..reports import Record


class Checkpointed(Protocol):
    """Something whose whole state a ``--state`` checkpoint carries."""

    def to_json(self) -> dict[str, Any]:
        """The state, JSON-ready."""

    def restore(self, data: dict[str, Any]) -> None:
        """Carry on from what ``to_json`` returned."""


class SlidingCalculator(Checkpointed, Protocol):
    """A calculator over the last ``span`` seconds, judged second by second."""

    def count(self, batch: Batch) -> None:
        """``batch`` entered the window."""

    def discount(self, batch: Batch) -> None:
        """``batch`` left the window: undo ``count(batch)`` exactly."""

    def evaluate(self, second: int) -> Record | None:
        """The window now holds the seconds ``(second - span, second]``: what happens now?

        The verdict must depend only on what is counted: the window calls this only at
        seconds where a Batch entered or left, never during a stretch without change."""


class TumblingCalculator(Checkpointed, Protocol):
    """A calculator over aligned windows ``[k * span, (k + 1) * span)``."""

    def count(self, batch: Batch) -> None:
        """``batch`` entered the window."""

    def report(self, start: int, end: int) -> Record:
        """The window ``[start, end)`` is complete: its report."""

    def reset(self) -> None:
        """Every Batch left the window at once (what discounting each would do, in
        one step)."""
