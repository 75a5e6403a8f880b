"""Which events a run counts (``--since``, ``--until``, ``--path``, ``--status``,
``--source``, ``--method``) and what it may show of them (``--anonymize``).

An event that fails a filter is counted as *filtered* and goes no further: it is never
late, moves no clock and is in no window, so the run is that of a log holding only the
matching records.  An invalid record stays invalid whatever the filters: it has no
values to judge.  For MongoDB the filters see operations: ``--path`` matches the
``db.collection`` namespace and ``--method`` the operation; rows of an operation that
does not match are dropped with it, and only its event (the final row) counts as
filtered.

``--anonymize`` zeroes the last octet of an IPv4 source and the last 80 bits of an IPv6
one (a host name keeps only its last two labels).  It is applied to the per-second
counts as they leave the reorderer - once per distinct source and second, not per line -
so nothing downstream (windows, output, checkpoints of windows) ever holds a full
address; invalid records are not shown at all.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from ..bounds import remember
from ..errors import UsageError
from .batch import Batch, VisitLog
from .reorder import Downstream

#: Distinct sources remembered with their verdict (``--source``) or anonymous form.
MEMO_SIZE = 65536

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_STATUS = re.compile(r"[1-5](?:[0-9]{2}|xx)")


@dataclass(frozen=True, kw_only=True)
class Selection:
    """The filters of a run, as given on the command line (all empty: every event)."""

    #: The first second counted (``--since``, inclusive).
    since: int | None = None
    #: The first second no longer counted (``--until``, exclusive).
    until: int | None = None
    #: Path prefixes (HTTP), or ``db.collection`` prefixes (MongoDB).
    paths: tuple[str, ...] = ()
    #: Status codes (``404``) and classes (``5xx``).
    statuses: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()
    #: HTTP methods or MongoDB operations, compared case-insensitively.
    methods: frozenset[str] = frozenset()
    #: Python logging records: the lowest level counted (``--level``), and logger-name
    #: prefixes (``--name``).
    level: int | None = None
    names: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.since is not None
            or self.until is not None
            or self.paths
            or self.statuses
            or self.networks
            or self.methods
            or self.level is not None
            or self.names
        )

    def as_options(self) -> list[str]:
        """The filters as the options that give them (times in local ISO-8601)."""
        options = []
        for option, second in (("--since", self.since), ("--until", self.until)):
            if second is not None:
                moment = datetime.fromtimestamp(second, timezone.utc).astimezone()
                options.append(f"{option} {moment.isoformat()}")
        for option, items in (
            ("--path", self.paths),
            ("--status", sorted(self.statuses)),
            ("--source", [str(network) for network in self.networks]),
            ("--method", sorted(self.methods)),
            ("--level", [] if self.level is None else [level_name(self.level)]),
            ("--name", self.names),
        ):
            if items:
                options.append(f"{option} {','.join(items)}")
        return options

    def options(self) -> list[str]:
        """The options that were given (``--since``, ``--path``...)."""
        return [
            option
            for option, given in (
                ("--since", self.since is not None),
                ("--until", self.until is not None),
                ("--path", self.paths),
                ("--status", self.statuses),
                ("--source", self.networks),
                ("--method", self.methods),
                ("--level", self.level is not None),
                ("--name", self.names),
            )
            if given
        ]

    def check_applies(self, filters: frozenset[str], described: str) -> None:
        """``UsageError`` for a filter that means nothing for the run's events (a
        family's ``filters`` are those that do): a usage error, not silence."""
        given = [option for option in self.options() if option not in filters]
        if given:
            raise UsageError(
                f"{' and '.join(given)} {'means' if len(given) == 1 else 'mean'} nothing for "
                f"{described}"
            )

    def to_json(self) -> dict[str, Any]:
        """What a checkpoint records (a restart with other filters is refused)."""
        return (
            {
                "since": self.since,
                "until": self.until,
                "paths": list(self.paths),
                "statuses": sorted(self.statuses),
                "networks": [str(network) for network in self.networks],
                "methods": sorted(self.methods),
            }
            | ({} if self.level is None else {"level": self.level})
            | ({"names": list(self.names)} if self.names else {})
        )


@dataclass(eq=False)
class Filter:
    """A Selection at work: its verdicts, and how many events it turned away."""

    selection: Selection
    filtered: int = 0
    _sources: dict[str, bool] = field(default_factory=dict)
    #: ``--path`` as HTTP path prefixes (``api`` is ``/api``) and as MongoDB namespace
    #: prefixes (``/shop`` is ``shop``): neither kind of key can start otherwise.
    _paths: tuple[str, ...] = ()
    _namespaces: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        paths = self.selection.paths
        self._paths = tuple(path if path.startswith("/") else "/" + path for path in paths)
        self._namespaces = tuple(path.lstrip("/") for path in paths)

    def keeps_second(self, second: int) -> bool:
        selection = self.selection
        return (selection.since is None or second >= selection.since) and (
            selection.until is None or second < selection.until
        )

    def keeps_request(self, source: str, status: str, method: str, path: str | None) -> bool:
        """The values of a valid HTTP record (its time aside); ``path`` as written,
        query included, None for a request without one."""
        selection = self.selection
        if selection.statuses and not (
            status in selection.statuses or f"{status[0]}xx" in selection.statuses
        ):
            return False
        if selection.networks and not self._source_matches(source):
            return False
        if selection.methods and method.casefold() not in selection.methods:
            return False
        if self._paths and (path is None or not path.startswith(self._paths)):
            return False
        return True

    def keeps_operation(self, namespace: str, operation: str) -> bool:
        """A MongoDB operation (its time aside)."""
        selection = self.selection
        return (not self._namespaces or namespace.startswith(self._namespaces)) and (
            not selection.methods or operation.casefold() in selection.methods
        )

    def keeps_record(self, level: int, name: str, source: str, levelname: str) -> bool:
        """A Python logging record (its time aside): ``--level``, ``--name``, and the
        HTTP filters that mean something for it (``--source``, ``--method``)."""
        selection = self.selection
        if selection.level is not None and level < selection.level:
            return False
        if selection.names and not name.startswith(selection.names):
            return False
        if selection.networks and not self._source_matches(source):
            return False
        return not selection.methods or levelname.casefold() in selection.methods

    def _source_matches(self, source: str) -> bool:
        verdict = self._sources.get(source)
        if verdict is None:
            try:
                address = ipaddress.ip_address(source)
            except ValueError:
                verdict = False  # a host name is in no network
            else:
                verdict = any(address in network for network in self.selection.networks)
            remember(self._sources, source, verdict, MEMO_SIZE)
        return verdict


