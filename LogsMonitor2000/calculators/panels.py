"""What and who: the whole run's panels of an access log (docs/panels.md).

The parsers note each request of a second as (source, user, URL, status, referrer,
user agent), its bytes and request time - the Batch field ``visits``, a ``VisitLog``.
``Panels`` adds those up by the hour (a visit), then spreads each visit onto the panels:
requests, static requests, not found, status codes, referrers, referring sites,
browsers, operating systems, time of day, remote users, and the visitors of each day.
Each panel entry has hits, bytes, its visitors (a visitor is a source, a local date and
a user agent) and, when the log has request times, their average, maximum and p95.

Bounded: a panel holds ``TOP_CAPACITY`` keys exactly, then is Space-Saving on its hits
(``entries.py``); a day's distinct visitors are exact up to ``distinct.EXACT_VISITORS``.
Seconds arrive in order, so an entry keeps the visitors of its latest days only, and
adds up the counts of the days before.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from ..bounds import remember
from ..checkpoint import validate
from ..families.base import PANELS
from ..parsers.agents import classify
from ..parsers.urls import is_static, referring_site
from ..pipeline.batch import Batch, VisitLog, gather_times
from .distinct import DayVisitors
from .entries import Entry, Gathered, Table

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
#: Distinct visits of an hour gathered before they are spread onto the panels (a
#: bound on the memory they hold: their URLs, referrers, user agents).
PENDING_VISITS = 20_000
PENDING_CHARS = 4_000_000
#: Distinct strings remembered with what they are classified as.
MEMO_SIZE = 65536


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


#: The key of a chunk's panels of each minute (``chunk_minute_panels``).
MINUTES = "minutes"
MINUTE = 60


def chunk_minute_panels(batches: list[Batch]) -> dict[str, Any]:
    """With a store (``store/``): the panels of each minute of a chunk apart, their
    visits spread once, by the minute.  The whole run's panels take each of them
    (``PanelsTally.add_part``), the store each minute's: the main process merges them,
    the workers only count."""
    minutes: dict[int, Panels] = {}
    memos = Memos()  # (a URL, a user agent met in every minute: looked at once)
    for batch in sorted(batches, key=lambda batch: batch.second):
        if getattr(batch, "visits", None):
            minute = batch.second - batch.second % MINUTE
            panels = minutes.get(minute)
            if panels is None:
                panels = minutes[minute] = Panels(memos)
            panels.count(batch)
            setattr(batch, "visits", VisitLog())
    for panels in minutes.values():
        panels.settle()
    return {PANELS: list(minutes.values()), MINUTES: minutes}  # (pickled once)


class Memos:
    """What panels remember of the strings they met, to look at each once: whether a
    URL is static, a referrer's site, a user agent's browser and system.  Not part of
    the counts (never pickled, never checkpointed)."""

    __slots__ = ("urls", "sites", "agents")

    def __init__(self) -> None:
        self.urls: dict[str, bool] = {}
        self.sites: dict[str, str | None] = {}
        self.agents: dict[str, tuple[str, str]] = {}


class Panels:
    """The whole run's panels (see the module's docstring)."""

    def __init__(self, memos: Memos | None = None) -> None:
        self.tables = {key: Table() for key in TOP_PANELS}
        self.hours = {hour: Table(None) for hour in HOURS}
        self.days: dict[str, Table] = {}
        #: The visitors of the days still counted (the latest two).
        self.visitors: dict[str, DayVisitors] = {}
        self.finished_visitors = 0
        #: Whether some request had a request time: the entries then show times.
        self.timed = False
        self.users = False
        #: Its own, or shared by the panels of a chunk's minutes.
        self._memos = memos if memos is not None else Memos()
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
        for key, (hits, size) in log.counted.items():  # (a busy second's, added up)
            self._hits[key] += hits
            found = known(key)
            if found is None:
                nbytes[key] = size
                chars += len(key[2]) + len(key[4]) + len(key[5])
            else:
                nbytes[key] = found + size
        for key, listed in log.times.items():
            self._times.setdefault(key, []).extend(listed)
        for key, size in zip(log.keys, log.sizes):
            found = known(key)
            if found is None:
                nbytes[key] = size
                chars += len(key[2]) + len(key[4]) + len(key[5])
            elif size:
                nbytes[key] = found + size
        self._pending_chars += chars
        gather_times(self._times, log.timed)

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
        known_visitors, id_of = visitors.memo, visitors.id_of
        tables = self.tables
        requests = tables["requests"]
        static, not_found = tables["static_requests"], tables["not_found"]
        urls = self._memos.urls
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
        tables, known_sites, agents = self.tables, self._memos.sites, self._memos.agents
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
                self.users = True
            every.merge(group)
        every.into(self.hours[hour], "", day)
        every.counts_into(self.days[day], "")  # (its visitors: ``visitors[day]``)
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
        counts), and only their number is kept, in the day's entry of ``days``.  The
        first day is kept for a merge (a file's chunk that starts on the day the one
        before ended)."""
        for older in sorted(self.visitors)[1:-2]:
            count = self.visitors.pop(older).count()
            self.finished_visitors += count
            self.days.setdefault(older, Table(None)).entry("", 0).done += count

    def is_empty(self) -> bool:
        """Whether it has counted nothing."""
        return not (self._hits or self.days or self.visitors or self.finished_visitors)

    def settle(self) -> None:
        """Spread what is pending and let the memos go (before it is pickled)."""
        self._spread()
        self._memos = Memos()
        for visitors in self.visitors.values():
            visitors.memo = {}

    def unique_visitors(self) -> int:
        self._spread()
        return self.finished_visitors + sum(day.count() for day in self.visitors.values())

    def value(self, top_n: int) -> dict[str, Any]:
        """The summary's keys (docs/json.md, "Panels")."""
        self._spread()
        timed = self.timed
        data: dict[str, Any] = {}
        for key, table in self.tables.items():
            if key == "remote_users" and not self.users:
                continue
            data[key] = [
                {"key": name, **entry.to_json(timed=timed, estimated=table.estimated)}
                for name, entry in table.top(top_n)
            ]
        data["visit_time"] = [
            {"key": hour, **self._day_entry(table, timed)} for hour, table in self.hours.items()
        ]
        data["visitors"] = [
            {"key": day, **self._day_entry(table, timed), "visitors": self.day_visitors(day)}
            for day, table in sorted(self.days.items())
        ]
        data["unique_visitors"] = self.unique_visitors()
        return data

    @staticmethod
    def _day_entry(table: Table, timed: bool) -> dict[str, Any]:
        entry = table.entries.get("", Entry())
        return entry.to_json(timed=timed, estimated=False)

    def day_visitors(self, day: str) -> int:
        """The distinct visitors of a day: those of ``visitors[day]`` while it is
        counted, then the number its entry of ``days`` keeps (the day's own entry holds
        no ids: a day's are in one place, and are let go when the day is final)."""
        table = self.days.get(day)
        entry = table.entries.get("") if table is not None else None
        live = self.visitors.get(day)
        return (entry.visitors if entry is not None else 0) + (live.count() if live else 0)

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
        self.users = self.users or other.users

    def to_json(self) -> dict[str, Any]:
        self._spread()
        return {
            "tables": {key: table.to_json() for key, table in self.tables.items()},
            "hours": {hour: table.to_json() for hour, table in self.hours.items()},
            "days": {day: table.to_json() for day, table in self.days.items()},
            "visitors": {day: visitors.to_json() for day, visitors in self.visitors.items()},
            "finished_visitors": self.finished_visitors,
            "timed": self.timed,
            "users": self.users,
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
        for day, table in self.days.items():  # (a checkpoint of an earlier version)
            for entry in table.entries.values():
                if entry.days:  # (the day's visitors listed there too: now a number)
                    if day not in self.visitors:
                        entry.done += sum(len(seen) for seen in entry.days.values())
                    entry.days = {}
        self.finished_visitors = validate.count(data["finished_visitors"])
        self.timed = validate.boolean(data["timed"])
        self.users = validate.boolean(data["users"])
