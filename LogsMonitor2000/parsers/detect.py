"""``--format auto`` (docs/counting.md, "Format detection"): decided from the first non-blank lines.

Every parser reads the sample into a probe that only counts, and the format that
recognises the most lines (events, headers and other valid records) wins.  When none
recognises a single one, the caller stops with a message that names ``--format``.
"""

from __future__ import annotations

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
