"""Syslog receivers: datagrams (``syslog+udp://``) and streams (``syslog+tcp://``,
``syslog+tls://``) of messages, put raw into the listener's inbox (``inbox.py``).

A stream is cut into messages as RFC 6587 says: a frame that starts with a digit is
*octet-counted* (``LENGTH SP MESSAGE``, what RFC 5425 and rsyslog's
``TCP_Framing="octet-counted"`` send); otherwise the message ends at a newline (or a NUL:
Python's ``SysLogHandler`` ends its messages with one).  A message longer than
``--max-body`` is cut there.  A full inbox stops the connection's reading until there is
room: the sender's writes then wait, as TCP makes them.  A message its sender
does not finish - the connection closes in its middle, or it takes over 20 s to come
- is counted invalid.  A datagram that finds the inbox
full is dropped and counted.  Headers are parsed by the pipeline
(``parsers/syslog_header.py``).

Streams are served by the monitor's server core (``net/server.py``: one thread, a
selector, every connection; TLS handshakes there too); datagrams by a thread of their
own.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from typing import Any

from ...net.addresses import bound_url, peer_host, udp_socket
from ...net.loop import Stream
from ...net.server import BODY_SECONDS, HEAD_SECONDS, Server
from .inbox import IDLE_SECONDS, MAX_CONNECTIONS, SYSLOG, Inbox, ListenOptions, Received

#: The largest datagram.
DATAGRAM_BYTES = 65535
#: How often a connection's thread looks up from reading (to notice a stop).
TICK_SECONDS = 0.5
#: Digits of an octet count, at most.
_COUNT_DIGITS = 9


class Framer:
    """A stream's bytes in, its messages out (octet-counted or newline-ended).

    Never more than ``max_message`` bytes of a message are held: a longer one is cut
    there, and the rest of it skipped as it comes."""

    def __init__(self, max_message: int) -> None:
        self.max_message = max_message
        self._buffer = bytearray()
        self._skipping = False  # the rest of a newline-ended message cut at max_message
        self._discard = 0  # bytes of an octet-counted frame cut at max_message, to skip
        self._counted: int | None = None  # bytes of the octet-counted frame being read
        #: When the message held in part began to come (None: none is).
        self.partial_since: float | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """The messages that ``data`` completes."""
        if self._discard:
            skipped = min(self._discard, len(data))
            self._discard -= skipped
            data = data[skipped:]
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        while buffer:
            if self._counted is not None:
                wanted = min(self._counted, self.max_message)
                if len(buffer) < wanted:
                    break
                messages.append(bytes(buffer[:wanted]))
                rest = self._counted - wanted
                skipped = min(rest, len(buffer) - wanted)
                del buffer[: wanted + skipped]
                self._discard = rest - skipped
                self._counted = None
                continue
            if self._skipping:
                end = _message_end(buffer)
                if end < 0:
                    buffer.clear()
                    break
                del buffer[: end + 1]
                self._skipping = False
                continue
            first = buffer[0]
            if first in b"\r\n\0 ":  # (between frames)
                del buffer[:1]
                continue
            if 0x30 <= first <= 0x39:  # octet counting: LENGTH SP
                space = buffer.find(b" ", 0, _COUNT_DIGITS + 1)
                if space < 0:
                    if len(buffer) <= _COUNT_DIGITS and buffer.isdigit():
                        break  # the count is not complete yet
                elif buffer[:space].isdigit():
                    self._counted = int(buffer[:space])
                    del buffer[: space + 1]
                    continue
            end = _message_end(buffer)
            if end < 0:
                if len(buffer) > self.max_message:
                    messages.append(bytes(buffer[: self.max_message]))
                    buffer.clear()
                    self._skipping = True
                break
            messages.append(bytes(buffer[: min(end, self.max_message)]))
            del buffer[: end + 1]
        if not self.holds_part():
            self.partial_since = None
        elif self.partial_since is None:
            self.partial_since = time.monotonic()
        return messages

    def holds_part(self) -> bool:
        """Whether part of a message is held (what ``feed`` leaves in its buffer
        starts with a message, or the digits of its length)."""
        return self._counted is not None or (bool(self._buffer) and not self._skipping)

    def cut_short(self) -> bytes | None:
        """The stream ended: what is held of a message cut short (empty when an
        octet-counted frame's message had not begun; None: no message was)."""
        if not self.holds_part():
            return None
        part = bytes(self._buffer)
        self._buffer.clear()
        self._counted, self.partial_since = None, None
        return part


def _message_end(buffer: bytearray) -> int:
    """Where the newline-ended (or NUL-ended) message at the start ends (-1: not yet)."""
    ends = [at for at in (buffer.find(b"\n"), buffer.find(b"\0")) if at >= 0]
    return min(ends) if ends else -1


def socket_drops(sock: socket.socket) -> int:
    """The datagrams Linux dropped for ``sock`` (its receive buffer was full): the
    ``drops`` of its line in ``/proc/net/udp`` or ``udp6``, found by its inode; 0 where
    there is no such file."""
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
    except OSError:
        return 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table, encoding="ascii") as lines:
                for line in lines:
                    fields = line.split()
                    if len(fields) > 12 and fields[9] == inode:
                        return int(fields[-1])
        except (OSError, ValueError):
            continue
    return 0


