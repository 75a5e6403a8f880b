"""Files replaced whole: a reader sees the old one or the new one, never half of one.

The new content goes to a temporary file of its own next to the target (so a full disk
or a crash leaves the old file as it was, and nothing behind), is fsync'd, renamed over
the target, and the folder is fsync'd so that the rename itself survives a crash.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import TextIO


def replace(path: str, write: Callable[[TextIO], None], *, mode: int | None = None) -> None:
    """Replace ``path`` with what ``write`` writes (``mode``: its permissions, less the
    umask; else only the owner may read it).  Raises ``OSError``."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(
        prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder
    )
    try:
        with open(descriptor, "w", encoding="utf-8", errors="replace") as file:
            write(file)
            file.flush()
            if mode is not None:
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(file.fileno(), mode & ~umask)
            os.fsync(file.fileno())
        os.replace(temporary, path)
        temporary = ""
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        if temporary:  # the write failed: leave nothing behind
            try:
                os.remove(temporary)
            except OSError:
                pass


def check_writable(path: str) -> None:
    """Raise ``OSError`` now, not at the first write, when ``path`` can't be replaced."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(suffix=".tmp", dir=folder)
    os.close(descriptor)
    os.remove(temporary)
