"""``--format json``: access logs written one JSON object per line - nginx with
``escape=json``, Caddy, Traefik, or any other that names its fields.

Each field is found by its common names (``KEYS``, tried in order; a dotted name is a
path into nested objects: ``request.remote_ip``), once, on the first object that has a
time and a status; ``--json-fields`` names them instead.  Then every line goes through
the same fields:

* time: a number is seconds since the epoch (a fraction allowed), a string is ISO-8601
  (a naive one is local time), the CLF time (``10/Oct/2000:13:55:36 -0700``) or digits
  of epoch seconds;
* status: an integer or a string of 3 digits, 100-599; bytes: an integer or digits
  (``-``, or no bytes field, is 0);
* the request: a request line (``"GET /x HTTP/1.1"``), or a method and a URI;
* the request time: a number (or numeric string) in the unit of its key (``KEYS``:
  Caddy's ``duration`` is seconds, Traefik's ``Duration`` nanoseconds), ``name:ms``
  in ``--json-fields`` says another unit.

A line that is not a JSON object, or lacks or mistypes its time or status, is invalid
(counted, never fatal); the request follows the HTTP rules (``access_fields.py``).

A log that names the logger of each line (Caddy's ``logger``) holds more than
requests: only the lines of an access logger (``http.log.access``, ``http.log.access.log0``)
are requests; the others - Caddy's own messages, and ``http.log.error`` lines, which
carry the status of a request its access line counts already - are valid records that
are no events (``other`` in the summary), and so is a message (``msg`` and ``level``)
without a logger and without a status (Caddy's default logger).  Behind a proxy the client is Caddy's
``client_ip``, tried before ``remote_ip``.
"""

from __future__ import annotations

import json
import json.scanner
import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..bounds import remember
from ..families.http import HTTP
from ..pipeline.filters import Filter
from .base import EventSink, LineParser, Rejects
from .clf import clf_epoch
from .jsontext import may_hold_surrogates, without_surrogates
from .access_fields import MAX_SECOND, HttpEvents

#: The names a field goes by, tried in order (nginx's, Caddy's, Traefik's, common ones).
KEYS: dict[str, tuple[str, ...]] = {
    "time": ("ts", "StartUTC", "time", "timestamp", "@timestamp", "time_iso8601",
             "time_local", "msec", "start_time", "StartLocal", "date"),
    "source": ("remote_addr", "request.client_ip", "request.remote_ip", "ClientHost",
               "client_ip", "remote_ip", "client", "ip", "remote_host", "ClientAddr"),
    "request": ("request",),
    "method": ("request_method", "request.method", "RequestMethod", "method"),
    "uri": ("request_uri", "request.uri", "RequestPath", "uri", "path", "url"),
    "status": ("status", "DownstreamStatus", "status_code", "response_status", "OriginStatus"),
    "bytes": ("body_bytes_sent", "size", "DownstreamContentSize", "bytes_sent", "bytes",
              "response_size"),
    "duration": ("request_time", "duration", "Duration", "request_duration", "duration_ms",
                 "latency_ms"),
    "vhost": ("host", "request.host", "RequestHost", "server_name", "http_host", "vhost"),
    "user": ("remote_user", "user_id", "ClientUsername", "user"),
    "referrer": ("http_referer", "request.headers.Referer", "request_Referer", "referer",
                 "referrer"),
    "agent": ("http_user_agent", "request.headers.User-Agent", "request_User-Agent",
              "user_agent", "agent"),
}  # fmt: skip

#: The roles only the panels read: a value that is a list (Caddy's headers) counts by
#: its first item; a role the log has, missing from a line, is ``-``.
_PANEL_ROLES = ("user", "referrer", "agent")

#: The top-level keys that may hold a time, a status (``_resolve``).
_ROOTS = {
    role: frozenset(path.partition(".")[0] for path in KEYS[role]) for role in ("time", "status")
}

