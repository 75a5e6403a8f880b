"""What and who: the whole run's panels of an access log (docs/panels.md).

The parsers note each request of a second as (source, user, URL, status, referrer,
user agent), its bytes and request time - the Batch field ``visits``, a ``VisitLog`` -;
``Panels`` adds those up by the hour (a visit), then spreads each visit onto the
panels: requests, static requests, not found,
status codes, referrers, referring sites, browsers, operating systems, time of day,
remote users, and the visitors of each day.  Each panel entry has hits, bytes, its
visitors (a visitor is a source, a local date and a user agent) and, when the log has
request times, their average, maximum and p95.

Bounded: a panel holds ``TOP_CAPACITY`` keys exactly, then is Space-Saving on its hits
(a new key takes the place of the one with the fewest and starts from its hits,
``overcount``; its bytes, visitors and times are counted from then on); a day's
distinct visitors are exact up to ``distinct.EXACT_VISITORS``.  Seconds arrive in
order, so an entry keeps the visitors of its latest day only, and adds up the counts
of the days before.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from typing import Any

from ..bounds import remember
from ..checkpoint import validate
from ..families.base import PANELS
from ..parsers.agents import classify
from ..parsers.urls import is_static, referring_site
from ..pipeline.batch import Batch, VisitLog
from .bounded import TOP_CAPACITY, DurationSketch
from .distinct import DayVisitors

#: The panels that are top lists, in the order of the summary.
TOP_PANELS = (
    "requests",
    "static_requests",
    "not_found",
    "status_codes",
    "referrers",
    "referring_sites",
    "browsers",
    "os",
    "remote_users",
)
HOURS = tuple(f"{hour:02d}" for hour in range(24))
#: The days whose visitors an entry keeps one by one: its first and its latest two.
KEPT_DAYS = 3
#: Request times an entry gathers before it adds them to its sketch.
FRESH_TIMES = 512
#: Request times an entry keeps as they are before its sketch takes over.
EXACT_TIMES = 64
#: Distinct visits of an hour gathered before they are spread onto the panels (a
#: bound on the memory they hold: their URLs, referrers, user agents).
PENDING_VISITS = 20_000
PENDING_CHARS = 4_000_000
#: Distinct strings remembered with what they are classified as.
MEMO_SIZE = 65536


class Entry:
    """A panel's key: its hits, bytes, visitors and request times."""

    __slots__ = ("hits", "bytes", "overcount", "done", "days", "times", "fresh")

    def __init__(self, hits: int = 0, overcount: int = 0) -> None:
        self.hits = hits
        self.bytes = 0
        self.overcount = overcount
        #: The visitors (ids) of its first day and of its latest two, and the number
        #: of those between: a part counted elsewhere (a chunk of a file, another
        #: input) merged here may bring more of them (``KEPT_DAYS``).
        self.days: dict[str, set[int]] = {}
        self.done = 0
        self.times: DurationSketch | None = None
        #: Request times not yet in ``times`` (added a few hundred at a time).
        self.fresh: list[float] | None = None

    def seen_on(self, day: str) -> set[int] | None:
        """The visitors of ``day`` (a new set for a new day); None for a day before the
        two it keeps (its visitors only counted)."""
        days = self.days
        found = days.get(day)
        if found is None:
            if len(days) >= KEPT_DAYS and day < sorted(days)[-2]:
                return None
            found = days[day] = set()
            if len(days) > KEPT_DAYS:
                self.done += len(days.pop(sorted(days)[1]))
        return found

    def visit(self, day: str, visitor: int) -> None:
        seen = self.seen_on(day)
        if seen is None:
            self.done += 1
        else:
            seen.add(visitor)

    def time(self, values: list[float]) -> None:
        fresh = self.fresh
        if fresh is None:
            self.fresh = fresh = []
        fresh += values
        if len(fresh) >= FRESH_TIMES:
            self.settle_times()

    def settle_times(self) -> DurationSketch | None:
        """The request times, every one in the sketch (None: none)."""
        if self.fresh:
            if self.times is None:
                self.times = DurationSketch(EXACT_TIMES)
            self.times.add(self.fresh)
        self.fresh = None
        return self.times

    @property
    def visitors(self) -> int:
        return self.done + sum(len(seen) for seen in self.days.values())

    def merge(self, other: Entry) -> None:
        self.hits += other.hits
        self.bytes += other.bytes
        self.overcount += other.overcount
        self.done += other.done
        for day, theirs in sorted(other.days.items()):
            mine = self.seen_on(day)
            if mine is None:
                self.done += len(theirs)
            else:
                mine |= theirs
        sketch = other.settle_times()
        if sketch is not None:
            if self.times is None:
                self.times = DurationSketch(EXACT_TIMES)
            self.times.merge(sketch)

    def to_json(self, *, timed: bool, estimated: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"hits": self.hits, "visitors": self.visitors, "bytes": self.bytes}
        if timed:
            sketch = self.settle_times()
            found = sketch.percentiles() if sketch is not None else None
            if sketch is None or found is None:
                data.update(avg_ms=None, max_ms=None, p95_ms=None)
            else:
                data.update(
                    avg_ms=round(sketch.total / sketch.count, 3),
                    max_ms=sketch.max,
                    p95_ms=found[1],
                )
        if estimated:
            data["overcount"] = self.overcount
        return data

    def state(self) -> list[Any]:
        sketch = self.settle_times()
        times = sketch.to_json() if sketch is not None else None
        return [
            self.hits,
            self.bytes,
            self.overcount,
            self.done,
            {day: sorted(seen) for day, seen in self.days.items()},
            times,
        ]

    @classmethod
    def from_state(cls, data: Any) -> Entry:
        hits, nbytes, overcount, done, days, times = validate.listed(data)
        entry = cls(validate.count(hits), validate.count(overcount))
        entry.bytes, entry.done = validate.count(nbytes), validate.count(done)
        entry.days = {
            validate.text(day): {validate.count(visitor) for visitor in validate.listed(seen)}
            for day, seen in validate.mapping(days).items()
        }
        if len(entry.days) > KEPT_DAYS:
            raise ValueError(f"an entry keeps the visitors of {KEPT_DAYS} days")
        if times is not None:
            entry.times = DurationSketch(EXACT_TIMES)
            entry.times.restore(validate.mapping(times))
        return entry


