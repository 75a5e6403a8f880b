"""Stats of a tumbling window, and of the whole run, from the family's panels.

A stats window reports its hits and a *figure* per panel of the family
(``families/``): a panel counts one Batch field, and its shape says how (``Tally`` and
its subclasses below, one per shape).  The same calculator, ``bounded``, counts the
whole run for the summary (``docs/counting.md``, "The summary"): its top lists and
percentiles then stay within a fixed memory however many distinct keys and durations
the run has (``bounded.py``), where a window's are exact.
"""

from __future__ import annotations

import heapq
from operator import attrgetter
from typing import Any

from ..bounds import add_capped
from ..checkpoint import validate
from ..families import Family, Panel
from ..families.base import CLASSES, PANELS, PERCENTILES, SIZE, SLOWEST, TOP
from ..pipeline.batch import Batch, Largest
from ..reports import Figure, Percentiles, StatsReport
from .bounded import TOP_CAPACITY, DurationSketch, TopCounts
from .panels import Panels


def _nothing(batch: Batch) -> tuple[()]:
    return ()


#: The panels the inputs' formats carry, by key (``vhosts``, ``hosts``): an optional
#: panel is shown when its key is here, or when it has counted something.
Carried = set[str]


class Tally:
    """A panel's running totals (see ``Stats``); one subclass per shape.  A Batch
    whose field is empty (falsy) counts nothing: ``Stats`` lets such Batches go by."""

    def __init__(self, panel: Panel, *, bounded: bool, family: Family) -> None:
        self.panel = panel
        self.field = panel.field
        self.bounded = bounded
        self.family = family

    def count(self, batch: Batch) -> None:
        raise NotImplementedError

    def value(self, top_n: int, carried: Carried) -> Any:
        """The panel's figure (None: not shown)."""
        raise NotImplementedError

    def merge(self, other: Tally) -> None:
        """Add what ``other`` (the same panel) counted."""
        raise NotImplementedError

    def to_json(self) -> Any:
        raise NotImplementedError

    def restore(self, data: Any) -> None:
        raise NotImplementedError

    def add_part(self, part: Any) -> None:
        """Add what was counted elsewhere of Batches it will not see (a worker's)."""
        raise NotImplementedError


class TopTally(Tally):
    """``TOP``: counts of keys, exact in a window, bounded for the whole run."""

    def __init__(self, panel: Panel, *, bounded: bool, family: Family) -> None:
        super().__init__(panel, bounded=bounded, family=family)
        self.counts = TopCounts(TOP_CAPACITY if bounded else None)

    def count(self, batch: Batch) -> None:
        part = getattr(batch, self.field)
        if part:
            self.counts.add(part)

    def value(self, top_n: int, carried: Carried) -> Any:
        if self.panel.optional and self.panel.key not in carried and not self.counts.counts:
            return None
        return self.counts.top(top_n)

    def merge(self, other: Tally) -> None:
        assert isinstance(other, TopTally)
        self.counts.merge(other.counts)

    def to_json(self) -> Any:
        return self.counts.to_json()

    def restore(self, data: Any) -> None:
        self.counts.restore(data)


class ClassTally(Tally):
    """``CLASSES``: counts of a few keys, exact (beyond ``bounds.MAX_CLASSES`` of
    them, the rest as ``other``)."""

    def __init__(self, panel: Panel, *, bounded: bool, family: Family) -> None:
        super().__init__(panel, bounded=bounded, family=family)
        self.counts: dict[str, int] = {}
        self.order = {key: i for i, key in enumerate(panel.order)}

    def count(self, batch: Batch) -> None:
        part = getattr(batch, self.field)
        if part:
            add_capped(self.counts, part)

    def value(self, top_n: int, carried: Carried) -> Any:
        order, last = self.order, len(self.order)
        return dict(
            sorted(self.counts.items(), key=lambda item: (order.get(item[0], last), item[0]))
        )

    def merge(self, other: Tally) -> None:
        assert isinstance(other, ClassTally)
        add_capped(self.counts, other.counts)

    def to_json(self) -> Any:
        return self.counts

    def restore(self, data: Any) -> None:
        self.counts = validate.counts(data)


class SizeTally(Tally):
    """``SIZE``: a number of bytes."""

    def __init__(self, panel: Panel, *, bounded: bool, family: Family) -> None:
        super().__init__(panel, bounded=bounded, family=family)
        self.total = 0

    def count(self, batch: Batch) -> None:
        self.total += getattr(batch, self.field)

    def value(self, top_n: int, carried: Carried) -> Any:
        return self.total

    def merge(self, other: Tally) -> None:
        assert isinstance(other, SizeTally)
        self.total += other.total

    def to_json(self) -> Any:
        return self.total

    def restore(self, data: Any) -> None:
        self.total = validate.count(data)


class PercentileTally(Tally):
    """``PERCENTILES``: durations, exact in a window, a sketch for the whole run."""

    def __init__(self, panel: Panel, *, bounded: bool, family: Family) -> None:
        super().__init__(panel, bounded=bounded, family=family)
        self.durations = DurationSketch() if bounded else DurationSketch(exact_limit=None)

    def count(self, batch: Batch) -> None:
        values = getattr(batch, self.field)
        if values:
            self.durations.add(values)

    def value(self, top_n: int, carried: Carried) -> Any:
        found = self.durations.percentiles()
        if found is None:
            return None
        p50, p95, p99, most = found
        return Percentiles(p50=p50, p95=p95, p99=p99, max=most)

    def merge(self, other: Tally) -> None:
        assert isinstance(other, PercentileTally)
        self.durations.merge(other.durations)

    def to_json(self) -> Any:
        return self.durations.to_json()

    def restore(self, data: Any) -> None:
        self.durations.restore(data)


