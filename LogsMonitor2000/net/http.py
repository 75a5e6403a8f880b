"""HTTP/1.1 on the selector loop: the one HTTP server of the monitor, for the listener
(``--listen http://``) and the live page (``--serve``).

The core reads requests and writes answers; an *app* decides what they mean
(``App``).  One place for the framing and its limits:

* a request head is read whole (at most ``MAX_HEAD`` bytes and ``MAX_HEADERS`` lines:
  ``431``), then checked: a request line that is no HTTP/1.x ``400`` (another version
  ``505``), chunks or no ``Content-Length`` on a POST ``411``, a ``Host`` that is no
  IP address nor a name of this server's ``421`` (DNS rebinding; a server whose app
  asks for credentials, or refuses browsers' requests, takes ``any_host``);
* the app may refuse it before its body is read (``App.refusal``: a wrong path,
  missing credentials, a body too large); a refused request that had no body keeps
  the connection open, and the request pipelined after it is served;
* ``Expect: 100-continue`` is answered before the body is sent;
* keep-alive, and pipelined requests answered one at a time, in order: the next one
  waits for the answer before it, however long the app takes (``Exchange``);
  HTTP/1.0 is one request a connection; a client that shuts its side after sending
  still gets its answers;
* a client that pipelines and reads no answer is held back: once ``loop.HIGH_WATER``
  bytes of answers are unsent, its requests wait, and once a body's worth of them
  wait, it is not read;
* a head must be whole ``HEAD_SECONDS`` after its first byte, a body come at
  ``MIN_RATE`` bytes a second after ``BODY_SECONDS`` (``server.py``), or ``408``: a
  client that sends a byte now and then holds a connection seconds, not for ever;
* an answer the app doesn't give within ``answer_seconds`` is a ``503`` - unless the
  app says it can't take the request back any more (``Exchange.on_late``: a payload
  being counted is answered with its count, never a 503); a connection with nothing
  read or sent for ``idle_seconds`` (and no answer awaited) is closed;
* an answer may also be a *stream* (Server-Sent Events): its head is sent at once, its
  body written as the app pleases, and it ends when either side closes.

Every refusal is a status and one line of reason, never a traceback; a fault of one
connection's lets that connection go, and nothing else.
"""

from __future__ import annotations

import email.utils
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol
from urllib.parse import urlsplit

from .addresses import host_allowed, host_names, peer_host
from .loop import Stream
from .server import BODY_SECONDS, HEAD_SECONDS, MIN_RATE, Server

#: The largest request head (request line and headers), and number of headers.
MAX_HEAD = 64 << 10
MAX_HEADERS = 100
#: Where a request head ends.
HEAD_END = re.compile(rb"\r?\n\r?\n")
EMPTY_LINES = re.compile(rb"[\r\n]*")
#: What the connection after the last one allowed is told before it is closed.
REFUSAL = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#: A line of text.
TEXT = "text/plain; charset=utf-8"


