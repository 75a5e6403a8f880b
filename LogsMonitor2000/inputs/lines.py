"""Bytes in, blocks of complete decoded lines out (``LineSplitter``).

Bytes are decoded as UTF-8, undecodable ones replaced (U+FFFD), a leading byte-order
mark dropped.  A line is only handed on once its newline has arrived; at the end of a
finished input the last line counts without one.  A line longer than
``MAX_LINE_BYTES`` is cut there (the rest of it is skipped) so that memory stays
bounded whatever the input.
"""

from __future__ import annotations

#: How much is read at a time.
BLOCK_BYTES = 1 << 20
#: Lines are cut at this length.
MAX_LINE_BYTES = 1 << 20

_BOM = "\ufeff"


class LineSplitter:
    """Bytes in, blocks of complete decoded lines out.

    The bytes after the last newline are held until their newline arrives.  A held line
    that grows past ``MAX_LINE_BYTES`` is cut there and the rest of it skipped."""

    def __init__(self, *, at_start: bool = True) -> None:
        self._held = b""
        self._skipping = False
        #: At the start of the input: a byte-order mark there is dropped.
        self._at_start = at_start

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
