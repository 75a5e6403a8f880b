"""The run so far: its summary (``Monitor.summary``), with the seconds still open,
and what a live view shows besides the records (``Monitor.live``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..families import Family
from ..families.base import TOP
from ..output import LiveState
from ..reports import InputTotals, StatsReport, Summary
from ..settings import Settings
from .batch import Batch
from .windows import SlidingWindow, Window

if TYPE_CHECKING:
    from ..calculators import AlertRule
    from ..calculators.counters import EventCounters
    from ..calculators.stats import Stats
    from .filters import Anonymizer
    from .input_pipeline import InputPipeline
    from .watermarks import Watermarks


class Run(Protocol):
    """What the summary is made of: a run's state (``Monitor``)."""

    settings: Settings
    inputs: list[InputPipeline]
    family: Family | None
    totals: Stats | None
    watermarks: Watermarks | None
    anonymizer: Anonymizer | None
    counters: EventCounters | None
    rule_windows: list[Window]
    stopped_by: int | None
    turned_away_before: tuple[int, int, int]

    def summary(self) -> Summary: ...

    def rules_so_far(self) -> list[AlertRule]: ...

    def dropped(self) -> int | None: ...


def live_state(monitor: Run) -> LiveState:
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
        before=monitor.turned_away_before,
    )


def summary_of(monitor: Run) -> Summary:
    """The run so far: what the summary says."""
    per_input = [input_totals(stage) for stage in monitor.inputs]
    firsts = [t.first for t in per_input if t.first is not None]
    lasts = [t.last for t in per_input if t.last is not None]
    parsers = [stage.parser for stage in monitor.inputs if stage.parser is not None]
    filters = [stage.filter for stage in monitor.inputs if stage.filter is not None]
    unfinished = [found for p in parsers if (found := p.unfinished()) is not None]
    # (MongoDB's skipped rows are its operations' earlier iterations, no records)
    mongo = monitor.family is None or monitor.family.unfinished
    others = 0 if mongo else sum(parser.skipped for parser in parsers)
    return Summary(
        events=sum(t.events for t in per_input),
        invalid=sum(t.invalid for t in per_input),
        late=sum(t.late for t in per_input),
        first=min(firsts, default=None),
        last=max(lasts, default=None),
        max_lateness=max((t.max_lateness for t in per_input), default=0),
        lateness_seconds=monitor.settings.lateness,
        filtered=sum(f.filtered for f in filters) if monitor.settings.selection else None,
        unfinished=sum(unfinished) if monitor.family and monitor.family.unfinished else None,
        other=others,
        nothing_valid=any(stage.nothing_valid() for stage in monitor.inputs),
        totals=totals_so_far(monitor),
        rules=tuple(rule.state() for rule in monitor.rules_so_far()),
        stopped_by=monitor.stopped_by,
        inputs=per_input if len(per_input) > 1 else None,
        dropped=monitor.dropped(),
    )


def counted_so_far(monitor: Run) -> tuple[int, int, int]:
    """Late and invalid records so far, and the largest lateness."""
    per_input = [input_totals(stage) for stage in monitor.inputs]
    return (
        sum(t.late for t in per_input),
        sum(t.invalid for t in per_input),
        max((t.max_lateness for t in per_input), default=0),
    )


def turned_away(monitor: Run) -> tuple[int, int, int]:
    """Late, invalid and filtered records so far (the /metrics counters' baseline at
    the process's start: a restored run's counts are its runs' before)."""
    late, invalid, _ = counted_so_far(monitor)
    filtered = sum(stage.filter.filtered for stage in monitor.inputs if stage.filter)
    return late, invalid, filtered


def input_totals(stage: InputPipeline) -> InputTotals:
    reorderer = stage.reorderer
    return InputTotals(
        name=stage.name,
        events=reorderer.accepted if reorderer else 0,
        invalid=stage.rejects.count,
        late=reorderer.late if reorderer else 0,
        first=reorderer.first if reorderer else None,
        last=reorderer.last if reorderer else None,
        max_lateness=reorderer.max_lateness if reorderer else 0,
    )


def totals_so_far(monitor: Run) -> StatsReport | None:
    """The whole run's counts, with the seconds still open (a run stopped by a
    signal does not report them in windows, but the summary counts every event)."""
    totals = monitor.totals
    if totals is None or monitor.watermarks is None:
        return None
    still_open = still_open_of(monitor)
    if still_open:
        totals = totals.copy()
        for batch in still_open:
            totals.count(batch)
    firsts = [r.first for stage in monitor.inputs if (r := stage.reorderer) and r.first is not None]
    lasts = [r.last for stage in monitor.inputs if (r := stage.reorderer) and r.last is not None]
    if not firsts:
        return totals.report(0, 0)  # no event: empty lists
    return totals.report(min(firsts), max(lasts) + 1)


def still_open_of(monitor: Run) -> list[Batch]:
    """The seconds not closed yet, in order (as the windows would see them)."""
    assert monitor.watermarks is not None
    still_open = list(monitor.watermarks.pending)
    for stage in monitor.inputs:
        if stage.reorderer is not None:
            still_open += stage.reorderer.open_batches()
    still_open.sort(key=lambda batch: batch.second)  # (the panels' days in order)
    return [monitor.anonymizer.shown(b) for b in still_open] if monitor.anonymizer else still_open
