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
503 with ``Retry-After`` when the inbox is full.
"""

from __future__ import annotations

import ssl
import threading
from http import HTTPStatus
from urllib.parse import urlsplit

from ..httpd import GuardedHTTPServer, QuietHandler, basic_authorization
from .listen import (
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


class _Answer:
    """The verdict on one payload, from the pipeline's thread to the request's."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.status = 503
        self.text = ""

    def __call__(self, status: int, text: str) -> None:
        self.status, self.text = status, text
        self.ready.set()


class _Server(GuardedHTTPServer):
    inbox: Inbox
    max_body: int
    authorization: bytes | None
    receiving: int
    lock: threading.Lock


class _Handler(QuietHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS  # (a connection idle this long is closed)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if self._refused(parts.path):
            return
        if not parts.query:
            self._plain(HTTPStatus.BAD_REQUEST, "GET /ingest needs a query string")
            return
        self._reply(self._offer(RECORD, parts.query.encode("latin-1", "replace")))

    def do_POST(self) -> None:
        if self._refused(urlsplit(self.path).path):
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self.close_connection = True
            self._plain(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
            return
        if int(length) > self.server.max_body:
            self.close_connection = True
            self._plain(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body is over {self.server.max_body:,} bytes (--max-body)",
            )
            return
        kind = KINDS.get(self.headers.get_content_type(), None)
        if self.headers.get("Content-Type") is None:
            kind = LINES
        if kind is None:
            self.close_connection = True
            self._plain(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "send text/plain, application/json, application/x-ndjson or "
                "application/x-www-form-urlencoded",
            )
            return
        with self.server.lock:
            self.server.receiving += 1
        try:  # (a stop waits while a body is being read, not for its answer)
            body = self.rfile.read(int(length))
            answer = self._offer(kind, body) if len(body) == int(length) else None
        finally:
            with self.server.lock:
                self.server.receiving -= 1
        if len(body) < int(length):
            self.close_connection = True
            return  # (the client went away)
        self._reply(answer)

    def _refuse(self) -> None:
        self.close_connection = True
        self._plain(HTTPStatus.METHOD_NOT_ALLOWED, "POST or GET /ingest", {"Allow": "GET, POST"})

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _refused(self, path: str) -> bool:
        if path != PATH:
            self.close_connection = True
            self._plain(HTTPStatus.NOT_FOUND, "the path is /ingest")
            return True
        return not self.check_authorization(self.server.authorization)

    def _offer(self, kind: str, body: bytes) -> _Answer | None:
        """Put the payload in the inbox; its answer to come (None: the inbox is full)."""
        answer = _Answer()
        item = Received(kind, sender_of(self.client_address), body=body, answer=answer)
        return answer if self.server.inbox.offer(item) else None

    def _reply(self, answer: _Answer | None) -> None:
        """Answer once the payload is counted (503 when it could not be queued)."""
        if answer is None:
            self._plain(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "the monitor is busy: send it again later",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            return
        if not answer.ready.wait(ANSWER_SECONDS):
            answer(503, "not counted in time")
        if answer.status == HTTPStatus.OK:
            self.send_body(answer.status, "application/json", answer.text.encode())
        else:
            self._plain(answer.status, answer.text)

    def _plain(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        self.send_plain(status, text + "\n", headers=headers)


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
        server = _Server(address, _Handler, max_connections=MAX_CONNECTIONS, tls=tls)
        server.inbox = inbox
        server.max_body = options.max_body
        server.authorization = basic_authorization(options.credentials)
        server.receiving = 0
        server.lock = threading.Lock()
        self._server = server
        self.url = server.url("https" if tls else "http") + PATH

    def start(self) -> None:
        self._server.start()

    def stop_accepting(self) -> None:
        self._server.stop()

    def busy(self) -> bool:
        return self._server.receiving > 0

    def close(self) -> None:
        self.stop_accepting()
