"""Credentials named on the command line (``--serve-auth @FILE``, ``--listen-auth
@FILE``), read from their files when the run starts: kept out of ``ps`` and the
shell's history."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

from .errors import UsageError
from .settings import Settings

#: The longest USER:PASSWORD a credentials file may hold.
MAX_CREDENTIALS = 4096


def with_credentials(settings: Settings, warn: Callable[[str], None]) -> Settings:
    """``--serve-auth @FILE`` and ``--listen-auth @FILE`` read from their files."""
    if settings.serve_auth is not None and settings.serve_auth.startswith("@"):
        credentials = read_credentials(settings.serve_auth[1:], "--serve-auth", warn)
        settings = replace(settings, serve_auth=credentials)
    if settings.listen_auth is not None and settings.listen_auth.startswith("@"):
        credentials = read_credentials(settings.listen_auth[1:], "--listen-auth", warn)
        settings = replace(settings, listen_auth=credentials)
    return settings


def read_credentials(path: str, option: str, warn: Callable[[str], None]) -> str:
    """USER:PASSWORD from a file (its first line, of at most ``MAX_CREDENTIALS``
    characters): kept out of ``ps`` and the history.  A file that other users may read
    is warned about."""
    try:
        with open(path, encoding="utf-8") as file:
            credentials = file.readline(MAX_CREDENTIALS + 1).rstrip("\r\n")
            shared = os.fstat(file.fileno()).st_mode & 0o044
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise UsageError(f"cannot read {option} @{path}: {reason}") from None
    if ":" not in credentials or len(credentials) > MAX_CREDENTIALS:
        raise UsageError(
            f"{option} @{path}: the file's first line is not USER:PASSWORD "
            f"(of at most {MAX_CREDENTIALS:,} characters)"
        )
    if shared:
        warn(f"warning: {option} @{path} can be read by other users (chmod 600 it)")
    return credentials