class UdpReceiver:
    """``syslog+udp://``: a datagram is a message."""

    def __init__(
        self,
        address: tuple[str, int],
        inbox: Inbox,
        options: ListenOptions,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._socket = udp_socket(address)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._socket.settimeout(TICK_SECONDS)
        self.url = bound_url("syslog+udp", self._socket.getsockname())
        self._inbox = inbox
        self._max = options.max_body
        self._stopping = threading.Event()
        self._receiving = False
        self._drops, self._drops_at = 0, -1.0
        self._thread = threading.Thread(target=self._run, name="syslog-udp", daemon=True)

    def start(self) -> None:
        self._receiving = True  # (until stopped and the socket's buffer is read)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                data, address = self._socket.recvfrom(DATAGRAM_BYTES)
            except TimeoutError:
                continue
            except OSError:
                return
            self._take(data, address)
        # Stopped: the datagrams already in the socket's buffer arrived before the stop.
        self._socket.setblocking(False)
        while True:
            try:
                data, address = self._socket.recvfrom(DATAGRAM_BYTES)
            except OSError:  # (BlockingIOError: there are no more)
                break
            self._take(data, address)
        self._receiving = False

    def _take(self, data: bytes, address: Any) -> None:
        sender = peer_host(address)
        item = Received(SYSLOG, sender, messages=[data[: self._max]], origin=sender)
        if not self._inbox.offer(item):
            self._inbox.dropped += 1

    def stop_accepting(self) -> None:
        self._stopping.set()

    def busy(self) -> bool:
        """Until the datagrams received before the stop are in the inbox."""
        return self._receiving

    def kernel_drops(self) -> int:
        """The socket's drops as Linux counts them (``/proc/net/udp``), looked up at
        most once a second (0 elsewhere)."""
        now = time.monotonic()
        if now - self._drops_at >= 1.0:
            self._drops_at = now
            self._drops = socket_drops(self._socket)
        return self._drops

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2 * TICK_SECONDS)
        self._socket.close()


