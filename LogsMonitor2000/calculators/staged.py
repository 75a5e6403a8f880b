"""What the rules of ``--alert`` share (docs/alerts.md): their state machine, their
record, what the views show of them.

A rule keeps a *measure* of each Batch (how many of its events match, the durations),
which its window (``pipeline/windows.StagedWindow``) hands back as the Batch passes the
rule's stages: out of the window W, and for a baseline out of the H seconds before it.
At each second where a measure moved the rule has a *value* (None: undefined) and a
*threshold*: not alerting and the comparison holds, an alert; alerting and it no longer
holds, a recovery; an undefined value changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..checkpoint import validate
from ..pipeline.batch import Batch
from ..reports import AlertReport, Gauge, RuleInfo, RuleState
from ..words import local_time, milliseconds, number
from .expression import RuleSpec

#: The most samples of a rule's value kept for the report's chart.
MAX_SAMPLES = 1000


class Series:
    """A rule's value and threshold over time, for the report's chart, bounded: a
    sample stands for a span of 1 s, then 2 s, 4 s... as the run gets longer, and holds
    the largest value of its span (None: undefined throughout)."""

    def __init__(self) -> None:
        self.span = 1
        #: [start, value, threshold], in time order.
        self.samples: list[list[Any]] = []

    def add(self, second: int, value: float | None, threshold: float) -> None:
        start = second - second % self.span
        samples = self.samples
        if samples and samples[-1][0] == start:
            _keep_largest(samples[-1], value, threshold)
            return
        samples.append([start, value, threshold])
        if len(samples) > MAX_SAMPLES:
            self.span *= 2
            merged: list[list[Any]] = []
            for start, value, threshold in samples:
                start -= start % self.span
                if merged and merged[-1][0] == start:
                    _keep_largest(merged[-1], value, threshold)
                else:
                    merged.append([start, value, threshold])
            self.samples = merged


def _keep_largest(sample: list[Any], value: float | None, threshold: float) -> None:
    if value is not None and (sample[1] is None or value > sample[1]):
        sample[1], sample[2] = value, threshold


@dataclass(slots=True, frozen=True, kw_only=True)
class RuleAlert(AlertReport):
    """A rule of ``--alert`` starting (``alert``) or ending (``recovery``)."""

    value: float
    threshold: float
    window_seconds: int
    #: ``>`` or ``<``.
    above: bool
    #: How a value reads: "/s", "%" or " ms"; what it is ("share(5xx)"); whether the
    #: rule has a name of its own (else its name is its text).
    unit: str
    label: str
    named: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "rule": self.rule,
            "time": self.time,
            "value": self.value,
            "threshold": float(self.threshold),
            "window": self.window_seconds,
        }

    def describe(self, unit: str) -> str:
        value, threshold = self.shown(self.value), self.shown(self.threshold)
        when = local_time(self.time)
        name = f"{self.rule}: " if self.named else ""
        if self.raised:
            op = ">" if self.above else "<"
            return (
                f"{name}{self.label} = {value} {op} {threshold} over {self.window_seconds} s, "
                f"triggered at {when}"
            )
        op = "<=" if self.above else ">="
        return (
            f"{name}{self.label} back to {value} {op} {threshold} over "
            f"{self.window_seconds} s, recovered at {when}"
        )

    def shown(self, value: float) -> str:
        if self.unit == " ms":
            return milliseconds(value)
        return f"{value:.2f}{self.unit}" if value != int(value) else f"{number(value)}{self.unit}"


class StagedRule:
    """A rule of ``--alert``: the kinds (``rate.py``, ``share.py``...) say what they
    measure of a Batch and what their value and threshold are."""

    #: Its measures hold what it needs (``Windows`` may let the durations go).
    keeps_values = False
    #: The chart its alert periods are shaded on, and how its values read.
    chart: ClassVar[str] = "rate"
    unit: ClassVar[str] = "/s"

    def __init__(self, spec: RuleSpec, measure: Callable[[Batch], Any]) -> None:
        self.spec = spec
        self.name = spec.name
        self.window_seconds = spec.window
        #: Where a Batch's measure moves on: out of the window (and of the baseline).
        self.stages: tuple[int, ...] = (spec.window,)
        self.measure = measure
        #: The second the active alert started at (None: not alerting), the value at
        #: the last second evaluated, and that second.
        self.since: int | None = None
        self.value: float | None = None
        self.now: int | None = None
        self.series = Series()

    # -- what a kind says -----------------------------------------------------------------

    def enter(self, measure: Any) -> None:
        raise NotImplementedError

    def move(self, measure: Any, stage: int) -> None:
        """``measure`` passed the stage ``stage`` (the last: it left)."""
        raise NotImplementedError

    def current(self) -> float | None:
        """The value at the second evaluated (None: undefined)."""
        raise NotImplementedError

    def threshold(self) -> float:
        return self.spec.threshold

    def measure_from_json(self, data: Any) -> Any:
        return validate.count(data)

    def restart(self) -> None:
        """Forget every measure (a checkpoint's are entered again)."""
        raise NotImplementedError

    def wake(self) -> int | None:
        """A second the value may change at though no measure moves (None: none)."""
        return None

    # -- the state machine ----------------------------------------------------------------

    def evaluate(self, second: int) -> RuleAlert | None:
        self.now = second
        value = self.value = self.current()
        threshold = self.threshold()
        self.series.add(second, value, threshold)
        if value is None:
            return None
        holds = value > threshold if self.spec.above else value < threshold
        if self.since is None and holds:
            self.since = second
            return self._record(True, second, value, threshold)
        if self.since is not None and not holds:
            self.since = None
            return self._record(False, second, value, threshold)
        return None

    def _record(self, raised: bool, second: int, value: float, threshold: float) -> RuleAlert:
        return RuleAlert(
            rule=self.name,
            kind="alert" if raised else "recovery",
            raised=raised,
            time=second,
            chart=self.chart,
            value=value,
            threshold=threshold,
            window_seconds=self.window_seconds,
            above=self.spec.above,
            unit=self.unit,
            label=self.spec.label,
            named=self.spec.name != self.spec.text,
        )

    # -- what the views show --------------------------------------------------------------

    def info(self) -> RuleInfo:
        return RuleInfo(
            name=self.name,
            description=(
                f"alert {self.name} ({self.spec.text})"
                if self.spec.name != self.spec.text
                else f"alert when {self.spec.text}"
            ),
            chart=self.chart,
            threshold=self.spec.threshold,
            threshold_label=self.name,
            window_seconds=self.window_seconds,
        )

    def state(self) -> RuleState:
        return RuleState(
            name=self.name,
            json_key="",
            since=self.since,
            value=self.value,
            series=tuple((start, value, limit) for start, value, limit in self.series.samples),
            label=f"{self.spec.label} ({self.unit.strip()})",
        )

    def gauges(self) -> list[Gauge]:
        labels = (("rule", self.name),)
        gauges = [
            Gauge(
                name="alert_active",
                help="1 while the rule's alert is active.",
                value=int(self.since is not None),
                labels=labels,
            )
        ]
        if self.value is not None:  # (undefined: no sample)
            gauges += [
                Gauge(
                    name="alert_value",
                    help="The rule's value at the newest second evaluated (--alert).",
                    value=self.value,
                    labels=labels,
                ),
                Gauge(
                    name="alert_threshold",
                    help="What the rule's value is compared with (--alert).",
                    value=self.threshold(),
                    labels=labels,
                ),
            ]
        return gauges

    # -- checkpoints ----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "value": self.value, "now": self.now}

    def restore(self, data: dict[str, Any]) -> None:
        self.since = validate.optional_integer(data["since"])
        value = data["value"]
        self.value = None if value is None else validate.duration(value)
        self.now = validate.optional_integer(data["now"])
