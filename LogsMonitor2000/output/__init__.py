"""Notifiers: reports in, something for a person or a program out.

``text`` renders for a terminal, ``jsonlines`` writes one JSON object per line,
``html/report`` an HTML page (``html/page.py``), ``html/live`` the live page and its
endpoints, ``dashboard`` a full-screen terminal view, ``prometheus`` the ``/metrics``
text, ``forward`` sends alerts on.  They only render what the calculators reported
(``history.py`` remembers it for the pictures), a stats report's figures by their
shape and an alert by its own words, so none names a family or a record type; none
computes anything.  ``Tee`` hands every report to several of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..errors import MonitorError
from ..reports import Gauge, Report, RuleInfo, Summary

if TYPE_CHECKING:
    from ..calculators.counters import EventCounters


class OutputError(MonitorError):
    """Standard output can't be written (closed, a full disk): not a reader that went
    away, which is a normal end (``BrokenPipeError``)."""


class Stream(Protocol):
    """Where a notifier writes: standard output, or what a test gives it."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class GuardedStream:
    """A stream whose write errors become ``OutputError`` (one line, exit 1), but for
    ``BrokenPipeError`` (``| head`` stopped reading: exit 0, quietly)."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as error:  # ValueError: the stream was closed
            raise _output_error(error) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as error:
            raise _output_error(error) from None


def _output_error(error: Exception) -> OutputError:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else error
    return OutputError(f"cannot write to standard output: {reason}")


@dataclass(slots=True, frozen=True, kw_only=True)
class RunInfo:
    """What a header says about the run, once the format is known."""

    path: str
    format_name: str | None
    format_description: str | None
    stats_interval: int
    #: The alert rules.
    rules: tuple[RuleInfo, ...] = ()
    lateness: int
    follow: bool
    #: What one event is called: "hit" (HTTP), "operation" (MongoDB), "record"; and
    #: what the events are called together ("events", "operations").
    unit: str = "hit"
    noun: str = "events"
    #: The filters, as options (``--path /api``), and whether sources are anonymized.
    filters: tuple[str, ...] = ()
    anonymize: bool = False
    verbose: bool = False

    def rule(self, chart: str) -> RuleInfo | None:
        """The first rule drawn on ``chart`` ("rate", "duration")."""
        return next((rule for rule in self.rules if rule.chart == chart), None)


class Notifier(Protocol):
    """Where records go."""

    def start(self, run: RunInfo) -> None:
        """The run starts (the format is known)."""

    def emit(self, record: Report) -> None:
        """One report, in their order (``docs/counting.md``, "Order")."""

    def flush(self) -> None:
        """A block has been processed: make what was emitted visible."""

    def finish(self, summary: Summary) -> None:
        """The run ends: the summary comes last."""


class Tee:
    """Several notifiers as one: each is told everything, in order."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = list(notifiers)

    def start(self, run: RunInfo) -> None:
        for notifier in self.notifiers:
            notifier.start(run)

    def emit(self, record: Report) -> None:
        for notifier in self.notifiers:
            notifier.emit(record)

    def flush(self) -> None:
        for notifier in self.notifiers:
            notifier.flush()

    def finish(self, summary: Summary) -> None:
        for notifier in self.notifiers:
            notifier.finish(summary)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveState:
    """What a live view shows besides the records: the run so far (``Monitor.live``)."""

    summary: Summary
    #: "hit", "operation" or "record".
    unit: str
    #: The alert rules, and their values for ``/metrics``.
    rules: tuple[RuleInfo, ...] = ()
    gauges: tuple[Gauge, ...] = ()
    #: The /metrics counters (when served), and the late, invalid and filtered
    #: records counted before the process started (a restored run's), which its
    #: counters leave out: every counter starts from zero with the process.
    counters: EventCounters | None = None
    before: tuple[int, int, int] = (0, 0, 0)
    #: (second, hits) of the seconds with events in the rate rule's window, and the
    #: newest closed second.
    per_second: tuple[tuple[int, int], ...] = ()
    through: int | None = None

    def rule(self, chart: str) -> RuleInfo | None:
        """The first rule drawn on ``chart`` ("rate", "duration")."""
        return next((rule for rule in self.rules if rule.chart == chart), None)
