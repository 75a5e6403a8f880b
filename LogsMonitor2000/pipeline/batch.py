"""Per-second aggregates: all that the pipeline keeps of events.

A ``Batch`` holds the accepted events of one second of event time, folded into counts
(plain dicts: a dict subscript is twice as fast as a Counter's) as the parser reads
them: a million lines in one second are one Batch, and no object outlives the line it
came from.  Batches are what the reorderer buffers, what windows hold and what
calculators count and discount.

Every Batch has ``hits``, its ``sections`` and the syslog ``hosts`` its events came
from.  A family of logs (``families/``) adds the fields its parsers fill, each declared
as an *aggregate* in ``FIELDS``: ``Counts`` (a dict of counts), ``Total`` (an int),
``Values`` (a list of durations) or ``Largest`` (the few largest items).  The
declaration is what merging two Batches of one second, moving counts between Batches
and checkpointing them do, so none of that is written out per family.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from ..checkpoint import validate

Key = TypeVar("Key")


def add_counts(total: dict[Key, int], part: Mapping[Key, int]) -> None:
    """``total += part``, touching only the keys of ``part``."""
    if not total:  # a window's first Batch: copied in C
        total.update(part)
        return
    get = total.get
    for key, count in part.items():
        total[key] = get(key, 0) + count


@dataclass(frozen=True)
class Counts:
    """A field that counts keys: ``dict[str, int]``."""

    name: str
    #: Its key in a checkpoint (the field's name when empty).
    key: str = ""
    #: Older checkpoints may lack it.
    optional: bool = False

    def empty(self) -> dict[str, int]:
        return {}

    def merge(self, into: Batch, other: Batch) -> None:
        part = getattr(other, self.name)
        if part:
            add_counts(getattr(into, self.name), part)

    def to_json(self, value: Any) -> Any:
        return dict(value)

    def from_json(self, data: Any) -> Any:
        return validate.counts(data)


@dataclass(frozen=True)
class Total:
    """A field that adds up: ``int`` (bytes sent)."""

    name: str
    key: str = ""
    optional: bool = False

    def empty(self) -> int:
        return 0

    def merge(self, into: Batch, other: Batch) -> None:
        setattr(into, self.name, getattr(into, self.name) + getattr(other, self.name))

    def to_json(self, value: Any) -> Any:
        return value

    def from_json(self, data: Any) -> Any:
        return validate.count(data)


@dataclass(frozen=True)
class Values:
    """A field that keeps every value: ``list[float]`` (durations, in ms).  Let go once
    every window has counted the Batch, unless a window that keeps Batches needs them
    (see ``Windows``)."""

    name: str
    key: str = ""
    optional: bool = False

    def empty(self) -> list[float]:
        return []

    def merge(self, into: Batch, other: Batch) -> None:
        values = getattr(other, self.name)
        if values:
            getattr(into, self.name).extend(values)

    def to_json(self, value: Any) -> Any:
        return value

    def from_json(self, data: Any) -> Any:
        return [validate.duration(value) for value in validate.listed(data)]


@dataclass(frozen=True)
class Largest:
    """A field that keeps the ``keep`` largest items, as a heap: ``list[tuple]`` whose
    first element is the measure (the slowest queries)."""

    name: str
    keep: int
    #: Reads one item back from a checkpoint (``ValueError`` when it can't).
    item: Any
    key: str = ""
    optional: bool = False

    def empty(self) -> list[Any]:
        return []

    def merge(self, into: Batch, other: Batch) -> None:
        heap = getattr(into, self.name)
        for item in getattr(other, self.name):
            keep_largest(heap, item, self.keep)

    def to_json(self, value: Any) -> Any:
        return [list(item) for item in value]

    def from_json(self, data: Any) -> Any:
        items = [self.item(item) for item in validate.listed(data)]
        heapq.heapify(items)
        return items


#: Requests a second's visit log holds one by one before it adds them up (a burst of
#: a second: its memory is that of its distinct visits, as a dict's would be).
COMPACT_AT = 4096


def gather_times(
    times: dict[tuple[str, ...], list[float]], timed: Iterable[tuple[tuple[str, ...], float]]
) -> None:
    """Add (key, milliseconds) pairs to the request times by key."""
    for key, ms in timed:
        listed = times.get(key)
        if listed is None:
            times[key] = [ms]
        else:
            listed.append(ms)


class VisitLog:
    """The requests of a second as the panels tell them apart (``calculators/panels.py``):
    a key per request - (source, user, URL, status, referrer, user agent) -, its bytes,
    and (key, milliseconds) for each that has a request time.  A parser appends to it
    per line (no dict, no hashing: a second's keys seldom repeat); the panels add them
    up by the hour, where they do.  A second of more than ``COMPACT_AT`` requests is
    added up as it comes (``compact``, which the parsers call when they take a Batch):
    ``counted`` holds [hits, bytes] by key, ``times`` the request times by key."""

    __slots__ = ("keys", "sizes", "timed", "counted", "times")

    def __init__(self) -> None:
        self.keys: list[tuple[str, ...]] = []
        self.sizes: list[int] = []
        self.timed: list[tuple[tuple[str, ...], float]] = []
        self.counted: dict[tuple[str, ...], list[int]] = {}
        self.times: dict[tuple[str, ...], list[float]] = {}

    def __bool__(self) -> bool:
        return bool(self.keys) or bool(self.counted)

    def __len__(self) -> int:
        return len(self.keys) + sum(hits for hits, _ in self.counted.values())

    def __eq__(self, other: object) -> bool:
        """The same requests, in any order, added up or not."""
        if not isinstance(other, VisitLog):
            return NotImplemented
        return self.totals() == other.totals()

    def __repr__(self) -> str:
        return f"VisitLog({len(self)} requests)"

    def add(self, key: tuple[str, ...], nbytes: int, ms: float | None = None) -> None:
        self.keys.append(key)
        self.sizes.append(nbytes)
        if ms is not None:
            self.timed.append((key, ms))
        if len(self.keys) > COMPACT_AT:
            self.compact()

    def compact(self) -> None:
        """Add up the requests held one by one."""
        counted, times = self.counted, self.times
        for key, size in zip(self.keys, self.sizes):
            found = counted.get(key)
            if found is None:
                counted[key] = [1, size]
            else:
                found[0] += 1
                found[1] += size
        gather_times(times, self.timed)
        self.keys, self.sizes, self.timed = [], [], []

    def totals(self) -> dict[tuple[str, ...], tuple[int, int, list[float]]]:
        """(hits, bytes, sorted request times) by key."""
        whole = VisitLog()
        whole.extend(self)
        whole.compact()
        return {
            key: (hits, nbytes, sorted(whole.times.get(key, ())))
            for key, (hits, nbytes) in whole.counted.items()
        }

    def extend(self, other: VisitLog) -> None:
        self.keys += other.keys
        self.sizes += other.sizes
        self.timed += other.timed
        for key, (hits, nbytes) in other.counted.items():
            found = self.counted.get(key)
            if found is None:
                self.counted[key] = [hits, nbytes]
            else:
                found[0] += hits
                found[1] += nbytes
        for key, listed in other.times.items():
            self.times.setdefault(key, []).extend(listed)
        if len(self.keys) > COMPACT_AT:
            self.compact()


@dataclass(frozen=True)
class Visits:
    """A ``VisitLog`` field: what the panels count.  Let go with the ``Values`` fields."""

    name: str
    key: str = ""
    optional: bool = False

    def empty(self) -> VisitLog:
        return VisitLog()

    def merge(self, into: Batch, other: Batch) -> None:
        getattr(into, self.name).extend(getattr(other, self.name))

    def to_json(self, value: VisitLog) -> Any:
        value.compact()
        return {
            "counted": [[list(key), counted] for key, counted in value.counted.items()],
            "times": [[list(key), listed] for key, listed in value.times.items()],
        }

    def from_json(self, data: Any) -> VisitLog:
        log = VisitLog()
        found = validate.mapping(data)
        for pair in validate.listed(found["counted"]):
            key, counted = validate.listed(pair)
            hits, nbytes = validate.listed(counted)
            log.counted[self._key(key)] = [validate.count(hits), validate.count(nbytes)]
        for pair in validate.listed(found["times"]):
            key, listed = validate.listed(pair)
            log.times[self._key(key)] = [validate.duration(ms) for ms in validate.listed(listed)]
        return log

    @staticmethod
    def _key(data: Any) -> tuple[str, ...]:
        key = tuple(validate.text(name) for name in validate.listed(data))
        if len(key) != 6:
            raise ValueError("a visit is 6 keys")
        return key


@dataclass(frozen=True)
class Lines:
    """A field that keeps records as they came: ``list[str]`` (the lines a ``--store``
    writes).  Let go with the ``Values`` fields."""

    name: str
    key: str = ""
    optional: bool = False

    def empty(self) -> list[str]:
        return []

    def merge(self, into: Batch, other: Batch) -> None:
        getattr(into, self.name).extend(getattr(other, self.name))

    def to_json(self, value: Any) -> Any:
        return value

    def from_json(self, data: Any) -> Any:
        return [validate.text(line) for line in validate.listed(data)]


Aggregate = Counts | Total | Values | Largest | Visits | Lines


def keep_largest(heap: list[Any], item: Any, keep: int) -> None:
    """Keep ``item`` in ``heap`` if it is among the ``keep`` largest."""
    if len(heap) < keep:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


@dataclass(slots=True)
class Batch:
    """The accepted events of the second ``second`` (seconds since the epoch, UTC)."""

    second: int
    hits: int = 0
    sections: dict[str, int] = field(default_factory=dict)
    #: The HOSTNAME of the syslog messages the events came in (``pipeline/hosts.py``).
    hosts: dict[str, int] = field(default_factory=dict)

    #: The fields a family's parsers fill, beyond ``second`` and ``hits``.
    FIELDS: ClassVar[tuple[Aggregate, ...]] = (
        Counts("sections"),
        Counts("hosts", optional=True),
    )

    def merge(self, other: Batch) -> None:
        """Fold ``other`` (the same second, counted elsewhere) into this batch."""
        self.hits += other.hits
        for aggregate in self.FIELDS:
            aggregate.merge(self, other)

    def take_counts(self, other: Batch) -> None:
        """Move everything of ``other`` but its hits into this batch (a Batch of the
        same stats window: see ``inputs/parallel.py``), but its visits: the panels
        count them by the hour of their second."""
        for aggregate in self.FIELDS:
            if isinstance(aggregate, Visits):
                continue
            aggregate.merge(self, other)
            setattr(other, aggregate.name, aggregate.empty())

    def drop_values(self) -> None:
        """Let the ``Values`` fields go (every window has counted them)."""
        for aggregate in self.FIELDS:
            if isinstance(aggregate, (Values, Visits, Lines)) and getattr(self, aggregate.name):
                setattr(self, aggregate.name, aggregate.empty())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--state`` checkpoints)."""
        data: dict[str, Any] = {"second": self.second, "hits": self.hits}
        for aggregate in self.FIELDS:
            data[aggregate.key or aggregate.name] = aggregate.to_json(getattr(self, aggregate.name))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Batch:
        """The inverse of ``to_json``."""
        batch = cls(second=validate.integer(data["second"]), hits=validate.count(data["hits"]))
        for aggregate in cls.FIELDS:
            key = aggregate.key or aggregate.name
            if key in data or not aggregate.optional:
                setattr(batch, aggregate.name, aggregate.from_json(data[key]))
        return batch
