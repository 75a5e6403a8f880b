"""``--serve HOST:PORT``: the live page, its Server-Sent Events, the summary, metrics.

Served (GET or HEAD, nothing else):

* ``/`` - the page of ``page.py``, live: it subscribes to ``/events``;
* ``/events`` - a ``text/event-stream`` of the records ``--output json`` prints: ``id:``
  the run (a token of this process) and their sequence number (``RUN:1``, ``RUN:2``,
  ...), ``event:`` their type, ``data:`` the JSON.  A client that sends
  ``Last-Event-ID`` (a browser reconnecting does) or ``?after=RUN:N`` gets the records
  after N from a ring of the last ``RING`` ones first; one that missed more than the
  ring holds, or whose RUN is another's (the monitor restarted), is sent ``event:
  reload``;
* ``/summary`` - the summary so far, as the JSON summary record;
* ``/metrics`` - Prometheus' text format (``prometheus.py``);
* ``/healthz`` - ``{"status": "ok", ...}`` (no credentials asked: for load balancers).

The monitor never waits for a browser.  Its thread only appends to the ring and, at
most twice a second, publishes a new page, summary and metrics (rendered on its
thread, from its own state, so no lock guards the pipeline); the server - the
monitor's HTTP server, ``net/http.py``, one thread on a selector loop - answers
with the bytes last published.  The ``Broadcaster`` writes the ring to every
subscriber from that thread, in rounds at most ``ROUND_SECONDS`` apart; a subscriber
that falls a whole ring behind, or has ``MAX_PENDING`` bytes unsent, is dropped (its
browser reconnects, and reloads).  A stop sends each subscriber the rest, the summary
last, and closes its stream (``Broadcaster.drain``: ``DRAIN_SECONDS`` at most).
Bounded too: ``MAX_SUBSCRIBERS`` streams, ``MAX_CONNECTIONS`` connections,
``REQUEST_SECONDS`` for a connection to send its request.  Credentials (``--serve-auth``) are compared in constant time;
``--tls-cert`` serves https.
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs

from ...net.auth import CHALLENGE, authorized, basic_authorization
from ...net.http import Exchange, HttpServer, Reply, Request
from ...net.loop import Stream
from ...reports import AlertReport, Report, Summary
from .. import LiveState, RunInfo
from ..history import History, Point
from ..prometheus import CONTENT_TYPE as METRICS_TYPE
from ..prometheus import exposition
from .page import render

#: Records kept for clients that reconnect.
RING = 1000
#: Unsent bytes a subscriber may have before it is dropped.
MAX_PENDING = 1 << 20
MAX_SUBSCRIBERS = 1000
MAX_CONNECTIONS = 1100
#: Seconds a connection may stay without sending its request.
REQUEST_SECONDS = 10.0
#: The broadcaster's rounds are at least this far apart (records wait at most that).
ROUND_SECONDS = 0.1
#: A comment line on idle streams, so that proxies and dead peers are noticed.
KEEPALIVE_SECONDS = 15.0
#: At a stop, how long a subscriber has to take what it was not sent yet.
DRAIN_SECONDS = 2.0
#: The page, summary and metrics are published at most this often.
PUBLISH_SECONDS = 0.5
#: ... and this often when no record came (the summary's counts move all the same).
IDLE_PUBLISH_SECONDS = 2.0

PATHS = ("/", "/events", "/summary", "/metrics", "/healthz")
#: Methods refused with 405 (any other is not implemented: 501).
KNOWN_METHODS = ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE")


@dataclass(slots=True)
class _Subscriber:
    stream: Stream
    cursor: int  # the sequence number of the next record to send
    sent_at: float = field(default_factory=time.monotonic)


class Broadcaster:
    """The ring of records, and its subscribers (written in the server's thread)."""

    def __init__(self, server: HttpServer, ring: int = RING) -> None:
        self.server = server
        #: This process's run: event ids are ``RUN:N``, and an id of another run is
        #: told to reload (its N means nothing here).
        self.run = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._ring: deque[bytes] = deque(maxlen=ring)
        #: The sequence number of the newest record (0: none yet).
        self.newest = 0
        self._subscribers: list[_Subscriber] = []
        self._scheduled = False
        self._round_at = 0.0
        server.loop.every_second(self._keep_alive)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, kind: str, data: str) -> None:
        """Add a record to the ring (sent at the next round: see ``wake``)."""
        with self._lock:
            self.newest += 1
            self._ring.append(
                f"id: {self.run}:{self.newest}\nevent: {kind}\ndata: {data}\n\n".encode()
            )

    def wake(self) -> None:
        """Start a round soon (after records were published)."""
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        self.server.loop.call(self._round)

    def subscribe(self, exchange: Exchange, after: tuple[str | None, int] | None) -> bool:
        """(In the server's thread.)  A new stream; False when there are too many.
        ``after``: the last record it has seen, and of which run (None: this one's;
        None for both: it wants the records from now)."""
        if len(self._subscribers) >= MAX_SUBSCRIBERS:
            return False
        stream = exchange.stream({"X-Accel-Buffering": "no"}, "text/event-stream")
        if stream is None:
            return True
        with self._lock:
            newest, oldest = self.newest, self.newest - len(self._ring) + 1
        stream.write(b"retry: 2000\n\n")
        seen = after[1] if after is not None else None
        if after is not None and (
            after[0] not in (None, self.run) or after[1] > newest or after[1] + 1 < oldest
        ):
            stream.write(b"event: reload\ndata: {}\n\n")
            stream.close()
            return True
        subscriber = _Subscriber(stream, newest + 1 if seen is None else seen + 1)
        self._subscribers.append(subscriber)
        exchange.on_close = lambda: self._remove(subscriber)
        self._send(subscriber)
        return True

    def drain(self, seconds: float = DRAIN_SECONDS) -> None:
        """(At a stop.)  Send every subscriber the records it was not sent yet - the
        summary last - and close its stream once they are sent; one that has not
        taken them in ``seconds`` is dropped (a client that doesn't read holds no
        stop).  Returns when every stream is closed, or the time is up."""
        done = threading.Event()
        deadline = time.monotonic() + seconds

        def start() -> None:
            for subscriber in list(self._subscribers):
                self._send(subscriber)
                subscriber.stream.close()  # (once what was written is sent)
            check()

        def check() -> None:
            late = time.monotonic() >= deadline
            for subscriber in list(self._subscribers):
                if late or not subscriber.stream.unsent:
                    self._remove(subscriber)
                    subscriber.stream.abort()  # (nothing left to send, or too late)
            if self._subscribers:
                self.server.loop.call_later(ROUND_SECONDS, check)
            else:
                done.set()

        if self.server.loop.call(start):
            done.wait(seconds + 1)

    # the server's thread

    def _round(self) -> None:
        with self._lock:
            self._scheduled = False
        now = time.monotonic()
        early = self._round_at + ROUND_SECONDS - now
        if early > 0:  # (coalesce: records published meanwhile go in the same round)
            with self._lock:
                self._scheduled = True
            self.server.loop.call_later(early, self._round)
            return
        self._round_at = now
        for subscriber in list(self._subscribers):
            self._send(subscriber)

    def _send(self, subscriber: _Subscriber) -> None:
        with self._lock:
            newest, ring = self.newest, self._ring
            oldest = newest - len(ring) + 1
            if subscriber.cursor > newest:
                return
            if subscriber.cursor < oldest:  # a whole ring behind
                data = None
            else:
                data = b"".join(ring[i] for i in range(subscriber.cursor - oldest, len(ring)))
            subscriber.cursor = newest + 1
        stream = subscriber.stream
        if data is None or stream.unsent + len(data) > MAX_PENDING:
            self._remove(subscriber)
            stream.abort()
            return
        stream.write(data)
        subscriber.sent_at = time.monotonic()

    def _keep_alive(self, now: float) -> None:
        for subscriber in list(self._subscribers):
            if now - subscriber.sent_at >= KEEPALIVE_SECONDS:
                subscriber.stream.write(b": keep-alive\n\n")
                subscriber.sent_at = now

    def _remove(self, subscriber: _Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)


