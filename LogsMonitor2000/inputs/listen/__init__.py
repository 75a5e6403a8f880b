"""Listeners: logs that come over the network (``--listen URL``), a live input each.

A listener's receivers (``syslog.py``: UDP and TCP; ``ingest.py``: HTTP, on ``loop.py``)
run in threads of their own and only read: each payload they receive goes, raw, into the
listener's ``Inbox``, a queue bounded in bytes and in items, and the pipeline
(``lanes.py``) parses it.  When the inbox is full, HTTP answers 503 with ``Retry-After``,
a TCP connection is not read until there is room again (the sender feels it), and a UDP
datagram is dropped and counted (``dropped``).  An HTTP request is answered once its
payload has been counted (``Received.answer``): whatever got a 2xx is in the summary.

The inbox wakes the monitor through a pipe (``waitable``), so a payload is parsed as
soon as it arrives.  A stop closes the listening sockets, lets the payloads being
received reach the inbox, and hands over what it holds (``drain``).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ...errors import UsageError
from ...net.addresses import listen_address
from ..base import Defaults, Idle

if TYPE_CHECKING:
    import ssl

#: What the inbox holds at most: bytes of payloads, and payloads.
INBOX_BYTES = 8 << 20
INBOX_ITEMS = 10_000
#: A connection with nothing to say for this long is closed.
IDLE_SECONDS = 30.0
#: Connections a listener serves at once (the next ones are turned away).
MAX_CONNECTIONS = 256
#: The largest HTTP body, and syslog message (``--max-body``).
MAX_BODY = 1 << 20
#: How long a stop waits for the payloads being received to reach the inbox.
DRAIN_SECONDS = 2.0

#: The kinds of payload.
SYSLOG = "syslog"  # syslog messages (``messages``)
LINES = "lines"  # log lines in the run's format
JSON = "json"  # one JSON object, an array of them, or one per line
RECORD = "record"  # a Python LogRecord's attributes, form-encoded (HTTPHandler)

#: ``--listen`` schemes: (kind of receiver, TLS).
SCHEMES = {
    "syslog+udp": ("udp", False),
    "syslog+tcp": ("tcp", False),
    "syslog+tls": ("tcp", True),
    "http": ("http", False),
    "https": ("http", True),
}


@dataclass(slots=True)
class Received:
    """One payload as it came: what kind, from where, and for an HTTP request the
    function that answers it once counted (``status``, one line of text)."""

    kind: str
    sender: str
    body: bytes = b""
    messages: list[bytes] = field(default_factory=list)
    answer: Callable[[int, str], None] | None = None

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(message) for message in self.messages)


class Inbox:
    """The bounded queue between the receivers' threads and the pipeline."""

    def __init__(self, *, max_bytes: int = INBOX_BYTES, max_items: int = INBOX_ITEMS) -> None:
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.dropped = 0  # UDP datagrams that found it full
        self._items: deque[Received] = deque()
        self._bytes = 0
        self._room = threading.Condition()
        self._closed = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def waitable(self) -> int:
        """A descriptor that becomes readable when a payload arrives."""
        return self._wake_read

    def offer(self, item: Received) -> bool:
        """Add ``item`` if there is room now; False when full (or closed)."""
        with self._room:
            if self._closed or not self._fits(item.size):
                return False
            self._add(item)
        return True

    def put(self, item: Received) -> bool:
        """Add ``item``, waiting for room (a TCP sender waits meanwhile); False when the
        listener closes first."""
        with self._room:
            while not self._fits(item.size):
                if self._closed:
                    return False
                self._room.wait(0.25)
            if self._closed:
                return False
            self._add(item)
        return True

    def take(self) -> list[Received]:
        """Everything it holds, oldest first (room for the senders again)."""
        with self._room:
            if not self._items:
                return []
            try:  # (the pipe holds a byte while there are items: see ``_add``)
                os.read(self._wake_read, 65536)
            except BlockingIOError:
                pass
            items = list(self._items)
            self._items.clear()
            self._bytes = 0
            self._room.notify_all()
        return items

    def close(self) -> None:
        """No more payloads; those still held are answered 503."""
        with self._room:
            self._closed = True
            items = list(self._items)
            self._items.clear()
            self._room.notify_all()
        for item in items:
            if item.answer is not None:
                item.answer(503, "the monitor stopped before counting it")
        for descriptor in (self._wake_read, self._wake_write):
            os.close(descriptor)

    def _fits(self, size: int) -> bool:
        if not self._items:  # (one payload, however large, always fits an empty inbox)
            return True
        return len(self._items) < self.max_items and self._bytes + size <= self.max_bytes

    def _add(self, item: Received) -> None:
        # The pipe holds one byte while there are items: written when the first comes,
        # read when they are taken (a syscall less each way a payload, which a client
        # that waits for each answer feels).
        if not self._items:
            try:
                os.write(self._wake_write, b"!")
            except BlockingIOError:
                pass
        self._items.append(item)
        self._bytes += item.size


