"""What the monitor's servers share.  The live page of ``--serve`` and the TCP syslog
listener: a thread per connection (their connections last) and a bound on their
number, TLS handshakes in the connection's own thread (a client that never finishes
one holds up nobody else), no line per request and no traceback for a client that
goes away.  Every server, the HTTP listener too (``inputs/ingest.py``, on one thread
for all its connections): basic auth compared in constant time.
"""

from __future__ import annotations

import base64
import hmac
import select
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

#: Seconds a client has to finish its TLS handshake.
HANDSHAKE_SECONDS = 10.0


def family_of(address: tuple[str, int]) -> socket.AddressFamily:
    """The address family of a ``(host, port)`` to bind (an IPv6 host has colons)."""
    return socket.AF_INET6 if ":" in address[0] else socket.AF_INET


def bound_url(scheme: str, bound: Any) -> str:
    """``scheme://host:port`` of a socket's bound address (port 0 became a real one)."""
    host, port = bound[:2]
    host = host.decode() if isinstance(host, bytes) else str(host)
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def basic_authorization(credentials: str | None) -> bytes | None:
    """The ``Authorization`` header that ``USER:PASSWORD`` sends (None: no auth)."""
    if credentials is None:
        return None
    return ("Basic " + base64.b64encode(credentials.encode()).decode()).encode()


def authorized(expected: bytes | None, given: str | None) -> bool:
    """Whether the ``Authorization`` header ``given`` is ``expected``, in constant time."""
    if expected is None:
        return True
    return hmac.compare_digest((given or "").encode("latin-1", "replace"), expected)


class GuardedServer(socketserver.ThreadingTCPServer):
    """A TCP server with a thread per connection, at most ``max_connections`` at once
    (the next ones get ``refusal`` and are closed), and TLS when given a context."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[socketserver.BaseRequestHandler],
        *,
        max_connections: int,
        tls: ssl.SSLContext | None = None,
        refusal: bytes = b"",
    ) -> None:
        self.address_family = family_of(address)
        super().__init__(address, handler)
        self.tls = tls
        self._refusal = refusal
        self._connections = threading.BoundedSemaphore(max_connections)
        self._thread = threading.Thread(target=self.serve_forever, name="server", daemon=True)

    def url(self, scheme: str) -> str:
        """``scheme://host:port`` of the bound address (port 0 became a real one)."""
        return bound_url(scheme, self.server_address)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting connections: those the kernel has already accepted are served
        still (never dropped unread), those open are left to their threads."""
        if self._thread.is_alive():
            self.shutdown()
            self.socket.setblocking(False)  # (a client gone meanwhile: accept never waits)
            for _ in range(self.request_queue_size):  # (the backlog holds no more)
                if not select.select([self.socket], [], [], 0)[0]:
                    break
                self.handle_request()
        self.server_close()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._connections.acquire(blocking=False):  # too many: turned away
            try:
                request.sendall(self._refusal)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            # An answer's headers and body are two writes: without this, the body waits
            # for the client's delayed ACK of the headers (40 ms a request on Linux).
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                request.settimeout(HANDSHAKE_SECONDS)
                try:
                    request = self.tls.wrap_socket(request, server_side=True)
                except (OSError, ssl.SSLError):
                    request.close()
                    return
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away, say: nothing for the monitor's output


class GuardedHTTPServer(GuardedServer, HTTPServer):
    """``GuardedServer`` speaking HTTP: too many connections get a 503."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        max_connections: int,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        refusal = b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
        super().__init__(
            address, handler, max_connections=max_connections, tls=tls, refusal=refusal
        )


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that writes no line per request and answers in plain text."""

    server_version = "LogsMonitor2000"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no line per request on the monitor's stderr

    def send_body(
        self,
        status: int,
        kind: str,
        data: bytes,
        *,
        body: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def send_plain(
        self, status: int, text: str, *, body: bool = True, headers: dict[str, str] | None = None
    ) -> None:
        kind = "text/plain; charset=utf-8"
        self.send_body(status, kind, text.encode(), body=body, headers=headers)

    def check_authorization(self, expected: bytes | None) -> bool:
        """Whether the request carries the credentials; a 401 answered when not."""
        if authorized(expected, self.headers.get("Authorization")):
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="LogsMonitor2000", charset="UTF-8"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False
