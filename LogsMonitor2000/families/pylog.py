"""Python logging records (``docs/counting.md``, "Logging records").

Its parser fills, per second: the records' loggers (the sections), senders, levels and
the types of their exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..pipeline.batch import Aggregate, Batch, Counts, Lines
from .base import BOUNDED, BY, CLASSES, TOP, TOTAL, Counter, Family, Panel

#: Levels shown most severe first (others after them, by name).
SEVERITY = ("CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "INFO", "DEBUG", "NOTSET")


@dataclass(slots=True)
class LogBatch(Batch):
    """The logging records of one second (``sections`` are their loggers)."""

    #: Who sent them (a listener's client; ``-`` in a file).
    sources: dict[str, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    #: The levels as numbers ("40"), for ``--alert``'s ``level=`` (that level and above).
    severities: dict[str, int] = field(default_factory=dict)
    #: The types of their exceptions.
    exceptions: dict[str, int] = field(default_factory=dict)
    #: The records as they came, when a store keeps them (``Parser.keep_records``).
    lines: list[str] = field(default_factory=list)

    FIELDS: ClassVar[tuple[Aggregate, ...]] = Batch.FIELDS + (
        Counts("sources"),
        Counts("levels", key="statuses"),
        Counts("severities", optional=True),
        Counts("exceptions", key="methods"),
        Lines("lines", optional=True),
    )


PYLOG = Family(
    name="pylog",
    unit="record",
    noun="logging records",
    described="logging records",
    batch=LogBatch,
    panels=(
        Panel(
            key="sections",
            field="sections",
            shape=TOP,
            label="loggers",
            title="Loggers",
            column="logger",
        ),
        Panel(
            key="sources",
            field="sources",
            shape=TOP,
            label="senders",
            title="Senders",
            column="sender",
            unknown="-",
        ),
        Panel(
            key="levels",
            field="levels",
            shape=CLASSES,
            title="Levels",
            column="level",
            state="statuses",
            order=SEVERITY,
        ),
        Panel(
            key="exceptions",
            field="exceptions",
            shape=TOP,
            title="Exceptions",
            column="type",
        ),
        Panel(
            key="hosts",
            field="hosts",
            shape=TOP,
            title="Syslog hosts",
            column="host",
            optional=True,
        ),
    ),
    counters=(
        Counter(
            name="events_total",
            kind=TOTAL,
            field="hits",
            help="Accepted logging records (not late, not filtered).",
        ),
        Counter(
            name="level_records_total",
            kind=BY,
            field="levels",
            label="level",
            help="Accepted logging records by level.",
        ),
        Counter(
            name="logger_records_total",
            kind=BOUNDED,
            field="sections",
            label="logger",
            help="Accepted logging records by logger (the busiest ones; the rest as other).",
        ),
        Counter(
            name="exception_records_total",
            kind=BOUNDED,
            field="exceptions",
            label="type",
            help="Accepted logging records by exception type (the first ones; the rest "
            "as other).",
        ),
    ),
    filters=frozenset({"--since", "--until", "--level", "--name", "--source", "--method"}),
    addresses=("sources",),
    scopes=(("level", "severities"), ("source", "sources")),
)