@dataclass(slots=True)
class Published:
    """What the server answers with: bytes the monitor's thread rendered."""

    page: bytes = b""
    summary: bytes = b"{}"
    metrics: bytes = b""


class LiveApp:
    """The routes of ``--serve`` (see the module's docstring)."""

    def __init__(self, credentials: str | None) -> None:
        self.authorization = basic_authorization(credentials)
        self.published = Published()
        self.broadcaster: Broadcaster | None = None

    def refusal(self, request: Request) -> Reply | None:
        if request.method not in ("GET", "HEAD"):
            if request.method in KNOWN_METHODS:
                return Reply(HTTPStatus.METHOD_NOT_ALLOWED, "GET or HEAD", {"Allow": "GET, HEAD"})
            return Reply(HTTPStatus.NOT_IMPLEMENTED, "GET or HEAD")
        if request.path not in PATHS:
            return Reply(HTTPStatus.NOT_FOUND, "not found")
        if request.path != "/healthz" and not authorized(
            self.authorization, request.headers.get("authorization")
        ):
            return Reply(
                HTTPStatus.UNAUTHORIZED, "send credentials", {"WWW-Authenticate": CHALLENGE}
            )
        return None

    def handle(self, request: Request, exchange: Exchange) -> None:
        published, path = self.published, request.path
        if path == "/":
            exchange.reply(Reply(200, body=published.page, content_type="text/html; charset=utf-8"))
        elif path == "/summary":
            exchange.reply(Reply(200, body=published.summary, content_type="application/json"))
        elif path == "/metrics":
            exchange.reply(Reply(200, body=published.metrics, content_type=METRICS_TYPE))
        elif path == "/healthz":
            broadcaster = self.broadcaster
            health = {
                "status": "ok",
                "records": broadcaster.newest if broadcaster else 0,
                "subscribers": broadcaster.subscribers if broadcaster else 0,
                "run": broadcaster.run if broadcaster else "",
            }
            exchange.reply(
                Reply(200, json.dumps(health), content_type="application/json", raw=True)
            )
        elif request.method == "HEAD" or self.broadcaster is None:
            exchange.reply(Reply(200, content_type="text/event-stream", raw=True))
        else:
            after = _last_seen(request.headers.get("last-event-id"), request.query)
            if not self.broadcaster.subscribe(exchange, after):
                exchange.reply(Reply(HTTPStatus.SERVICE_UNAVAILABLE, "too many subscribers"))


