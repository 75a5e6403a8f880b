"""``--serve HOST:PORT``: the live page, its Server-Sent Events, the summary, metrics.

Served (GET or HEAD, nothing else):

* ``/`` - the page of ``page.py``, live: it subscribes to ``/events``;
* ``/events`` - a ``text/event-stream`` of the records ``--output json`` prints: ``id:``
  their sequence number (1, 2, ...), ``event:`` their type, ``data:`` the JSON.  A
  client that sends ``Last-Event-ID`` (a browser reconnecting does) or ``?after=N``
  gets the records after N from a ring of the last ``RING`` ones first; one that
  missed more than the ring holds is sent ``event: reload``;
* ``/summary`` - the summary so far, as the JSON summary record;
* ``/metrics`` - Prometheus' text format (``metrics.py``);
* ``/healthz`` - ``{"status": "ok", ...}`` (no credentials asked: for load balancers).

The monitor never waits for a browser.  Its thread only appends to the ring and, at
most twice a second, publishes a new page, summary and metrics (rendered on its
thread, from its own state, so no lock guards the pipeline); the server's threads
answer with the bytes last published.  One thread of the ``Broadcaster`` writes the
ring to every subscriber with non-blocking sends, in rounds at most ``ROUND_SECONDS``
apart: its queue is the part of the ring it has not been sent, and a subscriber whose
queue is full - it fell a whole ring behind, or ``MAX_PENDING`` bytes sit unsent - is
dropped (its browser reconnects, and reloads).  Bounded too: ``MAX_SUBSCRIBERS``
streams, ``MAX_CONNECTIONS`` connections, ``REQUEST_SECONDS`` to send a request, the
header lines and sizes of ``http.server``.  Credentials (``--serve-auth``) are
compared in constant time; ``--tls-cert`` serves https.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from ...net.threaded import GuardedHTTPServer, QuietHandler, basic_authorization
from ...reports import Report, Summary
from .. import LiveState, RunInfo
from ..history import History
from ..prometheus import CONTENT_TYPE as METRICS_TYPE
from ..prometheus import exposition
from .page import render

#: Records kept for clients that reconnect.
RING = 1000
#: Unsent bytes a subscriber may have before it is dropped.
MAX_PENDING = 1 << 20
MAX_SUBSCRIBERS = 1000
MAX_CONNECTIONS = 1100
#: Seconds a client has to send its request (and for a TLS handshake).
REQUEST_SECONDS = 10.0
#: The broadcaster's rounds are at least this far apart (records wait at most that).
ROUND_SECONDS = 0.1
#: A comment line on idle streams, so that proxies and dead peers are noticed.
KEEPALIVE_SECONDS = 15.0
#: The page, summary and metrics are published at most this often.
PUBLISH_SECONDS = 0.5
#: ... and this often when no record came (the summary's counts move all the same).
IDLE_PUBLISH_SECONDS = 2.0

PATHS = ("/", "/events", "/summary", "/metrics", "/healthz")


@dataclass(slots=True)
class _Subscriber:
    sock: socket.socket
    cursor: int  # the sequence number of the next record to send
    pending: bytearray = field(default_factory=bytearray)
    closing: bool = False  # drop once ``pending`` is sent
    #: Its handler has sent the response's headers: the stream may be written.
    ready: bool = False
    sent_at: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)


class Broadcaster:
    """The ring of records and the thread that writes it to the subscribers."""

    def __init__(self, ring: int = RING) -> None:
        self._lock = threading.Lock()
        self._ring: deque[bytes] = deque(maxlen=ring)
        #: The sequence number of the newest record (0: none yet).
        self.newest = 0
        self._subscribers: list[_Subscriber] = []
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._woken = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="broadcaster", daemon=True)
        self._thread.start()

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, kind: str, data: str) -> None:
        """Add a record to the ring (sent at the next round: see ``wake``)."""
        with self._lock:
            self.newest += 1
            self._ring.append(f"id: {self.newest}\nevent: {kind}\ndata: {data}\n\n".encode())

    def wake(self) -> None:
        """Start a round (after records were published)."""
        with self._lock:
            if self._woken or self._closed:
                return
            self._woken = True
        self._poke()

    def _poke(self) -> None:
        try:
            os.write(self._wake_write, b"!")
        except (BlockingIOError, OSError):  # (full: a round is coming anyway)
            pass

    def subscribe(self, sock: socket.socket, after: int | None) -> _Subscriber | None:
        """A new stream; None when there are too many.  ``after``: the last record it
        has seen (None: it wants the records from now on)."""
        with self._lock:
            if len(self._subscribers) >= MAX_SUBSCRIBERS or self._closed:
                return None
            oldest = self.newest - len(self._ring) + 1
            subscriber = _Subscriber(sock, self.newest + 1)
            subscriber.pending += b"retry: 2000\n\n"
            if after is not None:
                if after > self.newest or after + 1 < oldest:
                    subscriber.pending += b"event: reload\ndata: {}\n\n"
                    subscriber.closing = True
                else:
                    subscriber.cursor = after + 1
            self._subscribers.append(subscriber)
        self._poke()
        return subscriber

    def close(self) -> None:
        """Drop every subscriber and stop the thread."""
        with self._lock:
            self._closed = True
        self._poke()
        self._thread.join(timeout=5)
        for descriptor in (self._wake_read, self._wake_write):
            os.close(descriptor)

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            started = time.monotonic()
            self._selector.select(timeout=KEEPALIVE_SECONDS)
            try:
                os.read(self._wake_read, 4096)
            except BlockingIOError:
                pass
            with self._lock:
                self._woken = False
                if self._closed:
                    subscribers, self._subscribers = self._subscribers, []
                    for subscriber in subscribers:
                        self._drop(subscriber)
                    return
                self._queue_records()
                subscribers = list(self._subscribers)
            now = time.monotonic()
            for subscriber in subscribers:
                if not subscriber.pending and now - subscriber.sent_at >= KEEPALIVE_SECONDS:
                    subscriber.pending += b": keep-alive\n\n"
                self._send(subscriber, now)
            # Coalesce: records published meanwhile go in the next round.
            rest = ROUND_SECONDS - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)

    def _queue_records(self) -> None:
        """(Under the lock.)  Move each subscriber's unsent records to its queue."""
        oldest = self.newest - len(self._ring) + 1
        for subscriber in list(self._subscribers):
            if subscriber.closing or subscriber.cursor > self.newest:
                continue
            if subscriber.cursor < oldest:  # a whole ring behind: its queue is full
                self._remove(subscriber)
                continue
            for i in range(subscriber.cursor - oldest, len(self._ring)):
                subscriber.pending += self._ring[i]
            subscriber.cursor = self.newest + 1
            if len(subscriber.pending) > MAX_PENDING:
                self._remove(subscriber)

    def _send(self, subscriber: _Subscriber, now: float) -> None:
        if not subscriber.pending or not subscriber.ready:
            return
        try:
            sent = subscriber.sock.send(subscriber.pending)
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            sent = 0
        except OSError:  # gone
            with self._lock:
                self._remove(subscriber)
            return
        if sent:
            del subscriber.pending[:sent]
            subscriber.sent_at = now
        key = self._selector.get_map().get(subscriber.sock)
        if subscriber.pending and key is None:
            self._selector.register(subscriber.sock, selectors.EVENT_WRITE, subscriber)
        elif not subscriber.pending and key is not None:
            self._selector.unregister(subscriber.sock)
        if not subscriber.pending and subscriber.closing:
            with self._lock:
                self._remove(subscriber)

    def _remove(self, subscriber: _Subscriber) -> None:
        """(Under the lock.)"""
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)
        self._drop(subscriber)

    def _drop(self, subscriber: _Subscriber) -> None:
        if self._selector.get_map().get(subscriber.sock) is not None:
            self._selector.unregister(subscriber.sock)
        subscriber.done.set()  # its handler returns, and the server closes it


