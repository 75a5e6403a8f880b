"""pymongowatch CSV, ``--format mongo`` (docs/counting.md, "MongoDB").

What pymongowatch writes with the formatter ``{name},{watch.csv}``::

    WatcherName,WatchID,Iteration,StartTime,EndTime,DB,Collection,Operation,Filter,Duration,...
    pymongo.watcher.cursor,6b03...b3,2,2024-03-01 12:00:00.250000,2024-03-01 12:00:02.250000,shop,items,find,"{""tags"": ...}",0.002,0,,,,
    pymongo.watcher.cursor,6b03...b3,final(3),2024-03-01 12:00:00.250000,...

Columns are found by the header when there is one (a row holding ``WatchID`` and
``Iteration``, wherever it comes), in the order above when there is none.  Times are
naive local times (``TZ``); ``None`` or empty is unknown.  ``Duration`` is seconds.

Rows with the same ``WatchID`` are iterations of one operation.  Only its ``final`` row
(``final``, ``final(3)``) makes an event, at its ``EndTime`` (its ``StartTime`` when that
is unknown): namespace ``DB.Collection`` as the section, the operation as the method,
the duration in ms.  Earlier rows mark the operation as started; rows of an operation
that already finished are ignored.  Both memories are bounded: the last
``REMEMBERED`` finished operations are kept (to ignore rows repeated after their final
row), and at most ``REMEMBERED`` started ones; an older started one is forgotten and
counted as unfinished.  A row with the wrong number of columns, an unreadable time or
duration, or no ``WatchID`` is invalid.
"""

from __future__ import annotations

import csv
import math
import re
from collections import OrderedDict, deque
from datetime import datetime
from operator import itemgetter
from collections.abc import Callable
from typing import Any, ClassVar, cast

from ..bounds import MAX_KEY_CHARS
from ..checkpoint import validate
from ..families import Family
from ..families.mongo import MONGO, SLOWEST_KEPT, MongoBatch
from ..pipeline.filters import Filter
from .base import EventSink, Rejects
from .csvrecords import CsvBlock, CsvRecords
from .shapes import query_shape

COLUMNS = (
    "WatcherName",
    "WatchID",
    "Iteration",
    "StartTime",
    "EndTime",
    "DB",
    "Collection",
    "Operation",
    "Filter",
    "Duration",
    "MatchedCount",
    "InsertedCount",
    "UpsertedCount",
    "ModifiedCount",
    "DeletedCount",
)
#: The columns an event needs, in the order ``_Layout`` keeps their indexes.
NEEDED = (
    "WatchID",
    "Iteration",
    "StartTime",
    "EndTime",
    "DB",
    "Collection",
    "Operation",
    "Filter",
    "Duration",
)

#: Operations remembered as finished, and as started, at most.
REMEMBERED = 50_000

#: Distinct "YYYY-MM-DD HH:MM:SS" remembered with their epoch second.
TIME_MEMO_SIZE = 4096

_LOCAL_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")

#: A field shown as it is in a rejected row: a time, an ID, a number, a name.
_PLAIN_FIELD = re.compile(r"[\w.:() /+-]{0,80}")


class _Unreadable(Exception):
    """A time or a duration that can't be read: the row is invalid."""


class _Layout:
    """How many columns a row has, and how to pick the needed ones."""

    def __init__(self, header: tuple[str, ...] | list[str]) -> None:
        self.width = len(header)
        self.pick = itemgetter(*(header.index(name) for name in NEEDED))
        self.header = list(header)


_DEFAULT = _Layout(COLUMNS)


def _is_header(row: list[str]) -> bool:
    return "WatchID" in row and "Iteration" in row


