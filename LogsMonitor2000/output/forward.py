"""``--alert-url`` and ``--alert-log``: alerts and recoveries handed to Python's logging.

Each alert or recovery becomes a logging record (WARNING when an alert starts, INFO when
it ends) whose message is the text output's sentence and whose attributes are the JSON
record's keys (``type``, ``time``, ``hits``...).

* ``--alert-url``: the stdlib ``logging.handlers.HTTPHandler`` POSTs the record
  form-encoded (its ``__dict__``: what a Chronologer-style ``/api/v1/record`` endpoint
  takes); ``user:password@`` in the URL becomes basic auth; ``https`` works.  It runs
  behind a ``QueueHandler`` on a bounded queue and a ``QueueListener`` thread, so the
  monitor never waits for the network.  A POST gives up after ``TIMEOUT`` seconds; at
  the end the listener gets ``DRAIN_SECONDS`` to deliver what is queued.  An alert that
  was refused, timed out, got an HTTP error status, found the queue full or was still
  queued at the end is *undelivered*: stderr says so once when it first happens, and the
  summary counts them.  Neither the output nor the exit status changes.
* ``--alert-log FILE``: a ``FileHandler`` appends lines that lead with the log's time
  (local ISO-8601), then the level and the message, then the wall-clock time they
  were written at: ``2019-02-07T21:16:18+00:00 WARNING High traffic ... [written
  2026-12-01 09:12:01,123]``.
"""

from __future__ import annotations

import http.client
import logging
import logging.handlers
import queue
import socket
import sys
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import UsageError
from ..reports import AlertReport, Report, Summary
from ..net.addresses import shown_url
from . import Notifier, RunInfo
from ..words import local_time

#: Seconds a POST may take.
TIMEOUT = 5.0
#: Seconds the end of a run waits for queued alerts to be delivered.
DRAIN_SECONDS = 10.0
#: Alerts waiting for the network, at most.
QUEUE_SIZE = 1000


class _CheckedResponse:
    """A connection whose response must say the record was taken (2xx)."""

    def getresponse(self) -> http.client.HTTPResponse:
        response: http.client.HTTPResponse = super().getresponse()  # type: ignore[misc]
        response.read()
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status} {response.reason}")
        return response


class _HttpConnection(_CheckedResponse, http.client.HTTPConnection):
    pass


class _HttpsConnection(_CheckedResponse, http.client.HTTPSConnection):
    pass


class _NoLock:
    """A lock that never waits (for a handler that only one thread uses)."""

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        pass

    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc: object) -> None:
        pass


class _Poster(logging.handlers.HTTPHandler):
    """HTTPHandler with a timeout, a status check, and a count of what got through.

    Only the listener thread uses it, so it has no lock: ``logging.shutdown`` at exit
    would otherwise wait on it for as long as a POST in flight lasts - for ever, with a
    server that trickles a byte every few seconds.  ``abandon`` cuts that POST short."""

    def __init__(self, url: str, failed: Callable[[BaseException], None]) -> None:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        credentials = None
        if parts.username is not None:
            credentials = (
                urllib.parse.unquote(parts.username),
                urllib.parse.unquote(parts.password or ""),
            )
        super().__init__(
            netloc, path, method="POST", secure=parts.scheme == "https", credentials=credentials
        )
        self.delivered = 0
        self._failed = failed
        self._errors: list[BaseException] = []
        self._connection: http.client.HTTPConnection | None = None
        self._abandoned = threading.Event()

    def createLock(self) -> None:
        self.lock = _NoLock()  # type: ignore[assignment]

    def getConnection(self, host: str, secure: bool) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if secure:
            connection = _HttpsConnection(host, timeout=TIMEOUT, context=self.context)
        else:
            connection = _HttpConnection(host, timeout=TIMEOUT)
        self._connection = connection
        return connection

    def abandon(self) -> None:
        """From another thread, at the end: no more POSTs, and the one in flight ends."""
        self._abandoned.set()
        connection = self._connection
        if connection is not None and connection.sock is not None:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def emit(self, record: logging.LogRecord) -> None:
        if self._abandoned.is_set():
            return
        self._errors.clear()
        super().emit(record)  # calls handleError when it fails
        if self._abandoned.is_set():  # cut short: whatever came back was not a whole answer
            return
        if self._errors:
            self._failed(self._errors[0])
        else:
            self.delivered += 1

    def handleError(self, record: logging.LogRecord) -> None:
        self._errors.append(sys.exc_info()[1] or OSError("unknown error"))


