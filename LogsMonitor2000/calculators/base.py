"""What calculators are: incremental statistics over windows of closed Batches.

Like river's rolling statistics, a calculator owns its running totals and is told when a
Batch enters its window (``count``) and when it leaves (``discount``, which undoes
``count`` exactly).  In a tumbling window every Batch leaves at once, so a tumbling
calculator is ``reset`` instead.  The window (``pipeline/windows.py``) decides when
those happen and when to ask for a verdict, so a calculator never looks at the clock.

An *alert rule* is a sliding calculator that also says what it is (``info``), where it
stands (``state``) and what ``/metrics`` shows of it (``gauges``).  The rules of a run
are built by the registry in ``calculators/__init__.py`` from the run's ``Context``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..families import Family
from ..pipeline.batch import Batch
from ..reports import AlertReport, Gauge, Report, RuleInfo, RuleState
from ..settings import Settings


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

    def evaluate(self, second: int) -> Report | None:
        """The window now holds the seconds ``(second - span, second]``: what happens now?

        The verdict must depend only on what is counted: the window calls this only at
        seconds where a Batch entered or left, never during a stretch without change."""


class TumblingCalculator(Checkpointed, Protocol):
    """A calculator over aligned windows ``[k * span, (k + 1) * span)``."""

    def count(self, batch: Batch) -> None:
        """``batch`` entered the window."""

    def report(self, start: int, end: int) -> Report:
        """The window ``[start, end)`` is complete: its report."""

    def reset(self) -> None:
        """Every Batch left the window at once (what discounting each would do, in
        one step)."""


class AlertRule(SlidingCalculator, Protocol):
    """A sliding calculator whose verdicts are alerts and recoveries."""

    #: The length of its sliding window.
    window_seconds: int
    #: Whether it reads the ``Values`` (durations) of the Batches its window holds.
    keeps_values: bool

    def evaluate(self, second: int) -> AlertReport | None: ...

    def info(self) -> RuleInfo:
        """What the rule is, for headers and pictures."""

    def state(self) -> RuleState:
        """Whether its alert is active, and since when."""

    def gauges(self) -> list[Gauge]:
        """Its values for ``/metrics``."""


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a rule is built from: the run's settings and what its events are."""

    settings: Settings
    #: None when no input's format became known (an empty input): rules that need to
    #: know what the events are are then not built.
    family: Family | None
    #: The inputs' formats carry durations (a request time, an operation's duration).
    durations: bool
    #: What the first input's format is, for messages ("Common Log Format").
    format_description: str