class MongoParser:
    """Reads pymongowatch CSV rows into MongoDB operation events."""

    keep_records = False

    name: ClassVar[str] = "mongo"
    description: ClassVar[str] = "pymongowatch CSV"
    family: ClassVar[Family] = MONGO
    carries_vhost: ClassVar[bool] = False
    carries_duration: ClassVar[bool] = True

    def __init__(self, sink: EventSink, rejects: Rejects, selection: Filter | None = None) -> None:
        self.rejects = rejects
        self._selection = selection
        self.skipped = 0
        self.headers = 0
        self._batch_for = cast(Callable[[int], MongoBatch | None], sink.batch_for)
        self._records = CsvRecords(rejects, redact=self.redact)
        self._layout = _DEFAULT
        self._started: OrderedDict[str, None] = OrderedDict()
        # The finished ones: a set to ask, and their order to forget the oldest (a third
        # of an OrderedDict's memory, and they are many).
        self._finished: set[str] = set()
        self._finished_order: deque[str] = deque()
        self._abandoned = 0
        self._seconds: dict[str, int] = {}

    def feed(self, block: str) -> None:
        for rows in self._records.read(block):
            self._parse(rows)

    def finish(self) -> None:
        self._parse(self._records.flush())

    def pending(self) -> str:
        return self._records.pending()

    def unfinished(self) -> int | None:
        return len(self._started) + self._abandoned

    def to_json(self) -> dict[str, Any]:
        return {
            "skipped": self.skipped,
            "headers": self.headers,
            "records": self._records.to_json(),
            "header": self._layout.header,
            "started": list(self._started),
            "finished": list(self._finished_order),
            "abandoned": self._abandoned,
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.skipped = validate.count(data["skipped"])
        self.headers = validate.count(data["headers"])
        self._records.restore(data["records"])
        self._layout = _Layout([validate.text(name) for name in validate.listed(data["header"])])
        started = [validate.text(key) for key in validate.listed(data["started"])]
        finished = [validate.text(key) for key in validate.listed(data["finished"])]
        if len(started) > REMEMBERED or len(finished) > REMEMBERED:
            raise ValueError("more operations remembered than the parser keeps")
        self._started = OrderedDict.fromkeys(started)
        self._finished_order = deque(finished)
        self._finished = set(self._finished_order)
        self._abandoned = validate.count(data["abandoned"])

    def _parse(self, block: CsvBlock) -> None:
        started, finished = self._started, self._finished
        width, pick = self._layout.width, self._layout.pick
        known, selection = self._seconds, self._selection
        for index, row in enumerate(block.rows):
            if len(row) != width:
                self._unusual(block, index, f"{len(row)} columns, expected {width}")
                width, pick = self._layout.width, self._layout.pick  # a new header?
                continue
            watch_id, iteration, start, end, db, collection, operation, query, duration = pick(row)
            try:
                # The usual time, of a second seen before, without a call (``_time``).
                start_second = (
                    known.get(start[:19])
                    if len(start) == 26
                    and start[19] == "."
                    and start[20:].isdigit()
                    and start.isascii()
                    else None
                )
                if start_second is None:
                    start_second = self._time(start)
                end_second = (
                    known.get(end[:19])
                    if len(end) == 26 and end[19] == "." and end[20:].isdigit() and end.isascii()
                    else None
                )
                if end_second is None:
                    end_second = self._time(end)
                seconds = self._duration(duration)
            except _Unreadable as unreadable:
                self._unusual(block, index, str(unreadable))
                width, pick = self._layout.width, self._layout.pick
                continue
            if not watch_id:
                self._unusual(block, index, "no WatchID")
                continue
            if watch_id in finished:  # a row after the final one: ignored
                self.skipped += 1
                continue
            final = iteration.startswith("final")
            if selection is not None and not selection.keeps_operation(
                f"{db}.{collection}", operation
            ):
                if final:  # the operation is filtered out; its other rows are dropped
                    selection.filtered += 1
                    self._remember_finished(watch_id)
                continue
            if not final:
                if watch_id not in started:
                    started[watch_id] = None
                    if len(started) > REMEMBERED:
                        started.popitem(last=False)
                        self._abandoned += 1
                self.skipped += 1
                continue
            second = start_second if end_second is None else end_second
            if second is None:
                self._unusual(block, index, "a final row without a time")
                continue
            self._remember_finished(watch_id)
            if selection is not None and not selection.keeps_second(second):
                selection.filtered += 1
                continue
            batch = self._batch_for(second)
            if batch is None:  # late, and counted as such
                continue
            namespace = f"{db}.{collection}"[:MAX_KEY_CHARS]  # (bounds.py)
            operation = operation[:MAX_KEY_CHARS]
            batch.hits += 1
            batch.sections[namespace] = batch.sections.get(namespace, 0) + 1
            batch.operations[operation] = batch.operations.get(operation, 0) + 1
            if seconds is not None:
                ms = seconds * 1000.0
                batch.durations_ms.append(ms)
                if len(batch.slowest) < SLOWEST_KEPT or ms > batch.slowest[0][0]:
                    batch.add_slow((ms, namespace, operation, query_shape(query)))

    def _remember_finished(self, watch_id: str) -> None:
        """The operation ended: its later rows are ignored."""
        self._started.pop(watch_id, None)
        finished, order = self._finished, self._finished_order
        if watch_id not in finished:
            finished.add(watch_id)
            order.append(watch_id)
            if len(order) > REMEMBERED:
                finished.discard(order.popleft())

    def _unusual(self, block: CsvBlock, index: int, reason: str) -> None:
        """A row that is not a usual one: blank, a header (which sets the columns from
        now on), or invalid."""
        row = block.rows[index]
        if not row or (len(row) == 1 and row[0].isspace()):
            return  # a blank line
        if "WatchID" in row and "Iteration" in row:
            missing = [name for name in NEEDED if name not in row]
            if not missing:
                self._layout = _Layout(row)
                self.headers += 1
                return
            reason = f"a header without {', '.join(missing)}"
        self.rejects.add(block.line_number(index), self.redact(block.text(index)), reason)

    def redact(self, text: str) -> str:
        """A rejected row as it may be shown: filter values never are (docs/counting.md, "MongoDB").
        The Filter column becomes its shape; any other field that is not plainly a
        time, an ID, a number or a name becomes ``?``."""
        try:
            fields = next(csv.reader([text.replace("\r", "").replace("\n", " ")]))
        except (csv.Error, StopIteration):
            return "?"
        filter_column = self._layout.header.index("Filter")
        if len(fields) != self._layout.width:
            filter_column = -1
        return ",".join(
            (
                query_shape(field)
                if column == filter_column
                else field if _PLAIN_FIELD.fullmatch(field) else "?"
            )
            for column, field in enumerate(fields)
        )

    def _time(self, text: str) -> int | None:
        """A naive local time, ``%Y-%m-%d %H:%M:%S`` with an optional fraction, as
        seconds since the epoch; None when unknown."""
        if text == "None" or not text:
            return None
        head, tail = text[:19], text[19:]
        if tail and not (
            tail[0] == "." and 2 <= len(tail) <= 7 and tail[1:].isdigit() and tail.isascii()
        ):
            raise _Unreadable(f"unreadable time {text!r}")
        second = self._seconds.get(head)
        if second is None:
            found = _LOCAL_TIME.fullmatch(head)
            try:
                if found is None:
                    raise ValueError(head)
                year, month, day, hour, minute, sec = map(int, found.groups())
                second = int(datetime(year, month, day, hour, minute, sec).timestamp())
            except (ValueError, OverflowError, OSError):
                raise _Unreadable(f"unreadable time {text!r}") from None
            if len(self._seconds) >= TIME_MEMO_SIZE:
                self._seconds.clear()
            self._seconds[head] = second
        return second

    @staticmethod
    def _duration(text: str) -> float | None:
        """``Duration`` in seconds; None when unknown."""
        if text == "None" or not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise _Unreadable(f"unreadable Duration {text!r}") from None
        if not (0.0 <= value and math.isfinite(value * 1000.0)):
            raise _Unreadable(f"Duration {text!r} is not a finite number of seconds >= 0")
        return value
