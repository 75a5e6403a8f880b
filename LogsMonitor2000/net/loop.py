"""One thread that serves many connections: a selector over non-blocking sockets, TLS
when given a context, calls handed in from other threads, timers.

It is what the monitor's servers run on (``server.py``, ``http.py``).  ``asyncio`` does the same in
general, but a client that opens a connection per record (``HTTPHandler``) waits for
each of its steps: servers that answered and did nothing took 100 µs of CPU a request
with asyncio, 55 with a bare selector loop.  A connection's protocol (``Protocol``)
sees a ``Stream``: ``write``, ``close``, ``abort``, ``pause_reading``,
``resume_reading``.
"""

from __future__ import annotations

import heapq
import itertools
import os
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Protocol as Interface

#: Bytes written but not yet sent over which a protocol is asked to stop writing.
HIGH_WATER = 64 << 10
#: What a read takes at most at once.
READ_SIZE = 1 << 16

_TRY_AGAIN = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Protocol(Interface):
    """What a connection's stream tells its protocol (as ``asyncio.Protocol``)."""

    def connection_made(self, stream: Stream) -> None: ...

    def data_received(self, data: bytes) -> None: ...

    def eof_received(self) -> None:
        """The client has sent all it will (it may still read an answer)."""

    def connection_lost(self) -> None: ...

    def pause_writing(self) -> None: ...

    def resume_writing(self) -> None: ...

    def idle_since(self) -> float | None:
        """Since when (``time.monotonic``) it has done nothing a client needs - no
        request or message under way, no answer awaited - or None while it does: a
        full server lets the one idle longest go for a new connection."""


