"""One parser per log format, and the ``--format`` registry.

See ``base.py`` for what a parser does and ``detect.py`` for ``--format auto``.
"""

from __future__ import annotations

import functools

from .access_csv import AccessCsvParser
from .base import NAMED_REJECTS, EventSink, Parser, ParserFactory, Rejects
from .clf import ClfParser
from .jsonlog import JsonLogFactory
from .logformat import NAMED, LogFormatFactory
from .mongo import MongoParser
from .pylog import PylogParser

#: ``--format`` value -> parser class, in the order auto-detection tries them (on a tie
#: the first wins: Apache's vhost_combined, whose lines Common Log Format would read too,
#: before it).
PARSERS: dict[str, ParserFactory] = {
    AccessCsvParser.name: AccessCsvParser,
    "vhost_combined": LogFormatFactory(
        "vhost_combined", NAMED["vhost_combined"], "Apache's vhost_combined format"
    ),
    ClfParser.name: ClfParser,
    MongoParser.name: MongoParser,
    "json": JsonLogFactory(),
    PylogParser.name: PylogParser,
}

#: The ``--format`` of a ``--log-format`` string.
FORMAT_STRING = "format"

#: ``--log-format`` names that Common/Combined Log Format reads (anything may follow
#: its bytes field).
READ_AS_CLF = ("combined", "common", "main")


def parser_factory(
    name: str, *, format_string: str | None = None, json_fields: str | None = None
) -> ParserFactory:
    """The parser of ``--format name`` (``format``: of the ``--log-format`` string;
    ``json``: with the fields ``--json-fields`` names)."""
    if name == FORMAT_STRING:
        assert format_string is not None
        return _compiled(format_string)
    if name == "json" and json_fields:
        return _json(json_fields)
    return PARSERS[name]


@functools.lru_cache(maxsize=8)
def _compiled(format_string: str) -> LogFormatFactory:
    return LogFormatFactory(FORMAT_STRING, format_string)


@functools.lru_cache(maxsize=8)
def _json(json_fields: str) -> JsonLogFactory:
    return JsonLogFactory(json_fields)


__all__ = [
    "FORMAT_STRING",
    "NAMED_REJECTS",
    "PARSERS",
    "READ_AS_CLF",
    "EventSink",
    "Parser",
    "ParserFactory",
    "Rejects",
    "parser_factory",
]
