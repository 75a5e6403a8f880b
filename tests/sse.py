"""A real client of ``--serve``: plain requests and a Server-Sent Events stream read
with ``http.client``, over a socket to 127.0.0.1."""

from __future__ import annotations

import base64
import http.client
import json
import re
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.live import LiveMonitor


def served_url(live: LiveMonitor) -> str:
    """The URL the monitor says it serves (its stderr)."""
    live.wait_for_stderr("serving ")
    found = re.search(r"serving (https?://\S+)", live.stderr)
    assert found, live.stderr
    return found.group(1)


def _connection(url: str, timeout: float, tls: ssl.SSLContext | None) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1", url
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=tls)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def basic(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def get(
    url: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request: (status, headers, body)."""
    connection = _connection(url, 10, tls)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def get_json(url: str, path: str, **options: Any) -> Any:
    status, _, body = get(url, path, **options)
    assert status == 200, (status, body)
    return json.loads(body)


@dataclass
class Event:
    #: The record's number in its run (``id: RUN:N``), and the run.
    id: int | None
    event: str
    data: str
    run: str = ""


class EventStream:
    """``GET /events``, read event by event."""

    def __init__(
        self,
        url: str,
        *,
        last_event_id: int | str | None = None,
        path: str = "/events",
        headers: dict[str, str] | None = None,
        timeout: float = 20,
    ) -> None:
        self.connection = _connection(url, timeout, None)
        sent = dict(headers or {})
        if last_event_id is not None:
            sent["Last-Event-ID"] = str(last_event_id)
        self.connection.request("GET", path, headers=sent)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = dict(self.response.getheaders())

    def next(self) -> Event | None:
        """The next event (comments and retry lines skipped); None at the stream's end."""
        fields: dict[str, str] = {}
        while True:
            raw = self.response.fp.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\n")
            if not line:
                if "event" in fields or "data" in fields:
                    run, _, number = fields.get("id", "").rpartition(":")
                    return Event(
                        int(number) if number else None,
                        fields.get("event", "message"),
                        fields.get("data", ""),
                        run,
                    )
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def take(self, count: int) -> list[Event]:
        events = []
        while len(events) < count:
            event = self.next()
            assert event is not None, f"the stream ended after {events}"
            events.append(event)
        return events

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
