"""How many of a Batch's events a rule's scope matches (``expression.py``).

A family says which scopes its events have and in which Batch field
(``Family.scopes``: HTTP counts paths in its visit log, status codes, classes, virtual
hosts, clients and methods; MongoDB methods and namespaces; Python logging levels and
senders).  A scope the family has no field for, or a virtual host in a format without
one, can't be evaluated: a usage error, never a rule that silently counts nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from itertools import repeat
from operator import itemgetter

from ..bounds import remember
from ..errors import UsageError
from ..pipeline.batch import Batch
from .base import Context
from .expression import Scope

#: Distinct keys remembered with whether they match (clients in a network).
MEMO_SIZE = 65536

_URL = itemgetter(2)  # (a visit's key: source, user, URL, status, referrer, agent)


def matcher(scope: Scope | None, context: Context, rule: str) -> Callable[[Batch], int]:
    """How many events of a Batch ``scope`` matches (all of them when there is none)."""
    if scope is None:
        return _hits
    family = context.family
    field = dict(family.scopes).get(scope.kind) if family is not None else None
    if field is None or (scope.kind == "vhost" and not context.vhosts):
        raise UsageError(
            f"--alert {rule!r}: {scope.text} can't be told in "
            f"{context.format_description or 'this log'}"
        )
    return _MATCHERS[scope.kind](field, scope.value)


def _hits(batch: Batch) -> int:
    return batch.hits


def _path(field: str, prefix: str) -> Callable[[Batch], int]:
    def count(batch: Batch) -> int:
        log = getattr(batch, field)
        total: int = sum(map(str.startswith, map(_URL, log.keys), repeat(prefix)))
        for key, (hits, _) in log.counted.items():  # (a busy second's, added up)
            if key[2].startswith(prefix):
                total += hits
        return total

    return count


def _key(field: str, value: str) -> Callable[[Batch], int]:
    def count(batch: Batch) -> int:
        found: int = getattr(batch, field).get(value, 0)
        return found

    return count


def _keys_where(field: str, test: Callable[[str], bool]) -> Callable[[Batch], int]:
    """The counts of the keys that pass ``test`` (remembered per distinct key)."""
    known: dict[str, bool] = {}

    def count(batch: Batch) -> int:
        total = 0
        for key, hits in getattr(batch, field).items():
            verdict = known.get(key)
            if verdict is None:
                verdict = test(key)
                remember(known, key, verdict, MEMO_SIZE)
            if verdict:
                total += hits
        return total

    return count


def _source(field: str, value: str) -> Callable[[Batch], int]:
    network = ipaddress.ip_network(value)
    family = socket.AF_INET if network.version == 4 else socket.AF_INET6
    mask, wanted = int(network.netmask), int(network.network_address)

    def inside(source: str) -> bool:
        try:
            address = int.from_bytes(socket.inet_pton(family, source), "big")
        except OSError:
            return False  # (another family's address, or a host name: in no network)
        return address & mask == wanted

    return _keys_where(field, inside)


def _method(field: str, value: str) -> Callable[[Batch], int]:
    wanted = value.casefold()
    return _keys_where(field, lambda key: key.casefold() == wanted)


def _level(field: str, value: str) -> Callable[[Batch], int]:
    lowest = int(value)
    return _keys_where(field, lambda key: key.isdigit() and int(key) >= lowest)


def _prefix(field: str, value: str) -> Callable[[Batch], int]:
    return _keys_where(field, lambda key: key.startswith(value))


#: A scope's kind -> how it counts the Batch field its family names.
_MATCHERS: dict[str, Callable[[str, str], Callable[[Batch], int]]] = {
    "path": _path,
    "code": _key,
    "class": _key,
    "vhost": _key,
    "source": _source,
    "method": _method,
    "level": _level,
    "ns": _prefix,
}
