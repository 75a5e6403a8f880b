"""Addresses and URLs: what the command line gives (``--alert-url``, ``--listen``,
``--serve``), checked at start, and never shown with a password; the addresses sockets
bind and hear from.

``shown_url`` masks the user-information part - everything between ``://`` and the
*last* ``@`` - whatever it holds: a password with an unencoded ``/`` or ``#`` makes
``urllib`` see a host and a port in it, and that must not leak either.  It may hide more
than the password (an ``@`` later in the path); it never shows less.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse
from typing import Any

#: Spaces and control characters: no request line can carry them.
_UNSENDABLE = re.compile(r"[\s\x00-\x1f\x7f]")


def shown_url(url: str) -> str:
    """The URL as it may be printed: its user-information masked (``user:***@``)."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    userinfo, _, after = rest.rpartition("@")
    user = userinfo.split(":", 1)[0].split("/", 1)[0]
    return f"{scheme}://{user}:***@{after}"


def check_http_url(url: str) -> str:
    """An http or https URL with a host, that a request can carry; ``ValueError``
    otherwise, with a message that shows no password."""
    shown = shown_url(url)
    if _UNSENDABLE.search(url):
        raise ValueError(f"{shown!r} holds a space or a control character")
    parts: urllib.parse.SplitResult | None
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port
    except ValueError:
        parts = None
    if "@" in url.partition("://")[2] and (parts is None or "@" not in parts.netloc):
        raise ValueError(
            f"{shown!r}: percent-encode the special characters of the user and password "
            "(/ ? # @ as %2F %3F %23 %40)"
        )
    if parts is None:
        raise ValueError(f"{shown!r} has an invalid host or port")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{shown!r} is not an http:// or https:// URL")
    return url


#: Where a listener binds when only a port is given (``8514``).
DEFAULT_HOST = "127.0.0.1"
#: The host of ``:PORT``: every interface (as Prometheus and Go read it).
EVERY_INTERFACE = ""


def listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPV6]:PORT``, ``:PORT`` (every interface: ``EVERY_INTERFACE``)
    or ``PORT`` (``DEFAULT_HOST``) as (host, port); port 0 picks a free one.
    ``ValueError`` otherwise."""
    host, separator, port = text.rpartition(":")
    if not separator:
        host, port = DEFAULT_HOST, text
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{text!r}: write an IPv6 address in brackets, [::1]:8080")
    if not port.isdigit() or int(port) > 65535 or _UNSENDABLE.search(host):
        raise ValueError(f"{text!r} is not HOST:PORT (a port from 0 to 65535)")
    return host, int(port)


def reachable_from_outside(host: str) -> bool:
    """Whether a socket bound to ``host`` can be reached from other machines: every
    interface, or an address (or a name) that is not a loopback one."""
    if host in ("localhost", "ip6-localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # (every interface "", or a name: it may be)


def host_names(host: str) -> frozenset[str]:
    """The names a ``Host`` header may give a server bound to ``host`` (lower case),
    beyond an IP address, which is always allowed: ``localhost``, the name it was bound
    to, and - bound to every interface or an address of the machine's - the machine's
    own name (``gethostname``: no DNS asked)."""
    names = {"localhost", host.lower().rstrip(".")}
    if host == EVERY_INTERFACE or _is_address(host) and reachable_from_outside(host):
        names.add(socket.gethostname().lower())
    return frozenset(name for name in names if name)


def host_allowed(header: str | None, names: frozenset[str]) -> bool:
    """Whether a request's ``Host`` (``name``, ``name:port``, ``[v6]:port``) names this
    server: an IP address, a name of ``names`` or one under ``.localhost``.  A page
    elsewhere whose name was pointed at 127.0.0.1 (DNS rebinding) is refused; a client
    that sends no Host (HTTP/1.0) is not a browser."""
    if header is None:
        return True
    host = header.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    host = host.rstrip(".")
    return bool(host) and (_is_address(host) or host in names or host.endswith(".localhost"))


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def tcp_socket(address: tuple[str, int], backlog: int) -> socket.socket:
    """A listening TCP socket on ``address``: every interface, IPv6 and IPv4 where the
    system has both, for the host ``EVERY_INTERFACE``."""
    host, port = address
    if host == EVERY_INTERFACE and socket.has_dualstack_ipv6():
        return socket.create_server(
            ("::", port), family=socket.AF_INET6, backlog=backlog, dualstack_ipv6=True
        )
    return socket.create_server(address, family=family_of(address), backlog=backlog)


def udp_socket(address: tuple[str, int]) -> socket.socket:
    """A bound UDP socket on ``address`` (every interface as ``tcp_socket`` has them)."""
    host, port = address
    if host == EVERY_INTERFACE and socket.has_dualstack_ipv6():
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        address = ("::", port)
    else:
        sock = socket.socket(family_of(address), socket.SOCK_DGRAM)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def family_of(address: tuple[str, int]) -> socket.AddressFamily:
    """The address family of a ``(host, port)`` to bind (an IPv6 host has colons)."""
    return socket.AF_INET6 if ":" in address[0] else socket.AF_INET


def bound_url(scheme: str, bound: Any) -> str:
    """``scheme://host:port`` of a socket's bound address (port 0 became a real one)."""
    host, port = bound[:2]
    host = host.decode() if isinstance(host, bytes) else str(host)
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def peer_host(address: Any) -> str:
    """The host of a peer's address as ``accept`` or ``recvfrom`` gave it (an IPv4
    client of a socket of both families as the IPv4 address it is)."""
    host = str(address[0] if isinstance(address, tuple) else address)
    return host[7:] if host.startswith("::ffff:") and "." in host else host