#: The unit of a request time by its key, in ms (seconds unless named here).
UNITS = {"Duration": 1e-6, "duration_ms": 1.0, "latency_ms": 1.0}
UNIT_NAMES = {"s": 1000.0, "ms": 1.0, "us": 0.001, "ns": 1e-6}

#: Integer statuses as the strings HTTP rules take.
_STATUSES = {code: str(code) for code in range(100, 600)}
_DIGITS = re.compile(r"[0-9]+(?:\.[0-9]+)?")

#: What an invalid line stands as (HttpEvents calls it unusual).
_NOT_A_RECORD: tuple[str, ...] = ()
#: The prefix of the loggers whose lines are requests, in a log that names its loggers.
ACCESS_LOGGER = "http.log.access"
#: A message (``msg``, ``level``) with none of these is no request (Caddy's own).
STATUS_KEYS = KEYS["status"]


def parse_json_fields(text: str) -> dict[str, tuple[str, float | None]]:
    """``--json-fields time=ts,source=request.remote_ip,duration=Duration:ns``:
    role -> (dotted path, unit of a request time in ms or None)."""
    named: dict[str, tuple[str, float | None]] = {}
    for item in text.split(","):
        role, equals, path = item.strip().partition("=")
        if not equals or role not in KEYS or not path:
            raise ValueError(f"{item!r} is not ROLE=KEY with ROLE one of {', '.join(KEYS)}")
        unit: float | None = None
        if role == "duration" and ":" in path:
            path, _, unit_name = path.rpartition(":")
            if unit_name not in UNIT_NAMES:
                raise ValueError(f"{unit_name!r} is not a unit (s, ms, us, ns)")
            unit = UNIT_NAMES[unit_name]
        named[role] = (path, unit)
    return named


def _getter(path: str) -> Callable[[dict[str, Any]], Any]:
    """A dotted path's value in an object (None when it isn't there)."""
    keys = path.split(".")
    if len(keys) == 1:
        key = keys[0]
        return lambda obj: obj.get(key)

    def get(obj: dict[str, Any]) -> Any:
        value: Any = obj
        for key in keys:
            if type(value) is not dict:
                return None
            value = value.get(key)
        return value

    return get


def json_epoch(value: Any) -> int | None:
    """A JSON time as seconds since the epoch (see the module docstring)."""
    kind = type(value)
    if kind is int or kind is float:
        return int(value) if 0 <= value <= MAX_SECOND else None
    if kind is not str:
        return None
    if _DIGITS.fullmatch(value):
        return json_epoch(float(value))
    if "/" in value:
        return clf_epoch(value)
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    try:
        if moment.tzinfo is None:
            return int(moment.timestamp())  # local time (TZ)
        return math.floor(moment.astimezone(timezone.utc).timestamp())
    except (OverflowError, OSError, ValueError):
        return None


