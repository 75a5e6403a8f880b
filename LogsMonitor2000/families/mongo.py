"""MongoDB operations, as pymongowatch writes them (``docs/counting.md``, "MongoDB").

Its parser fills, per second: the operations' namespaces (``db.collection``, the
sections) and kinds, their known durations, and the few slowest with their query's
shape (values masked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..checkpoint import validate
from ..pipeline.batch import Aggregate, Batch, Counts, Largest, Values, keep_largest
from .base import (
    BOUNDED,
    HISTOGRAM,
    PERCENTILES,
    SLOWEST,
    TOP,
    TOTAL,
    Counter,
    Family,
    Panel,
)

#: How many of a second's slowest query shapes a Batch keeps (the text output shows 3).
SLOWEST_KEPT = 3

#: One slow operation: (duration in ms, namespace, operation, masked query shape).
SlowQuery = tuple[float, str, str, str]


def slow_query(data: Any) -> SlowQuery:
    """A slow query read back from a checkpoint (``ValueError`` when it is none)."""
    ms, namespace, operation, shape = validate.listed(data)
    return (
        validate.duration(ms),
        validate.text(namespace),
        validate.text(operation),
        validate.text(shape),
    )


@dataclass(slots=True)
class MongoBatch(Batch):
    """The operations of one second (``sections`` are their namespaces)."""

    operations: dict[str, int] = field(default_factory=dict)
    #: Known durations, in ms.
    durations_ms: list[float] = field(default_factory=list)
    #: The second's slowest operations, a heap of at most ``SLOWEST_KEPT``.
    slowest: list[SlowQuery] = field(default_factory=list)

    FIELDS: ClassVar[tuple[Aggregate, ...]] = Batch.FIELDS + (
        Counts("operations", key="methods"),
        Values("durations_ms"),
        Largest("slowest", keep=SLOWEST_KEPT, item=slow_query),
    )

    def add_slow(self, query: SlowQuery) -> None:
        """Keep ``query`` if it is among the second's ``SLOWEST_KEPT`` slowest."""
        keep_largest(self.slowest, query, SLOWEST_KEPT)


MONGO = Family(
    name="mongo",
    unit="operation",
    noun="operations",
    described="MongoDB operations",
    batch=MongoBatch,
    panels=(
        Panel(
            key="sections",
            field="sections",
            shape=TOP,
            label="namespaces",
            title="Namespaces",
            column="namespace",
        ),
        Panel(
            key="methods",
            field="operations",
            shape=TOP,
            label="operations",
            title="Operations",
            column="operation",
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
            key="slowest",
            field="slowest",
            shape=SLOWEST,
            label="slowest",
            title="Slowest query shapes",
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
            help="Accepted operations (not late, not filtered).",
        ),
        Counter(
            name="namespace_operations_total",
            kind=BOUNDED,
            field="sections",
            label="namespace",
            help="Accepted operations by namespace (the busiest ones; the rest as other).",
        ),
        Counter(
            name="operation_operations_total",
            kind=BOUNDED,
            field="operations",
            label="operation",
            help="Accepted operations by operation (the busiest ones; the rest as other).",
        ),
        Counter(
            name="duration_seconds",
            kind=HISTOGRAM,
            field="durations_ms",
            help="Request or operation durations.",
        ),
    ),
    filters=frozenset({"--since", "--until", "--path", "--method"}),
    timed="operation",
    unfinished=True,
    scopes=(("method", "operations"), ("ns", "sections")),
)
