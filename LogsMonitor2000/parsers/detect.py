"""``--format auto`` (docs/counting.md, "Format detection"): decided from the first non-blank lines.

Every parser reads the sample into a probe that only counts, and the format that
recognises the most lines (events, headers and other valid records) wins.  When none
recognises a single one, the caller stops with a message that names ``--format``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..pipeline.batch import Batch
from .base import ParserFactory, Rejects

#: How many non-blank lines the decision is made from.
SAMPLE_LINES = 50
#: What is kept of an input's start, to say later which format it reads as.
SAMPLE_BYTES = 1 << 16


class _Probe:
    """An event sink that accepts everything and only counts."""

    def __init__(self, batch: Batch) -> None:
        self.events = 0
        self._batch = batch

    def batch_for(self, second: int) -> Batch | None:
        self.events += 1
        return self._batch


def sample_lines(text: str) -> list[str]:
    """The first ``SAMPLE_LINES`` non-blank lines of ``text``."""
    sample = []
    for line in text.split("\n"):
        if line.strip():
            sample.append(line)
            if len(sample) == SAMPLE_LINES:
                break
    return sample


#: What a web server's own line format has: a time (CLF's or ISO-8601), a status and a
#: request or an address.
_ACCESS_TIME = re.compile(
    r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}|"
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
)
_ACCESS_STATUS = re.compile(r"(?:^|[\s|,;\"])[1-5][0-9]{2}(?:[\s|,;\"]|$)")
_ACCESS_REQUEST = re.compile(
    r"\b(?:GET|POST|HEAD|PUT|DELETE|PATCH|OPTIONS) /|\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b"
)


def looks_like_access_log(text: str) -> bool:
    """Whether most of the first lines look like a web server's access log in a format
    of its own (a time, a status, a request or an address): ``--log-format`` then
    reads it."""
    lines = sample_lines(text)
    matching = [
        line
        for line in lines
        if _ACCESS_TIME.search(line)
        and _ACCESS_STATUS.search(line)
        and _ACCESS_REQUEST.search(line)
    ]
    return bool(lines) and len(matching) * 2 > len(lines)


def detect(text: str, parsers: Mapping[str, ParserFactory]) -> str | None:
    """The name of the parser that recognises most of ``text``'s first non-blank lines,
    or None when no parser recognises any."""
    sample = "".join(line + "\n" for line in sample_lines(text))
    best_name, best_score = None, 0
    for name, make in parsers.items():
        probe = _Probe(make.family.batch(0))
        parser = make(probe, Rejects())
        parser.feed(sample)
        parser.finish()
        score = probe.events + parser.skipped + parser.headers
        if score > best_score:
            best_name, best_score = name, score
    return best_name
