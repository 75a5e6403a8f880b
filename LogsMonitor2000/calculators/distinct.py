"""Distinct visitors of a day: exact up to ``EXACT_VISITORS``, then HyperLogLog.

A visitor is named by a stable 56-bit hash of its source and user agent (``visitor_id``:
the same in every process, so checkpoints and merged halves agree).  ``DayVisitors``
keeps the day's visitors exactly until there are ``EXACT_VISITORS`` of them; past that
it counts them with HyperLogLog (Flajolet et al., 2007) of 2^14 registers, whose
standard error is 1.04 / 2^7 = 0.8% (docs/panels.md).

Ids cross between processes (a worker's panels, pickled) packed, 8 bytes each
(``packed``): the main process adds them to the sets it merges them into straight from
the bytes, without building a set of them first (``shipped``).
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections.abc import Collection, Iterable
from typing import Any

from ..checkpoint import validate

#: Distinct visitors a day counts exactly.
EXACT_VISITORS = 100_000
#: HyperLogLog: 2^PRECISION registers.
PRECISION = 14
_REGISTERS = 1 << PRECISION
_ALPHA = 0.7213 / (1 + 1.079 / _REGISTERS)
#: The bits of a visitor's id (a checkpoint's integers stay below 2^63).
HASH_BITS = 56


def packed(ids: Iterable[int]) -> bytes:
    """Visitors' ids as they cross between processes (native 8-byte integers)."""
    return array("Q", ids).tobytes()


def unpacked(blob: bytes) -> Collection[int]:
    return array("Q", blob)


def visitor_id(source: str, agent: str) -> int:
    """A stable hash of a visitor (its date is where it is counted)."""
    text = f"{source}\0{agent}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(text, digest_size=HASH_BITS // 8).digest(), "big")


class DayVisitors:
    """The distinct visitors of one day (see the module's docstring): their ids, a set
    of integers that merges and travels (between processes, into a store) as numbers,
    while exact; then HyperLogLog's registers.  ``memo`` remembers the ids of the
    (source, user agent) pairs met here, so a visitor is hashed once a day."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.registers: bytearray | None = None
        #: (source, agent) -> its id, for those counted here (not part of the state).
        self.memo: dict[tuple[str, str], int] = {}
        #: The ids as another process packed them (``ids`` empty meanwhile): merged
        #: from the bytes, made a set only should this count on.
        self.shipped: bytes | None = None

    def __getstate__(self) -> tuple[bytes, bytearray | None]:
        return packed(self.known()), self.registers

    def __setstate__(self, state: tuple[bytes, bytearray | None]) -> None:
        self.__init__()  # type: ignore[misc]
        self.shipped, self.registers = state

    def known(self) -> Collection[int]:
        """The ids, while exact."""
        return self.ids if self.shipped is None else unpacked(self.shipped)

    def id_of(self, source: str, agent: str) -> int:
        """The visitor's id, counting it."""
        key = (source, agent)
        found = self.memo.get(key)
        if found is not None:
            return found
        found = visitor_id(source, agent)
        if len(self.memo) < EXACT_VISITORS:
            self.memo[key] = found
        self.add_ids((found,))
        return found

    def add_ids(self, ids: Iterable[int]) -> None:
        """Count visitors by their ids (a store's, say)."""
        if self.shipped is not None:
            self.ids, self.shipped = set(unpacked(self.shipped)), None
        if self.registers is None:
            self.ids.update(ids)
            if len(self.ids) > EXACT_VISITORS:
                self._estimate()
        else:
            for hashed in ids:
                self._register(hashed)

    def _estimate(self) -> None:
        """Past ``EXACT_VISITORS``: from now on, HyperLogLog."""
        self.registers = bytearray(_REGISTERS)
        for known in self.known():
            self._register(known)
        self.ids, self.shipped = set(), None

    def _register(self, hashed: int) -> None:
        assert self.registers is not None
        index = hashed >> (HASH_BITS - PRECISION)
        rest = hashed & ((1 << (HASH_BITS - PRECISION)) - 1)
        rank = (HASH_BITS - PRECISION) - rest.bit_length() + 1
        if rank > self.registers[index]:
            self.registers[index] = rank

    def count(self) -> int:
        registers = self.registers
        if registers is None:
            return len(self.known())
        estimate = _ALPHA * _REGISTERS**2 / sum(2.0**-rank for rank in registers)
        zeros = registers.count(0)
        if estimate <= 2.5 * _REGISTERS and zeros:
            estimate = _REGISTERS * math.log(_REGISTERS / zeros)
        return round(estimate)

    def merge(self, other: DayVisitors) -> None:
        if other.registers is None:
            self.add_ids(other.known())
            return
        if self.registers is None:
            self._estimate()
        assert self.registers is not None
        mine = self.registers
        for index, rank in enumerate(other.registers):
            if rank > mine[index]:
                mine[index] = rank

    def to_json(self) -> dict[str, Any]:
        return {
            "ids": sorted(self.known()),
            "registers": None if self.registers is None else self.registers.hex(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        for item in validate.listed(data["ids"]):
            if isinstance(item, list):  # (a checkpoint of an earlier version: the pair)
                source, agent = (validate.text(part) for part in item)
                self.memo[(source, agent)] = visitor = visitor_id(source, agent)
            else:
                visitor = validate.count(item)
                if visitor >> HASH_BITS:
                    raise ValueError("a visitor's id has more bits than a hash")
            self.ids.add(visitor)
        registers = data["registers"]
        self.registers = None if registers is None else bytearray.fromhex(validate.text(registers))
        if self.registers is not None and len(self.registers) != _REGISTERS:
            raise ValueError("not as many registers as HyperLogLog keeps")
