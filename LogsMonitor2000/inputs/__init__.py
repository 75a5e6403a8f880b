"""Where lines come from: a file, standard input, a ``.gz``, a growing file (tail -F),
a large file read by worker processes.  One module per kind; ``open_source`` picks.

See ``base.py`` for what every input hands over.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import IO

from ..errors import InputError
from .base import Idle, Position, Source
from .files import FinishedInput, _GzipInput, open_input
from .follow import FollowedFile, FollowedPipe, is_named_pipe

__all__ = [
    "FinishedInput",
    "FollowedFile",
    "FollowedPipe",
    "Idle",
    "Position",
    "Source",
    "open_input",
    "open_source",
]


def open_source(
    path: str,
    *,
    follow: bool,
    from_end: bool = False,
    start: Position | None = None,
    warn: Callable[[str], None],
    stdin: IO[bytes] | None = None,
) -> Source:
    """The source for ``path`` (``-``: standard input): finished, or followed.
    Raises ``InputError`` with a one-line reason when it can't be read."""
    if not follow:
        return FinishedInput(open_input(path, stdin), warn)
    if path == "-":
        if stdin is not None:
            return FollowedPipe(stdin.fileno())
        if sys.stdin is None:
            raise InputError("there is no standard input to read")
        return FollowedPipe(sys.stdin.fileno())
    if os.path.isdir(path):
        raise InputError(f"cannot follow {path}: it is a directory")
    if is_named_pipe(path):
        return FollowedPipe.named(path)
    if os.path.exists(path):
        stream = open_input(path)  # readable, and not compressed?
        stream.close()
        if isinstance(stream, _GzipInput):
            raise InputError(f"cannot follow {path}: it is gzip")
    return FollowedFile(path, warn=warn, start=start, from_end=from_end)
