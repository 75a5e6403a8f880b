"""The HTTP receiver (``http://``, ``https://``): ``POST /ingest`` and ``GET /ingest?...``.

* ``text/plain`` (or no type): log lines in the run's format, one per line;
* ``application/json``, ``application/x-ndjson``: JSON objects (one, an array, or one
  per line);
* ``application/x-www-form-urlencoded`` body, or a ``GET`` query string: one Python
  ``LogRecord``'s attributes, as ``logging.handlers.HTTPHandler`` sends them.

The body goes raw into the listener's inbox; the answer waits until the pipeline has
counted it: 200 with ``{"records": N, "invalid": M}``, or 400 with one line of reason
when none of its records was valid.  Other answers: 401 without the credentials of
``--listen-auth``, 404 for another path, 405 for another method, 411 without a
``Content-Length``, 413 for a body over ``--max-body``, 415 for another content type,
431 for a request head over 64 KiB, 503 with ``Retry-After`` when the inbox is full.

One thread serves every connection (``loop.py``): HTTP/1.1 with keep-alive, one
request of a connection at a time.  A client such as ``HTTPHandler`` opens a
connection per record and waits for each answer: a thread per connection
(``http.server``) cost it more than the whole pipeline did.
"""

from __future__ import annotations

import email.utils
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from urllib.parse import urlsplit

from ...net.threaded import HANDSHAKE_SECONDS, authorized, basic_authorization, bound_url, family_of
from ...net.loop import Loop, Stream
from . import (
    DRAIN_SECONDS,
    IDLE_SECONDS,
    JSON,
    LINES,
    MAX_CONNECTIONS,
    RECORD,
    Inbox,
    ListenOptions,
    Received,
)
from .syslog import sender_of

PATH = "/ingest"
#: Content types and the kinds of payload they are.
KINDS = {
    "text/plain": LINES,
    "application/json": JSON,
    "application/x-ndjson": JSON,
    "application/jsonlines": JSON,
    "application/x-www-form-urlencoded": RECORD,
}
#: How long a request waits for its payload to be counted.
ANSWER_SECONDS = 30.0
#: What a client is told to wait before sending again when the inbox is full.
RETRY_AFTER_SECONDS = 1
#: The largest request head (request line and headers), and number of headers.
MAX_HEAD = 64 << 10
MAX_HEADERS = 100
#: Where a request head ends.
HEAD_END = re.compile(rb"\r?\n\r?\n")
EMPTY_LINES = re.compile(rb"[\r\n]*")
#: What the connection after the last one allowed is told before it is closed.
REFUSAL = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class _Refused(Exception):
    """A request answered with ``status`` and one line of reason, its connection closed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class _Request:
    """A request whose head has been read: what it asks, and the length of its body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    length: int
    keep_alive: bool
    expects_continue: bool


