"""What calculators report and notifiers render: plain data, never formatted text.

Every report has a ``kind`` (``stats``, ``alert``, ``recovery``, ``slow``...), the
second ``time`` it is reported at, and ``to_json()``: the object ``--output json``
prints (``docs/json.md``).  Two families of reports:

* ``StatsReport``: a stats window's hits and its *figures*, each a panel of the
  family (``families/``) with its value;
* ``AlertReport``: an alert rule starting (``raised``) or ending at ``time``; each
  rule's calculator has its own subclass (``calculators/``), which says what happened
  in words (``describe``: the sentence every view shows).

Reports leave in the order of ``docs/counting.md`` ("Order"): by second (an alert at its
own second, a stats window at its last second ``end - 1``), and at the same second
alerts before stats.  ``sort_key`` encodes that order; the summary always comes last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .families.base import CLASSES, PANELS, PERCENTILES, SIZE, SLOWEST, TOP, Panel

#: A top list: (key, count), count descending then key ascending; the summary's entries
#: are (key, count, overcount) once its counts are estimates.
Top = list[tuple[str, int] | tuple[str, int, int]]


@dataclass(slots=True, frozen=True)
class Percentiles:
    """Nearest-rank duration percentiles, in milliseconds."""

    p50: float
    p95: float
    p99: float
    max: float

    def items(self) -> list[tuple[str, float]]:
        return [("p50", self.p50), ("p95", self.p95), ("p99", self.p99), ("max", self.max)]


@dataclass(slots=True, frozen=True)
class Figure:
    """A panel's value in a report (see ``families/base.py`` for the shapes)."""

    panel: Panel
    value: Any

    @property
    def says_something(self) -> bool:
        """Whether the views show it: not a top list of the panel's unknown key alone
        (JSON has it all the same)."""
        unknown = self.panel.unknown
        return unknown is None or any(entry[0] != unknown for entry in self.value)

    def to_json(self) -> Any:
        shape, value = self.panel.shape, self.value
        if shape == TOP:
            return [list(entry) for entry in value]
        if shape == CLASSES:
            return dict(value)
        if shape == PERCENTILES:
            return dict(value.items())
        if shape == PANELS:
            return value
        if shape == SLOWEST:
            return [
                {"ms": ms, "namespace": namespace, "operation": operation, "shape": masked}
                for ms, namespace, operation, masked in value
            ]
        assert shape == SIZE
        return value


def add_figures(data: dict[str, Any], figures: tuple[Figure, ...]) -> None:
    """Each figure under its panel's key (the panels' keys are the summary's own)."""
    for figure in figures:
        if figure.panel.shape == PANELS:
            data.update(figure.to_json())
        else:
            data[figure.panel.key] = figure.to_json()


class Report:
    """What every report has (see the module's docstring)."""

    __slots__ = ()
    #: Among reports of the same second: alerts (0, 1) before stats (2).
    priority: ClassVar[int]
    kind: str
    time: int

    def sort_key(self) -> tuple[int, int]:
        return (self.time, self.priority)

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(slots=True, frozen=True, kw_only=True)
class StatsReport(Report):
    """A tumbling stats window ``[start, end)``, or the whole run's totals."""

    priority: ClassVar[int] = 2
    kind: str = "stats"
    start: int
    end: int
    hits: int
    figures: tuple[Figure, ...] = ()

    @property
    def time(self) -> int:  # type: ignore[override]
        """The second the window is reported at: its last one."""
        return self.end - 1

    def figure(self, shape: str, *, chart: bool | None = None) -> Figure | None:
        """The first figure of ``shape`` (and charted or not, when asked)."""
        for figure in self.figures:
            if figure.panel.shape == shape and chart in (None, figure.panel.chart):
                return figure
        return None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "stats",
            "start": self.start,
            "end": self.end,
            "hits": self.hits,
        }
        add_figures(data, self.figures)
        return data


@dataclass(slots=True, frozen=True, kw_only=True)
class AlertReport(Report):
    """An alert rule's state changing at ``time``."""

    priority: ClassVar[int] = 0
    #: The rule's name, as the views call it ("high traffic").
    rule: str
    kind: str
    time: int
    #: The alert starts (an ``alert``), or ends (a ``recovery``).
    raised: bool
    #: Where the report's pictures draw the rule: "rate" (the events per second) or
    #: "duration" (the durations' percentiles).
    chart: str = "rate"

    def describe(self, unit: str) -> str:
        """What happened, in a sentence (``unit``: what an event is called)."""
        raise NotImplementedError


