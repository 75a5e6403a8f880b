"""What a live view shows besides the records: the run so far (``Monitor.live``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..families.base import TOP
from ..output import LiveState
from .windows import SlidingWindow

if TYPE_CHECKING:
    from .monitor import Monitor


def live_state(monitor: Monitor) -> LiveState:
    """The run so far, for a live view (the summary's top keys get their own
    labels in the /metrics counters)."""
    summary = monitor.summary()
    counters, totals = monitor.counters, summary.totals
    if counters is not None and totals is not None:
        for figure in totals.figures:
            if figure.panel.shape == TOP:
                counters.label(figure.panel.field, (entry[0] for entry in figure.value))
    rate = next(  # (the traffic rule's window)
        (window for window in monitor.rule_windows if isinstance(window, SlidingWindow)), None
    )
    per_second: tuple[tuple[int, int], ...] = ()
    if rate is not None:
        per_second = tuple((batch.second, batch.hits) for batch in rate.batches)
    return LiveState(
        summary=summary,
        per_second=per_second,
        through=monitor.watermarks.through if monitor.watermarks else None,
        rules=tuple(rule.info() for rule in monitor.rules_so_far()),
        gauges=tuple(gauge for rule in monitor.rules_so_far() for gauge in rule.gauges()),
        unit=monitor.family.unit if monitor.family else "hit",
        counters=counters,
    )
