"""A listening TCP socket served by one thread (``loop.py``): what every server of the
monitor shares - the HTTP listener, the live page, TCP syslog.

* a protocol per connection (``loop.Protocol``), made by the server's owner;
* at most ``max_connections`` at once: a new one takes the place of the connection
  idle longest (``Protocol.idle_since``: one that sends nothing, or a request a byte at
  a time, can't keep a place from a client with something to say); when every one is
  busy, the new one is sent ``refusal`` and closed;
* TLS when given a context: the handshake runs in the loop, and a client that doesn't
  finish it within ``HANDSHAKE_SECONDS`` is let go (it holds up nobody meanwhile);
* ``TCP_NODELAY``: an answer's last segment never waits for the client's delayed ACK;
* a stop accepts what the kernel has already accepted (the backlog: never dropped
  unread), then closes the listening socket; the loop ends once its owner says so.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from functools import partial

from .addresses import bound_url, tcp_socket
from .loop import Loop, Protocol, Stream

#: Seconds a client has to finish its TLS handshake.
HANDSHAKE_SECONDS = 10.0
#: Seconds from the first byte of a request head (a syslog message) to its end.
HEAD_SECONDS = 10.0
#: A body's grace, then the least rate it must come at (bytes a second): a client that
#: sends slower is let go (as Apache's ``mod_reqtimeout``: header=10 body=10,MinRate=500).
BODY_SECONDS = 10.0
MIN_RATE = 500
#: Connections the kernel may hold for us before we accept them.
BACKLOG = 128
#: How long a stop waits for the loop to have accepted the backlog.
STOP_SECONDS = 2.0


class Server:
    """A listening socket, its loop, and its connections (see the module docstring)."""

    def __init__(
        self,
        address: tuple[str, int],
        protocol: Callable[[], Protocol],
        *,
        name: str,
        max_connections: int,
        tls: ssl.SSLContext | None = None,
        refusal: bytes = b"",
    ) -> None:
        self.socket = tcp_socket(address, BACKLOG)
        self.socket.setblocking(False)
        self.protocol = protocol
        self.max_connections = max_connections
        self.tls = tls
        self.refusal = refusal
        self.loop = Loop(name)
        #: Set once the server accepts no more (in the loop's thread).
        self.stopping = False
        #: Connections let go for new ones (``_make_room``).
        self.evicted = 0
        self._bound = self.socket.getsockname()

    @property
    def connections(self) -> set[Stream]:
        return self.loop.streams

    def url(self, scheme: str) -> str:
        """``scheme://host:port`` of the bound address (port 0 became a real one)."""
        return bound_url(scheme, self._bound)

    def start(self) -> None:
        self.loop.watch(self.socket, self._accept)
        self.loop.every_second(self._sweep_handshakes)
        self.loop.thread.start()

    def stop_accepting(self) -> None:
        """Accept no more connections: those the kernel had accepted are served still."""
        if self.stopping:
            return
        if not self.loop.thread.is_alive():
            self.stopping = True
            self.socket.close()
            return
        done = threading.Event()
        if self.loop.call(partial(self._stop_accepting, done)):
            done.wait(STOP_SECONDS)

    def stop(self) -> None:
        """End the loop now: every connection is let go."""
        self.stop_accepting()
        self.loop.call(self.loop.stop)
        if self.loop.thread.is_alive() and threading.current_thread() is not self.loop.thread:
            self.loop.thread.join(STOP_SECONDS)

    # the loop's thread

    def _accept(self) -> None:
        for _ in range(BACKLOG):
            try:
                client, address = self.socket.accept()
            except OSError:  # (none left; or out of descriptors: the rest wait)
                return
            self._open(client, address)

    def _open(self, client: socket.socket, address: object) -> None:
        client.setblocking(False)
        if len(self.loop.streams) >= self.max_connections and not self._make_room():
            try:
                client.send(self.refusal)
            except OSError:
                pass
            client.close()
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.tls is not None:
                client = self.tls.wrap_socket(
                    client, server_side=True, do_handshake_on_connect=False
                )
            Stream(self.loop, client, address, self.protocol(), HANDSHAKE_SECONDS)
        except OSError:  # (the client has gone already)
            client.close()

    def _make_room(self) -> bool:
        """Let the connection idle longest go (False: every one is busy)."""
        idlest: tuple[float, Stream] | None = None
        for stream in self.loop.streams:
            since = stream.protocol.idle_since()
            if since is not None and (idlest is None or since < idlest[0]):
                idlest = (since, stream)
        if idlest is None:
            return False
        idlest[1].abort()
        self.evicted += 1
        return True

    def _stop_accepting(self, done: threading.Event) -> None:
        self.stopping = True
        self._accept()  # (the backlog: connections the kernel has accepted already)
        self.loop.unwatch(self.socket)
        self.socket.close()
        done.set()

    def _sweep_handshakes(self, now: float) -> None:
        for stream in list(self.loop.streams):
            if stream.handshake_late(now):
                stream.abort()
