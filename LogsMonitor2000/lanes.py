"""One input on its way in: its own format, parser, invalid records, filters and
reorderer (SPEC §8), from its source to the junction.

A lane holds its first lines back until its format is decided (``--format auto``: from
its first 50 non-blank lines, or what there is when a live input first waits, or at its
end), then parses every block it is given.  An ``Idle`` item moves its clock; a
``Chunk`` (read by workers) is merged as if read here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import checked
from .errors import FormatError, StateError
from .filters import Filter
from .inputs import Idle, Source
from .inputs.parallel import Chunk
from .parsers import (
    FORMAT_STRING,
    NAMED_REJECTS,
    PARSERS,
    Parser,
    ParserFactory,
    Rejects,
    parser_factory,
)
from .parsers.detect import SAMPLE_BYTES, SAMPLE_LINES, detect, sample_lines
from .reorder import Reorderer
from .settings import Settings

#: Records read before "most records are invalid" can be said of a live input.
INVALID_WARNING_AFTER = 1000

#: Builds a lane's reorderer once its format is known (see ``Monitor._open_lane``).
Opener = Callable[["Lane", ParserFactory], Reorderer]


class Lane:
    """An input's own stages: a parser and a reorderer once its format is known."""

    def __init__(
        self,
        index: int,
        name: str,
        source: Source,
        *,
        settings: Settings,
        warn: Callable[[str], None],
        several: bool,
        opener: Opener,
        clock: Callable[[], float],
    ) -> None:
        self.index = index
        self.name = name
        self.source = source
        self.settings = settings
        #: What is said of this input names it when there are several.
        self.where = f"{name}: " if several else ""
        self._warn = warn
        self._opener = opener
        self._clock = clock
        self.rejects = Rejects(
            name_first=NAMED_REJECTS if settings.verbose else 0,
            report=self.say,
            hidden=settings.anonymize,
        )
        self.filter = Filter(settings.selection) if settings.selection else None
        self.parser: Parser | None = None
        self.reorderer: Reorderer | None = None
        #: Lines held back until the format is decided.
        self.pending: list[str] = []
        #: The start of the input, to say which format it reads as if none is valid.
        self.sample = ""
        #: Whether its source has ended, and (a live one) whether it waits for more.
        self.done = False
        self.waiting = False
        #: Lines handed over so far, counted only when asked (the progress line).
        self.count_lines = False
        self.lines_read = 0
        self._warned_invalid = False
        self._lines_merged = 0  # lines of the chunks merged so far

    def say(self, message: str) -> None:
        self._warn(self.where + message)

    # -- items --------------------------------------------------------------------------

    def process(self, item: str | Idle | Chunk) -> None:
        if self.count_lines:
            if isinstance(item, str):
                self.lines_read += item.count("\n")
            elif isinstance(item, Chunk):
                self.lines_read += item.lines
        if isinstance(item, Chunk):
            self._merge(item)
        elif isinstance(item, Idle):
            if self.parser is None and self._holds_lines():
                self._start_with_pending()
            if self.reorderer is not None:
                self.reorderer.idle(item.now)
        elif self.parser is not None and self.reorderer is not None:
            self.reorderer.now = self._clock()
            self.parser.feed(item)
            self.reorderer.release()
            self.warn_if_mostly_invalid(final=False)
        else:
            self.pending.append(item)
            if len(sample_lines("".join(self.pending))) >= SAMPLE_LINES:
                self._start_with_pending()

    def end(self) -> None:
        """The source ended: everything still held is parsed and closed."""
        self.done = True
        if self.parser is None and self._holds_lines():
            self._start_with_pending()
        if self.parser is not None and self.reorderer is not None:
            self.parser.finish()
            self.reorderer.finish()

    def stopped(self, *, carried_over: bool) -> None:
        """The run was stopped: lines read but not parsed yet (the format was not
        decided) are parsed, so that the summary and the checkpoint hold every event
        read; a CSV record left open at the end of a live input counts as it does at
        the end of a finished one - unless a checkpoint carries it over."""
        if self.parser is None and self._holds_lines():
            self._start_with_pending()
        if self.parser is not None and self.source.live and not carried_over:
            self.parser.finish()
        held = self.source.held()
        if held:
            self.say(f"an incomplete last line was not counted: {held[:160]!r}")

    def _holds_lines(self) -> bool:
        return any(line.strip() for line in self.pending)

    def _merge(self, chunk: Chunk) -> None:
        """A chunk read in a worker (see ``inputs/parallel.py``): as if read here."""
        if self.parser is None:
            self.start(chunk.format_name)
            self.sample = chunk.sample
        assert self.parser is not None and self.reorderer is not None
        if chunk.gathered and self.reorderer.merge_splits(chunk.reorderer, chunk.gathered):
            # Some of a window's seconds are late here and others not: the counts of
            # those seconds are needed apart.
            assert chunk.read_again is not None
            chunk = chunk.read_again()
        self.reorderer.merge(chunk.reorderer)
        self.rejects.merge(chunk.rejects, self._lines_merged)
        self._lines_merged += chunk.lines
        self.parser.skipped += chunk.skipped
        self.parser.headers += chunk.headers
        if self.filter is not None:
            self.filter.filtered += chunk.filtered
        self.reorderer.release()
        self.warn_if_mostly_invalid(final=False)

    # -- the format ---------------------------------------------------------------------

    def _start_with_pending(self) -> None:
        """Decide the format from the lines read so far, build the stages, feed them."""
        text = "".join(self.pending)
        self.pending.clear()
        self.sample = text[:SAMPLE_BYTES]
        name = self.settings.log_format
        if name == "auto":
            detected = detect(text, PARSERS)
            if detected is None:
                first = sample_lines(text)[0]
                raise FormatError(
                    f"{self.where}cannot recognise the log format (tried "
                    f"{', '.join(PARSERS)}) from its first lines, e.g. {first[:80]!r}; "
                    "choose one with --format"
                )
            name = detected
        self.start(name)
        assert self.parser is not None and self.reorderer is not None
        self.reorderer.now = self._clock()
        self.parser.feed(text)
        self.reorderer.release()

    def start(self, name: str) -> None:
        """Build the parser and the reorderer of format ``name``."""
        factory = parser_factory(
            name, format_string=self.settings.format_string, json_fields=self.settings.json_fields
        )
        self.reorderer = self._opener(self, factory)
        self.parser = factory(self.reorderer, self.rejects, self.filter)

    # -- counts -------------------------------------------------------------------------

    def valid_records(self) -> int:
        """Records that were valid: events (accepted or late), events the filters turned
        away, and other valid records (headers are not records)."""
        if self.parser is None or self.reorderer is None:
            return 0
        filtered = self.filter.filtered if self.filter is not None else 0
        return self.reorderer.accepted + self.reorderer.late + filtered + self.parser.skipped

    def nothing_valid(self) -> bool:
        """The input held records and none of them was valid (a wrong --format?)."""
        return self.rejects.count > 0 and self.valid_records() == 0

    def warn_if_mostly_invalid(self, *, final: bool) -> None:
        """SPEC §7: a wrong format must never look like a quiet log."""
        if self._warned_invalid or self.parser is None:
            return
        invalid, valid = self.rejects.count, self.valid_records()
        if invalid <= valid or (not final and invalid + valid < INVALID_WARNING_AFTER):
            return
        self._warned_invalid = True
        self.say(
            f"warning: {invalid:,} of {invalid + valid:,} records are invalid as "
            f"{self.parser.description} (--format {self.parser.name}){self._first_reject()}"
        )

    def say_nothing_was_valid(self) -> None:
        """None was valid: which format would read the input?"""
        assert self.parser is not None
        name = self.parser.name
        others = {other: make for other, make in PARSERS.items() if other != name}
        better = detect(self.sample, others)
        hint = (
            f"it reads as {PARSERS[better].description}: try --format {better}"
            if better is not None
            else "no other format recognises its first lines"
        )
        self.say(
            f"error: none of the {self.rejects.count:,} records is valid as "
            f"{self.parser.description} (--format {name}){self._first_reject()}; {hint}"
        )

    def _first_reject(self) -> str:
        if self.rejects.first is None:
            return ""
        line_number, text = self.rejects.first
        return f"; the first, line {line_number}: {text}"

    # -- --state --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        if self.parser is None or self.reorderer is None:
            return {"format": None, "pending": self.pending}
        return {
            "format": self.parser.name,
            "parser": self.parser.to_json(),
            "rejects": self.rejects.to_json(),
            "filtered": self.filter.filtered if self.filter else 0,
            "reorderer": self.reorderer.to_json(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        name = data["format"]
        if name is None:  # the format was not decided yet
            self.pending = [checked.text(line) for line in checked.listed(data["pending"])]
            return
        if checked.text(name) not in (*PARSERS, FORMAT_STRING):
            raise ValueError(f"unknown format {name!r}")
        requested = self.settings.log_format
        if requested not in ("auto", name):
            raise StateError(
                f"{self.settings.state} was written for {self.where}--format {name}, not "
                f"--format {requested}; --state-reset starts over"
            )
        self.start(name)
        assert self.parser is not None and self.reorderer is not None
        self.parser.restore(checked.mapping(data["parser"]))
        self.rejects.restore(checked.mapping(data["rejects"]))
        if self.filter is not None:
            self.filter.filtered = checked.count(data["filtered"])
        self.reorderer.restore(checked.mapping(data["reorderer"]))