class Receiver(Protocol):
    """What a listener's receiving side does (``syslog.py``, ``ingest.py``)."""

    #: Where it listens, as a URL (with the real port when 0 was asked for).
    url: str

    def start(self) -> None: ...

    def stop_accepting(self) -> None:
        """No new connection or datagram; what is being received still arrives."""

    def busy(self) -> bool:
        """Whether a payload is being received (and will reach the inbox)."""

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ListenOptions:
    """What the receivers are configured with (``--listen-auth``, ``--max-body``, TLS)."""

    credentials: str | None = None
    max_body: int = MAX_BODY
    tls: ssl.SSLContext | None = None  # (ssl itself is imported only when TLS is used)


class Listener(Defaults):
    """A listener as an input: the payloads of its inbox, ``Idle`` when there is none."""

    live = True

    def __init__(self, receiver: Receiver, inbox: Inbox) -> None:
        self.receiver = receiver
        self.inbox = inbox
        #: Taken from the inbox, not handed over yet (a stop hands them over too).
        self._taken: deque[Received] = deque()

    @property
    def url(self) -> str:
        return self.receiver.url

    def __iter__(self) -> Iterator[Received | Idle]:
        taken = self._taken
        while True:
            if not taken:
                taken.extend(self.inbox.take())
            if taken:
                yield taken.popleft()
            else:
                yield Idle(time.monotonic())

    def waitable(self) -> int | None:
        return self.inbox.waitable()

    def dropped(self) -> int | None:
        return self.inbox.dropped

    def drain(self) -> list[Received]:
        """The run stops: accept nothing more, wait (a little) for what is being
        received, and hand over all that is held."""
        self.receiver.stop_accepting()
        deadline = time.monotonic() + DRAIN_SECONDS
        items = list(self._taken)
        self._taken.clear()
        while self.receiver.busy() and time.monotonic() < deadline:
            items += self.inbox.take()  # (room for a stream being read to its end)
            time.sleep(0.01)
        return items + self.inbox.take()

    def close(self) -> None:
        self.receiver.close()
        self.inbox.close()


def check_listen_url(url: str) -> tuple[str, bool, str, int]:
    """``--listen``'s URL as (receiver kind, TLS, host, port); ``UsageError`` when it is
    none of the schemes, or has a path or no port."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in SCHEMES:
        raise UsageError(
            f"--listen {url!r}: the URL starts with one of "
            + ", ".join(f"{name}://" for name in SCHEMES)
        )
    address = rest.rstrip("/")
    if scheme.startswith("http") and address.endswith("/ingest"):
        address = address[: -len("/ingest")]
    if "/" in address:
        raise UsageError(f"--listen {url!r}: no path but /ingest (HOST:PORT)")
    try:
        host, port = listen_address(address)
    except ValueError as error:
        raise UsageError(f"--listen: {error}") from None
    kind, tls = SCHEMES[scheme]
    return kind, tls, host, port


def open_listener(url: str, options: ListenOptions) -> Listener:
    """The listener of ``url`` (see ``check_listen_url``), bound and started; raises
    ``UsageError`` when it can't be (the port in use, no --tls-cert)."""
    kind, tls, host, port = check_listen_url(url)
    if tls and options.tls is None:
        raise UsageError(f"--listen {url}: TLS needs --tls-cert (and --tls-key)")
    inbox = Inbox()
    context = options.tls if tls else None
    receiver: Receiver
    try:
        if kind == "http":
            from .http import HttpReceiver

            receiver = HttpReceiver((host, port), inbox, options, tls=context)
        else:
            from .syslog import TcpReceiver, UdpReceiver

            if kind == "udp":
                receiver = UdpReceiver((host, port), inbox, options)
            else:
                receiver = TcpReceiver((host, port), inbox, options, tls=context)
    except OSError as error:
        raise UsageError(f"cannot listen on {url}: {error.strerror or error}") from None
    receiver.start()
    return Listener(receiver, inbox)
