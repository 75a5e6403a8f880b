"""One input's pipeline, from its source to the watermarks: its own format, parser,
invalid records, filters and reorderer (``docs/counting.md``, "Several inputs").

It holds its first lines back until its format is decided (``--format auto``: from
its first 50 non-blank lines, or what there is when a live input first waits, or at its
end), then parses every block it is given.  An ``Idle`` item moves its clock; a
``Chunk`` (read by workers) is merged as if read here.

A listener's payloads (``Received``, see ``inputs/listen/inbox.py``) become lines of the
input's format: syslog messages their log lines (grouped by HOSTNAME, which a
``HostTally`` counts into the Batches their events went to), JSON bodies one object
per line, a form-encoded ``LogRecord`` one line of ``pylog`` (or, for a MongoDB run, the
CSV row of its pymongowatch operation).  A listener's format is decided by its first
payload; the receiver is told the verdict on each payload once it is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..checkpoint import validate
from .batch import Batch
from ..errors import FormatError, StateError
from .filters import Filter
from ..inputs import Idle, Source
from ..inputs.listen import JSON, RECORD, SYSLOG, Listener, Received, Verdict
from ..inputs.chunk import Chunk
from ..parsers import (
    FORMAT_STRING,
    NAMED_REJECTS,
    PARSERS,
    Parser,
    ParserFactory,
    Rejects,
    parser_factory,
)
from ..parsers.detect import (
    SAMPLE_BYTES,
    SAMPLE_LINES,
    detect,
    looks_like_access_log,
    sample_lines,
)
from ..parsers.pylog import (
    PYLOG,
    RECORD_FIELDS,
    fields_of,
    is_record,
    json_lines,
    record_line,
    syslog_lines,
    watch_row,
)
from .reorder import Reorderer
from ..settings import Settings

#: Records read before "most records are invalid" can be said of a live input.
INVALID_WARNING_AFTER = 1000

#: Builds a stage's reorderer once its format is known (see ``Monitor._open_lane``).
Opener = Callable[["InputPipeline", ParserFactory], Reorderer]


class HostTally:
    """Between a listener's parser and its reorderer: while ``host`` is set, the events
    that go into each Batch are counted for it too (``settle``).  Only asked when an
    event's second changes, so it costs nothing per line."""

    def __init__(self, sink: Reorderer) -> None:
        self.sink = sink
        self.host: str | None = None
        self._touched: dict[int, tuple[Batch, int]] = {}

    def batch_for(self, second: int) -> Batch | None:
        batch = self.sink.batch_for(second)
        if batch is not None and self.host is not None and id(batch) not in self._touched:
            self._touched[id(batch)] = (batch, batch.hits)
        return batch

    def settle(self) -> None:
        """The host's events were all fed: add them to its count in their Batches."""
        host = self.host
        for batch, before in self._touched.values():
            if host is not None and batch.hits > before:
                batch.hosts[host] = batch.hosts.get(host, 0) + batch.hits - before
        self._touched.clear()
        self.host = None


