"""``--alert 'share(MATCH) > P% over W'``: the percentage of the window's events that
MATCH matches, undefined while the window holds fewer than ``MIN_EVENTS``
(docs/alerts.md)."""

from __future__ import annotations

from typing import Any

from ..checkpoint import validate
from ..pipeline.batch import Batch
from .base import Context
from .expression import RuleSpec
from .scope import matcher
from .staged import StagedRule

#: Fewer events than this in the window: no share (a 1-in-3 error rate at night is no
#: alert).
MIN_EVENTS = 20


class ShareRule(StagedRule):
    """100 x matching / all events in ``[s - W + 1, s]``."""

    chart = "status"
    unit = "%"

    def __init__(self, spec: RuleSpec, context: Context) -> None:
        matching = matcher(spec.scope, context, spec.name)

        def measure(batch: Batch) -> tuple[int, int]:
            return matching(batch), batch.hits

        super().__init__(spec, measure)
        self.matched = self.events = 0

    def enter(self, measure: Any) -> None:
        self.matched += measure[0]
        self.events += measure[1]

    def move(self, measure: Any, stage: int) -> None:
        self.matched -= measure[0]
        self.events -= measure[1]

    def restart(self) -> None:
        self.matched = self.events = 0

    def current(self) -> float | None:
        if self.events < MIN_EVENTS:
            return None
        return 100 * self.matched / self.events

    def measure_from_json(self, data: Any) -> Any:
        matched, events = validate.listed(data)
        return validate.count(matched), validate.count(events)
