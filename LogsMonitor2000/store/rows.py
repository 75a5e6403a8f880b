"""A minute's counts as rows of the store, and a range of minutes back into counts.

Each shape of panel (``families/base.py``) has a way in and a way out (``SHAPES``):
counts (``TOP``, ``CLASSES``) go to ``counts``, a figure that is no count (a duration
sketch, the slowest operations) to ``figures`` as JSON, bytes to the minute's row, the
panels of an access log (``PANELS``) to ``entries`` and ``visitors``.  A top list keeps
its ``KEEP`` first keys per minute (docs/store.md); summed again, a range's counts are
those of the minutes' logs whenever no minute had more.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from ..calculators.bounded import DurationSketch
from ..calculators.counting import top
from ..calculators.distinct import DayVisitors
from ..calculators.entries import EXACT_TIMES, Entry, Table
from ..calculators.panels import Panels
from ..calculators.stats import (
    ClassTally,
    PanelsTally,
    PercentileTally,
    SizeTally,
    SlowestTally,
    Stats,
    Tally,
    TopTally,
)
from ..families.base import CLASSES, PANELS, PERCENTILES, SIZE, SLOWEST, TOP
from ..pipeline.batch import add_counts

#: The keys of a top list, and the entries of a panel, kept per minute.
KEEP = 100
#: The visitors of a panel's entry in a minute kept one by one (beyond: their number
#: only, and the entry's visitors over several minutes are the sum of the minutes').
KEPT_IDS = 256
#: A visitor's id is stored in 8 bytes (big-endian), a place among a minute's in 2.
ID_BYTES, PLACE_BYTES = 8, 2
#: ``entries.panel`` of the time-of-day and per-day tables.
HOURS, DAYS = "visit_time", "visitors"

Range = tuple[int, int]  # [first minute, last minute]


def pack(ordered: list[int]) -> bytes:
    """Visitors' ids, in order."""
    return struct.pack(f">{len(ordered)}Q", *ordered)


def unpack(blob: bytes) -> list[int]:
    return list(struct.unpack(f">{len(blob) // ID_BYTES}Q", blob))


# -- into the store ----------------------------------------------------------------------


def write(db: sqlite3.Connection, minute: int, tally: Tally) -> None:
    """Insert what ``tally`` counted in ``minute``."""
    SHAPES[tally.panel.shape][0](db, minute, tally)


def _write_counts(db: sqlite3.Connection, minute: int, tally: Tally) -> None:
    if isinstance(tally, TopTally):
        ranked = top(tally.counts.counts, KEEP)
    else:
        assert isinstance(tally, ClassTally)
        ranked = list(tally.counts.items())
    key = tally.panel.key
    db.executemany(
        "INSERT INTO counts VALUES (?, ?, ?, ?)", [(minute, key, k, n) for k, n in ranked]
    )


def _write_figure(db: sqlite3.Connection, minute: int, tally: Tally) -> None:
    if isinstance(tally, PercentileTally):
        if tally.durations.count == 0:
            return
        value: Any = tally.durations.to_json()
    else:
        assert isinstance(tally, SlowestTally)
        if not tally.largest:
            return
        value = tally.to_json()
    db.execute("INSERT INTO figures VALUES (?, ?, ?)", (minute, tally.panel.key, json.dumps(value)))


def _write_size(db: sqlite3.Connection, minute: int, tally: Tally) -> None:
    assert isinstance(tally, SizeTally)
    db.execute("UPDATE minutes SET bytes = ? WHERE minute = ?", (tally.total, minute))


def _write_panels(db: sqlite3.Connection, minute: int, tally: Tally) -> None:
    assert isinstance(tally, PanelsTally)
    panels = tally.panels
    panels.settle()
    #: Each day's visitors in order: an entry's are their places there.
    places: dict[str, list[int]] = {}
    for day, seen in panels.visitors.items():
        ids = None
        if seen.registers is None:
            ordered = sorted(seen.known())
            ids = pack(ordered)
            if len(ordered) <= 1 << 16:
                places[day] = ordered
        db.execute("INSERT INTO visitors VALUES (?, ?, ?, ?)", (minute, day, seen.count(), ids))
    rows: list[tuple[Any, ...]] = []
    for name, table in panels.tables.items():
        rows += _entry_rows(minute, name, table.top(KEEP), places)
    for hour, table in panels.hours.items():
        rows += _entry_rows(minute, HOURS, [(hour, e) for e in table.entries.values()], places)
    for day, table in panels.days.items():  # (its visitors: the minute's, in ``visitors``)
        for entry in table.entries.values():
            rows.append((minute, DAYS, day, day, entry.hits, panels.day_visitors(day),
                         entry.bytes, entry.overcount, _times_of(entry), None))  # fmt: skip
    db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    flags = {"timed": panels.timed, "users": panels.users}
    db.execute("INSERT INTO figures VALUES (?, ?, ?)", (minute, PANELS, json.dumps(flags)))


def _entry_rows(
    minute: int, panel: str, entries: list[tuple[str, Entry]], places: dict[str, list[int]]
) -> list[tuple[Any, ...]]:
    """An entry's rows: one per day (a minute has one, or two across a change of the
    clocks); its visitors' places among the minute's, when it has few."""
    rows = []
    for key, entry in entries:
        times = _times_of(entry)
        for day, seen in sorted(entry.visitor_days().items()) or [("", set())]:
            ordered = places.get(day)
            kept = None
            if ordered is not None and not entry.done and len(seen) <= KEPT_IDS:
                found = sorted(bisect_left(ordered, visitor) for visitor in seen)
                kept = struct.pack(f"<{len(found)}H", *found)
            rows.append(
                (minute, panel, key, day, entry.hits, len(seen) + entry.done, entry.bytes,
                 entry.overcount, times, kept)  # fmt: skip
            )
            entry = Entry()  # (the counts go to the first day)
            times = None
    return rows


