"""``--alert 'rate >|< K x baseline(H) over W'``: the rate over the window against K
times the rate of the H seconds before it (docs/alerts.md).  Undefined until those H
seconds all come after the run's first second, and while the baseline is 0."""

from __future__ import annotations

from typing import Any

from ..checkpoint import validate
from ..pipeline.batch import Batch
from .base import Context
from .expression import RuleSpec
from .scope import matcher
from .staged import StagedRule


class BaselineRule(StagedRule):
    """Events in ``[s - W + 1, s]`` over W, against K x events in
    ``[s - W - H + 1, s - W]`` over H."""

    def __init__(self, spec: RuleSpec, context: Context) -> None:
        matching = matcher(spec.scope, context, spec.name)

        def measure(batch: Batch) -> tuple[int, int]:
            return batch.second, matching(batch)

        super().__init__(spec, measure)
        self.stages = (spec.window, spec.window + spec.baseline)
        self.recent = self.before = 0
        #: The second of the first Batch the rule saw (the run's first).
        self.first: int | None = None

    def enter(self, measure: Any) -> None:
        if self.first is None:
            self.first = measure[0]
        self.recent += measure[1]

    def move(self, measure: Any, stage: int) -> None:
        if stage == 0:
            self.recent -= measure[1]
            self.before += measure[1]
        else:
            self.before -= measure[1]

    def restart(self) -> None:
        self.recent = self.before = 0

    def defined_from(self) -> int | None:
        """The first second whose baseline starts at or after the first second."""
        if self.first is None:
            return None
        return self.first + self.spec.window + self.spec.baseline - 1

    def wake(self) -> int | None:
        start = self.defined_from()
        if start is None or (self.now is not None and self.now >= start):
            return None
        return start

    def current(self) -> float | None:
        start = self.defined_from()
        if start is None or self.now is None or self.now < start or self.before == 0:
            return None
        return self.recent / self.window_seconds

    def threshold(self) -> float:
        return self.spec.threshold * self.before / self.spec.baseline

    def measure_from_json(self, data: Any) -> Any:
        second, count = validate.listed(data)
        return validate.integer(second), validate.count(count)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "first": self.first}

    def restore(self, data: dict[str, Any]) -> None:
        super().restore(data)
        self.first = validate.optional_integer(data["first"])
