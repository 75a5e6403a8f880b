"""``--state FILE``: checkpoints that let a restarted monitor carry on exactly.

A checkpoint holds where the followed file has been read to (device, inode, the offset
just after the last complete line handed over, its first bytes) and the whole state of
the pipeline at that point: the reorderer's clock and open seconds, the windows'
Batches, the calculators' totals, what the parser holds back, the counts so far.  It is
written atomically (a temporary file next to it, fsync'd, renamed over the old one, the
folder fsync'd), at least every ``CHECKPOINT_SECONDS`` while lines come in, every
``IDLE_CHECKPOINT_SECONDS`` while only the clock moves, and when the monitor stops.

A restart with the same file reads on from the checkpoint, so the records it prints are
those an uninterrupted run would print from there.  A run killed between two
checkpoints has printed some records the next run prints again, the same.  Restoring
never moves the clock (docs/counting.md, "Time"): M is what was saved.

The path must be a regular file, or none yet, and none of the inputs.  One monitor at
a time uses a state file: it holds an exclusive ``flock`` on ``FILE.lock`` (a file that
is never replaced, where the state file itself is) for as long as it runs, and a second
one is refused at start.  Each write goes through a temporary file of its own, removed
when the write fails.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import atomic

from . import validate
from ..errors import StateError
from ..inputs import Position

STATE_VERSION = 3
CHECKPOINT_SECONDS = 1.0
IDLE_CHECKPOINT_SECONDS = 5.0

_START_OVER = "--state-reset starts over"


@dataclass(frozen=True, slots=True)
class Saved:
    """A checkpoint as loaded: where each input was read to (None: not opened yet),
    and the monitor's state."""

    positions: list[Position | None]
    monitor: dict[str, Any]


class StateFile:
    """The checkpoint file of a run's inputs, analysed with given settings."""

    def __init__(self, path: str, *, logs: Sequence[str], settings: dict[str, Any]) -> None:
        self.path = path
        self.logs = [os.path.abspath(log) for log in logs]
        self.settings = settings
        self._lock: int | None = None

    def claim(self, inputs: Sequence[str]) -> None:
        """Check the path (a regular file or none yet, none of ``inputs``) and take the
        lock that keeps other monitors from it.  Raises ``StateError``."""
        for path in (self.path, f"{self.path}.lock"):
            try:
                found = os.stat(path)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise StateError(f"cannot use the state file {path}: {error.strerror}") from None
            if not stat.S_ISREG(found.st_mode):
                raise StateError(f"{path} is not a regular file: --state needs a file of its own")
            for name in inputs:
                if name != "-" and _same_file(path, name, found):
                    raise StateError(f"--state {self.path} is {name}, one of the inputs")
        for name in inputs:
            if name != "-" and os.path.realpath(name) == os.path.realpath(self.path):
                raise StateError(f"--state {self.path} is {name}, one of the inputs")
        try:  # (never through a link: it could point at any file the user may write)
            descriptor = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise StateError(f"cannot use {self.path}.lock: it is a symbolic link") from None
            raise StateError(f"cannot write the state file {self.path}: {error.strerror}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(descriptor)
            raise StateError(
                f"{self.path} is in use by another monitor (it holds {self.path}.lock)"
            ) from None
        self._lock = descriptor

    def release(self) -> None:
        """Let other monitors have the state file (the lock also ends with the process)."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def load(self) -> Saved | None:
        """The last checkpoint, None when there is none yet.  Raises ``StateError``
        for a file that is damaged, or that belongs to another log or other settings."""
        try:
            with open(self.path, encoding="utf-8") as file:
                text = file.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise StateError(f"cannot read the state file {self.path}: {error}") from None
        try:
            data = validate.mapping(json.loads(text))
            if data["version"] != STATE_VERSION:
                raise ValueError("another version")
            logs = [validate.text(log) for log in validate.listed(data["logs"])]
            settings = validate.mapping(data["settings"])
            positions = [
                None if item is None else Position.from_json(validate.mapping(item))
                for item in validate.listed(data["positions"])
            ]
            saved = Saved(positions, validate.mapping(data["monitor"]))
            if len(positions) != len(logs):
                raise ValueError("a position per input")
        except DAMAGE:
            raise StateError(
                f"{self.path} is not a LogsMonitor2000 state file, or it is damaged; " + _START_OVER
            ) from None
        if logs != self.logs:
            raise StateError(
                f"{self.path} holds the state of {_listed(logs)}, not of {_listed(self.logs)}: "
                f"use another state file, or {_START_OVER}"
            )
        if settings != self.settings:
            changed = ", ".join(
                f"{key} {settings.get(key)} -> {value}"
                for key, value in self.settings.items()
                if settings.get(key) != value
            )
            raise StateError(
                f"{self.path} was written with other settings ({changed}); {_START_OVER}"
            )
        return saved

    def save(self, positions: Sequence[Position | None], monitor: dict[str, Any]) -> None:
        """Replace the checkpoint, atomically."""
        data = {
            "version": STATE_VERSION,
            "logs": self.logs,
            "settings": self.settings,
            "positions": [None if p is None else p.to_json() for p in positions],
            "monitor": monitor,
        }
        try:
            atomic.replace(self.path, lambda file: json.dump(data, file, separators=(",", ":")))
        except OSError as error:
            raise StateError(f"cannot write the state file {self.path}: {error}") from None

    def check_writable(self) -> None:
        """Fail now, not at the first checkpoint, when the file can't be written."""
        try:
            atomic.check_writable(self.path)
        except OSError as error:
            raise StateError(f"cannot write the state file {self.path}: {error}") from None


#: What reading back a damaged checkpoint can raise (``checked`` raises ValueError).
DAMAGE = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


def _listed(logs: Sequence[str]) -> str:
    return logs[0] if len(logs) == 1 else f"{len(logs)} inputs ({', '.join(logs)})"


def _same_file(path: str, other: str, found: os.stat_result) -> bool:
    try:
        theirs = os.stat(other)
    except OSError:
        return False
    return (theirs.st_dev, theirs.st_ino) == (found.st_dev, found.st_ino)
