"""The high-traffic alert (SPEC §3).

For every closed second ``s``: ``hits(s)`` counts the accepted events with time in
``[s - W + 1, s]`` and ``average = hits / W``.  Not alerting and ``average > T``: alert
at ``s``.  Alerting and ``average <= T``: recovery at ``s``.  After any second the state
is simply ``average > T``, so a second where nothing enters or leaves the window can't
change it: the sliding window only asks at seconds where something did.
"""

from __future__ import annotations

from typing import Any, Literal

from ..checkpoint import validate as checked
from ..pipeline.batch import Batch
from ..reports import Alert


class TrafficAlert:
    """Alerts when the average hit rate over ``window_seconds`` exceeds ``threshold``."""

    def __init__(self, *, window_seconds: int, threshold: float) -> None:
        self.window_seconds = window_seconds
        self.threshold = threshold
        self.hits = 0
        #: The second the current alert started at, None when not alerting.
        self.alerting_since: int | None = None

    def count(self, batch: Batch) -> None:
        self.hits += batch.hits

    def discount(self, batch: Batch) -> None:
        self.hits -= batch.hits

    def evaluate(self, second: int) -> Alert | None:
        average = self.hits / self.window_seconds
        if self.alerting_since is None:
            if average > self.threshold:
                self.alerting_since = second
                return self._record("alert", second, average)
        elif average <= self.threshold:
            self.alerting_since = None
            return self._record("recovery", second, average)
        return None

    def to_json(self) -> dict[str, Any]:
        return {"hits": self.hits, "alerting_since": self.alerting_since}

    def restore(self, data: dict[str, Any]) -> None:
        self.hits = checked.count(data["hits"])
        self.alerting_since = checked.optional_integer(data["alerting_since"])

    def _record(self, kind: Literal["alert", "recovery"], second: int, average: float) -> Alert:
        return Alert(
            kind=kind,
            time=second,
            hits=self.hits,
            average=average,
            threshold=self.threshold,
            window_seconds=self.window_seconds,
        )
