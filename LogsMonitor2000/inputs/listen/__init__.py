"""Listeners: logs that come over the network (``--listen URL``), a live input each.

A listener is a receiver (``syslog.py``: UDP and TCP; ``http.py``: HTTP, served by the
monitor's HTTP server, ``net/http.py``) and the bounded queue it fills (``inbox.py``);
the pipeline (``pipeline/input_pipeline.py``) takes the payloads from the queue and
parses them.  A stop closes the listening sockets, lets the payloads being received
reach the inbox, and hands over what it holds (``drain``).
"""

from __future__ import annotations

import importlib
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from ...errors import UsageError
from ...net.addresses import listen_address, reachable_from_outside
from ..base import Defaults, Idle
from .inbox import (
    DRAIN_SECONDS,
    JSON,
    LINES,
    MAX_BODY,
    RECORD,
    SYSLOG,
    Inbox,
    ListenOptions,
    Received,
    Receiver,
    Verdict,
)

#: ``--listen`` schemes: the module and class of their receiver (imported when used),
#: and whether it speaks TLS.  A receiver is built as ``Class((host, port), inbox,
#: options, tls=context)``: a new transport is a module here and a line below.
SCHEMES = {
    "syslog+udp": ("syslog", "UdpReceiver", False),
    "syslog+tcp": ("syslog", "TcpReceiver", False),
    "syslog+tls": ("syslog", "TcpReceiver", True),
    "http": ("http", "HttpReceiver", False),
    "https": ("http", "HttpReceiver", True),
}


class Listener(Defaults):
    """A listener as an input: the payloads of its inbox, ``Idle`` when there is none.

    The payloads taken from the inbox are handed over a connection (a UDP sender) at a
    time, in turn: a sender that filled the inbox with its messages has the next
    payload of every other one counted before its own second one.  What is taken and
    not handed over yet is at most an inbox's worth (so the payloads held are at most
    two inboxes')."""

    live = True

    def __init__(self, receiver: Receiver, inbox: Inbox) -> None:
        self.receiver = receiver
        self.inbox = inbox
        #: Taken from the inbox, not handed over yet, by origin, in turn (a stop hands
        #: them over too).
        self._taken: dict[object, deque[Received]] = {}
        self._taken_bytes = self._taken_items = 0

    @property
    def url(self) -> str:
        return self.receiver.url

    def __iter__(self) -> Iterator[Received | Idle]:
        taken, inbox = self._taken, self.inbox
        while True:
            if self._taken_bytes < inbox.max_bytes and self._taken_items < inbox.max_items:
                for item in inbox.take():
                    taken.setdefault(item.origin, deque()).append(item)
                    self._taken_bytes += item.size
                    self._taken_items += 1
            if taken:
                origin, items = next(iter(taken.items()))
                del taken[origin]  # (its next payload waits for the others' turn)
                item = items.popleft()
                if items:
                    taken[origin] = items
                self._taken_bytes -= item.size
                self._taken_items -= 1
                yield item
            else:
                yield Idle(time.monotonic())

    def waitable(self) -> int | None:
        return self.inbox.waitable()

    def dropped(self) -> int | None:
        """Datagrams lost: turned away by the full inbox, or by the system."""
        return self.inbox.dropped + self.receiver.kernel_drops()

    def drain(self) -> list[Received]:
        """The run stops: accept nothing more, wait (a little) for what is being
        received, and hand over all that is held."""
        self.receiver.stop_accepting()
        deadline = time.monotonic() + DRAIN_SECONDS
        items = [item for queued in self._taken.values() for item in queued]
        self._taken.clear()
        self._taken_bytes = self._taken_items = 0
        while self.receiver.busy() and time.monotonic() < deadline:
            items += self.inbox.take()  # (room for a stream being read to its end)
            time.sleep(0.01)
        return items + self.inbox.take()

    def close(self) -> None:
        self.receiver.close()
        self.inbox.close()


def check_listen_url(url: str) -> tuple[str, bool, str, int]:
    """``--listen``'s URL as (scheme, TLS, host, port); ``UsageError`` when it is none
    of the schemes, or has a path or no port."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in SCHEMES:
        raise UsageError(
            f"--listen {url!r}: the URL starts with one of "
            + ", ".join(f"{name}://" for name in SCHEMES)
        )
    address = rest.rstrip("/")
    if scheme.startswith("http") and address.endswith("/ingest"):
        address = address[: -len("/ingest")]
    if "/" in address:
        raise UsageError(f"--listen {url!r}: no path but /ingest (HOST:PORT)")
    try:
        host, port = listen_address(address)
    except ValueError as error:
        raise UsageError(f"--listen: {error}") from None
    return scheme, SCHEMES[scheme][2], host, port


def open_listeners(
    urls: Sequence[str], options: ListenOptions, warn: Callable[[str], None]
) -> Iterator[Listener]:
    """The listeners of ``urls``, bound and started, their URLs said (``warn``), and
    whether other machines may reach them without credentials."""
    for url in urls:
        listener = open_listener(url, options)
        yield listener
        warn(f"listening on {listener.url}")
        scheme, _, host, _ = check_listen_url(url)
        if not reachable_from_outside(host):
            continue
        if scheme.startswith("http"):
            if options.credentials is None:
                warn(
                    f"warning: {listener.url} is reachable from other machines and asks "
                    "for no credentials: add --listen-auth"
                )
        else:
            warn(
                f"warning: {listener.url} is reachable from other machines, and syslog has "
                "no credentials: a firewall decides who may send"
            )


def open_listener(url: str, options: ListenOptions) -> Listener:
    """The listener of ``url`` (see ``check_listen_url``), bound and started; raises
    ``UsageError`` when it can't be (the port in use, no --tls-cert)."""
    scheme, tls, host, port = check_listen_url(url)
    if tls and options.tls is None:
        raise UsageError(f"--listen {url}: TLS needs --tls-cert (and --tls-key)")
    inbox = Inbox()
    module, name, _ = SCHEMES[scheme]
    make = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    try:
        receiver: Receiver = make((host, port), inbox, options, tls=options.tls if tls else None)
    except OSError as error:
        raise UsageError(
            f"--listen {url}: cannot listen there: {error.strerror or error}"
        ) from None
    receiver.start()
    return Listener(receiver, inbox)


__all__ = [
    "JSON",
    "LINES",
    "MAX_BODY",
    "RECORD",
    "SYSLOG",
    "Inbox",
    "ListenOptions",
    "Listener",
    "Received",
    "Verdict",
    "check_listen_url",
    "open_listener",
]
