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
never moves the clock (SPEC §2): M is what was saved.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from .errors import StateError
from .sources import Position

STATE_VERSION = 2
CHECKPOINT_SECONDS = 1.0
IDLE_CHECKPOINT_SECONDS = 5.0

_START_OVER = "--state-reset starts over"


@dataclass(frozen=True, slots=True)
class Saved:
    """A checkpoint as loaded."""

    position: Position
    monitor: dict[str, Any]


class StateFile:
    """The checkpoint file of one log, analysed with given settings."""

    def __init__(self, path: str, *, log: str, settings: dict[str, Any]) -> None:
        self.path = path
        self.log = os.path.abspath(log)
        self.settings = settings

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
            data = json.loads(text)
            if data["version"] != STATE_VERSION:
                raise ValueError("another version")
            log, settings = data["log"], data["settings"]
            saved = Saved(Position.from_json(data["position"]), data["monitor"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StateError(
                f"{self.path} is not a LogsMonitor2000 state file, or it is damaged; " + _START_OVER
            ) from None
        if log != self.log:
            raise StateError(
                f"{self.path} holds the state of {log}, not of {self.log}: "
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

    def save(self, position: Position, monitor: dict[str, Any]) -> None:
        """Replace the checkpoint, atomically."""
        data = {
            "version": STATE_VERSION,
            "log": self.log,
            "settings": self.settings,
            "position": position.to_json(),
            "monitor": monitor,
        }
        folder = os.path.dirname(os.path.abspath(self.path))
        temporary = f"{self.path}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as file:
                json.dump(data, file, separators=(",", ":"))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
            descriptor = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            raise StateError(f"cannot write the state file {self.path}: {error}") from None

    def check_writable(self) -> None:
        """Fail now, not at the first checkpoint, when the file can't be written."""
        try:
            with open(f"{self.path}.tmp", "w", encoding="utf-8"):
                pass
            os.remove(f"{self.path}.tmp")
        except OSError as error:
            raise StateError(f"cannot write the state file {self.path}: {error}") from None