class InputPipeline:
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
            # What comes over the network is never shown: only aggregates.
            hidden=settings.anonymize or isinstance(source, Listener),
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
        self._warned_dropped = False
        self._warned_format = False
        self._warned_cut_short = False
        self._lines_merged = 0  # lines of the chunks merged so far
        #: A listener's: what counts its events' syslog hosts.
        self.tally: HostTally | None = None
        #: Takes what a worker counted for the whole run of a chunk's Batches.
        self.add_summary: Callable[[dict[str, Any]], None] | None = None

    @property
    def listens_to_syslog(self) -> bool:
        """Whether its input is a syslog listener (its events have hosts)."""
        return isinstance(self.source, Listener) and self.source.url.startswith("syslog")

    @property
    def listens(self) -> bool:
        """Whether its input is a listener (``--listen``)."""
        return isinstance(self.source, Listener)

    def say(self, message: str) -> None:
        self._warn(self.where + message)

    # -- items --------------------------------------------------------------------------

    def process(self, item: str | Idle | Chunk | Received) -> None:
        if isinstance(item, Received):
            self.receive(item)
            return
        if self.count_lines:
            if isinstance(item, str):
                self.lines_read += item.count("\n")
            elif isinstance(item, Chunk):
                self.lines_read += item.lines
        if isinstance(item, Chunk):
            self._merge(item)
        elif isinstance(item, Idle):
            dropped = self.source.dropped()
            if dropped and not self._warned_dropped:
                self._warned_dropped = True
                self.say(f"warning: datagrams are being dropped: a full queue ({dropped:,})")
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

    # -- a listener's payloads --------------------------------------------------------

    def receive(self, item: Received) -> None:
        """A payload from a listener: parsed, counted, and its verdict told to its
        receiver (an HTTP request is answered with it).  One already answered 503
        (its answer was due before its turn came) is not counted."""
        if not item.claim():
            return
        invalid, valid = self.rejects.count, self.valid_records()
        try:
            refused = self._take(item)
        except FormatError:
            refused = (
                "cannot recognise the log format of its lines: start the monitor with "
                "--format (or --log-format)"
            )
            if not self._warned_format:
                self._warned_format = True
                self.say(f"warning: {refused}; its records are counted invalid")
        if item.settle is None:
            return
        invalid, valid = self.rejects.count - invalid, self.valid_records() - valid
        if refused is None and not valid:
            refused = (
                f"none of its {invalid:,} records is valid: {self.rejects.last_reason}"
                if invalid
                else "it holds no record"
            )
        item.settle(Verdict(records=valid + invalid, invalid=invalid, refused=refused))

    def _take(self, item: Received) -> str | None:
        """Feed the payload's lines; why it can't be read at all (None: it could)."""
        if item.kind == SYSLOG:
            records = PYLOG in (self.settings.log_format, self.parser and self.parser.name)
            messages = item.messages
            if item.truncated:
                *messages, part = messages
                self._cut_short(part)
            for host, lines in syslog_lines(messages, item.sender, records=records).items():
                self._feed_received(lines, host)
            return None
        if item.kind == RECORD:
            text = item.body.decode("latin-1")
            fields = fields_of(text, RECORD_FIELDS) or {}
            if not is_record(fields):  # (curl --data-binary sends a form by default)
                self.rejects.add(0, text, "not a logging record")
                return (
                    "the body is sent as a form (application/x-www-form-urlencoded) but is "
                    "no logging record: send log lines with Content-Type: text/plain "
                    "(curl -H 'Content-Type: text/plain')"
                )
            if self.parser is None and self.settings.log_format == "auto":
                watched = fields.get("name", "").startswith("pymongo.watcher")
                self.start("mongo" if watched else PYLOG)
            name = self.parser.name if self.parser is not None else self.settings.log_format
            if name == "mongo":
                row = watch_row(text)
                if row is None:
                    self.rejects.add(0, text, "not a pymongowatch record")
                    return "not a pymongowatch record (logger pymongo.watcher.*)"
                self._feed_received(row + "\n")
            elif name == PYLOG:
                self._feed_received(record_line(text, item.sender) + "\n")
            else:
                self.rejects.add(0, text, "a Python logging record")
                return (
                    f"a Python logging record, but this input reads --format {name}: "
                    "run the monitor with --format pylog"
                )
            return None
        text = item.body.decode("utf-8", "replace")
        if item.kind == JSON:
            try:  # (``_sender``: a logging record's source; other formats ignore it)
                text = json_lines(text, item.sender)
            except ValueError as error:
                self.rejects.add(0, text, "not JSON")
                return f"not JSON: {error}"
        if text and not text.endswith("\n"):
            text += "\n"
        self._feed_received(text)
        return None

    def _cut_short(self, part: bytes) -> None:
        """A syslog message its sender did not finish: invalid, and said once."""
        text = part.decode("utf-8", "replace")
        self.rejects.add(0, text, "a syslog message cut short by its connection's end")
        if not self._warned_cut_short:
            self._warned_cut_short = True
            self.say(
                "warning: a syslog sender's connection ended in the middle of a message "
                "(or it came too slowly): such messages are counted invalid"
            )

    def _feed_received(self, text: str, host: str | None = None) -> None:
        if not text.strip():
            return
        if self.parser is None:
            self.sample = text[:SAMPLE_BYTES]
            try:
                self.start(self._format_of(text))
            except FormatError:
                for line in text.splitlines():
                    if line.strip():
                        self.rejects.add(0, line, "format not recognised")
                raise
        assert self.parser is not None and self.reorderer is not None
        if self.tally is not None:
            self.tally.host = host
        self.reorderer.now = self._clock()
        self.parser.feed(text)
        if self.tally is not None:
            self.tally.settle()
        self.reorderer.release()
        self.warn_if_mostly_invalid(final=False)

    # -- the end ----------------------------------------------------------------------

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
        if (chunk.gathered and self.reorderer.merge_splits(chunk.reorderer, chunk.gathered)) or (
            chunk.summary and self.reorderer.turns_away(chunk.summary_from)
        ):
            # Some of a window's seconds are late here and others not: the counts of
            # those seconds are needed apart (and the summary's part counted without
            # the late ones).
            assert chunk.read_again is not None
            chunk = chunk.read_again()
        for part in chunk.summary_parts(self.reorderer.turns_away):
            if self.add_summary is not None:
                self.add_summary(part)
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
        self.start(self._format_of(text))
        assert self.parser is not None and self.reorderer is not None
        self.reorderer.now = self._clock()
        self.parser.feed(text)
        self.reorderer.release()

    def _format_of(self, text: str) -> str:
        """``--format``, or the format detected from ``text`` (``FormatError``)."""
        name = self.settings.log_format
        if name != "auto":
            return name
        detected = detect(text, PARSERS)
        if detected is None:
            first = sample_lines(text)[0]
            hint = "choose one with --format"
            if looks_like_access_log(text):
                hint = (
                    "it looks like an access log in a format of the server's own: give "
                    "its format string with --log-format (its log_format or LogFormat)"
                )
            raise FormatError(
                f"{self.where}cannot recognise the log format (tried "
                f"{', '.join(PARSERS)}) from its first lines, e.g. {first[:80]!r}; {hint}"
            )
        return detected

    def start(self, name: str) -> None:
        """Build the parser and the reorderer of format ``name``."""
        factory = parser_factory(
            name, format_string=self.settings.format_string, json_fields=self.settings.json_fields
        )
        self.reorderer = self._opener(self, factory)
        if self.listens:
            self.tally = HostTally(self.reorderer)
            self.parser = factory(self.tally, self.rejects, self.filter)
        else:
            self.parser = factory(self.reorderer, self.rejects, self.filter)
        self.parser.keep_records = self.settings.store is not None

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
        """A wrong format must never look like a quiet log (``docs/counting.md``,
        "Choices in corner cases").  A finished input is judged once, at its end (one
        message, with the final counts); a live one, which may never end, as soon as
        enough records say so."""
        if self._warned_invalid or self.parser is None:
            return
        if not final and not self.source.live:
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
        if self.parser is None:  # (a listener whose lines no format recognised)
            self.say(
                f"error: none of the {self.rejects.count:,} records is valid: no format "
                "recognises its lines; choose one with --format"
            )
            return
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
            self.pending = [validate.text(line) for line in validate.listed(data["pending"])]
            return
        if validate.text(name) not in (*PARSERS, FORMAT_STRING):
            raise ValueError(f"unknown format {name!r}")
        requested = self.settings.log_format
        if requested not in ("auto", name):
            raise StateError(
                f"{self.settings.state} was written for {self.where}--format {name}, not "
                f"--format {requested}; --state-reset starts over"
            )
        self.start(name)
        assert self.parser is not None and self.reorderer is not None
        self.parser.restore(validate.mapping(data["parser"]))
        self.rejects.restore(validate.mapping(data["rejects"]))
        if self.filter is not None:
            self.filter.filtered = validate.count(data["filtered"])
        self.reorderer.restore(validate.mapping(data["reorderer"]))
