"""One run of the pipeline: sources -> input pipelines -> watermarks -> windows -> notifier.

Every input has a pipeline of its own (``input_pipeline.py``: its format, parser and
reorderer); the watermarks merge their closed seconds (``docs/counting.md``, "Several
inputs") for the windows, whose reports go to the notifier.  The first input whose
format is known builds the shared stages: the family's stats, the alert rules of the
registry (``calculators/__init__.py``), the whole run's totals, the /metrics counters.

Reading: finished inputs are read interleaved by time, the one that is furthest behind
first (an input not read yet before all), so that memory stays bounded by the windows
however far apart the inputs' times are.  Live inputs are asked in turn; when all of
them wait at their end, the monitor waits for them at once (``select`` on what they
give, ``POLL_SECONDS`` at most) and each one's clock moves on.

A stop request (a signal, see ``cli``) ends the run after the item being processed, or
at once while the monitor waits, without reporting the seconds still open: they were
not finished, and ``--state`` carries them over to the next run.  After each item the
output is flushed, then (``--state``) a checkpoint may be written: never the other way
round, so no checkpoint covers a record that was not printed.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..calculators import AlertRule, Context, alert_rules
from ..calculators.counters import EventCounters
from ..calculators.stats import Carried, Stats
from ..checkpoint import validate
from ..checkpoint.state import CHECKPOINT_SECONDS, IDLE_CHECKPOINT_SECONDS, StateFile
from ..errors import StateError, UsageError
from ..families import Family
from ..inputs import Idle, Position, Source
from ..inputs.follow import POLL_SECONDS
from ..output import LiveState, Notifier, RunInfo
from ..parsers import ParserFactory
from ..reports import Summary
from ..settings import Settings
from .filters import Anonymizer
from .input_pipeline import InputPipeline
from .reorder import Downstream, Reorderer
from .summary import counted_so_far, live_state, still_open_of, summary_of, turned_away
from .watermarks import Watermarks
from .windows import TakesParts, Tap, TumblingWindow, WholeRun, Window, Windows, rule_window


class StopRequested(Exception):
    """Raised by a signal handler to end a run at once (the monitor was waiting)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _how_far(stage: InputPipeline) -> tuple[int, int]:
    """Where a stage is in time, for the reading order: not read yet first."""
    newest = stage.reorderer.newest if stage.reorderer is not None else None
    return (0, stage.index) if newest is None else (1, newest)


