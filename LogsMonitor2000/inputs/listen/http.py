"""The HTTP receiver (``http://``, ``https://``): ``POST /ingest`` and ``GET /ingest?...``.

* ``text/plain`` (or no type): log lines in the run's format, one per line;
* ``application/json``, ``application/x-ndjson``: JSON objects (one, an array, or one
  per line);
* ``application/x-www-form-urlencoded`` body, or a ``GET`` query string: one Python
  ``LogRecord``'s attributes, as ``logging.handlers.HTTPHandler`` sends them.

The body goes raw into the listener's inbox; the answer waits until the pipeline has
counted it: 200 with ``{"records": N, "invalid": M}``, or 400 with one line of reason
when none of its records was valid.  Other answers: 401 without the credentials of
``--listen-auth``, 403 for a request a web page makes (a browser's, with ``Origin`` or
``Sec-Fetch-Site``), 404 for another path, 405 for another method, 411 without a
``Content-Length``, 413 for a body over ``--max-body``, 415 for another content type,
431 for a request head over 64 KiB, 503 with ``Retry-After`` when the inbox is full.

It is an app of the monitor's HTTP server (``net/http.py``: the framing, keep-alive,
pipelining, limits and TLS live there), one thread for all connections: a client
such as ``HTTPHandler`` opens a connection per record and waits for each answer, and a
thread per connection (``http.server``) cost it more than the whole pipeline did.
"""

from __future__ import annotations

import json
import ssl
from http import HTTPStatus

from ...net.auth import CHALLENGE, authorized, basic_authorization
from ...net.http import Exchange, HttpServer, Reply, Request
from .inbox import (
    IDLE_SECONDS,
    JSON,
    LINES,
    MAX_CONNECTIONS,
    RECORD,
    Inbox,
    ListenOptions,
    Received,
    Routed,
    Verdict,
)

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


class Ingest:
    """The app: ``/ingest`` requests into the inbox, answered with their verdict."""

    def __init__(self, inbox: Inbox, *, credentials: str | None, max_body: int) -> None:
        self.inbox = inbox
        self.max_body = max_body
        self.authorization = basic_authorization(credentials)

    def refusal(self, request: Request) -> Reply | None:
        """Why ``request`` is not taken, before its body."""
        if request.path != PATH:
            return Reply(HTTPStatus.NOT_FOUND, "the path is /ingest")
        if _from_a_page(request):
            return Reply(HTTPStatus.FORBIDDEN, "a web page may not send records")
        if not authorized(self.authorization, request.headers.get("authorization")):
            return Reply(
                HTTPStatus.UNAUTHORIZED, "send credentials", {"WWW-Authenticate": CHALLENGE}
            )
        if request.method not in ("GET", "POST"):
            return Reply(
                HTTPStatus.METHOD_NOT_ALLOWED, "POST or GET /ingest", {"Allow": "GET, POST"}
            )
        if request.length > self.max_body:
            text = f"the body is over {self.max_body:,} bytes (--max-body)"
            return Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, text)
        if request.method == "GET":
            if not request.query:
                return Reply(HTTPStatus.BAD_REQUEST, "GET /ingest needs a query string")
        elif _kind(request) is None:
            text = (
                "send text/plain, application/json, application/x-ndjson or "
                "application/x-www-form-urlencoded"
            )
            return Reply(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, text)
        return None

    def handle(self, request: Request, exchange: Exchange) -> None:
        """Put the payload in the inbox: the answer comes once it is counted (its
        verdict), or at once when the inbox is full."""
        if request.method == "GET":
            kind, body = RECORD, request.query.encode("latin-1")
        else:
            kind, body = _kind(request) or LINES, request.body

        def settle(verdict: Verdict) -> None:
            exchange.reply_soon(_answer(verdict))

        item = Received(kind, request.peer, body=body, settle=settle, origin=exchange.connection)
        exchange.on_late = item.expire  # (a 503 only for what will never be counted)
        if not self.inbox.offer(item):
            exchange.reply(
                Reply(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "the monitor is busy: send it again later",
                    {"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            )


def _from_a_page(request: Request) -> bool:
    """Whether a browser sends the request for a page: a page of any site may POST
    ``text/plain`` or load ``GET /ingest?...`` without asking, and one whose name was
    pointed at this machine (DNS rebinding) is a site of its own.  Browsers say where
    a request comes from (``Origin``, ``Sec-Fetch-Site``); senders of logs never do.
    (``Sec-Fetch-Site: none``: the user typed the URL.)"""
    headers = request.headers
    return "origin" in headers or headers.get("sec-fetch-site", "none") != "none"


def _kind(request: Request) -> str | None:
    given = request.headers.get("content-type")
    if given is None:
        return LINES
    return KINDS.get(given.partition(";")[0].strip().lower())


def _answer(verdict: Verdict) -> Reply:
    """The answer to a payload the pipeline has judged."""
    if verdict.dropped:
        return Reply(HTTPStatus.SERVICE_UNAVAILABLE, verdict.refused or "not counted")
    if verdict.refused is not None:
        return Reply(HTTPStatus.BAD_REQUEST, verdict.refused)
    counts = {"records": verdict.records, "invalid": verdict.invalid}
    return Reply(HTTPStatus.OK, json.dumps(counts), content_type="application/json", raw=True)


class Routes:
    """/ingest, and the paths another app serves (``ListenOptions.api``)."""

    def __init__(self, ingest: Ingest, api: Routed) -> None:
        self.ingest = ingest
        self.api = api

    def refusal(self, request: Request) -> Reply | None:
        app = self.api if self.api.serves(request) else self.ingest
        return app.refusal(request)

    def handle(self, request: Request, exchange: Exchange) -> None:
        app = self.api if self.api.serves(request) else self.ingest
        app.handle(request, exchange)


class HttpReceiver:
    """The HTTP listener: the ``Ingest`` app on an ``HttpServer`` (a ``Receiver``)."""

    def __init__(
        self,
        address: tuple[str, int],
        inbox: Inbox,
        options: ListenOptions,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        ingest = Ingest(inbox, credentials=options.credentials, max_body=options.max_body)
        app: Ingest | Routes = ingest
        if options.api is not None:
            options.api.inbox = inbox
            app = Routes(ingest, options.api)
        self.server = HttpServer(
            address,
            app,
            name="http",
            max_connections=MAX_CONNECTIONS,
            max_body=options.max_body,
            idle_seconds=IDLE_SECONDS,
            answer_seconds=ANSWER_SECONDS,
            late="not counted in time",
            tls=tls,
            any_host=True,  # (senders name it as they please: browsers are refused)
        )
        self.url = self.server.url("https" if tls else "http") + PATH

    def start(self) -> None:
        self.server.start()

    def stop_accepting(self) -> None:
        self.server.stop_accepting()

    def busy(self) -> bool:
        return self.server.busy()

    def kernel_drops(self) -> int:
        return 0

    def close(self) -> None:
        self.server.close()