class Refused(Exception):
    """A request answered with ``status`` and one line of reason, its connection closed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class Request:
    """A request whose head has been read: what it asks, and the length of its body."""

    method: str
    path: str
    query: str
    #: Header names in lower case.
    headers: dict[str, str]
    length: int
    keep_alive: bool
    expects_continue: bool
    #: The client's address.
    peer: str = ""
    body: bytes = b""


@dataclass(slots=True, frozen=True)
class Reply:
    """An answer: a status, its headers and its body (a line of text by default)."""

    status: int
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = TEXT
    #: The body is ``text`` as it is (not a line: JSON, a page).
    raw: bool = False
    body: bytes = b""


def read_head(head: bytes) -> Request:
    """The request of ``head`` (its request line and headers); ``Refused`` when it is
    not HTTP/1.x or has no length that can be read."""
    lines = head.decode("latin-1").split("\n")
    words = lines[0].split()
    if len(words) != 3:
        raise Refused(HTTPStatus.BAD_REQUEST, "a request line is METHOD TARGET HTTP/1.1")
    method, target, version = words
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise Refused(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP/1.1 or HTTP/1.0")
    try:
        parts = urlsplit(target)
    except ValueError:  # (an absolute URL with a broken host, say)
        raise Refused(HTTPStatus.BAD_REQUEST, "the target is no URL") from None
    if len(lines) > MAX_HEADERS + 1:
        raise Refused(
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"over {MAX_HEADERS} header lines"
        )
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise Refused(HTTPStatus.BAD_REQUEST, "a header line is NAME: VALUE")
        name = name.lower()
        value = value.strip()
        if headers.get(name, value) != value and name == "content-length":
            raise Refused(HTTPStatus.BAD_REQUEST, "two different Content-Length headers")
        headers[name] = value
    if "transfer-encoding" in headers:
        raise Refused(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not chunks")
    length = headers.get("content-length")
    if length is None and method == "POST":
        raise Refused(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
    if length is not None and not (length.isdigit() and length.isascii()):
        raise Refused(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
    options = {word.strip().lower() for word in headers.get("connection", "").split(",")}
    return Request(
        method,
        parts.path,
        parts.query,
        headers,
        0 if not length else int(length) if len(length) < 19 else 1 << 62,  # (over any)
        version == "HTTP/1.1" and "close" not in options,  # (HTTP/1.0: one request)
        headers.get("expect", "").lower() == "100-continue",
    )


class App(Protocol):
    """What the requests of an ``HttpServer`` mean (the loop's thread calls it)."""

    def refusal(self, request: Request) -> Reply | None:
        """Why the request is not taken, before its body is read (None: it is)."""

    def handle(self, request: Request, exchange: Exchange) -> None:
        """Answer the request (its body read): ``exchange.reply`` now or later, or
        ``exchange.stream``."""


class Exchange:
    """One request and its answer, given once: ``reply`` (in the loop's thread, now or
    later; ``reply_soon`` from another thread) or ``stream``."""

    __slots__ = ("connection", "request", "since", "on_close", "on_late", "answered")

    def __init__(self, connection: _Connection, request: Request) -> None:
        self.connection = connection
        self.request = request
        self.since = time.monotonic()
        #: A stream's end (the client closed it, or the server did).
        self.on_close: Callable[[], None] | None = None
        #: Asked when the answer is late: whether the request may still be answered
        #: 503 (its work withdrawn); False: the answer is on its way, it is awaited.
        self.on_late: Callable[[], bool] | None = None
        self.answered = False

    def reply(self, reply: Reply) -> None:
        """Answer (in the loop's thread); nothing when answered already."""
        self.on_late = None  # (the app's work it names may name this exchange: no cycle)
        if not self.answered:
            self.answered = True
            self.connection.answered(self, reply)

    def reply_soon(self, reply: Reply) -> bool:
        """Answer from another thread (False: the server has ended)."""
        return self.connection.server.loop.call(lambda: self.reply(reply))

    def stream(self, headers: dict[str, str], content_type: str) -> Stream | None:
        """Send a 200 head without a length and hand the connection over: what the app
        writes to the stream is the body, until either side closes (None: the client
        has gone)."""
        self.answered = True
        return self.connection.streaming(self, headers, content_type)


class _Connection:
    """One client's connection: its requests read, handed to the app, answered."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: Stream | None = None
        self.sender = ""
        self.buffer = bytearray()
        self.request: Request | None = None  # (its head read, its body not yet)
        self.scanned = 0  # (how much of the buffer holds no end of a head)
        self.waiting: Exchange | None = None  # (the answer awaited)
        self.keep_alive = True
        self.writable = True
        self.reading = True
        #: When the head being read began to come (None: none is), when its body did.
        self.head_since: float | None = None
        self.body_since = 0.0
        #: Since when it has had nothing under way (``idle_since``).
        self.quiet_since = time.monotonic()

    # the stream's side (``loop.Protocol``)

    def connection_made(self, transport: Stream) -> None:
        self.transport = transport
        self.sender = peer_host(transport.peer)
        self.server.connections_open.add(self)
        if self.server.stopping:  # (accepted from the backlog at a stop: its request is
            self.server.receiving.add(self)  # awaited as one being received)

    def connection_lost(self) -> None:
        self.server.connections_open.discard(self)
        self.server.receiving.discard(self)
        waiting, self.waiting, self.transport = self.waiting, None, None
        if waiting is not None and waiting.on_close is not None:
            waiting.on_close()

    def eof_received(self) -> None:
        self.keep_alive = False  # (what it asked is answered, then the end)
        waiting = self.waiting
        if (waiting is None or waiting.answered) and self.transport is not None:
            self.transport.close()  # (a stream ends with its client)

    def data_received(self, data: bytes) -> None:
        if self.waiting is not None and self.waiting.answered:  # (a stream: ignored)
            return
        if not self.buffer and self.request is None and self.head_since is None:
            self.head_since = time.monotonic()
        self.buffer += data
        self.serve()

    def idle_since(self) -> float | None:
        if self.waiting is not None or self.request is not None:
            return None  # (a body being read, an answer awaited, a stream)
        return self.quiet_since if self.head_since is None else self.head_since

    def late(self, now: float) -> Reply | None:
        """The 408 of a head or body that is too slow to come (None: it is not)."""
        if self.waiting is not None or not (self.writable and self.reading):
            return None  # (an answer awaited, or its requests held back by us)
        if self.request is not None:
            allowed = BODY_SECONDS + len(self.buffer) / MIN_RATE
            if now - self.body_since > allowed:
                return Reply(HTTPStatus.REQUEST_TIMEOUT, "the body came too slowly")
        elif self.head_since is not None and now - self.head_since > HEAD_SECONDS:
            return Reply(HTTPStatus.REQUEST_TIMEOUT, f"no whole head in {HEAD_SECONDS:g} s")
        return None

    def pause_writing(self) -> None:
        self.writable = False  # (a client that reads no answers: none of its requests is served)

    def resume_writing(self) -> None:
        self.writable = True
        self.serve()

    # the requests

    def serve(self) -> None:
        """Handle the requests the buffer holds, one at a time (pipelined ones wait
        for the answer before theirs)."""
        transport = self.transport
        if transport is None:
            return
        while self.waiting is None and self.writable and not transport.is_closing():
            if self.request is None:
                unread = len(self.buffer)
                self.request = self._head()
                if self.request is None:
                    if len(self.buffer) < unread:  # (one refused: the next may follow)
                        continue
                    break
            request = self.request
            if len(self.buffer) < request.length:
                if request.expects_continue:
                    request.expects_continue = False
                    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                break
            request.body = bytes(self.buffer[: request.length])
            del self.buffer[: request.length]
            self.request = None
            self.head_since = None
            self.waiting = Exchange(self, request)
            self.server.app.handle(request, self.waiting)
        # Part of a request held, to come to the app: a stop waits for it (not for a
        # client held back for reading no answer: its requests wait for it).
        held = self.waiting is None and (self.buffer or self.request is not None)
        if held and self.writable and not transport.is_closing():
            self.server.receiving.add(self)
        else:
            self.server.receiving.discard(self)
        full = len(self.buffer) > self.server.max_body + MAX_HEAD
        if full == self.reading and not transport.is_closing():
            self.reading = not full  # (pipelined requests waiting: the rest waits unread)
            if full:
                transport.pause_reading()
            else:
                transport.resume_reading()

    def _head(self) -> Request | None:
        """The next request's head, once all of it is in (None: not yet, or refused)."""
        if self.buffer and self.buffer[0] in b"\r\n":  # (empty lines first: RFC 9112 2.2)
            blank = EMPTY_LINES.match(self.buffer)
            del self.buffer[: blank.end() if blank else 0]
            self.scanned = 0
        found = HEAD_END.search(self.buffer, max(self.scanned - 3, 0), MAX_HEAD + 4)
        if found is None:
            self.scanned = len(self.buffer)  # (a head sent a byte at a time: read once)
            if len(self.buffer) > MAX_HEAD:
                self.keep_alive = False
                if self.buffer.find(b"\n", 0, MAX_HEAD) >= 0:
                    self.send(
                        Reply(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "over 64 KiB of head")
                    )
                else:
                    self.send(Reply(HTTPStatus.REQUEST_URI_TOO_LONG, "a target over 64 KiB"))
            return None
        head = bytes(self.buffer[: found.start()])
        del self.buffer[: found.end()]
        self.scanned = 0
        self.head_since = time.monotonic() if self.buffer else None  # (the next one's)
        self.body_since = time.monotonic()
        try:
            request = read_head(head)
        except Refused as refused:
            self.keep_alive = False
            self.send(Reply(refused.status, refused.reason))
            return None
        request.peer = self.sender
        self.keep_alive = request.keep_alive
        names = self.server.names
        if names is not None and not host_allowed(request.headers.get("host"), names):
            refusal: Reply | None = Reply(
                HTTPStatus.MISDIRECTED_REQUEST, "the Host is not this server's name"
            )
        else:
            refusal = self.server.app.refusal(request)
        if refusal is None and request.length > self.server.max_body:
            refusal = Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the body is too large")
        if refusal is not None:
            if refusal.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
                self.keep_alive = False  # (its body would follow)
            self.keep_alive = self.keep_alive and request.length == 0
            self.send(refusal, head_only=request.method == "HEAD")
            return None
        return request

    def answered(self, exchange: Exchange, reply: Reply) -> None:
        """The app's answer to ``exchange`` (in the loop's thread)."""
        if self.waiting is not exchange or self.transport is None:
            return  # (the client went away, or it was answered already)
        self.waiting = None
        self.quiet_since = time.monotonic()
        if self.buffer and self.head_since is None:
            self.head_since = self.quiet_since  # (a pipelined one: its time begins)
        self.send(reply, head_only=exchange.request.method == "HEAD")
        self.serve()

    def streaming(self, exchange: Exchange, headers: dict[str, str], kind: str) -> Stream | None:
        transport = self.transport
        if transport is None or transport.is_closing() or self.waiting is not exchange:
            return None
        head = self._head_lines(200, kind, None, headers) + ["Connection: close"]
        transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        self.server.receiving.discard(self)
        return transport

    def send(self, reply: Reply, *, head_only: bool = False) -> None:
        """Write ``reply``; the connection is closed after when the request said so,
        or when what follows can't be read as a request (``keep_alive`` False)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        close = not self.keep_alive
        if reply.body:
            data = reply.body
        else:
            data = (reply.text if reply.raw else reply.text + "\n").encode()
        head = self._head_lines(reply.status, reply.content_type, len(data), reply.headers)
        if close:
            head.append("Connection: close")
        out = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        transport.write(out if head_only else out + data)
        if close:
            transport.close()
            self.server.receiving.discard(self)

    def _head_lines(
        self, status: int, kind: str, length: int | None, headers: dict[str, str]
    ) -> list[str]:
        head = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            "Server: LogsMonitor2000",
            f"Date: {self.server.date()}",
            f"Content-Type: {kind}",
        ]
        if length is not None:
            head.append(f"Content-Length: {length}")
        head.append("Cache-Control: no-store")
        head += [f"{name}: {value}" for name, value in headers.items()]
        return head


class HttpServer(Server):
    """An ``App`` served over HTTP/1.1 (see the module's docstring)."""

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        *,
        name: str,
        max_connections: int,
        max_body: int,
        idle_seconds: float,
        answer_seconds: float = 30.0,
        late: str = "not answered in time",
        tls: ssl.SSLContext | None = None,
        any_host: bool = False,
    ) -> None:
        super().__init__(
            address,
            lambda: _Connection(self),
            name=name,
            max_connections=max_connections,
            tls=tls,
            refusal=REFUSAL,
        )
        self.app = app
        #: The names its clients may give as ``Host`` (and any IP address); None: any
        #: name (the app asks for credentials, which a page elsewhere can't send).
        self.names = None if any_host else host_names(address[0])
        self.max_body = max_body
        self.idle_seconds = idle_seconds
        self.answer_seconds = answer_seconds
        #: The reason of the 503 of an answer not given in time.
        self.late = late
        #: The connections open, and those holding part of a request (only the loop's
        #: thread changes them).
        self.connections_open: set[_Connection] = set()
        self.receiving: set[_Connection] = set()
        #: Once closing: the loop ends when no answer is awaited.
        self.closing = False
        self._dated = (0, "")
        self.loop.every_second(self._sweep)

    def busy(self) -> bool:
        """Whether part of a request is held, still to come to the app."""
        return bool(self.receiving)

    def close(self) -> None:
        """Stop accepting; the loop ends once the answers awaited are given."""
        self.stop_accepting()
        self.closing = True

    def date(self) -> str:
        """The ``Date`` header's value, made once a second."""
        now = int(time.time())
        if self._dated[0] != now:
            self._dated = (now, email.utils.formatdate(now, usegmt=True))
        return self._dated[1]

    def _sweep(self, now: float) -> None:
        """Once a second: answer 503 what the app did not answer in time, close the
        idle connections, and end the loop after ``close`` once nothing is awaited."""
        for connection in list(self.connections_open):
            waiting, transport = connection.waiting, connection.transport
            if waiting is not None and not waiting.answered:
                if now - waiting.since > self.answer_seconds and (
                    waiting.on_late is None or waiting.on_late()
                ):
                    waiting.reply(Reply(HTTPStatus.SERVICE_UNAVAILABLE, self.late))
            elif (too_slow := connection.late(now)) is not None:
                connection.keep_alive = False
                connection.send(too_slow)
            elif waiting is None and transport and transport.idle(now, self.idle_seconds):
                if connection.writable:
                    transport.close()
                else:  # (a client that reads nothing: what it was sent is let go)
                    transport.abort()
        if self.closing and not any(
            c.waiting is not None and not c.waiting.answered for c in self.connections_open
        ):
            self.loop.stop()