class Gathered:
    """Visits gathered for a key before they are added to its entry once."""

    __slots__ = ("hits", "bytes", "seen", "times")

    def __init__(self) -> None:
        self.hits = self.bytes = 0
        self.seen: set[int] = set()
        self.times: list[float] | None = None

    def add_times(self, times: list[float]) -> None:
        if self.times is None:
            self.times = []
        self.times += times

    def merge(self, other: Gathered) -> None:
        self.hits += other.hits
        self.bytes += other.bytes
        self.seen |= other.seen
        if other.times is not None:
            self.add_times(other.times)

    def into(self, table: Table, key: str, day: str) -> None:
        entry = table.entry(key, self.hits)
        entry.bytes += self.bytes
        seen = entry.seen_on(day)
        if seen is None:
            entry.done += len(self.seen)
        else:
            seen |= self.seen
        if self.times is not None:
            entry.time(self.times)


class Table:
    """A panel's entries: exact up to ``capacity`` keys, Space-Saving beyond."""

    def __init__(self, capacity: int | None = TOP_CAPACITY) -> None:
        self.capacity = capacity
        self.entries: dict[str, Entry] = {}
        self.estimated = False
        self._heap: list[tuple[int, str]] = []

    def entry(self, key: str, hits: int) -> Entry:
        """``key``'s entry, with ``hits`` more."""
        entries = self.entries
        found = entries.get(key)
        if found is not None:
            found.hits += hits
            return found
        if self.capacity is None or len(entries) < self.capacity:
            found = entries[key] = Entry(hits)
            return found
        floor = self._pop_smallest()
        self.estimated = True
        found = entries[key] = Entry(floor + hits, floor)
        heapq.heappush(self._heap, (found.hits, key))
        return found

    def add(
        self,
        key: str,
        hits: int,
        nbytes: int,
        day: str,
        visitor: int,
        times: list[float] | None,
    ) -> None:
        """Count ``hits`` requests of ``visitor`` on ``day`` for ``key``."""
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entry(key, hits)
        else:
            entry.hits += hits
        entry.bytes += nbytes
        seen = entry.days.get(day)
        if seen is not None:
            seen.add(visitor)
        else:
            entry.visit(day, visitor)
        if times is not None:
            entry.time(times)

    def _pop_smallest(self) -> int:
        """Push out the entry with the fewest hits; its hits."""
        heap, entries = self._heap, self.entries
        if not heap or len(heap) > 2 * len(entries):
            heap[:] = [(entry.hits, key) for key, entry in entries.items()]
            heapq.heapify(heap)
        while True:
            pushed, key = heap[0]
            found = entries.get(key)
            if found is None:
                heapq.heappop(heap)
            elif found.hits != pushed:
                heapq.heapreplace(heap, (found.hits, key))
            else:
                heapq.heappop(heap)
                del entries[key]
                return found.hits

    def top(self, n: int | None) -> list[tuple[str, Entry]]:
        ranked = sorted(self.entries.items(), key=lambda item: (-item[1].hits, item[0]))
        return ranked if n is None else ranked[:n]

    def merge(self, other: Table) -> None:
        for key, theirs in other.entries.items():
            mine = self.entries.get(key)
            if mine is None:
                mine = self.entry(key, 0)
            mine.merge(theirs)
        self.estimated = self.estimated or other.estimated

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": {key: entry.state() for key, entry in self.entries.items()},
            "estimated": self.estimated,
        }

    def restore(self, data: dict[str, Any]) -> None:
        entries = validate.mapping(data["entries"])
        if self.capacity is not None and len(entries) > self.capacity:
            raise ValueError("more keys than a panel keeps")
        self.entries = {key: Entry.from_state(value) for key, value in entries.items()}
        self.estimated = validate.boolean(data["estimated"])
        self._heap = []