class _BoundedQueueHandler(logging.handlers.QueueHandler):
    """A full queue drops the record (it is counted undelivered) instead of raising."""

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            super().enqueue(record)
        except queue.Full:
            pass


class AlertForwarder:
    """Sends alerts and recoveries through logging to ``--alert-url`` / ``--alert-log``."""

    def __init__(
        self, *, url: str | None, log_path: str | None, warn: Callable[[str], None]
    ) -> None:
        # A logger of its own, outside logging's registry: nothing global is touched.
        self.logger = logging.Logger("LogsMonitor2000.alerts", logging.INFO)
        self.url = url
        #: What the alerts count ("hit", "operation"), known once the run starts.
        self.unit = "hit"
        self.sent = 0
        self._warn = warn
        self._complained = False
        self._poster: _Poster | None = None
        self._listener: logging.handlers.QueueListener | None = None
        self._file: logging.FileHandler | None = None
        if log_path is not None:
            try:
                self._file = logging.FileHandler(log_path, encoding="utf-8")
            except OSError as error:
                raise UsageError(
                    f"cannot open the alert log {log_path}: {error.strerror or error}"
                ) from None
            # The log's time first: the wall clock of the writing comes last, marked,
            # so that the two can't be confused (a log read days later, say).
            self._file.setFormatter(
                logging.Formatter("%(log_time)s %(levelname)s %(message)s [written %(asctime)s]")
            )
            self.logger.addHandler(self._file)
        if url is not None:
            waiting: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
            self._poster = _Poster(url, self._failed)
            self.logger.addHandler(_BoundedQueueHandler(waiting))
            self._listener = logging.handlers.QueueListener(waiting, self._poster)
            self._listener.start()

    def send(self, alert: AlertReport) -> None:
        level = logging.WARNING if alert.raised else logging.INFO
        if self._poster is not None:
            self.sent += 1
        extra = alert.to_json()
        extra["log_time"] = local_time(alert.time)
        self.logger.log(level, alert.describe(self.unit), extra=extra)

    def close(self) -> int | None:
        """Deliver what is queued (for at most ``DRAIN_SECONDS``); the undelivered count
        (None without ``--alert-url``)."""
        if self._file is not None:
            self._file.close()
        if self._listener is None or self._poster is None:
            return None
        listener, self._listener = self._listener, None
        # QueueListener.stop() would wait for ever (and raise on a full queue): ask it
        # to stop, then wait for its (daemon) thread no longer than DRAIN_SECONDS.
        thread = listener._thread
        try:
            listener.enqueue_sentinel()
        except queue.Full:
            pass  # it delivers what it can until the deadline, then is left behind
        if thread is not None:
            thread.join(DRAIN_SECONDS)
            if thread.is_alive():  # a POST that doesn't end: cut it, leave the thread
                self._poster.abandon()
                thread.join(1.0)
        undelivered = self.sent - self._poster.delivered
        if undelivered:
            self._warn(
                f"{undelivered:,} of {self.sent:,} alerts were not delivered to "
                f"{shown_url(self.url or '')}"
            )
        return undelivered

    def _failed(self, error: BaseException) -> None:
        """In the listener thread: a POST failed.  Said once; the summary counts."""
        if not self._complained:
            self._complained = True
            self._warn(
                f"warning: alerts are not reaching {shown_url(self.url or '')}: {error} "
                f"(they are counted in the summary)"
            )


class ForwardingNotifier:
    """A notifier that also forwards alerts and recoveries, and adds the undelivered
    count to the summary."""

    def __init__(self, inner: Notifier, forwarder: AlertForwarder) -> None:
        self.inner = inner
        self.forwarder = forwarder

    def start(self, run: RunInfo) -> None:
        self.forwarder.unit = run.unit
        self.inner.start(run)

    def emit(self, record: Report) -> None:
        self.inner.emit(record)
        if isinstance(record, AlertReport):
            self.forwarder.send(record)

    def flush(self) -> None:
        self.inner.flush()

    def finish(self, summary: Summary) -> None:
        self.inner.finish(replace(summary, undelivered=self.forwarder.close()))
