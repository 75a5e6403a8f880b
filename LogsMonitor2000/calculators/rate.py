"""``--alert 'rate[(SCOPE)] >|< X/s over W'``: the events a scope matches per second
over the window (docs/alerts.md)."""

from __future__ import annotations

from typing import Any

from .base import Context
from .expression import RuleSpec
from .scope import matcher
from .staged import StagedRule


class RateRule(StagedRule):
    """The matching events in ``[s - W + 1, s]``, over W."""

    def __init__(self, spec: RuleSpec, context: Context) -> None:
        super().__init__(spec, matcher(spec.scope, context, spec.name))
        self.count = 0

    def enter(self, measure: Any) -> None:
        self.count += measure

    def move(self, measure: Any, stage: int) -> None:
        self.count -= measure

    def restart(self) -> None:
        self.count = 0

    def current(self) -> float | None:
        return self.count / self.window_seconds
