"""The high-traffic alert (``docs/counting.md``, "The high-traffic alert").

For every closed second ``s``: ``hits(s)`` counts the accepted events with time in
``[s - W + 1, s]`` and ``average = hits / W``.  Not alerting and ``average > T``: alert
at ``s``.  Alerting and ``average <= T``: recovery at ``s``.  After any second the state
is simply ``average > T``, so a second where nothing enters or leaves the window can't
change it: the sliding window only asks at seconds where something did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..checkpoint import validate
from ..pipeline.batch import Batch
from ..reports import AlertReport, Gauge, RuleInfo, RuleState
from ..words import local_time, number
from .base import Context

NAME = "high traffic"
#: Its name among the rules (docs/alerts.md): records and ``/metrics`` call it so.
RULE = "traffic"


@dataclass(slots=True, frozen=True, kw_only=True)
class TrafficAlert(AlertReport):
    """The high-traffic alert starting (``alert``) or ending (``recovery``)."""

    rule: str = NAME
    hits: int
    average: float
    threshold: float
    window_seconds: int

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "rule": RULE,
            "time": self.time,
            "value": self.average,
            "hits": self.hits,
            "average": self.average,
            "threshold": float(self.threshold),
            "window": self.window_seconds,
        }

    def describe(self, unit: str) -> str:
        when = local_time(self.time)
        detail = f"average {self.average:.2f}/s over {self.window_seconds} s"
        if self.raised:
            return (
                f"High traffic generated an alert - {unit}s = {self.hits}, "
                f"triggered at {when} ({detail} > {number(self.threshold)}/s)"
            )
        return (
            f"High traffic alert recovered - {unit}s = {self.hits}, "
            f"recovered at {when} ({detail} <= {number(self.threshold)}/s)"
        )


class TrafficRule:
    """Alerts when the average hit rate over ``window_seconds`` exceeds ``threshold``."""

    #: It needs no durations (``Windows`` may let them go).
    keeps_values = False

    def __init__(self, *, window_seconds: int, threshold: float, noun: str = "events") -> None:
        self.window_seconds = window_seconds
        self.threshold = threshold
        #: What the events are called in the gauges' help ("events", "operations").
        self.noun = noun
        self.hits = 0
        #: The second the current alert started at, None when not alerting.
        self.alerting_since: int | None = None

    @classmethod
    def of(cls, context: Context) -> TrafficRule:
        settings = context.settings
        return cls(
            window_seconds=settings.alert_window,
            threshold=settings.threshold,
            noun=context.family.noun if context.family else "events",
        )

    def count(self, batch: Batch) -> None:
        self.hits += batch.hits

    def discount(self, batch: Batch) -> None:
        self.hits -= batch.hits

    @property
    def average(self) -> float:
        return self.hits / self.window_seconds

    def evaluate(self, second: int) -> TrafficAlert | None:
        average = self.average
        if self.alerting_since is None:
            if average > self.threshold:
                self.alerting_since = second
                return self._record(True, second, average)
        elif average <= self.threshold:
            self.alerting_since = None
            return self._record(False, second, average)
        return None

    def info(self) -> RuleInfo:
        return RuleInfo(
            name=NAME,
            description=f"alert when the average over {self.window_seconds} s exceeds "
            f"{number(self.threshold)}/s",
            chart="rate",
            threshold=self.threshold,
            threshold_label=f"threshold {number(self.threshold)}/s",
            window_seconds=self.window_seconds,
        )

    def state(self) -> RuleState:
        return RuleState(
            name=NAME,
            json_key="alert_since",
            always_listed=True,
            since=self.alerting_since,
            value=self.average,
            rule=RULE,
        )

    def gauges(self) -> list[Gauge]:
        return [
            Gauge(
                name="alert_active",
                help="1 while the rule's alert is active.",
                value=int(self.alerting_since is not None),
                labels=(("rule", RULE),),
            ),
            Gauge(
                name="alert_average_per_second",
                help=f"The average {self.noun} per second over the alert window.",
                value=self.average,
            ),
            Gauge(
                name="alert_threshold_per_second",
                help="The average above which the alert is raised.",
                value=self.threshold,
            ),
        ]

    def to_json(self) -> dict[str, Any]:
        return {"hits": self.hits, "alerting_since": self.alerting_since}

    def restore(self, data: dict[str, Any]) -> None:
        self.hits = validate.count(data["hits"])
        self.alerting_since = validate.optional_integer(data["alerting_since"])

    def _record(self, raised: bool, second: int, average: float) -> TrafficAlert:
        return TrafficAlert(
            kind="alert" if raised else "recovery",
            raised=raised,
            time=second,
            hits=self.hits,
            average=average,
            threshold=self.threshold,
            window_seconds=self.window_seconds,
        )
