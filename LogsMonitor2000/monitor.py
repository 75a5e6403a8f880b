"""One run of the pipeline: source -> parser -> reorderer -> windows -> notifier.

The format is decided once the first lines are in (``--format auto``); then the stages
are built and every block goes through them.  ``Idle`` items from a live source move the
clock.  A stop request (a signal, see ``cli``) ends the run between two blocks, or at
once while the source is waiting, without reporting the seconds still open: they were
not finished, and ``--state`` carries them over to the next run.  After each block the
output is flushed, then (``--state``) a checkpoint may be written: never the other way
round, so no checkpoint covers a record that was not printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from . import checked
from .calculators.latency import SlowQueries
from .calculators.stats import HttpStats, MongoStats
from .calculators.traffic import TrafficAlert
from .errors import FormatError, StateError, UsageError
from .filters import Anonymizer, Filter
from .output import Notifier, RunInfo
from .parsers import NAMED_REJECTS, PARSERS, Parser, Rejects
from .parsers.detect import SAMPLE_BYTES, SAMPLE_LINES, detect, sample_lines
from .records import HttpStatsReport, MongoStatsReport, Summary
from .reorder import Downstream, Reorderer
from .settings import Settings
from .inputs import Idle, Position
from .inputs.parallel import Chunk
from .state import CHECKPOINT_SECONDS, IDLE_CHECKPOINT_SECONDS, StateFile
from .window import SlidingWindow, TumblingWindow, WholeRun, Window, Windows

#: Records read before "most records are invalid" can be said of a live input.
INVALID_WARNING_AFTER = 1000


class Input(Protocol):
    """What a monitor reads: blocks of lines, Idle items (a live source waiting), or
    chunks parsed by workers; and where it has got to (for checkpoints)."""

    #: Whether it is live: it waits for more at its end (a followed file, a listener).
    live: bool

    def __iter__(self) -> Iterator[str | Idle | Chunk]: ...

    def position(self) -> Position | None:
        """Where the last item handed over ends (None: not a followed file)."""

    def held(self) -> bytes:
        """A partial line still waiting for its newline."""

    def close(self) -> None:
        """Release what it holds."""


class StopRequested(Exception):
    """Raised by a signal handler to end a run at once (the source was waiting)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Monitor:
    """Runs the pipeline over a source and produces the summary."""

    def __init__(
        self,
        settings: Settings,
        notifier: Notifier,
        *,
        warn: Callable[[str], None],
        checkpoint: StateFile | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        #: The wall clock a live input's blocks are stamped with (``Idle`` has its own).
        self.clock = clock
        self.notifier = notifier
        self.warn = warn
        self.checkpoint = checkpoint
        self.rejects = Rejects(
            name_first=NAMED_REJECTS if settings.verbose else 0,
            report=warn,
            hidden=settings.anonymize,
        )
        self.filter = Filter(settings.selection) if settings.selection else None
        self.parser: Parser | None = None
        self.reorderer: Reorderer | None = None
        self.windows: list[Window] = []
        self.traffic = TrafficAlert(
            window_seconds=settings.alert_window, threshold=settings.threshold
        )
        self.slow: SlowQueries | None = None
        #: The whole run's counts, for the summary (SPEC §6).
        self.totals: HttpStats | MongoStats | None = None
        self.anonymizer: Anonymizer | None = None
        #: Set when a stop was requested (the signal's number).
        self.stopped_by: int | None = None
        #: True while an item is being processed: a stop then waits for its end, so that
        #: the summary counts every event read.
        self.busy = False
        #: True once the input is done with (checkpoint, summary, alerts delivered).
        self.finishing = False
        self._warned_invalid = False
        #: The start of the input, to say which format it reads as if none is valid.
        self._sample = ""
        self._saved_at = time.monotonic()
        self._saved_newest: int | None = None
        self._warned_checkpoint = False
        self._unsaved_lines = False
        self._lines_merged = 0  # lines of the chunks merged so far

    def request_stop(self, signum: int) -> None:
        """Stop after the item being processed (its events are all counted), or now while
        the source waits.  Once the run is finishing (delivering queued alerts, say), a
        second request stops at once."""
        again = self.stopped_by is not None
        self.stopped_by = signum
        if not self.busy or (again and self.finishing):
            raise StopRequested(signum)

    def run(self, source: Input) -> Summary:
        """Read ``source`` to its end (or until stopped); notify; return the summary."""
        pending: list[str] = []
        items = iter(source)
        try:
            while self.stopped_by is None:
                self.busy = False
                item = next(items, None)
                self.busy = True
                if item is None:
                    self._end_of_input(pending)
                    break
                self._process(item, pending)
                self.notifier.flush()
                self._save(source, final=False)
        except StopRequested as stop:
            self.stopped_by = stop.signum
        self.busy = self.finishing = True
        if self.stopped_by is not None:
            self._stopped_early(source, pending)
        self._save(source, final=True)
        if self.stopped_by is not None and source.held():
            self.warn(f"an incomplete last line was not counted: {source.held()[:160]!r}")
        if self.parser is None:
            self._start(None)
        summary = self.summary()
        self.notifier.finish(summary)
        if summary.nothing_valid:
            self._say_nothing_was_valid()
        else:
            self._warn_if_mostly_invalid(final=True)
        return summary

    def _stopped_early(self, source: Input, pending: list[str]) -> None:
        """What a stop leaves behind: lines read but not parsed yet (the format was not
        decided) are parsed, so that the summary and the checkpoint hold every event
        read; a CSV record left open at the end of a live input counts as it does at
        the end of a finished one - unless a checkpoint carries it over to the next run."""
        if self.parser is None and any(line.strip() for line in pending):
            self._start_with(pending)
        if self.parser is not None and source.live and self.checkpoint is None:
            self.parser.finish()

    def summary(self) -> Summary:
        reorderer, parser = self.reorderer, self.parser
        return Summary(
            events=reorderer.accepted if reorderer else 0,
            invalid=self.rejects.count,
            late=reorderer.late if reorderer else 0,
            first=reorderer.first if reorderer else None,
            last=reorderer.last if reorderer else None,
            max_lateness=reorderer.max_lateness if reorderer else 0,
            lateness_seconds=self.settings.lateness,
            filtered=self.filter.filtered if self.filter else None,
            unfinished=parser.unfinished() if parser else None,
            nothing_valid=self.rejects.count > 0 and self._valid_records() == 0,
            totals=self._totals(),
            alert_since=self.traffic.alerting_since,
            slow_since=self.slow.slow_since if self.slow else None,
            stopped_by=self.stopped_by,
        )

    def _totals(self) -> HttpStatsReport | MongoStatsReport | None:
        """The whole run's counts, with the seconds still open (a run stopped by a
        signal does not report them in windows, but the summary counts every event)."""
        reorderer, totals = self.reorderer, self.totals
        if reorderer is None or totals is None:
            return None
        still_open = reorderer.open_batches()
        if still_open:
            totals = totals.copy()
            for batch in still_open:
                totals.count(self.anonymizer.shown(batch) if self.anonymizer else batch)
        if reorderer.first is None or reorderer.last is None:
            return totals.report(0, 0)  # no event: empty lists
        return totals.report(reorderer.first, reorderer.last + 1)

    # -- --state --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state of the pipeline, JSON-ready (see ``state.py``)."""
        assert self.parser is not None and self.reorderer is not None
        return {
            "format": self.parser.name,
            "parser": self.parser.to_json(),
            "rejects": self.rejects.to_json(),
            "filtered": self.filter.filtered if self.filter else 0,
            "reorderer": self.reorderer.to_json(),
            "windows": [window.to_json() for window in self.windows],
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Carry on from ``snapshot``'s output (before ``run``)."""
        name = checked.text(data["format"])
        if name not in PARSERS:
            raise ValueError(f"unknown format {name!r}")
        self._start(name)
        assert self.parser is not None and self.reorderer is not None
        self.parser.restore(data["parser"])
        self.rejects.restore(data["rejects"])
        if self.filter is not None:
            self.filter.filtered = checked.count(data["filtered"])
        self.reorderer.restore(checked.mapping(data["reorderer"]))
        for window, state in zip(self.windows, checked.listed(data["windows"]), strict=True):
            window.restore(state)
        self._saved_newest = self.reorderer.newest

    def _save(self, source: Input, *, final: bool) -> None:
        """Write a checkpoint when one is due (see ``state.py``)."""
        if self.checkpoint is None or self.reorderer is None:
            return
        position = source.position()
        if position is None:
            return
        age = time.monotonic() - self._saved_at
        moved = self.reorderer.newest != self._saved_newest
        if not (
            final
            or (self._unsaved_lines and age >= CHECKPOINT_SECONDS)
            or (moved and age >= IDLE_CHECKPOINT_SECONDS)
        ):
            return
        self._saved_at = time.monotonic()
        try:
            self.checkpoint.save(position, self.snapshot())
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
        self._saved_newest = self.reorderer.newest
        self._unsaved_lines = False

    # -- stages -------------------------------------------------------------------------

    def _process(self, item: str | Idle | Chunk, pending: list[str]) -> None:
        if isinstance(item, Chunk):
            self._merge(item)
            return
        if isinstance(item, Idle):
            if self.parser is None and any(line.strip() for line in pending):
                self._start_with(pending)
            if self.reorderer is not None:
                self.reorderer.idle(item.now)
            return
        self._unsaved_lines = True
        if self.parser is not None and self.reorderer is not None:
            self.reorderer.now = self.clock()
            self.parser.feed(item)
            self.reorderer.release()
            self._warn_if_mostly_invalid(final=False)
        else:
            pending.append(item)
            if len(sample_lines("".join(pending))) >= SAMPLE_LINES:
                self._start_with(pending)

    def _merge(self, chunk: Chunk) -> None:
        """A chunk read in a worker (see ``parallel.py``): as if read here."""
        if self.parser is None:
            self._start(self.settings.log_format)
            self._sample = chunk.sample
        assert self.parser is not None and self.reorderer is not None
        if chunk.gathered and self.reorderer.merge_splits(chunk.reorderer, chunk.gathered):
            # Some of a window's seconds are late here and others not: the counts of
            # those seconds are needed apart.
            assert chunk.read_again is not None
            chunk = chunk.read_again()
        self.reorderer.merge(chunk.reorderer)
        self.rejects.merge(chunk.rejects, self._lines_merged)
        self._lines_merged += chunk.lines
        self.parser.skipped += chunk.skipped
        self.parser.headers += chunk.headers
        if self.filter is not None:
            self.filter.filtered += chunk.filtered
        self.reorderer.release()
        self._warn_if_mostly_invalid(final=False)

    def _end_of_input(self, pending: list[str]) -> None:
        if self.parser is None and any(line.strip() for line in pending):
            self._start_with(pending)
        if self.parser is not None and self.reorderer is not None:
            self.parser.finish()
            self.reorderer.finish()

    def _start_with(self, pending: list[str]) -> None:
        """Decide the format from the lines read so far, build the stages, feed them."""
        text = "".join(pending)
        pending.clear()
        self._sample = text[:SAMPLE_BYTES]
        name = self.settings.log_format
        if name == "auto":
            detected = detect(text, PARSERS)
            if detected is None:
                first = sample_lines(text)[0]
                raise FormatError(
                    f"cannot recognise the log format (tried {', '.join(PARSERS)}) "
                    f"from its first lines, e.g. {first[:80]!r}; choose one with --format"
                )
            name = detected
        self._start(name)
        assert self.parser is not None and self.reorderer is not None
        self.reorderer.now = self.clock()
        self.parser.feed(text)
        self.reorderer.release()

    def _start(self, name: str | None) -> None:
        settings = self.settings
        if name is not None:
            factory = PARSERS[name]
            stats: HttpStats | MongoStats
            if factory.family == "http":
                stats, self.totals = HttpStats(top_n=settings.top), HttpStats(
                    top_n=settings.top, bounded=True
                )
            else:
                stats, self.totals = MongoStats(top_n=settings.top), MongoStats(
                    top_n=settings.top, bounded=True
                )
            self.windows = [
                SlidingWindow(span_seconds=settings.alert_window, calculator=self.traffic),
                TumblingWindow(span_seconds=settings.stats_interval, calculator=stats),
                WholeRun(self.totals),
            ]
            if settings.slow_ms is not None:
                if factory.family != "mongo":
                    raise UsageError(
                        f"--slow-ms needs operation durations: a MongoDB log, not "
                        f"{factory.description}"
                    )
                self.slow = SlowQueries(
                    window_seconds=settings.alert_window, threshold_ms=settings.slow_ms
                )
                self.windows.append(
                    SlidingWindow(span_seconds=settings.alert_window, calculator=self.slow)
                )
            if self.filter is not None and factory.family == "mongo":
                http_only = self.filter.selection.http_only()
                if http_only:
                    raise UsageError(
                        f"{' and '.join(http_only)} mean nothing for MongoDB operations"
                    )
            windows: Downstream = Windows(self.windows, self.notifier.emit)
            if settings.anonymize:
                windows = self.anonymizer = Anonymizer(windows)
            self.reorderer = Reorderer(lateness_seconds=settings.lateness, downstream=windows)
            self.parser = factory(self.reorderer, self.rejects, self.filter)
        self.notifier.start(
            RunInfo(
                path=settings.path,
                format_name=name,
                format_description=self.parser.description if self.parser else None,
                stats_interval=settings.stats_interval,
                alert_window=settings.alert_window,
                threshold=settings.threshold,
                lateness=settings.lateness,
                follow=settings.follow,
                slow_ms=settings.slow_ms,
                unit="operation" if self.parser and self.parser.family == "mongo" else "hit",
                filters=tuple(settings.selection.as_options()),
                anonymize=settings.anonymize,
                verbose=settings.verbose,
            )
        )

    def _valid_records(self) -> int:
        """Records that were valid: events (accepted or late), events the filters turned
        away, and other valid records (headers are not records)."""
        if self.parser is None or self.reorderer is None:
            return 0
        filtered = self.filter.filtered if self.filter is not None else 0
        return self.reorderer.accepted + self.reorderer.late + filtered + self.parser.skipped

    def _warn_if_mostly_invalid(self, *, final: bool) -> None:
        """SPEC §7: a wrong format must never look like a quiet log."""
        if self._warned_invalid or self.parser is None:
            return
        invalid, valid = self.rejects.count, self._valid_records()
        if invalid <= valid or (not final and invalid + valid < INVALID_WARNING_AFTER):
            return
        self._warned_invalid = True
        self.warn(
            f"warning: {invalid:,} of {invalid + valid:,} records are invalid as "
            f"{self.parser.description} (--format {self.parser.name}){self._first_reject()}"
        )

    def _say_nothing_was_valid(self) -> None:
        """The input held records and none was valid: which format would read it?"""
        assert self.parser is not None
        name = self.parser.name
        others = {other: make for other, make in PARSERS.items() if other != name}
        better = detect(self._sample, others)
        hint = (
            f"it reads as {PARSERS[better].description}: try --format {better}"
            if better is not None
            else "no other format recognises its first lines"
        )
        self.warn(
            f"error: none of the {self.rejects.count:,} records is valid as "
            f"{self.parser.description} (--format {name}){self._first_reject()}; {hint}"
        )

    def _first_reject(self) -> str:
        if self.rejects.first is None:
            return ""
        line_number, text = self.rejects.first
        return f"; the first, line {line_number}: {text}"
