"""``--alertmanager URL``: every alert and recovery POSTed to Prometheus Alertmanager's
``URL/api/v2/alerts`` (docs/alerts.md), where a site already routes its alerts.

An alert is sent with its labels (``alertname``: the rule's name, ``job``:
``logsmonitor2000``, ``instance``: this host, ``log``: the inputs), its annotations
(the sentence of the text output, the value, the threshold, the window) and
``startsAt`` (its log time).  Alertmanager resolves an alert that is not sent again
within its ``resolve_timeout`` (5 minutes by default), so every active alert is sent
again every ``RESEND_SECONDS`` (``--alertmanager-resend``) while the monitor runs; a
recovery sends the alert with
``endsAt``.  An alert still active when the monitor stops is left to Alertmanager's
timeout.

The monitor never waits for it: a thread of its own POSTs from a bounded queue
(``QUEUE_SIZE``), each POST gives up after ``TIMEOUT`` seconds, and the end of a run
waits at most ``DRAIN_SECONDS`` for what is queued.  Alerts and recoveries that were
refused, timed out or found the queue full are *undelivered*: stderr says so once, the
summary counts them.  ``user:password@`` in the URL is sent as basic auth and never
printed.
"""

from __future__ import annotations

import base64
import http.client
import json
import queue
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from ..net.addresses import shown_url
from ..reports import AlertReport, Report, Summary
from . import Notifier, RunInfo

#: Seconds a POST may take.
TIMEOUT = 5.0
#: Seconds between two sends of the active alerts (Prometheus' ``resend_delay``).
RESEND_SECONDS = 60.0
#: Seconds the end of a run waits for queued alerts to be delivered.
DRAIN_SECONDS = 10.0
#: Alerts and recoveries waiting for the network, at most.
QUEUE_SIZE = 1000
#: The ``job`` label.
JOB = "logsmonitor2000"


def timestamp(second: int) -> str:
    """RFC 3339, as Alertmanager reads it."""
    return datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class AlertmanagerClient:
    """POSTs alerts to Alertmanager from a thread of its own; re-sends the active ones."""

    def __init__(
        self,
        url: str,
        *,
        warn: Callable[[str], None],
        instance: str = "",
        resend: float = RESEND_SECONDS,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        self.url = url
        self.secure = parts.scheme == "https"
        self.host = parts.netloc.rpartition("@")[2]
        self.path = parts.path.rstrip("/") + "/api/v2/alerts"
        self.headers = {"Content-Type": "application/json"}
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self.headers["Authorization"] = f"Basic {token}"
        self.instance = instance or socket.gethostname()
        self.resend = resend
        self.log = ""
        self.unit = "hit"
        self._warn = warn
        self._complained = False
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(QUEUE_SIZE)
        #: The alerts active now, by rule (what is sent again).
        self._active: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.sent = self.delivered = 0
        self._thread = threading.Thread(target=self._run, name="alertmanager", daemon=True)
        self._thread.start()

    def send(self, alert: AlertReport) -> None:
        """Queue an alert or a recovery (never waits: a full queue drops it)."""
        record = alert.to_json()
        labels = {"alertname": alert.rule, "job": JOB, "instance": self.instance}
        if self.log:
            labels["log"] = self.log
        annotations = {"summary": alert.describe(self.unit)}
        for key in ("value", "threshold", "window", "average", "p95"):
            if record.get(key) is not None:
                annotations[key] = str(record[key])
        payload: dict[str, Any] = {
            "labels": labels,
            "annotations": annotations,
            "startsAt": timestamp(alert.time),
        }
        with self._lock:
            if alert.raised:
                self._active[alert.rule] = payload
            else:
                started = self._active.pop(alert.rule, None)
                if started is not None:
                    payload = {**started, "annotations": annotations}
                payload["endsAt"] = timestamp(alert.time)
        self.sent += 1
        try:
            self._queue.put_nowait(payload)
        except queue.Full:
            self._failed(OSError("the queue is full"))

    def close(self) -> int:
        """Deliver what is queued (at most ``DRAIN_SECONDS``); the undelivered count."""
        try:
            self._queue.put(None, timeout=DRAIN_SECONDS)
        except queue.Full:
            pass
        self._thread.join(DRAIN_SECONDS)
        undelivered = self.sent - self.delivered
        if undelivered:
            self._warn(
                f"{undelivered:,} of {self.sent:,} alerts were not delivered to "
                f"{shown_url(self.url)}"
            )
        return undelivered

    def _run(self) -> None:
        next_resend = time.monotonic() + self.resend
        while True:
            try:
                payload = self._queue.get(timeout=max(next_resend - time.monotonic(), 0.0))
            except queue.Empty:
                with self._lock:
                    active = list(self._active.values())
                if active:
                    self._post(active)  # (a repeat: not counted)
                next_resend = time.monotonic() + self.resend
                continue
            if payload is None:
                return
            if self._post([payload]):
                self.delivered += 1

    def _post(self, alerts: list[dict[str, Any]]) -> bool:
        body = json.dumps(alerts).encode("utf-8")
        kind = http.client.HTTPSConnection if self.secure else http.client.HTTPConnection
        connection = kind(self.host, timeout=TIMEOUT)
        try:
            connection.request("POST", self.path, body=body, headers=self.headers)
            response = connection.getresponse()
            response.read()
            if not 200 <= response.status < 300:
                raise OSError(f"HTTP {response.status} {response.reason}")
            return True
        except (OSError, http.client.HTTPException) as error:
            self._failed(error)
            return False
        finally:
            connection.close()

    def _failed(self, error: BaseException) -> None:
        if not self._complained:
            self._complained = True
            self._warn(
                f"warning: alerts are not reaching {shown_url(self.url)}: {error} "
                "(they are counted in the summary)"
            )


class AlertmanagerNotifier:
    """A notifier that also sends alerts and recoveries to Alertmanager, and adds the
    undelivered ones to the summary's count."""

    def __init__(self, inner: Notifier, client: AlertmanagerClient) -> None:
        self.inner = inner
        self.client = client

    def start(self, run: RunInfo) -> None:
        self.client.unit = run.unit
        self.client.log = run.path
        self.inner.start(run)

    def emit(self, record: Report) -> None:
        self.inner.emit(record)
        if isinstance(record, AlertReport):
            self.client.send(record)

    def flush(self) -> None:
        self.inner.flush()

    def finish(self, summary: Summary) -> None:
        undelivered = self.client.close() + (summary.undelivered or 0)
        self.inner.finish(replace(summary, undelivered=undelivered))
