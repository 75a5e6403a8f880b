"""Live inputs: a growing file followed as ``tail -F`` does, a pipe read as it comes.

Neither waits on its own: at the end of what there is, it yields ``Idle`` and the
monitor waits (for all its live inputs at once) before asking again.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import time
from collections.abc import Callable, Iterator

from ..errors import InputError
from .base import Defaults, Idle, Position
from .files import GZIP_MAGIC
from .lines import BLOCK_BYTES, LineSplitter

#: How often a live source looks for more (os.stat of the path, a read, a select).
POLL_SECONDS = 0.1
#: How much of the start of a followed file is compared to notice it was rewritten.
FINGERPRINT_BYTES = 1024


class FollowedPipe(Defaults):
    """A pipe (standard input, or a named pipe) read live: blocks as they come,
    ``Idle`` when none is there (the monitor waits in a ``select`` on ``waitable``, no
    busy loop), the end of the input when its writer closes it.  It reads the descriptor itself: a buffered reader
    would hide data from select.  A named pipe is opened without waiting for a writer
    (Linux's select waits for the first one to write or to close)."""

    live = True

    def __init__(self, descriptor: int, *, owned: bool = False) -> None:
        self._descriptor = descriptor
        self._owned = owned
        self._splitter = LineSplitter()

    @classmethod
    def named(cls, path: str) -> FollowedPipe:
        """A named pipe (FIFO) at ``path``; raises ``InputError``."""
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as error:
            raise InputError(f"cannot open {path}: {error.strerror or error}") from None
        return cls(descriptor, owned=True)

    def held(self) -> bytes:
        return self._splitter.held

    def waitable(self) -> int | None:
        return self._descriptor

    def close(self) -> None:
        if self._owned and self._descriptor >= 0:  # standard input is not ours to close
            os.close(self._descriptor)
            self._descriptor = -1

    def __iter__(self) -> Iterator[str | Idle]:
        descriptor = self._descriptor
        first = True
        while True:
            ready, _, _ = select.select([descriptor], [], [], 0)
            if ready:
                try:
                    data = os.read(descriptor, BLOCK_BYTES)
                except BlockingIOError:  # (a named pipe: nothing after all)
                    continue
                if not data:
                    break
                if first and data.startswith(GZIP_MAGIC):
                    raise InputError("cannot follow compressed input: it is gzip")
                first = False
                block = self._splitter.feed(data)
                if block:
                    yield block
                continue
            yield Idle(time.monotonic())
        block = self._splitter.flush()
        if block:
            yield block


class FollowedFile(Defaults):
    """``tail -F`` on a path: what exists, then lines as they are appended.

    * renamed or removed, and a new file at the path: the old one is read to its end
      (its last line counts even without a newline), then the new one from its start;
    * shrunk, or its first bytes changed (copytruncate, then writes past the old size):
      read again from its start;
    * absent: waited for (one message);
    * replaced by something it can't read (a directory, a file without permission):
      waited for as if absent, with one warning, until a readable file is there;
    * ``request_reopen`` (SIGUSR1) checks the path at once.

    At the end of the file it yields ``Idle``; asked again (after ``POLL_SECONDS``, as
    the monitor waits), it looks again: an ``os.stat`` of the path, a ``pread`` of the
    first bytes, a read.  A line is handed on only once its newline has arrived."""

    live = True

    def __init__(
        self,
        path: str,
        *,
        warn: Callable[[str], None],
        start: Position | None = None,
        from_end: bool = False,
    ) -> None:
        self.path = path
        self._warn = warn
        self._start = start
        self._from_end = from_end
        self._descriptor: int | None = None
        self._identity = (0, 0)
        self._read_offset = 0  # bytes read from the current file
        self._line_start = 0  # just after the last complete line read
        self._lines: int | None = 0  # complete lines up to there (None: not known)
        self._fingerprint = b""
        self._splitter = LineSplitter()
        self._reopen = False
        self._position: Position | None = None
        #: What was last said of a path that can't be read (said once).
        self._trouble: str | None = None

    def reopen(self) -> None:
        """Look at the path again now (logrotate's postrotate sends SIGUSR1)."""
        self._reopen = True

    def position(self) -> Position | None:
        return self._position

    def held(self) -> bytes:
        return self._splitter.held

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    def __iter__(self) -> Iterator[str | Idle]:
        if not self._open_first():
            self._warn(f"waiting for {self.path} to appear")
        while True:
            block = self._read()
            if block:
                self._position = self._here()
                yield block
                continue
            self._position = self._here()
            yield Idle(time.monotonic())
            # Before reading what came meanwhile: is it still the same file?
            last = self._look_again()
            if last:
                self._position = self._here()
                yield last

    # -- files --------------------------------------------------------------------------

    def _open_first(self) -> bool:
        """Open the file to follow first; False when it doesn't exist yet."""
        start = self._start
        if start is not None:
            old = _find_inode(self.path, start.device, start.inode)
            if old is not None:
                self._open(old, start.offset, expect=start.fingerprint, lines=start.lines)
                return True
            self._warn(
                f"{self.path} was replaced while the monitor was stopped and the file it "
                "was reading is gone: reading the current file from its start"
            )
        try:
            found = os.stat(self.path)
        except OSError:
            return False
        offset = found.st_size if self._from_end and start is None else 0
        self._open(self.path, offset, lines=None if offset else 0)
        if offset:
            self._back_to_line_start()
        return True

    def _open(self, path: str, offset: int, *, expect: bytes = b"", lines: int | None = 0) -> None:
        descriptor = os.open(path, os.O_RDONLY)  # (raises before the old one is let go)
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode):
            os.close(descriptor)
            raise OSError(errno.EISDIR, "it is not a regular file")
        self.close()
        self._descriptor = descriptor
        self._identity = (opened.st_dev, opened.st_ino)
        self._fingerprint = os.pread(descriptor, FINGERPRINT_BYTES, 0)
        if expect and not self._fingerprint.startswith(expect[: len(self._fingerprint)]):
            self._warn(f"{self.path} was rewritten while the monitor was stopped: from its start")
            offset = 0
        elif offset > opened.st_size:
            self._warn(f"{self.path} shrank while the monitor was stopped: from its start")
            offset = 0
        os.lseek(descriptor, offset, os.SEEK_SET)
        self._read_offset = self._line_start = offset
        self._lines = lines if offset else 0
        self._splitter = LineSplitter()

    def _back_to_line_start(self) -> None:
        """--from-end: start after the last complete line (a partial one is new)."""
        assert self._descriptor is not None
        tail = os.pread(self._descriptor, BLOCK_BYTES, max(0, self._read_offset - BLOCK_BYTES))
        cut = tail.rfind(b"\n")
        if 0 <= cut < len(tail) - 1:
            self._read_offset = self._line_start = self._read_offset - (len(tail) - cut - 1)
            os.lseek(self._descriptor, self._read_offset, os.SEEK_SET)

    def _read(self) -> str:
        """Complete lines read from the current file ("" at its end)."""
        if self._descriptor is None:
            return ""
        while True:
            try:
                data = os.read(self._descriptor, BLOCK_BYTES)
            except OSError as error:  # EIO on a failing disk, say: try again later
                self._complain(f"cannot read {self.path}: {error.strerror or error}")
                return ""
            if not data:
                return ""
            cut = data.rfind(b"\n")
            if cut >= 0:
                self._line_start = self._read_offset + cut + 1
                if self._lines is not None:
                    self._lines += data.count(b"\n")
            self._read_offset += len(data)
            block = self._splitter.feed(data)
            if block:
                return block

    def _look_again(self) -> str | None:
        """At the end of the file: has it been rotated, truncated, rewritten?  None
        when nothing changed; otherwise the last lines of a finished file ("" if none)."""
        reopen, self._reopen = self._reopen, False
        try:
            found = os.stat(self.path)
        except OSError:
            return None  # gone: keep reading the old file until a new one appears
        if self._descriptor is None:
            return "" if self._switch_to_path() else None
        if (found.st_dev, found.st_ino) != self._identity:
            last = self._read() + self._splitter.flush()
            self._switch_to_path()  # when it can't be read, it is looked at again later
            return last
        size = os.fstat(self._descriptor).st_size
        if size < self._read_offset or not self._same_start(size):
            self._rewind()
            return ""
        if reopen:  # the same file: open it again where we are
            splitter, line_start = self._splitter, self._line_start
            try:
                self._open(self.path, self._read_offset, lines=self._lines)
            except OSError as error:  # it became unreadable: read on what is open
                self._complain(f"cannot open {self.path} again: {error.strerror or error}")
            self._splitter, self._line_start = splitter, line_start
        return None

    def _switch_to_path(self) -> bool:
        """Follow the file now at the path, from its start; False (said once) when it
        can't be read: then it is waited for as if absent."""
        try:
            self._open(self.path, 0)
        except OSError as error:
            self.close()
            self._complain(
                f"cannot read {self.path}: {error.strerror or error}; waiting for it to be "
                "a readable file"
            )
            return False
        self._trouble = None
        return True

    def _complain(self, message: str) -> None:
        if message != self._trouble:
            self._trouble = message
            self._warn(f"warning: {message}")

    def _same_start(self, size: int) -> bool:
        assert self._descriptor is not None
        known = len(self._fingerprint)
        if known < FINGERPRINT_BYTES and size > known:
            now = os.pread(self._descriptor, FINGERPRINT_BYTES, 0)
            if not now.startswith(self._fingerprint):
                return False
            self._fingerprint = now
            return True
        return os.pread(self._descriptor, known, 0) == self._fingerprint

    def _rewind(self) -> None:
        held = self._splitter.discard()
        if held:
            self._warn(f"{self.path} was truncated: an incomplete line was dropped")
        self._warn(f"{self.path} was truncated or rewritten: reading it from its start")
        assert self._descriptor is not None
        os.lseek(self._descriptor, 0, os.SEEK_SET)
        self._read_offset = self._line_start = 0
        self._lines = 0
        self._fingerprint = os.pread(self._descriptor, FINGERPRINT_BYTES, 0)

    def _here(self) -> Position | None:
        if self._descriptor is None:
            return None
        device, inode = self._identity
        return Position(device, inode, self._line_start, self._fingerprint, self._lines)


def _find_inode(path: str, device: int, inode: int) -> str | None:
    """The file that is (device, inode): the path itself, or a file next to it (the
    name logrotate gave it)."""
    try:
        found = os.stat(path)
        if (found.st_dev, found.st_ino) == (device, inode):
            return path
    except OSError:
        pass
    folder = os.path.dirname(os.path.abspath(path))
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.inode() == inode and entry.is_file(follow_symlinks=False):
                    if entry.stat(follow_symlinks=False).st_dev == device:
                        return entry.path
    except OSError:
        pass
    return None


def is_named_pipe(path: str) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False