class Stream:
    """A connection in the loop: what comes in goes to its protocol, what it writes is
    sent (kept while the socket is full).  With TLS, the handshake comes first and the
    protocol hears of the connection once it is done."""

    def __init__(
        self,
        loop: Loop,
        sock: socket.socket,
        peer: object,
        protocol: Protocol,
        handshake_seconds: float,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.peer = peer  # (the client's address, as accept gave it)
        self.protocol = protocol
        self.closing = False
        #: When it last moved (a read, or some of what was written sent): see ``idle``.
        self.moved = time.monotonic()
        self._out = bytearray()
        self._reading = True
        self._paused_writing = False
        self._handshaking = isinstance(sock, ssl.SSLSocket)
        self._deadline = time.monotonic() + handshake_seconds if self._handshaking else 0.0
        self._events = 0
        self._closed = False
        loop.streams.add(self)
        self._watch(selectors.EVENT_READ)
        if not self._handshaking:
            protocol.connection_made(self)

    # the protocol's side

    def write(self, data: bytes) -> None:
        if self.closing or self._closed:
            return
        if not self._out and not self._handshaking:
            try:
                data = data[self.sock.send(data) :]
                self.moved = time.monotonic()
            except _TRY_AGAIN:
                pass
            except OSError:
                self.abort()
                return
            if not data:
                return
        self._out += data
        self._update()
        if len(self._out) > HIGH_WATER and not self._paused_writing:
            self._paused_writing = True
            self.protocol.pause_writing()

    def close(self) -> None:
        """Close once what was written is sent."""
        self.closing = True
        if not self._out:
            self._finish()

    def abort(self) -> None:
        """Close now, whatever is left unsent."""
        self._out.clear()
        self._finish()

    def is_closing(self) -> bool:
        return self.closing or self._closed

    @property
    def unsent(self) -> int:
        """Bytes written and not sent yet."""
        return len(self._out)

    def pause_reading(self) -> None:
        self._reading = False
        self._update()

    def resume_reading(self) -> None:
        self._reading = True
        self._update()

    def handshake_late(self, now: float) -> bool:
        return self._handshaking and now > self._deadline

    def idle(self, now: float, seconds: float) -> bool:
        """Whether nothing has come in or gone out for ``seconds``."""
        return now - self.moved > seconds

    # the loop's side

    def ready(self, events: int) -> None:
        if self._handshaking:
            self._handshake()
            return
        if events & selectors.EVENT_WRITE:
            self._flush()
        if events & selectors.EVENT_READ and self._reading and not self._closed:
            self._read()

    def _handshake(self) -> None:
        assert isinstance(self.sock, ssl.SSLSocket)
        try:
            self.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._watch(selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._watch(selectors.EVENT_WRITE)
            return
        except (OSError, ValueError):  # (an untrusted or broken client: let go)
            self.abort()
            return
        self._handshaking = False
        self._update()
        self.protocol.connection_made(self)
        self._read()  # (what came with the handshake's last record)

    def _read(self) -> None:
        sock = self.sock
        while self._reading and not self._closed:
            try:
                data = sock.recv(READ_SIZE)
            except _TRY_AGAIN:
                return
            except (OSError, ValueError):
                self.abort()
                return
            if not data:
                self.pause_reading()
                self.protocol.eof_received()
                return
            self.moved = time.monotonic()
            self.protocol.data_received(data)
            if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
                return

    def _flush(self) -> None:
        try:
            sent = self.sock.send(self._out)
        except _TRY_AGAIN:
            return
        except OSError:
            self.abort()
            return
        del self._out[:sent]
        self.moved = time.monotonic()
        if self._paused_writing and len(self._out) <= HIGH_WATER // 4:
            self._paused_writing = False
            self.protocol.resume_writing()
        if not self._out and self.closing:
            self._finish()
        else:
            self._update()

    def _update(self) -> None:
        if self._closed or self._handshaking:
            return
        events = selectors.EVENT_READ if self._reading else 0
        if self._out:
            events |= selectors.EVENT_WRITE
        self._watch(events)

    def _watch(self, events: int) -> None:
        if events == self._events:
            return
        selector = self.loop.selector
        if not events:
            selector.unregister(self.sock)
        elif not self._events:
            selector.register(self.sock, events, self)
        else:
            selector.modify(self.sock, events, self)
        self._events = events

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = self.closing = True
        self._watch(0)
        try:
            self.sock.close()
        except OSError:
            pass
        self.loop.streams.discard(self)
        if not self._handshaking:
            self.protocol.connection_lost()


class Loop:
    """The selector and its thread: ``serve`` a listening socket with a protocol per
    connection, ``call`` from another thread, ``every`` second a function."""

    def __init__(self, name: str) -> None:
        self.selector = selectors.DefaultSelector()
        self.streams: set[Stream] = set()
        self._calls: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self.selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._ticks: list[Callable[[float], object]] = []
        #: (when, order, function) of ``call_later``, a heap.
        self._timers: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self._running = True
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def call(self, function: Callable[[], object]) -> bool:
        """Run ``function`` in the loop's thread soon (False: the loop has ended)."""
        with self._lock:
            if not self._running:
                return False
            if not self._calls:  # (a byte in the pipe while calls wait, no more)
                try:
                    os.write(self._wake_write, b"!")
                except BlockingIOError:
                    pass
            self._calls.append(function)
        return True

    def every_second(self, function: Callable[[float], object]) -> None:
        self._ticks.append(function)

    def call_later(self, seconds: float, function: Callable[[], object]) -> None:
        """(In the loop's thread.)  Run ``function`` in ``seconds``."""
        heapq.heappush(self._timers, (time.monotonic() + seconds, next(self._order), function))

    def watch(self, sock: socket.socket, ready: Callable[[], object]) -> None:
        """Call ``ready`` whenever ``sock`` is readable (a listening socket)."""
        self.selector.register(sock, selectors.EVENT_READ, ready)

    def unwatch(self, sock: socket.socket) -> None:
        self.selector.unregister(sock)

    def stop(self) -> None:
        """End the loop (in its own thread): every connection is let go."""
        self._running = False

    def _run(self) -> None:
        next_tick = time.monotonic() + 1.0
        timers = self._timers
        try:
            while self._running:
                wake = min(next_tick, timers[0][0]) if timers else next_tick
                for key, events in self.selector.select(max(wake - time.monotonic(), 0)):
                    self._dispatch(key.data, events)
                while timers and timers[0][0] <= time.monotonic():
                    self._safely(heapq.heappop(timers)[2])
                if time.monotonic() >= next_tick:
                    now = next_tick = time.monotonic()
                    next_tick += 1.0
                    for tick in self._ticks:
                        self._safely(tick, now)
        finally:
            with self._lock:
                self._running = False
            for stream in list(self.streams):
                stream.abort()
            self.selector.close()
            for descriptor in (self._wake_read, self._wake_write):
                os.close(descriptor)

    def _dispatch(self, target: object, events: int) -> None:
        if target is None:  # (the wake pipe: calls from other threads)
            with self._lock:
                calls, self._calls = self._calls, []
                try:
                    os.read(self._wake_read, 4096)
                except BlockingIOError:
                    pass
            for function in calls:
                self._safely(function)
        elif isinstance(target, Stream):
            try:
                target.ready(events)
            except Exception:  # (a fault of this connection's: it alone is let go)
                target.abort()
        else:
            self._safely(target)  # type: ignore[arg-type]

    @staticmethod
    def _safely(function: Callable[..., object], *arguments: object) -> None:
        try:
            function(*arguments)
        except Exception:  # (nothing a client sends ends the loop)
            pass