# -- the options ---------------------------------------------------------------------------


#: The standard levels' names (a custom level is shown as its number).
LEVEL_NAMES = {50: "CRITICAL", 40: "ERROR", 30: "WARNING", 20: "INFO", 10: "DEBUG", 0: "NOTSET"}


def level_name(level: int) -> str:
    return LEVEL_NAMES.get(level, str(level))


def parse_time(text: str) -> int:
    """ISO-8601 (``2019-02-07T21:20:00Z``, with an offset, without one: local time; or
    a bare date: local midnight) as the first whole second at or after it."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day)
        else:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
        return math.ceil(moment.timestamp())
    except (ValueError, OverflowError, OSError, IndexError):
        raise ValueError(
            f"{text!r} is not an ISO-8601 time such as 2019-02-07T21:20:00Z, "
            f"2019-02-07T22:20:00+01:00 or 2019-02-07"
        ) from None


def parse_items(text: str) -> tuple[str, ...]:
    """A comma-separated list, with no empty item."""
    items = tuple(item.strip() for item in text.split(","))
    if not all(items):
        raise ValueError(f"empty item in {text!r}")
    return items


def parse_methods(text: str) -> frozenset[str]:
    return frozenset(item.casefold() for item in parse_items(text))


def parse_statuses(text: str) -> frozenset[str]:
    statuses = set()
    for item in parse_items(text):
        status = item.lower()
        if not _STATUS.fullmatch(status):
            raise ValueError(f"{item!r} is neither a status 100-599 nor a class like 5xx")
        statuses.add(status)
    return frozenset(statuses)


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    networks = []
    for item in parse_items(text):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"{item!r} is neither an address nor a network such as 10.0.0.0/8"
            ) from None
    return tuple(networks)


# -- --anonymize ---------------------------------------------------------------------------


def anonymous(source: str) -> str:
    """``10.1.2.3`` -> ``10.1.2.0``; ``2001:db8:1:2::5`` -> ``2001:db8:1::``; a host name
    keeps its last two labels (``a.b.example.com`` -> ``*.example.com``)."""
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        labels = source.split(".")
        return "*" if len(labels) <= 2 else "*." + ".".join(labels[-2:])
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


class Anonymizer:
    """Between the watermarks and the windows: the Batch fields keyed by addresses
    (the family's ``addresses``) and the syslog hosts (which may be the senders'
    addresses) made anonymous, per Batch."""

    def __init__(self, downstream: Downstream, fields: tuple[str, ...]) -> None:
        self.downstream = downstream
        self.fields = (*fields, "hosts")
        self._known: dict[str, str] = {}

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> None:
        for batch in batches:
            for name in self.fields:
                counts = getattr(batch, name)
                if counts:
                    setattr(batch, name, self._merged(counts.items()))
            if getattr(batch, "visits", None):
                setattr(batch, "visits", self._visits(getattr(batch, "visits")))
        self.downstream.close(batches, through, beat)

    def shown(self, batch: Batch) -> Batch:
        """A copy of a Batch that has not gone through, as it would come out."""
        changes: dict[str, Any] = {
            name: self._merged(getattr(batch, name).items()) for name in self.fields
        }
        if getattr(batch, "visits", None):
            changes["visits"] = self._visits(getattr(batch, "visits"))
        return dataclasses.replace(batch, **changes)

    def _visits(self, visits: VisitLog) -> VisitLog:
        """The panels' visits (``calculators/panels.py``) with anonymous sources, no
        user names (``-`` for every user the format has) and URLs and referrers without
        their queries (which may hold tokens)."""
        known: dict[tuple[str, ...], tuple[str, ...]] = {}
        for source, user, url, status, referrer, agent in {*visits.keys, *visits.counted}:
            known[(source, user, url, status, referrer, agent)] = (
                self._merged([(source, 0)]).popitem()[0],
                "-" if user else "",
                url.partition("?")[0],
                status,
                referrer.partition("?")[0],
                agent,
            )
        shown = VisitLog()
        shown.keys = [known[key] for key in visits.keys]
        shown.sizes = list(visits.sizes)
        shown.timed = [(known[key], ms) for key, ms in visits.timed]
        for key, (hits, nbytes) in visits.counted.items():
            found = shown.counted.setdefault(known[key], [0, 0])
            found[0] += hits
            found[1] += nbytes
        for key, listed in visits.times.items():
            shown.times.setdefault(known[key], []).extend(listed)
        return shown

    def finish(self) -> None:
        self.downstream.finish()

    def _merged(self, counts: Iterable[tuple[str, int]]) -> dict[str, int]:
        known = self._known
        merged: dict[str, int] = {}
        for source, count in counts:
            hidden = known.get(source)
            if hidden is None:
                hidden = anonymous(source)
                remember(known, source, hidden, MEMO_SIZE)
            merged[hidden] = merged.get(hidden, 0) + count
        return merged
