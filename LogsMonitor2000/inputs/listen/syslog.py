"""Syslog receivers: datagrams (``syslog+udp://``) and streams (``syslog+tcp://``,
``syslog+tls://``) of messages, put raw into the listener's inbox (``listen.py``).

A stream is cut into messages as RFC 6587 says: a frame that starts with a digit is
*octet-counted* (``LENGTH SP MESSAGE``, what RFC 5425 and rsyslog's
``TCP_Framing="octet-counted"`` send); otherwise the message ends at a newline (or a NUL:
Python's ``SysLogHandler`` ends its messages with one).  A message longer than
``--max-body`` is cut there.  A full inbox stops the connection's reading until there is
room: the sender's writes then wait, as TCP makes them.  A datagram that finds the inbox
full is dropped and counted.  Headers are parsed by the pipeline
(``parsers/syslog.py``).
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from typing import Any

from ...net.threaded import GuardedServer, bound_url, family_of
from . import IDLE_SECONDS, MAX_CONNECTIONS, SYSLOG, Inbox, ListenOptions, Received

#: The largest datagram.
DATAGRAM_BYTES = 65535
#: How often a connection's thread looks up from reading (to notice a stop).
TICK_SECONDS = 0.5
#: Digits of an octet count, at most.
_COUNT_DIGITS = 9


class Framer:
    """A stream's bytes in, its messages out (octet-counted or newline-ended)."""

    def __init__(self, max_message: int) -> None:
        self.max_message = max_message
        self._buffer = bytearray()
        self._skipping = False  # the rest of a message cut at max_message
        self._counted: int | None = None  # bytes of the octet-counted frame being read

    def feed(self, data: bytes) -> list[bytes]:
        """The messages that ``data`` completes."""
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        while buffer:
            if self._counted is not None:
                if len(buffer) < self._counted:
                    break
                message = bytes(buffer[: self._counted])
                del buffer[: self._counted]
                self._counted = None
                messages.append(message[: self.max_message])
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
        return messages


def _message_end(buffer: bytearray) -> int:
    """Where the newline-ended (or NUL-ended) message at the start ends (-1: not yet)."""
    ends = [at for at in (buffer.find(b"\n"), buffer.find(b"\0")) if at >= 0]
    return min(ends) if ends else -1


def sender_of(address: Any) -> str:
    host = address[0] if isinstance(address, tuple) else str(address)
    return str(host)


class UdpReceiver:
    """``syslog+udp://``: a datagram is a message."""

    def __init__(self, address: tuple[str, int], inbox: Inbox, options: ListenOptions) -> None:
        self._socket = socket.socket(family_of(address), socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._socket.bind(address)
        self._socket.settimeout(TICK_SECONDS)
        self.url = bound_url("syslog+udp", self._socket.getsockname())
        self._inbox = inbox
        self._max = options.max_body
        self._stopping = threading.Event()
        self._receiving = False
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
        item = Received(SYSLOG, sender_of(address), messages=[data[: self._max]])
        if not self._inbox.offer(item):
            self._inbox.dropped += 1

    def stop_accepting(self) -> None:
        self._stopping.set()

    def busy(self) -> bool:
        """Until the datagrams received before the stop are in the inbox."""
        return self._receiving

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2 * TICK_SECONDS)
        self._socket.close()


class _TcpServer(GuardedServer):
    inbox: Inbox
    max_message: int
    closing: threading.Event
    active: int  # connections accepted and not done with
    lock: threading.Lock

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.active += 1  # (before its thread starts: a stop waits for it)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self.lock:
            self.active -= 1


class _Connection(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        self._read(self.request)

    def _read(self, sock: socket.socket) -> None:
        """Messages until the sender closes, is idle for ``IDLE_SECONDS``, or - once the
        listener stops - has sent nothing more for a tick (what it had sent is read)."""
        server = self.server
        sender = sender_of(self.client_address)
        framer = Framer(server.max_message)
        sock.settimeout(TICK_SECONDS)
        idle = 0.0
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                idle += TICK_SECONDS
                if idle >= IDLE_SECONDS or server.closing.is_set():
                    return
                continue
            except (OSError, ssl.SSLError):
                return
            if not data:
                return
            idle = 0.0
            messages = framer.feed(data)
            if messages:
                item = Received(SYSLOG, sender, messages=messages)
                if not server.inbox.put(item):
                    return


class TcpReceiver:
    """``syslog+tcp://`` (``syslog+tls://``): streams of framed messages, a thread each."""

    def __init__(
        self,
        address: tuple[str, int],
        inbox: Inbox,
        options: ListenOptions,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._server = _TcpServer(address, _Connection, max_connections=MAX_CONNECTIONS, tls=tls)
        self._server.inbox = inbox
        self._server.max_message = options.max_body
        self._server.closing = threading.Event()
        self._server.active = 0
        self._server.lock = threading.Lock()
        self.url = self._server.url("syslog+tls" if tls else "syslog+tcp")

    def start(self) -> None:
        self._server.start()

    def stop_accepting(self) -> None:
        self._server.stop()
        self._server.closing.set()

    def busy(self) -> bool:
        return self._server.active > 0

    def close(self) -> None:
        self.stop_accepting()