@dataclass(slots=True, frozen=True, kw_only=True)
class RuleInfo:
    """An alert rule, as a run's header and pictures show it."""

    name: str
    #: For the header: "alert when the average over 120 s exceeds 10/s".
    description: str
    #: Where it is drawn ("rate" or "duration"), at which value, with which label.
    chart: str
    threshold: float
    threshold_label: str
    window_seconds: int


@dataclass(slots=True, frozen=True, kw_only=True)
class RuleState:
    """An alert rule's state, for the summary and the live views."""

    name: str
    #: The summary's JSON key for the second the active alert started at ("": none),
    #: and whether the key is there (null) when no alert is active.
    json_key: str
    always_listed: bool = False
    #: The second the active alert started at (None: not active).
    since: int | None = None
    #: Its value now (the average rate, the p95 duration; None: undefined).
    value: float | None = None
    #: Its name in records and in the summary's ``active`` ("": ``name``).
    rule: str = ""
    #: Its value (None: undefined) and threshold over time, (start, value, threshold)
    #: samples for the report's chart, and what the value is; none: not charted.
    series: tuple[tuple[int, float | None, float], ...] = ()
    label: str = ""


@dataclass(slots=True, frozen=True, kw_only=True)
class Gauge:
    """A value of ``/metrics`` that goes up and down (an alert's state, an average)."""

    name: str
    help: str
    value: float
    #: Its labels (a rule's name): gauges of one name are one metric.
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True, frozen=True, kw_only=True)
class InputTotals:
    """One input's own counts, in the summary of a run of several inputs."""

    name: str
    events: int
    invalid: int
    late: int
    first: int | None
    last: int | None
    max_lateness: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "events": self.events,
            "invalid": self.invalid,
            "late": self.late,
            "first": self.first,
            "last": self.last,
            "max_lateness": self.max_lateness,
        }


@dataclass(slots=True, frozen=True, kw_only=True)
class Summary:
    """The last report of a run and what the text summary needs besides."""

    kind: ClassVar[str] = "summary"
    events: int
    invalid: int
    late: int
    first: int | None
    last: int | None
    max_lateness: int
    lateness_seconds: int
    #: Operations that started and never finished (None: the family has none).
    unfinished: int | None = None
    #: Valid records that are no events: the earlier rows of MongoDB operations, the
    #: lines of a JSON log's other loggers (Caddy's errors).
    other: int = 0
    #: The alert rules, active or not.
    rules: tuple[RuleState, ...] = ()
    #: Events turned away by the filters (None: no filter was set).
    filtered: int | None = None
    #: Alerts that could not be forwarded (None: no ``--alert-url``).
    undelivered: int | None = None
    #: Set when the run was stopped by a signal (its number).
    stopped_by: int | None = None
    #: The input held records and none of them was valid (a wrong ``--format``?).
    nothing_valid: bool = False
    #: The whole run's totals, in the shape of a stats window from ``first`` to
    #: ``last + 1`` (None without a known format).
    totals: StatsReport | None = None
    #: Datagrams a full listener dropped (None: no listener).
    dropped: int | None = None
    #: Each input's own counts, in command-line order (when there are several).
    inputs: list[InputTotals] | None = field(default=None)

    @property
    def active(self) -> list[RuleState]:
        """The rules whose alert is active at the end."""
        return [rule for rule in self.rules if rule.since is not None]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "summary",
            "events": self.events,
            "invalid": self.invalid,
            "late": self.late,
            "first": self.first,
            "last": self.last,
            "max_lateness": self.max_lateness,
        }
        for key in ("unfinished", "filtered", "undelivered", "dropped"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.other:
            data["other"] = self.other
        for rule in self.rules:
            if rule.json_key and (rule.since is not None or rule.always_listed):
                data[rule.json_key] = rule.since
        data["active"] = [rule.rule or rule.name for rule in self.active]
        if self.inputs is not None:
            data["inputs"] = [totals.to_json() for totals in self.inputs]
        if self.totals is not None:  # the whole run, in the shapes of a stats record
            add_figures(data, self.totals.figures)
        return data