def read_head(head: bytes) -> _Request:
    """The request of ``head`` (its request line and headers); ``_Refused`` when it is
    not HTTP/1.x or has no length that can be read."""
    lines = head.decode("latin-1").split("\n")
    words = lines[0].split()
    if len(words) != 3:
        raise _Refused(HTTPStatus.BAD_REQUEST, "a request line is METHOD TARGET HTTP/1.1")
    method, target, version = words
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _Refused(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP/1.1 or HTTP/1.0")
    try:
        parts = urlsplit(target)
    except ValueError:  # (an absolute URL with a broken host, say)
        raise _Refused(HTTPStatus.BAD_REQUEST, "the target is /ingest") from None
    if len(lines) > MAX_HEADERS + 1:
        raise _Refused(
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"over {MAX_HEADERS} header lines"
        )
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _Refused(HTTPStatus.BAD_REQUEST, "a header line is NAME: VALUE")
        name = name.lower()
        value = value.strip()
        if headers.get(name, value) != value and name == "content-length":
            raise _Refused(HTTPStatus.BAD_REQUEST, "two different Content-Length headers")
        headers[name] = value
    if "transfer-encoding" in headers:
        raise _Refused(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not chunks")
    length = headers.get("content-length")
    if length is None and method == "POST":
        raise _Refused(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
    if length is not None and not (length.isdigit() and length.isascii()):
        raise _Refused(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
    options = {word.strip().lower() for word in headers.get("connection", "").split(",")}
    return _Request(
        method,
        parts.path,
        parts.query,
        headers,
        0 if not length else int(length) if len(length) < 19 else 1 << 62,  # (over any)
        version == "HTTP/1.1" and "close" not in options,  # (HTTP/1.0: one request)
        headers.get("expect", "").lower() == "100-continue",
    )


class _Connection:
    """One client's connection: its requests read, put in the inbox and answered."""

    def __init__(self, receiver: HttpReceiver) -> None:
        self.receiver = receiver
        self.transport: Stream | None = None
        self.sender = ""
        self.buffer = bytearray()
        self.request: _Request | None = None  # (its head read, its body not yet)
        self.scanned = 0  # (how much of the buffer holds no end of a head)
        self.waiting: tuple[object, float] | None = None  # (the answer awaited, since)
        self.keep_alive = True
        self.writable = True
        self.reading = True

    # the stream's side (``loop.Protocol``)

    def connection_made(self, transport: Stream) -> None:
        self.transport = transport
        self.sender = sender_of(transport.peer)
        self.receiver.connections.add(self)
        if self.receiver.stopping:  # (accepted from the backlog at a stop: its request is
            self.receiver.receiving.add(self)  # awaited as one being received)

    def connection_lost(self) -> None:
        self.receiver.connections.discard(self)
        self.receiver.receiving.discard(self)
        self.waiting = self.transport = None

    def eof_received(self) -> None:
        self.keep_alive = False  # (what it asked is answered, then the end)
        if self.waiting is None and self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.serve()

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
            body = bytes(self.buffer[: request.length])
            del self.buffer[: request.length]
            self.request = None
            self._handle(request, body)
        # Part of a request held, to come into the inbox: a stop waits for it (not for
        # a client held back for reading no answer: its requests wait for it).
        held = self.waiting is None and (self.buffer or self.request is not None)
        if held and self.writable and not transport.is_closing():
            self.receiver.receiving.add(self)
        else:
            self.receiver.receiving.discard(self)
        full = len(self.buffer) > self.receiver.max_body + MAX_HEAD
        if full == self.reading and not transport.is_closing():
            self.reading = not full  # (pipelined requests waiting: the rest waits unread)
            if full:
                transport.pause_reading()
            else:
                transport.resume_reading()

    def _head(self) -> _Request | None:
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
                self.reply(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "over 64 KiB of head")
            return None
        head = bytes(self.buffer[: found.start()])
        del self.buffer[: found.end()]
        self.scanned = 0
        try:
            request = read_head(head)
            self.keep_alive = request.keep_alive
            refusal = self._refusal(request)
        except _Refused as refused:
            self.keep_alive = False
            self.reply(refused.status, refused.reason)
            return None
        if refusal is not None:
            status, reason, headers = refusal
            self.keep_alive = self.keep_alive and request.length == 0
            self.reply(status, reason, headers)
            return None
        return request

    def _refusal(self, request: _Request) -> tuple[int, str, dict[str, str]] | None:
        """Why ``request`` is not taken (status, reason, headers), before its body."""
        if request.path != PATH:
            return HTTPStatus.NOT_FOUND, "the path is /ingest", {}
        if not authorized(self.receiver.authorization, request.headers.get("authorization")):
            challenge = 'Basic realm="LogsMonitor2000", charset="UTF-8"'
            return HTTPStatus.UNAUTHORIZED, "send credentials", {"WWW-Authenticate": challenge}
        if request.method not in ("GET", "POST"):
            return HTTPStatus.METHOD_NOT_ALLOWED, "POST or GET /ingest", {"Allow": "GET, POST"}
        if request.length > self.receiver.max_body:
            self.keep_alive = False
            text = f"the body is over {self.receiver.max_body:,} bytes (--max-body)"
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, text, {}
        if request.method == "GET":
            if not request.query:
                return HTTPStatus.BAD_REQUEST, "GET /ingest needs a query string", {}
        elif self._kind(request) is None:
            text = (
                "send text/plain, application/json, application/x-ndjson or "
                "application/x-www-form-urlencoded"
            )
            return HTTPStatus.UNSUPPORTED_MEDIA_TYPE, text, {}
        return None

    @staticmethod
    def _kind(request: _Request) -> str | None:
        given = request.headers.get("content-type")
        if given is None:
            return LINES
        return KINDS.get(given.partition(";")[0].strip().lower())

    def _handle(self, request: _Request, body: bytes) -> None:
        """Put the payload of ``request`` in the inbox: the answer comes once it is
        counted (``answered``), or at once when the inbox is full."""
        if request.method == "GET":
            kind, body = RECORD, request.query.encode("latin-1")
        else:
            kind = self._kind(request) or LINES
        token = (object(), time.monotonic())
        answer = partial(self.receiver.answer, self, token)
        if self.receiver.inbox.offer(Received(kind, self.sender, body=body, answer=answer)):
            self.waiting = token
            return
        self.reply(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "the monitor is busy: send it again later",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    def answered(self, token: tuple[object, float], status: int, text: str) -> None:
        """The pipeline's verdict on the payload of ``token`` (in the loop's thread)."""
        if self.waiting is not token or self.transport is None:
            return  # (answered already: not in time, or the client went away)
        self.waiting = None
        if status == HTTPStatus.OK:
            self.reply(status, text, content_type="application/json", line=False)
        else:
            self.reply(status, text)
        self.serve()

    def reply(
        self,
        status: int,
        text: str,
        headers: dict[str, str] | None = None,
        *,
        content_type: str = "text/plain; charset=utf-8",
        line: bool = True,
    ) -> None:
        """Answer the request (a line of text, or JSON); the connection is closed after
        when the request said so, or when what follows can't be read as a request
        (``keep_alive`` False)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        close = not self.keep_alive
        data = (text + "\n" if line else text).encode()
        head = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            "Server: LogsMonitor2000",
            f"Date: {self.receiver.date()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(data)}",
            "Cache-Control: no-store",
        ]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if close:
            head.append("Connection: close")
        transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
        if close:
            transport.close()
            self.receiver.receiving.discard(self)


class HttpReceiver:
    """The HTTP listener (see the module's docstring)."""

    def __init__(
        self,
        address: tuple[str, int],
        inbox: Inbox,
        options: ListenOptions,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._socket = socket.create_server(address, family=family_of(address), backlog=128)
        self._socket.setblocking(False)
        self.inbox = inbox
        self.max_body = options.max_body
        self.authorization = basic_authorization(options.credentials)
        self.tls = tls
        #: The connections open, and those holding part of a request (only the loop's
        #: thread changes them).
        self.connections: set[_Connection] = set()
        self.receiving: set[_Connection] = set()
        self.stopping = False
        self._closing = False
        self._dated = (0, "")
        self._loop = Loop("http")
        self.url = bound_url("https" if tls else "http", self._socket.getsockname()) + PATH

    # the main thread's side (``listen.Receiver``)

    def start(self) -> None:
        self._loop.watch(self._socket, self._accept)
        self._loop.every_second(self._sweep)
        self._loop.thread.start()

    def stop_accepting(self) -> None:
        """Accept no more connections: those the kernel had accepted are served still."""
        if self.stopping:
            return
        if not self._loop.thread.is_alive():
            self.stopping = True
            self._socket.close()
            return
        done = threading.Event()
        if self._loop.call(partial(self._stop_accepting, done)):
            done.wait(DRAIN_SECONDS)

    def busy(self) -> bool:
        return bool(self.receiving)

    def close(self) -> None:
        """Stop accepting; the loop ends once the answers awaited are given."""
        self.stop_accepting()
        self._closing = True

    def answer(
        self, connection: _Connection, token: tuple[object, float], status: int, text: str
    ) -> None:
        """The pipeline's verdict on a payload (``Received.answer``), for the loop."""
        self._loop.call(partial(connection.answered, token, status, text))

    # the loop's thread

    def _accept(self) -> None:
        for _ in range(128):
            try:
                client, address = self._socket.accept()
            except OSError:  # (none left; or out of descriptors: the rest wait)
                return
            self._open(client, address)

    def _open(self, client: socket.socket, address: object) -> None:
        client.setblocking(False)
        if len(self._loop.streams) >= MAX_CONNECTIONS:
            try:
                client.send(REFUSAL)
            except OSError:
                pass
            client.close()
            return
        # An answer's head and body are one write, but a 100 Continue is one more:
        # without this, what follows waits for the client's delayed ACK (40 ms).
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.tls is not None:
                client = self.tls.wrap_socket(
                    client, server_side=True, do_handshake_on_connect=False
                )
            Stream(self._loop, client, address, _Connection(self), HANDSHAKE_SECONDS)
        except OSError:  # (the client has gone already)
            client.close()

    def _stop_accepting(self, done: threading.Event) -> None:
        self.stopping = True
        self._accept()  # (the backlog: connections the kernel has accepted already)
        self._loop.unwatch(self._socket)
        self._socket.close()
        done.set()

    def _sweep(self, now: float) -> None:
        """Once a second: answer 503 what was not counted in time, close the idle
        connections and the handshakes not done in time, and end the loop after
        ``close`` once nothing is awaited."""
        for stream in list(self._loop.streams):
            if stream.handshake_late(now):
                stream.abort()
        for connection in list(self.connections):
            waiting, transport = connection.waiting, connection.transport
            if waiting is not None and now - waiting[1] > ANSWER_SECONDS:
                connection.answered(waiting, HTTPStatus.SERVICE_UNAVAILABLE, "not counted in time")
            elif waiting is None and transport and transport.idle(now, IDLE_SECONDS):
                if connection.writable:
                    transport.close()
                else:  # (a client that reads nothing: what it was sent is let go)
                    transport.abort()
        if self._closing and not any(c.waiting for c in self.connections):
            self._loop.stop()

    def date(self) -> str:
        """The ``Date`` header's value, made once a second."""
        now = int(time.time())
        if self._dated[0] != now:
            self._dated = (now, email.utils.formatdate(now, usegmt=True))
        return self._dated[1]