class JsonLogParser(LineParser):
    """Reads JSON access-log lines into HTTP events (``fold_timed``)."""

    name = "json"
    description = "JSON access log"
    family = HTTP

    def __init__(
        self,
        sink: EventSink,
        rejects: Rejects,
        selection: Filter | None = None,
        *,
        named: dict[str, tuple[str, float | None]],
    ) -> None:
        self.named = named
        self.rejects = rejects
        self.skipped = 0
        self.headers = 0
        self._sink, self._selection = sink, selection
        self._events: HttpEvents | None = None
        self._pick: Callable[[dict[str, Any]], tuple[Any, ...] | None] | None = None
        self._times: dict[str, int | None] = {}
        self._lines_before = 0
        self._scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]

    def feed(self, block: str) -> None:
        lines = block.split("\n")
        lines.pop()  # the block ends with "\n"
        records: list[tuple[Any, ...]] = []
        reasons: dict[int, str] = {}
        scan = self._scan
        # (a lone surrogate's escape: rare, so looked for once a block)
        surrogates = may_hold_surrogates(block)
        for index, line in enumerate(lines):
            try:  # the decoder's scanner itself: json.loads without its two regexes
                obj, end = scan(line, 0)
                if end != len(line) and not line[end:].isspace():
                    raise ValueError("more after the object")
                if surrogates:
                    obj = without_surrogates(obj)
            except (StopIteration, ValueError, RecursionError):  # (jsontext.py)
                records.append(_NOT_A_RECORD)
                if line.strip():
                    reasons[index] = "not a JSON object"
                continue
            if type(obj) is not dict:
                records.append(_NOT_A_RECORD)
                reasons[index] = "not a JSON object"
                continue
            logger = obj.get("logger")
            if (
                not (type(logger) is str and logger.startswith(ACCESS_LOGGER))
                if logger is not None
                else "msg" in obj and "level" in obj and not any(k in obj for k in STATUS_KEYS)
            ):
                records.append(_NOT_A_RECORD)  # (valid: a message, no request)
                self.skipped += 1
                continue
            if self._pick is None and not self._resolve(obj):
                records.append(_NOT_A_RECORD)
                reasons[index] = "no time or no status"
                continue
            assert self._pick is not None
            record = self._pick(obj)
            if record is None:
                records.append(_NOT_A_RECORD)
                reasons[index] = "its time or status is missing or not a time or status"
                continue
            records.append(record)

        def unusual(index: int, reason: str | None) -> None:
            reason = reason or reasons.get(index)
            if reason is not None:  # (else a blank line)
                self.rejects.add(self._lines_before + index + 1, lines[index], reason)

        if self._events is not None:
            self._events.fold_timed(records, unusual)
        else:
            for index in reasons:
                unusual(index, None)
        self._lines_before += len(lines)

    def _resolve(self, obj: dict[str, Any]) -> bool:
        """Find each field's key in the first object that has a time and a status."""
        for role in ("time", "status"):  # (at once: a log of many such lines tries each)
            named = self.named.get(role)
            roots = _ROOTS[role] if named is None else {named[0].partition(".")[0]}
            if obj.keys().isdisjoint(roots):
                return False
        found: dict[str, tuple[str, float | None]] = {}
        for role, names in KEYS.items():
            if role in self.named:
                found[role] = self.named[role]
                continue
            for name in names:
                if _getter(name)(obj) is not None and not (
                    role == "request" and type(_getter(name)(obj)) is not str
                ):
                    found[role] = (name, None)
                    break
        if "time" not in found or "status" not in found:
            return False
        unit = found.get("duration", ("", None))
        scale = unit[1] if unit[1] is not None else UNITS.get(unit[0], 1000.0)
        uri = "request" not in found
        self._events = HttpEvents(
            self._sink,
            self._time,
            header=None,
            selection=self._selection,
            uri=uri,
            duration_scale=scale,
        )
        self._pick = self._picker(found, uri)
        return True

    @staticmethod
    def _panel_fields(
        found: dict[str, tuple[str, float | None]],
    ) -> Callable[[dict[str, Any]], tuple[str, str, str]]:
        """The user, referrer and user agent of an object ("" for a role the log
        doesn't have)."""
        getters = [_getter(found[role][0]) if role in found else None for role in _PANEL_ROLES]

        def value(get: Callable[[dict[str, Any]], Any] | None, obj: dict[str, Any]) -> str:
            if get is None:
                return ""
            found = get(obj)
            if type(found) is list and found:
                found = found[0]
            return found if type(found) is str and found else "-"

        user, referrer, agent = getters
        return lambda obj: (value(user, obj), value(referrer, obj), value(agent, obj))

    def _picker(
        self, found: dict[str, tuple[str, float | None]], uri: bool
    ) -> Callable[[dict[str, Any]], tuple[Any, ...] | None]:
        roles = (
            "time",
            "source",
            "status",
            "bytes",
            "duration",
            "vhost",
            "uri" if uri else "request",
            "method",
        )
        fetch = _fetcher([found[role][0] if role in found else None for role in roles])
        panel_fields = self._panel_fields(found)
        statuses = _STATUSES

        def pick(obj: dict[str, Any]) -> tuple[Any, ...] | None:
            when, source, status, size, taken, vhost, target, method = fetch(obj)
            kind = type(when)
            if kind is float:
                when = int(when) if when >= 0 else None  # the lines of a second share it
            elif kind is not int and kind is not str:
                return None
            status = statuses.get(status) if type(status) is int else status
            if when is None or type(status) is not str:
                return None
            if size is None:
                size = "-"
            elif type(size) is int:
                size = str(size) if size >= 0 else "x"
            elif type(size) is not str:
                size = "x"  # not bytes: the record is invalid
            if taken is None:
                taken = ""
            elif type(taken) not in (int, float, str):
                taken = "x"
            user, referrer, agent = panel_fields(obj)
            return (
                source if type(source) is str else _scalar(source),
                "",
                user,
                when,
                target if type(target) is str else "-",
                status,
                size,
                taken,
                vhost if type(vhost) is str else "",
                method if type(method) is str else "",
                referrer,
                agent,
            )

        return pick

    def _time(self, value: Any) -> int | None:
        if type(value) is not str:
            return json_epoch(value)
        known = self._times
        second = known.get(value, -1)
        if second == -1:
            second = json_epoch(value)
            remember(known, value, second, 4096)
        return second