def _last_seen(header: str | None, query: str) -> tuple[str | None, int] | None:
    """The last record a client has seen, ``RUN:N`` (or ``N``: of this run):
    ``Last-Event-ID``, else ``?after=``."""
    after = parse_qs(query).get("after") or []
    for value in (header, after[0] if after else None):
        run, colon, number = (value or "").strip().rpartition(":")
        if number.isdigit() and number.isascii() and len(number) < 19:  # (not "²")
            return (run if colon else None), int(number)
    return None


class LiveServer:
    """The HTTP server of ``--serve``: the ``LiveApp`` and its broadcaster."""

    def __init__(
        self,
        address: tuple[str, int],
        *,
        credentials: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.app = LiveApp(credentials)
        self.server = HttpServer(
            address,
            self.app,
            name="serve",
            max_connections=MAX_CONNECTIONS,
            max_body=0,
            idle_seconds=REQUEST_SECONDS,
            tls=tls,
            any_host=credentials is not None,
        )
        self.broadcaster = self.app.broadcaster = Broadcaster(self.server)
        self.url = self.server.url("https" if tls else "http") + "/"

    @property
    def published(self) -> Published:
        return self.app.published

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        """Stop: the subscribers get what they were not sent yet (``drain``), then
        every connection is let go."""
        self.broadcaster.drain()
        self.server.stop()


class ServeNotifier:
    """Feeds the server: records to the broadcaster, the page, summary and metrics
    published from the monitor's thread (see the module's docstring)."""

    def __init__(self, server: LiveServer, *, interval: int) -> None:
        self.server = server
        self.history = History(interval)
        self.history.run = server.broadcaster.run
        self.run: RunInfo | None = None
        #: The run so far (set by the composition root: ``Monitor.live``).
        self.probe: Callable[[], LiveState] | None = None
        self._changed = True
        self._published_at = 0.0

    def start(self, run: RunInfo) -> None:
        self.run = run
        self._changed = True

    def prime(self, past: list[Point | AlertReport]) -> None:
        """Start the pictures with a stored past (``--store``): the stats windows and
        the alerts of the runs before, in order (not among this run's records: the
        page's version stays that of its events)."""
        records = self.history.records
        for item in past:
            if isinstance(item, Point):
                self.history.add_point(item)
            else:
                self.history.add(item)
            self._changed = True
        self.history.records = records

    def emit(self, record: Report) -> None:
        self.history.add(record)
        self.server.broadcaster.publish(record.kind, json.dumps(record.to_json()))
        self._changed = True

    def flush(self) -> None:
        self.server.broadcaster.wake()
        now = time.monotonic()
        if self.probe is not None and (
            self._changed or now - self._published_at >= IDLE_PUBLISH_SECONDS
        ):
            if now - self._published_at >= PUBLISH_SECONDS:
                self._publish(self.probe())

    def finish(self, summary: Summary) -> None:
        if self.probe is not None:
            self._publish(self.probe(), summary)
        self.server.broadcaster.publish("summary", json.dumps(summary.to_json()))
        self.server.broadcaster.wake()

    def _publish(self, state: LiveState, summary: Summary | None = None) -> None:
        summary = summary or state.summary
        published = self.server.published
        # (what the parsers let through is UTF-8 already: "replace" only to be sure)
        published.page = render(self.run, self.history, summary, live=True).encode(
            "utf-8", "replace"
        )
        published.summary = json.dumps(summary.to_json()).encode()
        published.metrics = exposition(state).encode("utf-8", "replace")
        self._changed = False
        self._published_at = time.monotonic()
