"""One run of the pipeline: source -> parser -> reorderer -> windows -> notifier.

The format is decided once the first lines are in (``--format auto``); then the stages
are built and every block goes through them.  ``Idle`` items from a live source move the
clock.  A stop request (a signal, see ``cli``) ends the run between two blocks, or at
once while the source is waiting, without reporting the seconds still open: they were
not finished, and ``--state`` carries them over to the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .calculators.stats import HttpStats, MongoStats
from .calculators.traffic import TrafficAlert
from .errors import FormatError
from .output import Notifier, RunInfo
from .parsers import PARSERS, Parser, Rejects
from .parsers.detect import SAMPLE_LINES, detect, sample_lines
from .records import Summary
from .reorder import Reorderer
from .settings import Settings
from .sources import Idle
from .window import SlidingWindow, TumblingWindow, Window, Windows

#: Invalid records named under --verbose.
NAMED_REJECTS = 5
#: Records read before "most records are invalid" can be said of a live input.
INVALID_WARNING_AFTER = 1000


class StopRequested(Exception):
    """Raised by a signal handler to end a run at once (the source was waiting)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Monitor:
    """Runs the pipeline over a source and produces the summary."""

    def __init__(
        self, settings: Settings, notifier: Notifier, *, warn: Callable[[str], None]
    ) -> None:
        self.settings = settings
        self.notifier = notifier
        self.warn = warn
        self.rejects = Rejects(name_first=NAMED_REJECTS if settings.verbose else 0, report=warn)
        self.parser: Parser | None = None
        self.reorderer: Reorderer | None = None
        self.traffic = TrafficAlert(
            window_seconds=settings.alert_window, threshold=settings.threshold
        )
        #: Set when a stop was requested (the signal's number).
        self.stopped_by: int | None = None
        #: True while a block is being processed: a stop then waits for its end.
        self.busy = False
        self._warned_invalid = False

    def request_stop(self, signum: int) -> None:
        """Stop after the current block, or now when nothing is being processed."""
        first_request = self.stopped_by is None
        self.stopped_by = signum
        if not self.busy or not first_request:
            raise StopRequested(signum)

    def run(self, source: Iterable[str | Idle]) -> Summary:
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
        except StopRequested as stop:
            self.stopped_by = stop.signum
        self.busy = True  # finishing: a signal now only marks the run as stopped
        if self.parser is None:
            self._start(None)
        summary = self.summary()
        self.notifier.finish(summary)
        self._warn_if_mostly_invalid(final=True)
        return summary

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
            unfinished=parser.unfinished() if parser else None,
            alert_since=self.traffic.alerting_since,
            stopped_by=self.stopped_by,
        )

    # -- stages -------------------------------------------------------------------------

    def _process(self, item: str | Idle, pending: list[str]) -> None:
        if isinstance(item, Idle):
            if self.parser is None and pending:
                self._start_with(pending)
            if self.reorderer is not None:
                self.reorderer.idle(item.seconds)
        elif self.parser is not None:
            self.parser.feed(item)
            self._warn_if_mostly_invalid(final=False)
        else:
            pending.append(item)
            if len(sample_lines("".join(pending))) >= SAMPLE_LINES:
                self._start_with(pending)

    def _end_of_input(self, pending: list[str]) -> None:
        if self.parser is None and pending:
            self._start_with(pending)
        if self.parser is not None and self.reorderer is not None:
            self.parser.finish()
            self.reorderer.finish()

    def _start_with(self, pending: list[str]) -> None:
        """Decide the format from the lines read so far, build the stages, feed them."""
        text = "".join(pending)
        pending.clear()
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
        assert self.parser is not None
        self.parser.feed(text)

    def _start(self, name: str | None) -> None:
        settings = self.settings
        if name is not None:
            factory = PARSERS[name]
            stats = (
                HttpStats(top_n=settings.top)
                if factory.family == "http"
                else MongoStats(top_n=settings.top)
            )
            windows: list[Window] = [
                SlidingWindow(span_seconds=settings.alert_window, calculator=self.traffic),
                TumblingWindow(
                    span_seconds=settings.stats_interval,
                    calculator=stats,
                    report_empty=settings.follow,
                ),
            ]
            self.reorderer = Reorderer(
                lateness_seconds=settings.lateness,
                downstream=Windows(windows, self.notifier.emit),
            )
            self.parser = factory(self.reorderer, self.rejects)
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
            )
        )

    def _warn_if_mostly_invalid(self, *, final: bool) -> None:
        """SPEC §7: a wrong format must never look like a quiet log."""
        if self._warned_invalid or self.parser is None or self.reorderer is None:
            return
        invalid = self.rejects.count
        valid = self.reorderer.accepted + self.reorderer.late + self.parser.skipped
        if invalid <= valid or (not final and invalid + valid < INVALID_WARNING_AFTER):
            return
        self._warned_invalid = True
        where = ""
        if self.rejects.first is not None:
            line_number, text = self.rejects.first
            where = f"; the first, line {line_number}: {text}"
        self.warn(
            f"warning: {invalid:,} of {invalid + valid:,} records are invalid as "
            f"{self.parser.description} (--format {self.parser.name}){where}"
        )
