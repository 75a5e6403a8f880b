"""What and who: the whole run's panels of an access log (docs/panels.md).

The parsers count each second's requests by (source, user, URL, status, referrer,
user agent) - the Batch field ``visits``, with hits, bytes and request times - and
``Panels`` spreads each of those onto the panels: requests, static requests, not found,
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
from typing import Any

from ..bounds import remember
from ..checkpoint import validate
from ..parsers.agents import classify
from ..parsers.urls import is_static, referring_site
from ..pipeline.batch import Batch
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
#: Request times an entry keeps as they are before its sketch takes over.
EXACT_TIMES = 64
#: Distinct visits of an hour gathered before they are spread onto the panels (a
#: bound on the memory they hold: their URLs, referrers, user agents).
PENDING_VISITS = 20_000
#: Distinct strings remembered with what they are classified as.
MEMO_SIZE = 65536


class Entry:
    """A panel's key: its hits, bytes, visitors and request times."""

    __slots__ = ("hits", "bytes", "overcount", "done", "day", "seen", "times")

    def __init__(self, hits: int = 0, overcount: int = 0) -> None:
        self.hits = hits
        self.bytes = 0
        self.overcount = overcount
        #: Visitors of the days before ``day``; those of ``day`` (ids) in ``seen``.
        self.done = 0
        self.day = ""
        self.seen: set[int] = set()
        self.times: DurationSketch | None = None

    def visit(self, day: str, visitor: int) -> None:
        if day != self.day:
            if day < self.day:  # (a day already closed: cannot be in ``seen``)
                self.done += 1
                return
            self.done += len(self.seen)
            self.seen = set()
            self.day = day
        self.seen.add(visitor)

    def time(self, values: list[float]) -> None:
        if self.times is None:
            self.times = DurationSketch(EXACT_TIMES)
        self.times.add(values)

    @property
    def visitors(self) -> int:
        return self.done + len(self.seen)

    def merge(self, other: Entry) -> None:
        self.hits += other.hits
        self.bytes += other.bytes
        self.overcount += other.overcount
        if other.day == self.day:
            self.done += other.done
            self.seen |= other.seen
        elif other.day > self.day:
            self.done += other.done + len(self.seen)
            self.day, self.seen = other.day, set(other.seen)
        else:
            self.done += other.visitors
        if other.times is not None:
            if self.times is None:
                self.times = DurationSketch(EXACT_TIMES)
            self.times.merge(other.times)

    def to_json(self, *, timed: bool, estimated: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"hits": self.hits, "visitors": self.visitors, "bytes": self.bytes}
        if timed:
            sketch = self.times
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
        times = self.times.to_json() if self.times is not None else None
        return [
            self.hits,
            self.bytes,
            self.overcount,
            self.done,
            self.day,
            sorted(self.seen),
            times,
        ]

    @classmethod
    def from_state(cls, data: Any) -> Entry:
        hits, nbytes, overcount, done, day, seen, times = validate.listed(data)
        entry = cls(validate.count(hits), validate.count(overcount))
        entry.bytes, entry.done = validate.count(nbytes), validate.count(done)
        entry.day = validate.text(day)
        entry.seen = {validate.count(visitor) for visitor in validate.listed(seen)}
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

    def add(self, hits: int, nbytes: int, visitor: int, times: list[float] | None) -> None:
        self.hits += hits
        self.bytes += nbytes
        self.seen.add(visitor)
        if times is not None:
            if self.times is None:
                self.times = []
            self.times += times

    def into(self, table: Table, key: str, day: str) -> None:
        entry = table.entry(key, self.hits)
        entry.bytes += self.bytes
        if entry.day != day:
            entry.visit(day, next(iter(self.seen)))
        entry.seen |= self.seen
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
        if entry.day == day:
            entry.seen.add(visitor)
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
        #: The visits of the hour ``_pending_at`` (day, hour) not yet spread.
        self._pending: dict[tuple[str, ...], list[Any]] = {}
        self._pending_at = ("", "")

    def count(self, batch: Batch) -> None:
        """Add a Batch's visits to those of its hour, which are spread onto the panels
        at once (``_spread``): the same visit comes again within an hour, and a merge
        costs less than a spread."""
        visits = getattr(batch, "visits", None)
        if not visits:
            return
        when = self._when(batch.second)
        if when != self._pending_at or len(self._pending) >= PENDING_VISITS:
            self._spread()
            self._pending_at = when
        pending = self._pending
        for key, counted in visits.items():
            found = pending.get(key)
            if found is None:
                pending[key] = counted.copy()  # (the Batch may be counted again)
            else:
                found[0] += counted[0]
                found[1] += counted[1]
                if len(counted) > 2:
                    found += counted[2:]

    def _spread(self) -> None:
        """Spread the pending visits onto the panels."""
        pending = self._pending
        if not pending:
            return
        self._pending = {}
        day, hour = self._pending_at
        visitors = self.visitors.get(day)
        if visitors is None:
            visitors = self._new_day(day)
        id_of = visitors.id_of
        tables = self.tables
        requests, static, not_found = (
            tables["requests"],
            tables["static_requests"],
            tables["not_found"],
        )
        codes, referrers, users = (
            tables["status_codes"],
            tables["referrers"],
            tables["remote_users"],
        )
        urls, known_sites, agents = self._urls, self._sites, self._agents
        # What a few keys share is gathered here first, then added once a key.
        by_agent: dict[str, Gathered] = {}
        by_site: dict[str, Gathered] = {}
        every = Gathered()
        for (source, user, url, status, referrer, agent), counted in pending.items():
            hits, nbytes = counted[0], counted[1]
            times = counted[2:] if len(counted) > 2 else None
            visitor = id_of(source, agent)
            if status == "404":
                table = not_found
            else:
                static_url = urls.get(url)
                if static_url is None:
                    static_url = is_static(url)
                    remember(urls, url, static_url, MEMO_SIZE)
                table = static if static_url else requests
            if referrer == "":
                referrer = "-"
            table.add(url, hits, nbytes, day, visitor, times)
            codes.add(status, hits, nbytes, day, visitor, times)
            referrers.add(referrer, hits, nbytes, day, visitor, times)
            if user:
                users.add(user, hits, nbytes, day, visitor, times)
            site = known_sites.get(referrer, "")
            if site == "":
                site = referring_site(referrer)
                remember(known_sites, referrer, site, MEMO_SIZE)
            for groups, key in ((by_agent, agent), (by_site, site)):
                if key is not None:
                    gathered = groups.get(key)
                    if gathered is None:
                        gathered = groups[key] = Gathered()
                    gathered.add(hits, nbytes, visitor, times)
            every.add(hits, nbytes, visitor, times)
        self._users = self._users or bool(users.entries)
        for agent, gathered in by_agent.items():
            families = agents.get(agent)
            if families is None:
                families = classify(agent)
                remember(agents, agent, families, MEMO_SIZE)
            gathered.into(tables["browsers"], families[0], day)
            gathered.into(tables["os"], families[1], day)
        for site, gathered in by_site.items():
            gathered.into(tables["referring_sites"], site, day)
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
        """Start counting the visitors of ``day``; those of days before the one before
        are final (seconds come in order, give or take the seconds a summary counts
        while they are open)."""
        for older in sorted(self.visitors):
            if older < day and len(self.visitors) >= 2:
                self.finished_visitors += self.visitors.pop(older).count()
        found = self.visitors[day] = DayVisitors()
        self.days.setdefault(day, Table(None))
        return found

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
