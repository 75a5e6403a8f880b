"""``--alert 'pNN > X ms over W'``: the nearest-rank NN-th percentile of the durations
in the window, undefined without any (docs/alerts.md).  The durations are kept in a
``SortedBag`` (``slow.py``): adding, removing and the k-th value cost a bisect."""

from __future__ import annotations

from typing import Any

from ..checkpoint import validate
from ..errors import UsageError
from ..pipeline.batch import Batch
from .base import Context
from .counting import rank
from .expression import RuleSpec
from .slow import SortedBag
from .staged import StagedRule


class PercentileRule(StagedRule):
    """pNN of the known durations in ``[s - W + 1, s]``."""

    chart = "duration"
    unit = " ms"

    def __init__(self, spec: RuleSpec, context: Context) -> None:
        if not context.durations or context.family is None:
            raise UsageError(
                f"--alert {spec.name!r} needs durations: a MongoDB log, or an access log "
                f"with a request time, not {context.format_description or 'this log'}"
            )

        def measure(batch: Batch) -> list[float]:
            return list(getattr(batch, "durations_ms"))

        super().__init__(spec, measure)
        self.durations = SortedBag()

    def enter(self, measure: Any) -> None:
        for ms in measure:
            self.durations.add(ms)

    def move(self, measure: Any, stage: int) -> None:
        for ms in measure:
            self.durations.remove(ms)

    def restart(self) -> None:
        self.durations = SortedBag()

    def current(self) -> float | None:
        size = self.durations.size
        if size == 0:
            return None
        return self.durations[rank(self.spec.percentile, size) - 1]

    def measure_from_json(self, data: Any) -> Any:
        return [validate.duration(ms) for ms in validate.listed(data)]
