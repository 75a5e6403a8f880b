"""Writing a run's history: ``--store FILE`` (docs/store.md).

``MinuteStats`` counts each minute of closed seconds as the summary counts the whole
run (a ``Stats`` of the family); when the minute closes, ``Store.write_minute`` writes
it in one transaction, with what was late or invalid since the minute before and what
``--retain`` lets go.  The alerts and recoveries of every rule are written as they come
(``StoreNotifier``), at the end of the item they came with (before a checkpoint that
covers them is saved), with the stats windows as a live page draws them.

A restart from a checkpoint writes again the minutes it counts again: a minute's rows
are replaced, an alert already there is kept, so each is written once.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from ..calculators.panels import MINUTE, MINUTES, Panels
from ..calculators.stats import PanelsTally, Stats
from ..checkpoint import validate
from ..errors import MonitorError, UsageError
from ..families import FAMILIES, Family
from ..parsers import ParserFactory
from ..pipeline.batch import Batch
from ..pipeline.windows import TumblingWindow, Window
from ..output.history import point_of
from ..parsers.pylog import fields_of
from ..reports import AlertReport, Report, StatsReport, Summary
from . import records, rows
from .schema import open_store

#: The tables whose rows belong to a minute.
MINUTE_TABLES = ("minutes", "counts", "figures", "entries", "visitors")

#: (late, invalid, largest lateness) of the run so far.
Progress = Callable[[], tuple[int, int, int]]


class StoreError(MonitorError):
    """The store can't be written (a full disk, a lock held too long)."""


class Store:
    """A store being written (see the module's docstring)."""

    def __init__(
        self,
        path: str,
        *,
        retain: int,
        shown_sender: Callable[[str], str] = str,
        warn: Callable[[str], None],
    ) -> None:
        self.path = path
        self.retain = retain
        #: What is stored of a record's sender (``--anonymize``: anonymous).
        self.shown_sender = shown_sender
        self.warn = warn
        self._warned = False
        self.db = open_store(path, write=True)
        #: Alerts and stats windows not written yet.
        self.alerts: list[tuple[Any, ...]] = []
        self.stats_windows: list[tuple[Any, ...]] = []
        #: The newest minute written.
        self.newest: int | None = None

    def windows(self, factory: ParserFactory, progress: Progress) -> list[Window]:
        """The window that writes the minutes of a run whose format is now known
        (``UsageError`` when the store holds events of another kind)."""
        family = factory.family
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        if meta.get("family", family.name) != family.name:
            held = FAMILIES.get(meta["family"])
            raise UsageError(
                f"--store {self.path} holds {held.described if held else 'other events'}, "
                f"not {family.described}: use another file"
            )
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("family", family.name), ("format", factory.name),
                 ("description", factory.description)],  # fmt: skip
            )
        minutes = MinuteStats(self, family, progress)
        return [StoreWindow(span_seconds=MINUTE, calculator=minutes)]

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def failed(self, error: StoreError) -> None:
        """A write failed (a full disk, say): the run goes on, and the next one tries
        again; said once."""
        if not self._warned:
            self._warned = True
            self.warn(f"warning: {error}; the monitor goes on, and tries again")

    def write_minute(
        self, start: int, stats: Stats, counted: dict[str, int | None], lines: list[str]
    ) -> None:
        """Write the minute ``start`` (its rows replaced) with the records read in it
        (``lines``), and let the old ones go."""
        try:
            self._write_minute(start, stats, counted, lines)
        except StoreError as error:
            self.failed(error)

    def _write_minute(
        self, start: int, stats: Stats, counted: dict[str, int | None], lines: list[str]
    ) -> None:
        kept = []
        for line in lines:
            fields = fields_of(line)
            if fields is not None:
                sender = self.shown_sender(fields.get("_sender", "-"))
                with contextlib.suppress(records.BadRecord):  # (the parser took it)
                    kept.append(records.record_row(fields, sender=sender, kept=True))
        with self.transaction() as db:
            for table in MINUTE_TABLES:
                db.execute(f"DELETE FROM {table} WHERE minute = ?", (start,))
            db.execute("DELETE FROM records WHERE minute = ? AND kept = 1", (start,))
            records.insert(db, kept)
            db.execute(
                "INSERT INTO minutes (minute, events, late, invalid, first, last, max_lateness)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (start, stats.hits, counted["late"], counted["invalid"], counted["first"],
                 counted["last"], counted["max_lateness"]),  # fmt: skip
            )
            for tally in stats.tallies:
                rows.write(db, start, tally)
            self._write_alerts(db)
            if self.newest is None or start > self.newest:
                self.newest = start
            self._forget(db)
        self.alerts, self.stats_windows = [], []  # (committed)

    def alert(self, record: AlertReport) -> None:
        data = record.to_json()
        self.alerts.append(
            (record.time, data["type"], data.get("rule", record.rule), data.get("value"),
             data.get("threshold"), data.get("window"), json.dumps(data))  # fmt: skip
        )

    def stats_window(self, record: StatsReport) -> None:
        point = point_of(record)
        duration = point.duration or (None, None, None)
        self.stats_windows.append(
            (point.start, point.end, point.hits, json.dumps(point.status), *duration)
        )

    def flush(self) -> None:
        if self.alerts or self.stats_windows:
            try:
                with self.transaction() as db:
                    self._write_alerts(db)
            except StoreError as error:
                self.failed(error)  # (they are written with the next minute)
                return
            self.alerts, self.stats_windows = [], []

    def _write_alerts(self, db: sqlite3.Connection) -> None:
        db.executemany(
            "INSERT OR IGNORE INTO alerts (time, type, rule, value, threshold, window, record)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.alerts,
        )
        db.executemany(
            "INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?, ?, ?, ?)", self.stats_windows
        )

    def _forget(self, db: sqlite3.Connection) -> None:
        """Delete what is older than ``retain`` before the newest minute's end."""
        if self.newest is None:
            return
        before = self.newest + MINUTE - self.retain
        for table in MINUTE_TABLES:
            db.execute(f"DELETE FROM {table} WHERE minute < ?", (before,))
        db.execute("DELETE FROM alerts WHERE time < ?", (before,))
        db.execute("DELETE FROM windows WHERE start < ?", (before,))
        db.execute("DELETE FROM records WHERE created < ?", (before,))

    def finish(self) -> None:
        """The run ends: the alerts not yet written, and what ``retain`` lets go.  (A
        run stopped writes the minutes it was counting, as far as it got, ``Monitor``'s
        ``_finish_attached``: a restart with ``--state`` writes them again, whole.)"""
        self.flush()
        try:
            with self.transaction() as db:
                self._forget(db)
        except StoreError as error:
            self.failed(error)

    def close(self) -> None:
        self.db.close()


