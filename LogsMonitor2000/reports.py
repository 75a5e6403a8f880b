"""What calculators report and notifiers render: plain data, never formatted text.

Records leave in the order of SPEC §5: by second (an alert at its own second, a stats
window at its last second ``end - 1``), and at the same second alerts before stats.
``sort_key`` encodes that order; the summary always comes last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Union

from .pipeline.batch import SlowQuery

#: A top list: (key, count), count descending then key ascending; the summary's entries
#: are (key, count, overcount) once its counts are estimates (SPEC §6).
Top = list[tuple[str, int] | tuple[str, int, int]]


@dataclass(slots=True, frozen=True)
class Percentiles:
    """Nearest-rank duration percentiles of a window, in milliseconds."""

    p50: float
    p95: float
    p99: float
    max: float


@dataclass(slots=True, frozen=True, kw_only=True)
class StatsReport:
    """A tumbling stats window ``[start, end)`` (SPEC §4)."""

    priority: ClassVar[int] = 2
    start: int
    end: int
    hits: int
    sections: Top
    #: The top syslog HOSTNAMEs, when events come over syslog (None otherwise).
    hosts: Top | None = None

    @property
    def time(self) -> int:
        """The second the window is reported at: its last one."""
        return self.end - 1

    def sort_key(self) -> tuple[int, int]:
        return (self.time, self.priority)


@dataclass(slots=True, frozen=True, kw_only=True)
class HttpStatsReport(StatsReport):
    """Stats of an access log window."""

    sources: Top
    status: dict[str, int]
    bytes_total: int
    #: The top virtual hosts, when the format carries one (None otherwise).
    vhosts: Top | None = None
    #: Request-time percentiles, when the window has request times.
    duration: Percentiles | None = None


@dataclass(slots=True, frozen=True, kw_only=True)
class MongoStatsReport(StatsReport):
    """Stats of a MongoDB operations window."""

    methods: Top
    duration: Percentiles | None
    slowest: list[SlowQuery]


@dataclass(slots=True, frozen=True, kw_only=True)
class LogStatsReport(StatsReport):
    """Stats of a window of Python logging records (``sections`` are the loggers)."""

    #: The senders' addresses.
    sources: Top
    #: Records per level, most severe first.
    levels: dict[str, int]
    #: The types of the records' exceptions.
    exceptions: Top


@dataclass(slots=True, frozen=True, kw_only=True)
class Alert:
    """The high-traffic alert starting (``alert``) or ending (``recovery``) at ``time``."""

    priority: ClassVar[int] = 0
    kind: Literal["alert", "recovery"]
    time: int
    hits: int
    average: float
    threshold: float
    window_seconds: int

    def sort_key(self) -> tuple[int, int]:
        return (self.time, self.priority)


@dataclass(slots=True, frozen=True, kw_only=True)
class SlowAlert:
    """The p95 operation duration over the alert window crossing ``--slow-ms``."""

    priority: ClassVar[int] = 1
    kind: Literal["slow", "slow-recovery"]
    time: int
    p95_ms: float | None
    count: int
    window_seconds: int
    threshold_ms: float

    def sort_key(self) -> tuple[int, int]:
        return (self.time, self.priority)


Record = Union[HttpStatsReport, MongoStatsReport, LogStatsReport, Alert, SlowAlert]


@dataclass(slots=True, frozen=True, kw_only=True)
class InputTotals:
    """One input's own counts, in the summary of a run of several (SPEC §8)."""

    name: str
    events: int
    invalid: int
    late: int
    first: int | None
    last: int | None
    max_lateness: int


@dataclass(slots=True, frozen=True, kw_only=True)
class Summary:
    """The last record of a run (SPEC §6) and what the text summary needs besides."""

    events: int
    invalid: int
    late: int
    first: int | None
    last: int | None
    max_lateness: int
    lateness_seconds: int
    #: MongoDB only: operations that started and never finished.
    unfinished: int | None = None
    #: The second an alert still active at the end started at.
    alert_since: int | None = None
    slow_since: int | None = None
    #: Events turned away by the filters (None: no filter was set).
    filtered: int | None = None
    #: Alerts that could not be forwarded (None: no ``--alert-url``).
    undelivered: int | None = None
    #: Set when the run was stopped by a signal (its number).
    stopped_by: int | None = None
    #: The input held records and none of them was valid (a wrong ``--format``?).
    nothing_valid: bool = False
    #: The whole run's totals, in the shape of a stats window from ``first`` to
    #: ``last + 1`` (None without events).
    totals: HttpStatsReport | MongoStatsReport | LogStatsReport | None = None
    #: Datagrams a full listener dropped (None: no listener).
    dropped: int | None = None
    #: Each input's own counts, in command-line order (when there are several).
    inputs: list[InputTotals] | None = None
