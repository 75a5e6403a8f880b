"""Finished inputs: a file, standard input read to its end, a ``.gz``.

Compressed input is recognised by its gzip magic number, whatever the file is called.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Protocol, cast

from ..errors import InputError
from .base import Defaults, Idle
from .lines import BLOCK_BYTES, LineSplitter

GZIP_MAGIC = b"\x1f\x8b"


class Readable(Protocol):
    """A binary stream: a file, a pipe, a gzip stream."""

    def read1(self, size: int = ..., /) -> bytes: ...

    def fileno(self) -> int: ...

    def close(self) -> None: ...


def open_input(path: str, stdin: IO[bytes] | None = None) -> Readable:
    """The binary stream of ``path`` (``-`` for standard input, or ``stdin`` when
    given), decompressed when it is gzip.  Raises ``InputError`` with a one-line reason
    when it can't be opened."""
    stream: io.BufferedReader
    if path == "-":
        if stdin is not None:  # (a test's, say)
            stream = cast(io.BufferedReader, stdin)
            if not hasattr(stream, "peek"):
                stream = io.BufferedReader(cast(io.RawIOBase, stdin))
        elif sys.stdin is None:
            raise InputError("there is no standard input to read")
        else:
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
    if magic == GZIP_MAGIC:
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


class FinishedInput(Defaults):
    """A finished input (a file, or a pipe read to its end, however slowly).  Nothing
    after the last block read is held back for a newline: it was not read yet."""

    def __init__(self, stream: Readable, warn: Callable[[str], None]) -> None:
        self._stream = stream
        self._warn = warn
        self._splitter = LineSplitter()
        #: The file under the stream (a .gz's compressed one), when it is regular.
        self._raw: io.BufferedReader | None = None
        raw = stream._raw if isinstance(stream, _GzipInput) else stream
        if isinstance(raw, io.BufferedReader):
            try:
                if stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
                    self._raw = raw
            except (OSError, ValueError):
                pass

    def progress(self) -> tuple[int, int] | None:
        raw = self._raw
        if raw is None:
            return None
        try:
            return raw.tell(), os.fstat(raw.fileno()).st_size
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        self._stream.close()

    def __iter__(self) -> Iterator[str | Idle]:
        while True:
            try:
                data = self._stream.read1(BLOCK_BYTES)
            except (OSError, EOFError, zlib.error) as error:
                self._warn(f"input ended early: {error}")
                break
            if not data:
                break
            block = self._splitter.feed(data)
            if block:
                yield block
        block = self._splitter.flush()
        if block:
            yield block
