"""Access logs: a request per event (``docs/counting.md``, "Access logs").

Its parsers (access CSV, Common/Combined, format strings, JSON logs) fill, per second:
the requests' sections, sources and status classes, the bytes sent, and when the format
carries them, the virtual hosts and the request times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..pipeline.batch import Aggregate, Batch, Counts, Total, Values, VisitLog, Visits
from .base import (
    BOUNDED,
    BY,
    CLASSES,
    HISTOGRAM,
    PANELS,
    PERCENTILES,
    SIZE,
    TOP,
    TOTAL,
    Counter,
    Family,
    Panel,
)


@dataclass(slots=True)
class HttpBatch(Batch):
    """The requests of one second."""

    sources: dict[str, int] = field(default_factory=dict)
    #: Status classes ("2xx") and their counts.
    statuses: dict[str, int] = field(default_factory=dict)
    #: The status codes themselves ("404"), for ``/metrics`` and ``--alert``.
    codes: dict[str, int] = field(default_factory=dict)
    #: The requests' methods (``-`` for a request without one), for ``--alert``.
    methods: dict[str, int] = field(default_factory=dict)
    bytes_total: int = 0
    vhosts: dict[str, int] = field(default_factory=dict)
    #: Request times, in ms.
    durations_ms: list[float] = field(default_factory=list)
    #: Each request as the whole run's panels tell them apart (``calculators/panels.py``).
    visits: VisitLog = field(default_factory=VisitLog)

    FIELDS: ClassVar[tuple[Aggregate, ...]] = Batch.FIELDS + (
        Counts("sources"),
        Counts("statuses"),
        Counts("codes", optional=True),
        Counts("methods", optional=True),
        Total("bytes_total", key="bytes"),
        Counts("vhosts"),
        Values("durations_ms"),
        Visits("visits", optional=True),
    )


HTTP = Family(
    name="http",
    unit="hit",
    noun="events",
    described="requests",
    batch=HttpBatch,
    panels=(
        Panel(key="sections", field="sections", shape=TOP, title="Sections", column="section"),
        Panel(key="sources", field="sources", shape=TOP, title="Sources", column="source"),
        Panel(
            key="status",
            field="statuses",
            shape=CLASSES,
            title="Status classes",
            column="class",
            counted="response",
            state="statuses",
            chart=True,
        ),
        Panel(key="bytes", field="bytes_total", shape=SIZE, label="sent"),
        Panel(
            key="vhosts",
            field="vhosts",
            shape=TOP,
            title="Virtual hosts",
            column="host",
            optional=True,
        ),
        Panel(
            key="duration",
            field="durations_ms",
            shape=PERCENTILES,
            label="durations",
            title="Durations",
            state="durations",
        ),
        Panel(
            key="hosts",
            field="hosts",
            shape=TOP,
            title="Syslog hosts",
            column="host",
            optional=True,
        ),
        Panel(
            key=PANELS,  # (its keys are the summary's own; see calculators/panels.py)
            field="visits",
            shape=PANELS,
            title="What and who",
            optional=True,
            summary_only=True,
        ),
    ),
    counters=(
        Counter(
            name="events_total",
            kind=TOTAL,
            field="hits",
            help="Accepted events (not late, not filtered).",
        ),
        Counter(
            name="responses_total",
            kind=BY,
            field="statuses",
            label="status_class",
            help="Accepted events by status class.",
        ),
        Counter(
            name="responses_by_code_total",
            kind=BY,
            field="codes",
            label="code",
            help="Accepted events by status code (at most 500: 100 to 599).",
        ),
        Counter(
            name="response_bytes_total",
            kind=TOTAL,
            field="bytes_total",
            help="Bytes sent, as the log says.",
        ),
        Counter(
            name="section_events_total",
            kind=BOUNDED,
            field="sections",
            label="section",
            help="Accepted events by section (the busiest ones; the rest as other).",
        ),
        Counter(
            name="duration_seconds",
            kind=HISTOGRAM,
            field="durations_ms",
            help="Request or operation durations.",
        ),
    ),
    filters=frozenset({"--since", "--until", "--path", "--status", "--source", "--method"}),
    addresses=("sources",),
    timed="request",
    scopes=(
        ("path", "visits"),
        ("code", "codes"),
        ("class", "statuses"),
        ("vhost", "vhosts"),
        ("source", "sources"),
        ("method", "methods"),
    ),
)
