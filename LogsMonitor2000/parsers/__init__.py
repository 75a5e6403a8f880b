"""One parser per log format, and the ``--format`` registry.

See ``base.py`` for what a parser does and ``detect.py`` for ``--format auto``.
"""

from __future__ import annotations

from .access_csv import AccessCsvParser
from .base import NAMED_REJECTS, EventSink, Parser, ParserFactory, Rejects
from .clf import ClfParser
from .mongo import MongoParser

#: ``--format`` value -> parser class, in the order auto-detection tries them.
PARSERS: dict[str, ParserFactory] = {
    AccessCsvParser.name: AccessCsvParser,
    ClfParser.name: ClfParser,
    MongoParser.name: MongoParser,
}

__all__ = ["NAMED_REJECTS", "PARSERS", "EventSink", "Parser", "ParserFactory", "Rejects"]