class SlowestTally(Tally):
    """``SLOWEST``: the few largest items of a ``Largest`` field."""

    def __init__(self, panel: Panel, *, bounded: bool, family: Family) -> None:
        super().__init__(panel, bounded=bounded, family=family)
        found = [a for a in family.batch.FIELDS if a.name == panel.field]
        assert found and isinstance(found[0], Largest), panel.field
        self.aggregate = found[0]
        self.largest: list[Any] = []

    def count(self, batch: Batch) -> None:
        items = getattr(batch, self.field)
        if items:
            self.largest = heapq.nlargest(self.aggregate.keep, self.largest + items)

    def value(self, top_n: int, carried: Carried) -> Any:
        return self.largest

    def merge(self, other: Tally) -> None:
        assert isinstance(other, SlowestTally)
        self.largest = heapq.nlargest(self.aggregate.keep, self.largest + other.largest)

    def to_json(self) -> Any:
        return [list(item) for item in self.largest]

    def restore(self, data: Any) -> None:
        # (largest first, as ``count`` keeps them: a Batch's field is a heap)
        self.largest = sorted(self.aggregate.from_json(data), reverse=True)


class PanelsTally(Tally):
    """``PANELS``: what and who, for the whole run (``panels.py``)."""

    def __init__(self, panel: Panel, *, bounded: bool, family: Family) -> None:
        super().__init__(panel, bounded=bounded, family=family)
        self.panels = Panels()

    def count(self, batch: Batch) -> None:
        self.panels.count(batch)

    def value(self, top_n: int, carried: Carried) -> Any:
        return self.panels.value(top_n)

    def merge(self, other: Tally) -> None:
        assert isinstance(other, PanelsTally)
        self.panels.merge(other.panels)

    def to_json(self) -> Any:
        return self.panels.to_json()

    def restore(self, data: Any) -> None:
        self.panels.restore(validate.mapping(data))

    def add_part(self, part: Any) -> None:
        """A worker's panels of a chunk, or of each of its minutes (a list)."""
        for panels in part if isinstance(part, list) else [part]:
            assert isinstance(panels, Panels)
            self.panels.merge(panels)


#: Shape -> how a panel of that shape counts.
TALLIES: dict[str, type[Tally]] = {
    TOP: TopTally,
    CLASSES: ClassTally,
    SIZE: SizeTally,
    PERCENTILES: PercentileTally,
    SLOWEST: SlowestTally,
    PANELS: PanelsTally,
}


class Stats:
    """Hits and the family's panels over a window (``bounded``: over the whole run)."""

    def __init__(
        self,
        family: Family,
        *,
        top_n: int,
        bounded: bool = False,
        carried: Carried | None = None,
    ) -> None:
        self.family = family
        self.top_n = top_n
        self.bounded = bounded
        self.carried: Carried = carried if carried is not None else set()
        self.reset()

    def reset(self) -> None:
        family, bounded = self.family, self.bounded
        self.hits = 0
        self.tallies = [
            TALLIES[panel.shape](panel, bounded=bounded, family=family)
            for panel in family.panels
            if bounded or not panel.summary_only
        ]
        self._counts = [tally.count for tally in self.tallies]
        #: The fields its tallies count, read in one call (in C).
        fields = sorted({tally.field for tally in self.tallies})
        self._fields = attrgetter(*fields, *fields) if fields else _nothing  # (a tuple even of one)

    def count(self, batch: Batch) -> None:
        """Count a Batch.  Most of the Batches from workers hold hits only (their
        counts went to their window's first, ``inputs/parallel.py``): those are not
        handed to every tally (each would find its field empty)."""
        self.hits += batch.hits
        if any(self._fields(batch)):
            for count in self._counts:
                count(batch)

    def merge(self, other: Stats) -> None:
        """Add what ``other`` (stats of the same family) counted."""
        self.hits += other.hits
        for mine, theirs in zip(self.tallies, other.tallies, strict=True):
            mine.merge(theirs)

    def add_parts(self, parts: dict[str, Any]) -> None:
        """Add what a worker counted of Batches whose counts it took out (the parts,
        by panel key: see ``inputs/parallel.py``)."""
        for tally in self.tallies:
            part = parts.get(tally.panel.key)
            if part is not None:
                tally.add_part(part)

    def copy(self) -> Stats:
        twin = Stats(self.family, top_n=self.top_n, bounded=self.bounded, carried=self.carried)
        twin.merge(self)
        return twin

    def report(self, start: int, end: int) -> StatsReport:
        figures = []
        for tally in self.tallies:
            value = tally.value(self.top_n, self.carried)
            if value is not None:
                figures.append(Figure(tally.panel, value))
        return StatsReport(start=start, end=end, hits=self.hits, figures=tuple(figures))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"hits": self.hits}
        for tally in self.tallies:
            data[tally.panel.state_key] = tally.to_json()
        return data

    def restore(self, data: dict[str, Any]) -> None:
        self.reset()
        self.hits = validate.count(data["hits"])
        for tally in self.tallies:
            key = tally.panel.state_key
            if key in data or not tally.panel.optional:  # (older checkpoints lack hosts)
                tally.restore(data[key])
