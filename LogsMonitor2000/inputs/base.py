"""What every input shares: the items it hands over, where it has got to.

An input is an iterable of *items*: a block (one str holding complete lines, each
ending in ``"\\n"``), a ``Chunk`` a worker parsed (``parallel.py``), or, for a live
input, ``Idle``: nothing new now, with the wall-clock time it is at.  A live input never
waits on its own: the monitor waits for all of its live inputs at once.  A followed
file knows its ``Position`` (for ``--state``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..checkpoint import validate

if TYPE_CHECKING:
    from .chunk import Chunk
    from .listen.inbox import Received


@dataclass(frozen=True, slots=True)
class Idle:
    """What a live source yields while it waits for more: the monotonic time ``now``."""

    now: float


@dataclass(frozen=True, slots=True)
class Position:
    """Where a followed file has been read to: its identity, the offset just after the
    last complete line handed over, and its first bytes (to notice a rewrite); and how
    many lines that is (None when it started at the end, with ``--from-end``)."""

    device: int
    inode: int
    offset: int
    fingerprint: bytes
    lines: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "inode": self.inode,
            "offset": self.offset,
            "fingerprint": self.fingerprint.hex(),
            "lines": self.lines,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Position:
        lines = data["lines"]
        return cls(
            device=validate.count(data["device"]),
            inode=validate.count(data["inode"]),
            offset=validate.count(data["offset"]),
            fingerprint=bytes.fromhex(validate.text(data["fingerprint"])),
            lines=None if lines is None else validate.count(lines),
        )


class Source(Protocol):
    """An input: its items, where it has got to, and (a live one) what to wait on."""

    #: Whether it is live: it waits for more at its end (a followed file, a listener).
    live: bool

    def __iter__(self) -> Iterator[str | Idle | Chunk | Received]: ...

    def position(self) -> Position | None:
        """Where the last item handed over ends (None: not a followed file)."""

    def held(self) -> bytes:
        """A partial line still waiting for its newline."""

    def waitable(self) -> int | None:
        """A live input: a descriptor that becomes readable when there is more (None:
        look again after a while, as for a file)."""

    def reopen(self) -> None:
        """Look at the path again now (SIGUSR1, from logrotate); nothing for most."""

    def progress(self) -> tuple[int, int] | None:
        """A finished regular file: (bytes read, its size), for the progress line
        (compressed bytes for a ``.gz``); None when the end is not known."""

    def dropped(self) -> int | None:
        """A listener: the datagrams it dropped, its queue full (None: not one)."""

    def drain(self) -> list[Received]:
        """The run stops: a listener accepts nothing more and hands over what it holds
        (``Received`` payloads, see ``listen/inbox.py``); nothing for other inputs."""

    def close(self) -> None:
        """Release what it holds."""


class Defaults:
    """What most inputs answer: not live, no position, nothing held back, nothing to
    wait on or to open again."""

    live = False

    def position(self) -> Position | None:
        return None

    def held(self) -> bytes:
        return b""

    def waitable(self) -> int | None:
        return None

    def reopen(self) -> None:
        pass

    def progress(self) -> tuple[int, int] | None:
        return None

    def dropped(self) -> int | None:
        return None

    def drain(self) -> list[Received]:
        return []
