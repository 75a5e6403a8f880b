"""Every rule between options: the parsed options in, ``Settings`` out.

Pure: no file is read, no socket opened (the composition root, ``app.py``, does that
when the run starts).  A rule broken is a ``UsageError``: one line, exit 2.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from collections.abc import Sequence
from typing import Any, TextIO

from ..errors import FormatError, UsageError
from ..inputs.listen import check_listen_url
from ..parsers import FORMAT_STRING, PARSERS, READ_AS_CLF
from ..parsers.logformat import compile_format
from ..pipeline.filters import Selection
from ..settings import Settings
from .options import argument_parser

#: The options that make the Selection (see ``pipeline/filters.py``).
SELECTION_OPTIONS = (
    "since",
    "until",
    "paths",
    "statuses",
    "networks",
    "methods",
    "level",
    "names",
)
#: The Selection's lists: an option may be repeated, and repeating adds to the list as
#: commas do (``--path /api --path /login`` is ``--path /api,/login``).
LIST_OPTIONS = {
    "paths": tuple,
    "statuses": frozenset,
    "networks": tuple,
    "methods": frozenset,
    "names": tuple,
    "listen": tuple,
}


def parse_settings(argv: Sequence[str] | None, *, stdout: TextIO | None = None) -> Settings:
    """Settings from the command line; raises ``UsageError`` (no file is read: the
    credentials of ``@FILE`` are read when the run starts).  ``--help`` and
    ``--version`` are written to ``stdout`` and raise ``SystemExit``."""
    return settings_from(argument_parser(stdout).parse_args(argv))


def settings_from(args: argparse.Namespace) -> Settings:
    """The options' values as ``Settings``, every rule between options checked."""
    options = dict(vars(args))
    for name, kind in LIST_OPTIONS.items():
        options[name] = kind(dict.fromkeys(options[name]))  # in order, without repeats
    selection = Selection(**{name: options.pop(name) for name in SELECTION_OPTIONS})
    if (
        selection.since is not None
        and selection.until is not None
        and selection.until <= selection.since
    ):
        raise UsageError("--until must be later than --since")
    options.update(_format_options(options["log_format"], options["format_string"]))
    options["alerts"] = tuple(options["alerts"])
    names = [spec.name for spec in options["alerts"]]
    for name in names:
        if name == "traffic" or names.count(name) > 1:
            raise UsageError(f"two rules are named {name!r} (NAME: RULE names one)")
    settings = Settings(selection=selection, paths=tuple(options.pop("files")), **options)
    if not settings.follow:
        for option, given in [
            ("--from-end", settings.from_end),
            ("--state", settings.state is not None),
            ("--state-reset", settings.state_reset),
        ]:
            if given:
                raise UsageError(f"{option} only makes sense with --follow")
    if settings.state is not None and "-" in settings.paths:
        raise UsageError("--state needs files to follow, not standard input")
    if settings.paths.count("-") > 1:
        raise UsageError("standard input (-) can be read only once")
    if settings.state_reset and settings.state is None:
        raise UsageError("--state-reset needs --state")
    _check_views(settings)
    if settings.from_store is None:
        _check_listeners(settings)
    _check_store(settings)
    if settings.from_store is not None:  # (the report's windows are the stored minutes)
        settings = replace(settings, stats_interval=60)
    return settings


def _check_store(settings: Settings) -> None:
    if settings.from_store is not None:
        if settings.paths or settings.listen or settings.follow or settings.store:
            raise UsageError("--from-store reads no logs: no FILE, --listen, --follow or --store")
        if set(settings.selection.options()) - {"--since", "--until"}:
            raise UsageError("--from-store takes --since and --until, no other filter")
    elif settings.store is None and settings.retain != 30 * 86400:
        raise UsageError("--retain only makes sense with --store")


def _check_listeners(settings: Settings) -> None:
    if not settings.paths and not settings.listen:
        raise UsageError("the following arguments are required: FILE (or --listen URL)")
    for url in settings.listen:
        check_listen_url(url)
    if settings.listen and settings.state is not None:
        raise UsageError("--state keeps the positions of files: it can't go with --listen")
    auth = settings.listen_auth
    if auth is not None and not settings.listen:
        raise UsageError("--listen-auth only makes sense with --listen")
    if auth is not None and not auth.startswith("@") and ":" not in auth:
        raise UsageError("--listen-auth is USER:PASSWORD (or @FILE)")


def _check_views(settings: Settings) -> None:
    for option, given in [("--serve", settings.serve), ("--dashboard", settings.dashboard)]:
        if given and not settings.follow and not settings.listen:
            raise UsageError(f"{option} needs a live input: add --follow (or --listen)")
    if settings.serve_auth is not None and settings.serve is None:
        raise UsageError("--serve-auth only makes sense with --serve")
    secure = settings.serve is not None or any(
        url.startswith(("https:", "syslog+tls:")) for url in settings.listen
    )
    for option, value in [("--tls-cert", settings.tls_cert), ("--tls-key", settings.tls_key)]:
        if value is not None and not secure:
            raise UsageError(
                f"{option} only makes sense with --serve or an https:// or "
                "syslog+tls:// --listen"
            )
    if settings.tls_key is not None and settings.tls_cert is None:
        raise UsageError("--tls-key needs --tls-cert")
    if settings.dashboard and settings.output == "json":
        raise UsageError("--dashboard takes the terminal: --output json can't go with it")
    _check_written_files(settings)
    auth = settings.serve_auth
    if auth is not None and not auth.startswith("@") and ":" not in auth:
        raise UsageError("--serve-auth is USER:PASSWORD (or @FILE)")


def _check_written_files(settings: Settings) -> None:
    """The files a run writes are none of its inputs, and not one another (by their
    paths; ``app`` also compares the files that exist, links and all)."""
    written = [
        (option, path)
        for option, path in [
            ("--report", settings.report),
            ("--state", settings.state),
            ("--alert-log", settings.alert_log),
            ("--store", settings.store),
        ]
        if path is not None
    ]
    inputs = {_absolute(path): path for path in settings.paths if path != "-"}
    seen: dict[str, str] = {}
    for option, path in written:
        absolute = _absolute(path)
        if absolute in inputs:
            raise UsageError(f"{option} {path} is one of the inputs")
        if absolute in seen:
            raise UsageError(f"{option} {path} is the file of {seen[absolute]} too")
        seen[absolute] = option


def _absolute(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def _format_options(requested: str, format_string: str | None) -> dict[str, Any]:
    """``--format`` and ``--log-format`` together: the parser's name, and the string."""
    if format_string is None:
        return {}
    if requested != "auto":
        raise UsageError("--log-format says the format already: no --format with it")
    if format_string in READ_AS_CLF:
        return {"log_format": "clf", "format_string": None}
    if format_string in PARSERS:
        return {"log_format": format_string, "format_string": None}
    try:
        compile_format(format_string)
    except FormatError as error:
        raise UsageError(str(error)) from None
    return {"log_format": FORMAT_STRING, "format_string": format_string}