class Monitor:
    """Runs the pipeline over its inputs and produces the summary."""

    def __init__(
        self,
        settings: Settings,
        notifier: Notifier,
        *,
        warn: Callable[[str], None],
        checkpoint: StateFile | None = None,
        clock: Callable[[], float] = time.monotonic,
        attach: Callable[[ParserFactory], Sequence[Window]] | None = None,
    ) -> None:
        self.settings = settings
        #: Builds windows of the run's own beside the shared ones (``--store``'s),
        #: once the first input's format is known.
        self.attach = attach
        self.attached: list[Window] = []
        #: The wall clock a live input's blocks are stamped with (``Idle`` has its own).
        self.clock = clock
        self.notifier = notifier
        self.warn = warn
        self.checkpoint = checkpoint
        self.inputs: list[InputPipeline] = []
        self.windows: list[Window] = []
        self.watermarks: Watermarks | None = None
        #: The kind of events, once the first input's format is known.
        self.family: Family | None = None
        #: What the inputs' formats carry (virtual hosts, syslog hosts): what stats show.
        self.carried: Carried = set()
        #: The alert rules, and the window of each.
        self.rules: list[AlertRule] = []
        self._unbuilt_rules: list[AlertRule] | None = None
        self.rule_windows: list[Window] = []
        #: The whole run's counts, for the summary (``docs/counting.md``).
        self.totals: Stats | None = None
        self.anonymizer: Anonymizer | None = None
        #: The /metrics counters (``--serve`` only).
        self.counters: EventCounters | None = None
        #: Set when a stop was requested (the signal's number).
        self.stopped_by: int | None = None
        #: True while an item is being processed: a stop then waits for its end, so that
        #: the summary counts every event read.
        self.busy = False
        #: Late, invalid and filtered records a restored run had counted (the /metrics
        #: counters start from zero with the process).
        self.turned_away_before = (0, 0, 0)
        #: True once the inputs are done with (checkpoint, summary, alerts delivered).
        self.finishing = False
        #: Set by ``quit`` (the dashboard's q): the run ends as at the inputs' end.
        self.quitting = False
        self._turn = 0  # the live stage asked next
        self._saved_at = time.monotonic()
        self._saved_newest: list[int | None] = []
        self._warned_checkpoint = False
        self._unsaved_lines = False

    def request_stop(self, signum: int) -> None:
        """Stop after the item being processed (its events are all counted), or now while
        the monitor waits.  Once the run is finishing (delivering queued alerts, say), a
        second request stops at once."""
        again = self.stopped_by is not None
        self.stopped_by = signum
        if not self.busy or (again and self.finishing):
            raise StopRequested(signum)

    def quit(self) -> None:
        """End the run after the item being processed, like a stop request, but as a
        normal end (exit 0): the person watching is done."""
        self.quitting = True

    # -- the inputs ---------------------------------------------------------------------

    def add_inputs(self, names: Sequence[str], sources: Sequence[Source]) -> None:
        """The run's inputs, in command-line order (before ``run`` or ``restore``)."""
        self.watermarks = self.watermarks or Watermarks(Windows([], self.notifier.emit))
        for name, source in zip(names, sources, strict=True):
            index = self.watermarks.add_input()
            self.inputs.append(
                InputPipeline(
                    index,
                    name,
                    source,
                    settings=self.settings,
                    warn=self.warn,
                    several=len(names) > 1,
                    opener=self._open_lane,
                    clock=self.clock,
                )
            )
            self.inputs[-1].add_summary = self._add_summary

    def run(self, sources: Sequence[Source] | None = None) -> Summary:
        """Read the inputs to their end (or until stopped); notify; the summary.  With
        ``sources``, those are the inputs (named after ``settings.paths``)."""
        if sources is not None:
            self.add_inputs(self.settings.inputs, sources)
        self.turned_away_before = turned_away(self)
        items = {stage.index: iter(stage.source) for stage in self.inputs}
        try:
            while self.stopped_by is None and not self.quitting:
                stage = self._next_lane()
                if stage is None:
                    if all(stage.done for stage in self.inputs):
                        break
                    self._wait()
                    continue
                # A listener hands over what it has taken from its inbox: a stop then
                # waits for the item (else it would be lost).  It never waits itself.
                self.busy = stage.listens
                item = next(items[stage.index], None)
                self.busy = True
                if item is None:
                    stage.end()
                    self._lane_waits(stage, False)
                    if stage.reorderer is None:  # (else it told the watermarks itself)
                        assert self.watermarks is not None
                        self.watermarks.ended(stage.index)
                    continue
                stage.process(item)
                if isinstance(item, Idle):
                    self._lane_waits(stage, True)  # nothing more there now
                else:
                    self._unsaved_lines = True
                self.notifier.flush()
                self._save(final=False)
        except StopRequested as stop:
            self.stopped_by = stop.signum
        self.busy = self.finishing = True
        if self.stopped_by is not None or self.quitting:
            for stage in self.inputs:
                for received in stage.source.drain():  # what a listener acknowledged
                    stage.process(received)
                stage.stopped(carried_over=self.checkpoint is not None)
        self._save(final=True)
        if self.stopped_by is not None or self.quitting:
            self._finish_attached()
        if self.family is None:  # no format became known (an empty input)
            self.rules = alert_rules(
                Context(settings=self.settings, family=None, durations=False, format_description="")
            )
            self._start_notifier(None)
        summary = self.summary()
        self.notifier.finish(summary)
        if summary.dropped:
            self.warn(f"{summary.dropped:,} datagrams were dropped (a full queue or socket buffer)")
        for stage in self.inputs:
            if stage.nothing_valid():
                stage.say_nothing_was_valid()
            else:
                stage.warn_if_mostly_invalid(final=True)
        return summary

    def _next_lane(self) -> InputPipeline | None:
        """The stage to ask for its next item: a live one that is not waiting, in turn;
        else the finished one furthest behind in time (one not read yet first); None
        when only waiting live inputs are left."""
        inputs = self.inputs
        for offset in range(len(inputs)):
            stage = inputs[(self._turn + offset) % len(inputs)]
            if stage.source.live and not stage.done and not stage.waiting:
                self._turn = (stage.index + 1) % len(inputs)
                return stage
        finished = [stage for stage in inputs if not stage.done and not stage.source.live]
        behind = min(finished, key=_how_far, default=None)
        if behind is not None:  # live inputs are asked again after each finished item
            for stage in inputs:
                if stage.waiting:
                    self._lane_waits(stage, False)
        return behind

    def _wait(self) -> None:
        """Every unfinished stage is live and waits: wait for more, ``POLL_SECONDS`` at
        most (a signal ends the wait: see ``request_stop``)."""
        descriptors = [
            descriptor
            for stage in self.inputs
            if not stage.done and (descriptor := stage.source.waitable()) is not None
        ]
        self.busy = False
        if descriptors:
            select.select(descriptors, [], [], POLL_SECONDS)
        else:
            time.sleep(POLL_SECONDS)
        self.busy = True
        for stage in self.inputs:
            if stage.waiting:
                self._lane_waits(stage, False)

    def _lane_waits(self, stage: InputPipeline, waiting: bool) -> None:
        stage.waiting = waiting
        assert self.watermarks is not None
        self.watermarks.waiting_empty(stage.index, waiting)

    # -- the stages, once a stage's format is known --------------------------------------

    def _open_lane(self, stage: InputPipeline, factory: ParserFactory) -> Reorderer:
        """The reorderer of a stage whose format is now known (and the shared stages, for
        the first one)."""
        if self.family is None:
            self._build_stages(factory)
        elif factory.family is not self.family:
            raise UsageError(
                f"{stage.name} is {factory.description}: access logs, MongoDB logs and "
                "logging records can't be read in one run"
            )
        if factory.carries_vhost:
            self.carried.add("vhosts")
        if stage.listens_to_syslog:
            self.carried.add("hosts")
        assert self.watermarks is not None
        reorderer = Reorderer(
            lateness_seconds=self.settings.lateness,
            downstream=self.watermarks.end(stage.index),
            batch=factory.family.batch,
        )
        self.watermarks.attach(stage.index, reorderer)
        return reorderer

    def _build_stages(self, factory: ParserFactory) -> None:
        settings = self.settings
        family = self.family = factory.family
        settings.selection.check_applies(family.filters, family.described)
        context = Context(
            settings=settings,
            family=family,
            durations=factory.carries_duration,
            format_description=factory.description,
            # (a JSON log's fields are found by name in its lines: it may have one)
            vhosts=factory.carries_vhost or factory.name == "json",
        )
        self.rules = alert_rules(context)
        self.rule_windows = [rule_window(rule, family.batch) for rule in self.rules]
        stats = Stats(family, top_n=settings.top, carried=self.carried)
        self.totals = Stats(family, top_n=settings.top, bounded=True, carried=self.carried)
        # (in the order of the checkpoints of earlier versions)
        self.windows = [
            *self.rule_windows[:1],
            TumblingWindow(span_seconds=settings.stats_interval, calculator=stats),
            WholeRun(self.totals),
            *self.rule_windows[1:],
        ]
        taps: list[Window] = []
        if settings.serve is not None:
            self.counters = EventCounters(family)
            taps.append(Tap(self.counters.count))
        keep_values = any(rule.keeps_values for rule in self.rules)
        self.attached = list(self.attach(factory)) if self.attach else []
        windows: Downstream = Windows(
            self.windows + self.attached + taps, self.notifier.emit, keep_values=keep_values
        )
        if settings.anonymize:
            windows = self.anonymizer = Anonymizer(windows, family.addresses)
        assert self.watermarks is not None
        self.watermarks.downstream = windows
        self.watermarks.batch = family.batch
        self._start_notifier(factory)

    def _start_notifier(self, factory: ParserFactory | None) -> None:
        settings = self.settings
        self.notifier.start(
            RunInfo(
                path=", ".join(stage.name for stage in self.inputs),
                format_name=factory.name if factory else None,
                format_description=factory.description if factory else None,
                stats_interval=settings.stats_interval,
                rules=tuple(rule.info() for rule in self.rules),
                lateness=settings.lateness,
                follow=settings.follow,
                unit=factory.family.unit if factory else "hit",
                noun=factory.family.noun if factory else "events",
                filters=tuple(settings.selection.as_options()),
                anonymize=settings.anonymize,
                verbose=settings.verbose,
            )
        )

    # -- the summary --------------------------------------------------------------------

    def summary(self) -> Summary:
        """The run so far (``summary.py``)."""
        return summary_of(self)

    def counted(self) -> tuple[int, int, int]:
        """Late and invalid records so far, and the largest lateness."""
        return counted_so_far(self)

    def reported_until(self) -> int | None:
        """The second the stats windows are reported from now on (a restored run's:
        the window being counted, else the first second not closed yet); None before
        any second closed."""
        stats = next((w for w in self.windows if isinstance(w, TumblingWindow)), None)
        if stats is not None and stats.start is not None:
            return stats.start
        through = self.watermarks.through if self.watermarks else None
        return None if through is None else through + 1

    def rules_so_far(self) -> list[AlertRule]:
        """The alert rules; before any input's format is known, the rules a run that
        has seen nothing yet has (built without a family: what they say is the same)."""
        if self.family is not None or self.rules:
            return self.rules
        if self._unbuilt_rules is None:
            context = Context(
                settings=self.settings, family=None, durations=False, format_description=""
            )
            self._unbuilt_rules = alert_rules(context)
        return self._unbuilt_rules

    def dropped(self) -> int | None:
        """Datagrams the listeners dropped (None: no listener)."""
        counts = [found for stage in self.inputs if (found := stage.source.dropped()) is not None]
        return sum(counts) if counts else None

    def live(self) -> LiveState:
        """The run so far, for a live view (``summary.py``)."""
        return live_state(self)

    def _add_summary(self, parts: dict[str, Any]) -> None:
        if self.totals is not None:
            self.totals.add_parts(parts)
        for window in self.attached:  # (a store's minutes)
            if isinstance(window, TakesParts):
                window.add_parts(parts)

    def _finish_attached(self) -> None:
        """A stop: the windows of the run's own (a store's) count the seconds still
        open too, as the summary does, and finish (``--state`` carries them over)."""
        still_open = still_open_of(self) if self.watermarks is not None else []
        for window in self.attached:
            if still_open:
                window.close(still_open, still_open[-1].second, None)
            window.finish()

    # -- --state --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state of the pipeline, JSON-ready (see ``checkpoint/state.py``)."""
        assert self.watermarks is not None
        return {
            "lanes": [stage.to_json() for stage in self.inputs],
            "junction": self.watermarks.to_json(),
            "windows": [window.to_json() for window in self.windows],
            "attached": [window.to_json() for window in self.attached],
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Carry on from ``snapshot``'s output (after ``add_inputs``, before ``run``)."""
        assert self.watermarks is not None
        inputs = validate.listed(data["lanes"])
        if len(inputs) != len(self.inputs):
            raise ValueError("another number of inputs")
        for stage, state in zip(self.inputs, inputs):
            stage.restore(validate.mapping(state))
        self.watermarks.restore(validate.mapping(data["junction"]))
        for window, state in zip(self.windows, validate.listed(data["windows"]), strict=True):
            window.restore(validate.mapping(state))
        attached = validate.listed(data.get("attached", []))
        if len(attached) == len(self.attached):  # (else --store was added: it starts now)
            for window, state in zip(self.attached, attached):
                window.restore(validate.mapping(state))
        self._saved_newest = self._newest()

    def _newest(self) -> list[int | None]:
        return [stage.reorderer.newest if stage.reorderer else None for stage in self.inputs]

    def positions(self) -> list[Position | None]:
        return [stage.source.position() for stage in self.inputs]

    def _save(self, *, final: bool) -> None:
        """Write a checkpoint when one is due (see ``checkpoint/state.py``)."""
        if self.checkpoint is None or self.watermarks is None:
            return
        age = time.monotonic() - self._saved_at
        moved = self._newest() != self._saved_newest
        if not (
            final
            or (self._unsaved_lines and age >= CHECKPOINT_SECONDS)
            or (moved and age >= IDLE_CHECKPOINT_SECONDS)
        ):
            return
        self._saved_at = time.monotonic()
        try:
            self.checkpoint.save(self.positions(), self.snapshot())
        except StateError as error:  # a full disk, say: the run goes on
            if final:
                self.warn(
                    f"warning: the checkpoint was not saved ({error}): a restart "
                    "carries on from the one before"
                )
            elif not self._warned_checkpoint:
                self._warned_checkpoint = True
                self.warn(f"warning: {error}; the monitor goes on, and tries again")
            return
        self._saved_newest = self._newest()
        self._unsaved_lines = False
