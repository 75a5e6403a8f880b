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
from typing import Any, Protocol, runtime_checkable

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


@runtime_checkable
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


class AlertRule(Checkpointed, Protocol):
    """A calculator whose verdicts are alerts and recoveries: a ``SlidingCalculator``
    (the window keeps the Batches), or a ``StagedCalculator`` (it keeps a measure of
    each)."""

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


@runtime_checkable
class StagedCalculator(Protocol):
    """A calculator that keeps a measure of each Batch (``pipeline/windows.StagedWindow``)
    and is told when it passes each of its ``stages`` (seconds after the Batch's own:
    out of the window, then out of a baseline before it)."""

    stages: tuple[int, ...]

    def measure(self, batch: Batch) -> Any:
        """What it keeps of ``batch`` (JSON-ready)."""

    def measure_from_json(self, data: Any) -> Any:
        """A measure read back from a checkpoint (checked)."""

    def enter(self, measure: Any) -> None:
        """A Batch entered the window."""

    def move(self, measure: Any, stage: int) -> None:
        """It passed ``stages[stage]`` (the last: it left)."""

    def wake(self) -> int | None:
        """A second the verdict may change at though nothing moves (None: none)."""

    def restart(self) -> None:
        """Forget every measure (a checkpoint's are entered again)."""

    def evaluate(self, second: int) -> Report | None:
        """The verdict at ``second``, after what moved there."""

    def to_json(self) -> dict[str, Any]: ...

    def restore(self, data: dict[str, Any]) -> None: ...


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
    #: The inputs' formats carry a virtual host.
    vhosts: bool = False