_EMPTY: dict[str, Any] = {}


def _fetcher(paths: list[str | None]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The values at ``paths`` (dotted; None: not there) of an object, in one call.

    The usual layouts - flat (nginx, Traefik), or one nested object (Caddy's
    ``request``) - take a path without a function call per field; deeper ones do."""
    parents = {path.split(".")[0] for path in paths if path and "." in path}
    shallow = all(path is None or path.count(".") <= 1 for path in paths)
    if not shallow or len(parents) > 1:
        getters = [_getter(path) if path else _none for path in paths]
        return lambda obj: tuple(get(obj) for get in getters)
    parent = parents.pop() if parents else ""
    nested = [bool(path and "." in path) for path in paths]
    keys = ["" if path is None else path.rpartition(".")[2] for path in paths]  # "": absent
    (n0, n1, n2, n3, n4, n5, n6, n7), (k0, k1, k2, k3, k4, k5, k6, k7) = nested, keys

    def fetch(obj: dict[str, Any]) -> tuple[Any, ...]:
        inner = obj.get(parent, _EMPTY) if parent else _EMPTY
        if type(inner) is not dict:
            inner = _EMPTY
        return (
            (inner if n0 else obj).get(k0),
            (inner if n1 else obj).get(k1),
            (inner if n2 else obj).get(k2),
            (inner if n3 else obj).get(k3),
            (inner if n4 else obj).get(k4),
            (inner if n5 else obj).get(k5),
            (inner if n6 else obj).get(k6),
            (inner if n7 else obj).get(k7),
        )

    return fetch


def _none(obj: dict[str, Any]) -> None:
    return None


def _scalar(value: Any) -> str:
    """A source that is no string: a number as its digits, anything else ``-``."""
    return str(value) if type(value) in (int, float, bool) else "-"


class JsonLogFactory:
    """JSON access logs, their fields found by name or named by ``--json-fields``."""

    name = "json"
    description = "JSON access log"
    family = HTTP
    carries_vhost = False  # known from the first lines: windows show it when they have it
    carries_duration = True

    def __init__(self, json_fields: str | None = None) -> None:
        self.named = parse_json_fields(json_fields) if json_fields else {}

    def __call__(
        self, sink: EventSink, rejects: Rejects, selection: Filter | None = None
    ) -> JsonLogParser:
        return JsonLogParser(sink, rejects, selection, named=self.named)
