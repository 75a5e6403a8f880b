"""Where lines come from: a file, standard input, a ``.gz``.

A source is an iterable of *blocks*: one str holding complete lines, each ending in
``"\\n"`` (and, when live, of ``Idle`` items).  Bytes are decoded as UTF-8, undecodable ones replaced (U+FFFD), a leading
byte-order mark dropped.  A line is only handed on once its newline has arrived; at the
end of a finished input the last line counts without one.  A line longer than
``MAX_LINE_BYTES`` is cut there (the rest of it is skipped) so that memory stays bounded
whatever the input.  Compressed input is recognised by its gzip magic number, whatever
the file is called.
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from .errors import InputError

#: How much is read at a time.
BLOCK_BYTES = 1 << 20
#: Lines are cut at this length.
MAX_LINE_BYTES = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Idle:
    """What a live source yields when it waited ``seconds`` with nothing new."""

    seconds: float


class Readable(Protocol):
    """A binary stream: a file, a pipe, a gzip stream."""

    def read1(self, size: int = ..., /) -> bytes: ...

    def close(self) -> None: ...


class LineSplitter:
    """Bytes in, blocks of complete decoded lines out.

    The bytes after the last newline are held until their newline arrives.  A held line
    that grows past ``MAX_LINE_BYTES`` is cut there and the rest of it skipped."""

    def __init__(self) -> None:
        self._held = b""
        self._skipping = False
        self._at_start = True

    @property
    def held(self) -> bytes:
        """The partial line waiting for its newline."""
        return self._held

    def feed(self, data: bytes) -> str:
        """The complete lines that ``data`` finishes ("" when none)."""
        cut = data.rfind(b"\n")
        if cut < 0:
            self._hold(data)
            return ""
        if self._skipping:
            # The cut line ends at the first newline; what follows is whole.
            first = data.find(b"\n")
            complete = self._held + data[first : cut + 1]
            self._skipping = False
        else:
            complete = self._held + data[: cut + 1]
        self._held = b""
        self._hold(data[cut + 1 :])
        return self._decode(complete)

    def flush(self) -> str:
        """The end of a finished input: the held partial line as a last line."""
        if not self._held:
            return ""
        complete, self._held, self._skipping = self._held + b"\n", b"", False
        return self._decode(complete)

    def discard(self) -> bytes:
        """Forget the held partial line (the file it came from was truncated)."""
        held, self._held, self._skipping = self._held, b"", False
        return held

    def _hold(self, data: bytes) -> None:
        if self._skipping or not data:
            return
        held = self._held + data
        if len(held) > MAX_LINE_BYTES:
            held = held[:MAX_LINE_BYTES]
            self._skipping = True
        self._held = held

    def _decode(self, complete: bytes) -> str:
        text = complete.decode("utf-8", "replace")
        if self._at_start:
            self._at_start = False
            if text.startswith(_BOM):
                text = text[1:]
        return text


def open_input(path: str) -> Readable:
    """The binary stream of ``path`` (``-`` for standard input), decompressed when it
    is gzip.  Raises ``InputError`` with a one-line reason when it can't be opened."""
    stream: io.BufferedReader
    if path == "-":
        if sys.stdin is None:
            raise InputError("there is no standard input to read")
        stream = sys.stdin.buffer  # type: ignore[assignment]
    else:
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as error:
            raise InputError(f"cannot open {path}: {error.strerror or error}") from None
    try:
        magic = stream.peek(2)[:2]
    except OSError as error:
        stream.close()
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    if magic == _GZIP_MAGIC:
        return _GzipInput(stream)
    return stream


class _GzipInput(gzip.GzipFile):
    """A gzip stream that closes the file under it too."""

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def read_finished(stream: Readable, warn: Callable[[str], None]) -> Iterator[str]:
    """Blocks of a finished input (a file, or a pipe read to its end)."""
    splitter = LineSplitter()
    while True:
        try:
            data = stream.read1(BLOCK_BYTES)
        except (OSError, EOFError, zlib.error) as error:
            warn(f"input ended early: {error}")
            break
        if not data:
            break
        block = splitter.feed(data)
        if block:
            yield block
    block = splitter.flush()
    if block:
        yield block