def chunk_panels(batches: list[Batch]) -> dict[str, Any]:
    """The panels of a chunk of a file read by a worker (``inputs/parallel.py``), its
    Batches' visits taken out: the worker spreads them, the main process merges."""
    panels = Panels()
    for batch in sorted(batches, key=lambda batch: batch.second):
        if getattr(batch, "visits", None):
            panels.count(batch)
            setattr(batch, "visits", VisitLog())
    panels.settle()
    return {PANELS: panels}


class Panels:
    """The whole run's panels (see the module's docstring)."""

    def __init__(self) -> None:
        self.tables = {key: Table() for key in TOP_PANELS}
        self.hours = {hour: Table(None) for hour in HOURS}
        self.days: dict[str, Table] = {}
        #: The visitors of the days still counted (the latest two).
        self.visitors: dict[str, DayVisitors] = {}
        self.finished_visitors = 0
        #: Whether some request had a request time: the entries then show times.
        self.timed = False
        self._users = False
        self._urls: dict[str, bool] = {}
        self._sites: dict[str, str | None] = {}
        self._agents: dict[str, tuple[str, str]] = {}
        self._second = -1
        self._when_found = ("", "")
        #: The visits of the hour ``_pending_at`` (day, hour) not yet spread: their
        #: hits, bytes and request times.
        self._hits: Counter[tuple[str, ...]] = Counter()
        self._bytes: dict[tuple[str, ...], int] = {}
        self._times: dict[tuple[str, ...], list[float]] = {}
        self._pending_at = ("", "")
        #: The length of the URLs, referrers and user agents they hold.
        self._pending_chars = 0

    def count(self, batch: Batch) -> None:
        """Add up a Batch's visits with those of its hour, which are spread onto the
        panels at once (``_spread``): the same visit comes again within an hour (seldom
        within a second), and adding up costs less than a spread.  The hits are
        counted by ``Counter`` (in C), the bytes and times here."""
        log = getattr(batch, "visits", None)
        if not log:
            return
        when = self._when(batch.second)
        if (
            when != self._pending_at
            or len(self._hits) >= PENDING_VISITS
            or self._pending_chars >= PENDING_CHARS
        ):
            self._spread()
            self._pending_at = when
        self._hits.update(log.keys)
        nbytes = self._bytes
        known = nbytes.get
        chars = 0
        for key, size in zip(log.keys, log.sizes):
            found = known(key)
            if found is None:
                nbytes[key] = size
                chars += len(key[2]) + len(key[4]) + len(key[5])
            elif size:
                nbytes[key] = found + size
        self._pending_chars += chars
        times = self._times
        for key, ms in log.timed:
            listed = times.get(key)
            if listed is None:
                times[key] = [ms]
            else:
                listed.append(ms)

    def _spread(self) -> None:
        """Spread the pending visits onto the panels.  A visit's URL goes to its table
        at once; what the other panels key by (status, referrer, user agent, user) has
        few distinct values, so visits are gathered by those first and added to those
        panels once a group."""
        pending, nbytes, timed = self._hits, self._bytes, self._times
        if not pending:
            return
        self._hits, self._bytes, self._times = Counter(), {}, {}
        self._pending_chars = 0
        day, hour = self._pending_at
        visitors = self.visitors.get(day)
        if visitors is None:
            visitors = self._new_day(day)
        known_visitors, id_of = visitors.ids, visitors.id_of
        tables = self.tables
        requests = tables["requests"]
        static, not_found = tables["static_requests"], tables["not_found"]
        urls = self._urls
        groups: dict[tuple[str, str, str, str], Gathered] = {}
        for key, hits in pending.items():
            source, user, url, status, referrer, agent = key
            size = nbytes[key]
            times = timed.get(key) if timed else None
            visitor = known_visitors.get((source, agent))
            if visitor is None:
                visitor = id_of(source, agent)
            if status == "404":
                table = not_found
            else:
                static_url = urls.get(url)
                if static_url is None:
                    static_url = is_static(url)
                    remember(urls, url, static_url, MEMO_SIZE)
                table = static if static_url else requests
            table.add(url, hits, size, day, visitor, times)
            group = groups.get((status, referrer, agent, user))
            if group is None:
                group = groups[(status, referrer, agent, user)] = Gathered()
            group.hits += hits
            group.bytes += size
            group.seen.add(visitor)
            if times is not None:
                group.add_times(times)
        self._spread_groups(groups, day, hour)

    def _spread_groups(
        self, groups: dict[tuple[str, str, str, str], Gathered], day: str, hour: str
    ) -> None:
        """Add the gathered visits to the panels keyed by what they were gathered by."""
        tables, known_sites, agents = self.tables, self._sites, self._agents
        every = Gathered()
        for (status, referrer, agent, user), group in groups.items():
            if referrer == "":  # (a format without one)
                referrer = "-"
            site = known_sites.get(referrer, "")
            if site == "":
                site = referring_site(referrer)
                remember(known_sites, referrer, site, MEMO_SIZE)
            families = agents.get(agent)
            if families is None:
                families = classify(agent)
                remember(agents, agent, families, MEMO_SIZE)
            group.into(tables["status_codes"], status, day)
            group.into(tables["referrers"], referrer, day)
            group.into(tables["browsers"], families[0], day)
            group.into(tables["os"], families[1], day)
            if site is not None:
                group.into(tables["referring_sites"], site, day)
            if user:
                group.into(tables["remote_users"], user, day)
                self._users = True
            every.merge(group)
        every.into(self.hours[hour], "", day)
        every.into(self.days[day], "", day)
        self.timed = self.timed or every.times is not None

    def _when(self, second: int) -> tuple[str, str]:
        """The local date and hour of a second (a Batch is one second)."""
        if second != self._second:
            moment = time.localtime(second)
            self._second = second
            self._when_found = (time.strftime("%Y-%m-%d", moment), HOURS[moment.tm_hour])
        return self._when_found

    def _new_day(self, day: str) -> DayVisitors:
        """Start counting the visitors of ``day``."""
        found = self.visitors[day] = DayVisitors()
        self.days.setdefault(day, Table(None))
        self._finish_days()
        return found

    def _finish_days(self) -> None:
        """The visitors of the days between the first and the latest two are final:
        seconds come in order (give or take the seconds still open that a summary
        counts), and only their number is kept.  The first day is kept for a merge
        (a file's chunk that starts on the day the one before ended)."""
        for older in sorted(self.visitors)[1:-2]:
            self.finished_visitors += self.visitors.pop(older).count()

    def settle(self) -> None:
        """Spread what is pending and let the memos go (before it is pickled)."""
        self._spread()
        self._urls, self._sites, self._agents = {}, {}, {}

    def unique_visitors(self) -> int:
        self._spread()
        return self.finished_visitors + sum(day.count() for day in self.visitors.values())

    def value(self, top_n: int) -> dict[str, Any]:
        """The summary's keys (docs/json.md, "Panels")."""
        self._spread()
        timed = self.timed
        data: dict[str, Any] = {}
        for key, table in self.tables.items():
            if key == "remote_users" and not self._users:
                continue
            data[key] = [
                {"key": name, **entry.to_json(timed=timed, estimated=table.estimated)}
                for name, entry in table.top(top_n)
            ]
        data["visit_time"] = [
            {"key": hour, **self._day_entry(table, timed)} for hour, table in self.hours.items()
        ]
        data["visitors"] = [
            {"key": day, **self._day_entry(table, timed)}
            for day, table in sorted(self.days.items())
        ]
        data["unique_visitors"] = self.unique_visitors()
        return data

    @staticmethod
    def _day_entry(table: Table, timed: bool) -> dict[str, Any]:
        entry = table.entries.get("", Entry())
        return entry.to_json(timed=timed, estimated=False)

    def merge(self, other: Panels) -> None:
        self._spread()
        other._spread()
        for key, table in self.tables.items():
            table.merge(other.tables[key])
        for hour, table in self.hours.items():
            table.merge(other.hours[hour])
        for day, table in other.days.items():
            self.days.setdefault(day, Table(None)).merge(table)
        for day, visitors in other.visitors.items():
            mine = self.visitors.get(day)
            if mine is None:
                mine = self.visitors[day] = DayVisitors()
            mine.merge(visitors)
        self.finished_visitors += other.finished_visitors
        self._finish_days()
        self.timed = self.timed or other.timed
        self._users = self._users or other._users

    def to_json(self) -> dict[str, Any]:
        self._spread()
        return {
            "tables": {key: table.to_json() for key, table in self.tables.items()},
            "hours": {hour: table.to_json() for hour, table in self.hours.items()},
            "days": {day: table.to_json() for day, table in self.days.items()},
            "visitors": {day: visitors.to_json() for day, visitors in self.visitors.items()},
            "finished_visitors": self.finished_visitors,
            "timed": self.timed,
            "users": self._users,
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        for key, table in self.tables.items():
            table.restore(validate.mapping(data["tables"][key]))
        for hour, table in self.hours.items():
            table.restore(validate.mapping(data["hours"][hour]))
        for day, value in validate.mapping(data["days"]).items():
            self.days[validate.text(day)] = table = Table(None)
            table.restore(validate.mapping(value))
        for day, value in validate.mapping(data["visitors"]).items():
            self.visitors[day] = visitors = DayVisitors()
            visitors.restore(validate.mapping(value))
        self.finished_visitors = validate.count(data["finished_visitors"])
        self.timed = validate.boolean(data["timed"])
        self._users = validate.boolean(data["users"])