def _times_of(entry: Entry) -> str | None:
    sketch = entry.settle_times()
    return json.dumps(sketch.to_json()) if sketch is not None else None


# -- out of the store --------------------------------------------------------------------


def read(db: sqlite3.Connection, minutes: Range, tally: Tally) -> None:
    """Add to ``tally`` what the store holds of it for ``minutes``."""
    SHAPES[tally.panel.shape][1](db, minutes, tally)


def _read_counts(db: sqlite3.Connection, minutes: Range, tally: Tally) -> None:
    summed = dict(
        db.execute(
            "SELECT key, SUM(count) FROM counts WHERE panel = ? AND minute BETWEEN ? AND ?"
            " GROUP BY key",
            (tally.panel.key, *minutes),
        )
    )
    if isinstance(tally, TopTally):
        tally.counts.add(summed)
    else:
        assert isinstance(tally, ClassTally)
        add_counts(tally.counts, summed)


def _figures(db: sqlite3.Connection, minutes: Range, panel: str) -> list[Any]:
    query = "SELECT value FROM figures WHERE panel = ? AND minute BETWEEN ? AND ? ORDER BY minute"
    return [json.loads(value) for (value,) in db.execute(query, (panel, *minutes))]


def _read_figure(db: sqlite3.Connection, minutes: Range, tally: Tally) -> None:
    for value in _figures(db, minutes, tally.panel.key):
        if isinstance(tally, PercentileTally):
            sketch = DurationSketch()
            sketch.restore(value)
            tally.durations.merge(sketch)
        else:
            assert isinstance(tally, SlowestTally)
            part = SlowestTally(tally.panel, bounded=True, family=tally.family)
            part.restore(value)
            tally.merge(part)


def _read_size(db: sqlite3.Connection, minutes: Range, tally: Tally) -> None:
    assert isinstance(tally, SizeTally)
    query = "SELECT TOTAL(bytes) FROM minutes WHERE minute BETWEEN ? AND ?"
    tally.total += int(db.execute(query, minutes).fetchone()[0])


def _read_panels(db: sqlite3.Connection, minutes: Range, tally: Tally) -> None:
    """The minutes one by one: an entry's visitors are places among its minute's."""
    assert isinstance(tally, PanelsTally)
    part = Panels()
    for flags in _figures(db, minutes, PANELS):
        part.timed = part.timed or flags["timed"]
        part.users = part.users or flags["users"]
    stored = db.execute(
        "SELECT minute FROM minutes WHERE minute BETWEEN ? AND ? ORDER BY minute", minutes
    ).fetchall()
    for (minute,) in stored:
        ordered: dict[str, list[int]] = {}
        query = "SELECT day, count, ids FROM visitors WHERE minute = ?"
        for day, count, ids in db.execute(query, (minute,)):
            visitors = part.visitors.setdefault(day, DayVisitors())
            if ids is None:  # (a minute of more than ``EXACT_VISITORS``: counted only)
                part.finished_visitors += count
            else:
                ordered[day] = unpack(ids)
                visitors.add_ids(ordered[day])
        query = (
            "SELECT panel, key, day, hits, visitors, bytes, overcount, times, ids FROM entries"
            " WHERE minute = ?"
        )
        for panel, key, day, hits, visitors, nbytes, overcount, times, ids in db.execute(
            query, (minute,)
        ):
            entry = Entry(hits, overcount)
            entry.bytes = nbytes
            if panel == DAYS:  # (the day's visitors: the minute's, but where not kept)
                entry.done = 0 if day in ordered else visitors
            elif ids is not None:
                where = ordered[day]
                places = struct.unpack(f"<{len(ids) // PLACE_BYTES}H", ids)
                entry.days[day] = {where[place] for place in places}
            else:
                entry.done = visitors
            if times is not None:
                entry.times = DurationSketch(EXACT_TIMES)
                entry.times.restore(json.loads(times))
            keyed = "" if panel in (HOURS, DAYS) else key
            _table(part, panel, key).entry(keyed, 0).merge(entry)
    tally.panels.merge(part)


def _table(panels: Panels, panel: str, key: str) -> Table:
    if panel == HOURS:
        return panels.hours[key]
    if panel == DAYS:
        return panels.days.setdefault(key, Table(None))
    return panels.tables[panel]


Writer = Callable[[sqlite3.Connection, int, Tally], None]
Reader = Callable[[sqlite3.Connection, Range, Tally], None]
#: Shape -> how its panels are written and read.
SHAPES: dict[str, tuple[Writer, Reader]] = {
    TOP: (_write_counts, _read_counts),
    CLASSES: (_write_counts, _read_counts),
    SIZE: (_write_size, _read_size),
    PERCENTILES: (_write_figure, _read_figure),
    SLOWEST: (_write_figure, _read_figure),
    PANELS: (_write_panels, _read_panels),
}


def read_stats(db: sqlite3.Connection, minutes: Range, stats: Stats) -> None:
    """Add a range of minutes to ``stats`` (the whole run's kind: bounded)."""
    query = "SELECT TOTAL(events) FROM minutes WHERE minute BETWEEN ? AND ?"
    stats.hits += int(db.execute(query, minutes).fetchone()[0])
    for tally in stats.tallies:
        read(db, minutes, tally)