@dataclass(slots=True)
class Published:
    """What the server's threads answer with: bytes the monitor's thread rendered."""

    page: bytes = b""
    summary: bytes = b"{}"
    metrics: bytes = b""


class LiveServer(GuardedHTTPServer):
    """The HTTP server of ``--serve`` (see the module's docstring)."""

    def __init__(
        self,
        address: tuple[str, int],
        *,
        credentials: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(address, _Handler, max_connections=MAX_CONNECTIONS, tls=tls)
        self.broadcaster = Broadcaster()
        self.published = Published()
        self.authorization = basic_authorization(credentials)

    @property
    def url(self) -> str:  # type: ignore[override]
        return GuardedHTTPServer.url(self, "https" if self.tls else "http") + "/"

    def stop(self) -> None:
        self.broadcaster.close()
        super().stop()


class _Handler(QuietHandler):
    server: LiveServer
    timeout = REQUEST_SECONDS

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _answer(self, *, body: bool) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if path not in PATHS:
            self.send_plain(HTTPStatus.NOT_FOUND, "not found\n", body=body)
            return
        if path != "/healthz" and not self.check_authorization(self.server.authorization):
            return
        published = self.server.published
        if path == "/":
            self.send_body(HTTPStatus.OK, "text/html; charset=utf-8", published.page, body=body)
        elif path == "/summary":
            self.send_body(HTTPStatus.OK, "application/json", published.summary, body=body)
        elif path == "/metrics":
            self.send_body(HTTPStatus.OK, METRICS_TYPE, published.metrics, body=body)
        elif path == "/healthz":
            health = {
                "status": "ok",
                "records": self.server.broadcaster.newest,
                "subscribers": self.server.broadcaster.subscribers,
            }
            self.send_body(
                HTTPStatus.OK, "application/json", json.dumps(health).encode(), body=body
            )
        elif not body:
            self.send_body(HTTPStatus.OK, "text/event-stream", b"", body=False)
        else:
            self._events(parts.query)

    def _events(self, query: str) -> None:
        after = _last_seen(self.headers.get("Last-Event-ID"), query)
        subscriber = self.server.broadcaster.subscribe(self.connection, after)
        if subscriber is None:
            self.send_plain(HTTPStatus.SERVICE_UNAVAILABLE, "too many subscribers\n", body=True)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.wfile.flush()
        self.connection.settimeout(0)  # the broadcaster writes, never waiting
        subscriber.ready = True
        self.server.broadcaster.wake()  # what is waiting for it goes now
        subscriber.done.wait()
        self.close_connection = True


def _last_seen(header: str | None, query: str) -> int | None:
    """The last record a client has seen: ``Last-Event-ID``, else ``?after=``."""
    after = parse_qs(query).get("after") or []
    for value in (header, after[0] if after else None):
        if value is not None and value.strip().isdigit() and len(value.strip()) < 19:
            return int(value)
    return None


class ServeNotifier:
    """Feeds the server: records to the broadcaster, the page, summary and metrics
    published from the monitor's thread (see the module's docstring)."""

    def __init__(self, server: LiveServer, *, interval: int) -> None:
        self.server = server
        self.history = History(interval)
        self.run: RunInfo | None = None
        #: The run so far (set by ``cli``: ``Monitor.live``).
        self.probe: Callable[[], LiveState] | None = None
        self._changed = True
        self._published_at = 0.0

    def start(self, run: RunInfo) -> None:
        self.run = run
        self._changed = True

    def emit(self, record: Report) -> None:
        self.history.add(record)
        self.server.broadcaster.publish(record.kind, json.dumps(record.to_json()))
        self._changed = True

    def flush(self) -> None:
        broadcaster = self.server.broadcaster
        broadcaster.wake()
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
        published.page = render(self.run, self.history, summary, live=True).encode()
        published.summary = json.dumps(summary.to_json()).encode()
        published.metrics = exposition(state).encode()
        self._changed = False
        self._published_at = time.monotonic()
