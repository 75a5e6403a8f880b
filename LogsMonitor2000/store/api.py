"""Chronologer's record API on an HTTP listener of a run with ``--store``
(docs/store.md, "Chronologer's record API").

An application configured for Chronologer - ``HTTPHandler(host, '/api/v1/record',
'POST', credentials=(user, password))`` - works unchanged:

* ``POST /api/v1/record``, a form-encoded ``LogRecord``: stored at once, ``201`` with
  ``{"id": N}`` (and ``Location``), and handed to the pipeline to be counted;
* ``HEAD /api/v1/record?after=&before=&level=&name=``: ``X-Record-Count``; with
  ``group=hour|day`` and ``timezone=``, ``X-Record-Group`` too (counts per local hour
  or day, as a JSON object);
* ``GET /api/v1/record?...&left=&right=``: those records, newest first (``right``
  inclusive);
* ``GET /api/v1/record/{id}``: one record, with its ``logrec`` (``data``, ``meta``).

There is no free-form query: a ``query`` parameter is ignored.  The credentials are the
listener's (``--listen-auth``); a request a web page makes is refused, as on /ingest.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..inputs.listen.inbox import RECORD, Inbox, Received
from ..net.auth import CHALLENGE, authorized, basic_authorization
from ..net.http import Exchange, Reply, Request
from ..parsers.pylog import fields_of
from . import records
from .schema import open_store

PATH = "/api/v1/record"
JSON_TYPE = "application/json"


class RecordApi:
    """The record API (an ``App`` beside /ingest: see ``inputs/listen/http.py``)."""

    def __init__(
        self,
        path: str,
        *,
        credentials: str | None,
        shown_sender: Callable[[str], str] = str,
    ) -> None:
        self.db = open_store(path, write=True)
        self.authorization = basic_authorization(credentials)
        #: What is stored of a sender's address (``--anonymize``: anonymous).
        self.shown_sender = shown_sender
        self.inbox: Inbox | None = None

    def serves(self, request: Request) -> bool:
        return request.path == PATH or request.path.startswith(PATH + "/")

    def refusal(self, request: Request) -> Reply | None:
        if "origin" in request.headers or request.headers.get("sec-fetch-site", "none") != "none":
            return Reply(HTTPStatus.FORBIDDEN, "a web page may not use the record API")
        if not authorized(self.authorization, request.headers.get("authorization")):
            return Reply(
                HTTPStatus.UNAUTHORIZED, "send credentials", {"WWW-Authenticate": CHALLENGE}
            )
        allowed = "GET, HEAD, POST" if request.path == PATH else "GET"
        if request.method not in allowed.split(", "):
            return Reply(HTTPStatus.METHOD_NOT_ALLOWED, f"{allowed} here", {"Allow": allowed})
        return None

    def handle(self, request: Request, exchange: Exchange) -> None:
        try:
            exchange.reply(self._answer(request))
        except sqlite3.Error as error:
            exchange.reply(Reply(HTTPStatus.SERVICE_UNAVAILABLE, f"the store: {error}"))
        except (ValueError, OverflowError) as error:  # (what no check above foresaw)
            exchange.reply(Reply(HTTPStatus.BAD_REQUEST, f"can't be read: {error}"))

    def _answer(self, request: Request) -> Reply:
        if request.path != PATH:
            number = request.path[len(PATH) + 1 :]
            found = records.one(self.db, int(number)) if _number(number) else None
            if found is None:
                return Reply(HTTPStatus.NOT_FOUND, "no such record")
            return _json(HTTPStatus.OK, found)
        if request.method == "POST":
            return self._post(request)
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        try:
            query = records.Query(params)
            if request.method == "HEAD":
                return self._head(query, params)
            left, right = _paging(params)
        except ValueError as error:
            return Reply(HTTPStatus.BAD_REQUEST, str(error))
        return _json(HTTPStatus.OK, query.page(self.db, left, right))

    def _post(self, request: Request) -> Reply:
        text = request.body.decode("latin-1")
        fields = fields_of(text)
        if fields is None or "name" not in fields:
            return Reply(HTTPStatus.BAD_REQUEST, "send a form-encoded logging record")
        try:
            row = records.record_row(fields, sender=self.shown_sender(request.peer), kept=False)
        except records.BadRecord as error:
            return Reply(HTTPStatus.BAD_REQUEST, str(error))
        counted = Received(RECORD, request.peer, body=b"_stored=1&" + request.body, settle=None)
        if self.inbox is not None and not self.inbox.offer(counted):
            return Reply(
                HTTPStatus.SERVICE_UNAVAILABLE, "the monitor is busy", {"Retry-After": "1"}
            )
        number = records.insert(self.db, [row])  # (a transaction of its own)
        return _json(HTTPStatus.CREATED, {"id": number}, {"Location": f"{PATH}/{number}"})

    def _head(self, query: records.Query, params: dict[str, str]) -> Reply:
        headers = {"X-Record-Count": str(query.count(self.db))}
        group = params.get("group")
        if group:
            if group not in ("hour", "day"):
                raise ValueError("group is hour or day")
            try:
                zone = ZoneInfo(params.get("timezone") or "UTC")
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("timezone is a time zone's name (Europe/Berlin)") from None
            headers["X-Record-Group"] = json.dumps(query.groups(self.db, group, zone))
        return Reply(HTTPStatus.OK, "", headers, raw=True)

    def close(self) -> None:
        self.db.close()


def _number(text: str) -> bool:
    return text.isdigit() and text.isascii() and len(text) <= 18


def _paging(params: dict[str, str]) -> tuple[int, int]:
    left, right = params.get("left", "0"), params.get("right", "")
    if not _number(left) or (right and not _number(right)):
        raise ValueError("left and right are record numbers (0 is the newest)")
    first = int(left)
    last = int(right) if right else first + 99
    if last < first or last - first >= records.MAX_PAGE:
        raise ValueError(f"right is at least left, and a page at most {records.MAX_PAGE:,}")
    return first, last


def _json(status: int, data: object, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(data), headers or {}, content_type=JSON_TYPE, raw=True)
