"""The bounded queue between a listener's receivers and the pipeline, and what goes
through it.

Receivers (``http.py``, ``syslog.py``) run in threads of their own and only read: each
payload they receive goes, raw, into the ``Inbox``, a queue bounded in bytes and in
items, and the pipeline parses it.  When the inbox is full, HTTP answers 503 with
``Retry-After``, a TCP connection is not read until there is room again (the sender
feels it), and a UDP datagram is dropped and counted (``dropped``).  The pipeline's
``Verdict`` on a payload goes back to its receiver (``Received.settle``): an HTTP
request is answered once its payload has been counted, so whatever got a 2xx is in the
summary - and whatever got an error is not: a payload the pipeline has not begun to
count when its answer is due is answered 503 and never counted (``Received.expire``),
one it has begun is awaited (``Received.claim``).

The inbox wakes the monitor through a pipe (``waitable``), so a payload is parsed as
soon as it arrives.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import ssl

    from ...net.http import Exchange, Reply, Request

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


class Routed(Protocol):
    """An HTTP app for some paths (``serves``), given the listener's inbox."""

    inbox: Inbox | None

    def serves(self, request: Request) -> bool: ...

    def refusal(self, request: Request) -> Reply | None: ...

    def handle(self, request: Request, exchange: Exchange) -> None: ...


@dataclass(slots=True, frozen=True)
class Verdict:
    """What the pipeline made of a payload: its records, how many were invalid, and
    why it could not be read at all (``refused``), or why none was valid."""

    records: int = 0
    invalid: int = 0
    #: Why the payload is refused as a whole (None: it was counted).
    refused: str | None = None
    #: The monitor stopped before counting it (nothing of it is counted).
    dropped: bool = False


#: Whether a payload is counted or answered 503 is decided under this lock.
_DECIDING = threading.Lock()
WAITING, CLAIMED, EXPIRED = 0, 1, 2


@dataclass(slots=True)
class Received:
    """One payload as it came: what kind, from where, and for an HTTP request the
    function that hears the pipeline's verdict once it is counted (``settle``)."""

    kind: str
    sender: str
    body: bytes = b""
    messages: list[bytes] = field(default_factory=list)
    settle: Callable[[Verdict], None] | None = None
    #: Its last message was cut short: the sender closed in the middle of it.
    truncated: bool = False
    #: What it came through (a connection; a UDP sender): the pipeline takes the
    #: payloads of each in turn (``Listener``).
    origin: object = None
    state: int = WAITING

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(message) for message in self.messages)

    def claim(self) -> bool:
        """(The pipeline, before counting it.)  False when it was answered 503 already:
        it is not to be counted."""
        with _DECIDING:
            if self.state == EXPIRED:
                return False
            self.state = CLAIMED
            return True

    def expire(self) -> bool:
        """(Its receiver, the answer late.)  Whether it may be answered 503 - it will
        never be counted - or, False, it is being counted and its verdict is coming."""
        with _DECIDING:
            if self.state == CLAIMED:
                return False
            self.state = EXPIRED
            return True


class Inbox:
    """The bounded queue between the receivers' threads and the pipeline."""

    def __init__(self, *, max_bytes: int = INBOX_BYTES, max_items: int = INBOX_ITEMS) -> None:
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.dropped = 0  # UDP datagrams that found it full
        self._items: deque[Received] = deque()
        self._bytes = 0
        self._room = threading.Lock()
        self._closed = False
        #: Told (in the taker's thread) each time the items are taken.
        self._room_listeners: list[Callable[[], None]] = []
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
        for listener in self._room_listeners:
            listener()
        return items

    def on_room(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` each time the items are taken (there is room again)."""
        self._room_listeners.append(listener)

    def close(self) -> None:
        """No more payloads; those still held are answered 503."""
        with self._room:
            self._closed = True
            items = list(self._items)
            self._items.clear()
        for item in items:
            if item.settle is not None:
                item.settle(Verdict(refused="the monitor stopped before counting it", dropped=True))
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
    """What a listener's receiving side does (``syslog.py``, ``http.py``)."""

    #: Where it listens, as a URL (with the real port when 0 was asked for).
    url: str

    def start(self) -> None: ...

    def stop_accepting(self) -> None:
        """No new connection or datagram; what is being received still arrives."""

    def busy(self) -> bool:
        """Whether a payload is being received (and will reach the inbox)."""

    def kernel_drops(self) -> int:
        """Datagrams the system dropped before the receiver could read them (its
        socket's buffer was full); 0 for streams, which the system never drops."""

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ListenOptions:
    """What the receivers are configured with (``--listen-auth``, ``--max-body``, TLS)."""

    credentials: str | None = None
    max_body: int = MAX_BODY
    tls: ssl.SSLContext | None = None  # (ssl itself is imported only when TLS is used)
    #: An app an HTTP listener serves beside /ingest (``--store``'s record API).
    api: Routed | None = None