class _SyslogStream:
    """One sender's stream (a ``loop.Protocol``): its messages into the inbox; while the
    inbox is full, the messages wait here and the stream is not read."""

    def __init__(self, receiver: TcpReceiver) -> None:
        self.receiver = receiver
        self.framer = Framer(receiver.max_message)
        self.transport: Stream | None = None
        self.sender = ""
        #: Messages that found the inbox full.
        self.held: Received | None = None
        #: When the last whole message came (or the connection).
        self.quiet_since = time.monotonic()

    def connection_made(self, transport: Stream) -> None:
        self.transport = transport
        self.sender = peer_host(transport.peer)
        self.receiver.streams.add(self)

    def data_received(self, data: bytes) -> None:
        messages = self.framer.feed(data)
        if messages:
            self.quiet_since = time.monotonic()
            self._put(Received(SYSLOG, self.sender, messages=messages, origin=self))

    def eof_received(self) -> None:
        self._cut_short()
        if self.transport is not None and self.held is None:
            self.transport.close()

    def connection_lost(self) -> None:
        self._cut_short()  # (reset, let go for another, or too slow)
        self.receiver.streams.discard(self)
        self.transport = None

    def idle_since(self) -> float | None:
        if self.held is not None:
            return None
        return self.framer.partial_since or self.quiet_since

    def _cut_short(self) -> None:
        """A message the sender began and did not finish is counted invalid."""
        part = self.framer.cut_short()
        if part is None:
            return
        if self.held is not None:  # (after those that wait for room)
            self.held.messages.append(part)
            self.held.truncated = True
        else:
            self._put(Received(SYSLOG, self.sender, messages=[part], truncated=True, origin=self))

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass

    def retry(self) -> None:
        """There may be room in the inbox now (in the loop's thread)."""
        held, self.held = self.held, None
        if held is not None:
            self._put(held)
        if self.held is None and self.transport is not None:
            self.transport.resume_reading()

    def _put(self, item: Received) -> None:
        if self.receiver.inbox.offer(item):
            return
        self.held = item
        if self.transport is not None:
            self.transport.pause_reading()
        self.receiver.wait_for_room(self)


class TcpReceiver:
    """``syslog+tcp://`` (``syslog+tls://``): streams of framed messages."""

    def __init__(
        self,
        address: tuple[str, int],
        inbox: Inbox,
        options: ListenOptions,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.inbox = inbox
        self.max_message = options.max_body
        self.streams: set[_SyslogStream] = set()
        self._waiting: set[_SyslogStream] = set()
        self._lock = threading.Lock()
        self.server = Server(
            address,
            lambda: _SyslogStream(self),
            name="syslog-tcp",
            max_connections=MAX_CONNECTIONS,
            tls=tls,
        )
        self.server.loop.every_second(self._sweep)
        inbox.on_room(self._room)
        self.url = self.server.url("syslog+tls" if tls else "syslog+tcp")

    def start(self) -> None:
        self.server.start()

    def stop_accepting(self) -> None:
        self.server.stop_accepting()

    def busy(self) -> bool:
        """Whether a stream holds messages, or sent some lately (what senders had sent
        before a stop is read)."""
        now = time.monotonic()
        streams = list(self.streams)
        return any(
            stream.held is not None
            or (stream.transport is not None and not stream.transport.idle(now, TICK_SECONDS))
            for stream in streams
        )

    def kernel_drops(self) -> int:
        return 0

    def close(self) -> None:
        self.server.stop()

    def wait_for_room(self, stream: _SyslogStream) -> None:
        with self._lock:
            self._waiting.add(stream)

    def _room(self) -> None:
        """(In the pipeline's thread: the inbox was emptied.)"""
        with self._lock:
            waiting, self._waiting = self._waiting, set()
        for stream in waiting:
            self.server.loop.call(stream.retry)

    def _sweep(self, now: float) -> None:
        with self._lock:  # (a room missed between a full inbox and wait_for_room)
            waiting, self._waiting = self._waiting, set()
        for stream in waiting:
            stream.retry()
        for stream in list(self.streams):
            transport = stream.transport
            if transport is None or stream.held is not None:
                continue
            began = stream.framer.partial_since
            if began is not None and now - began > HEAD_SECONDS + BODY_SECONDS:
                transport.abort()  # (a message a byte now and then: counted cut short)
            elif transport.idle(now, IDLE_SECONDS):
                transport.close()