class _Transaction:
    """``with store.transaction() as db``: one transaction, committed or rolled back;
    SQLite's errors become ``StoreError``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.store.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise StoreError(f"cannot write the store {self.store.path}: {error}") from None
        return self.store.db

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        db = self.store.db
        if kind is None:
            try:
                db.execute("COMMIT")
                return
            except sqlite3.Error as failed:
                error, kind = failed, type(failed)
        db.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error):
            raise StoreError(f"cannot write the store {self.store.path}: {error}") from None


class MinuteStats:
    """A ``TumblingCalculator`` over minutes that writes each one to the store."""

    def __init__(self, store: Store, family: Family, progress: Progress) -> None:
        self.store = store
        self.family = family
        self.progress = progress
        self.stats = Stats(family, top_n=rows.KEEP, bounded=True)
        #: The minute's records as they came (logging records).
        self.lines: list[str] = []
        self.first: int | None = None
        self.last: int | None = None
        #: (late, invalid) of the run when the minute before was written.
        self.written = (0, 0)
        #: The panels of minutes that workers counted (a large file's, never a
        #: followed one's: not checkpointed).
        self.parts: dict[int, list[Panels]] = {}

    def add_panels(self, minute: int, panels: Panels) -> None:
        """Panels of ``minute`` counted elsewhere, added when it is written."""
        self.parts.setdefault(minute, []).append(panels)

    def count(self, batch: Batch) -> None:
        self.stats.count(batch)
        lines = getattr(batch, "lines", None)
        if lines:
            self.lines += lines
        if self.first is None:
            self.first = batch.second
        self.last = batch.second

    def report(self, start: int, end: int) -> Report:
        parts = self.parts.pop(start, None)
        if parts is not None:
            self._add_panels(parts)
        late, invalid, most = self.progress()
        counted = {
            "late": late - self.written[0],
            "invalid": invalid - self.written[1],
            "first": self.first,
            "last": self.last,
            "max_lateness": most,
        }
        self.store.write_minute(start, self.stats, counted, self.lines)
        self.written = (late, invalid)
        return StatsReport(start=start, end=end, hits=self.stats.hits)

    def _add_panels(self, parts: list[Panels]) -> None:
        """The workers' panels of the minute; a single one taken as it is when the
        minute counted none of its own (no copy: it is the minute's alone)."""
        tally = next(t for t in self.stats.tallies if isinstance(t, PanelsTally))
        if len(parts) == 1 and tally.panels.is_empty():
            tally.panels = parts[0]
        else:
            tally.add_part(parts)

    def reset(self) -> None:
        self.stats.reset()
        self.lines = []
        self.first = self.last = None

    def to_json(self) -> dict[str, Any]:
        return {
            "stats": self.stats.to_json(),
            "lines": self.lines,
            "first": self.first,
            "last": self.last,
            "written": list(self.written),
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.stats.restore(validate.mapping(data["stats"]))
        self.lines = [validate.text(line) for line in validate.listed(data["lines"])]
        self.first = validate.optional_integer(data["first"])
        self.last = validate.optional_integer(data["last"])
        late, invalid = (validate.count(n) for n in validate.listed(data["written"]))
        self.written = (late, invalid)


class StoreWindow(TumblingWindow):
    """The minutes of the run, written as they close (they report nothing)."""

    calculator: MinuteStats

    def add_parts(self, parts: dict[str, Any]) -> None:
        """The panels of each minute a worker counted (``chunk_minute_panels``)."""
        for minute, panels in parts.get(MINUTES, {}).items():
            self.calculator.add_panels(minute, panels)

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> list[Report]:
        super().close(batches, through, beat)
        return []

    def finish(self) -> list[Report]:
        super().finish()
        return []


class StoreNotifier:
    """Writes the alerts and recoveries of every rule (a ``Notifier``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, run: Any) -> None:
        pass

    def emit(self, record: Report) -> None:
        if isinstance(record, AlertReport):
            self.store.alert(record)
        elif isinstance(record, StatsReport):
            self.store.stats_window(record)

    def flush(self) -> None:
        self.store.flush()

    def finish(self, summary: Summary) -> None:
        self.store.finish()
