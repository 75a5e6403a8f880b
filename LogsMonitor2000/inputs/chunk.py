"""What a worker makes of a part of a large file (``parallel.py``): its events in a
reorderer of their own, its invalid records, and what the main process needs to merge
it as if it had read it itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..parsers.base import Rejects
from ..pipeline.batch import Batch
from ..pipeline.reorder import Reorderer


@dataclass(slots=True)
class Chunk:
    """What a worker made of a chunk: the part of the input it read, parsed."""

    reorderer: Reorderer
    rejects: Rejects
    skipped: int
    headers: int
    #: Lines parsed (a record held back at the end not included).
    lines: int
    #: A CSV record still open at the end, as it came.
    pending: str
    #: Events turned away by the filters.
    filtered: int
    #: The stats interval whose windows the counts were gathered by (0: per second).
    gathered: int = 0
    #: What the whole run's summary counts of the chunk's Batches, counted in the worker
    #: (the panels: ``Summarizer``), by panel key; the Batches no longer hold it.
    summary: dict[str, Any] | None = None
    #: The first second ``summary`` counts: the Batches before it keep their counts
    #: (whether they are late is only known when the chunk is merged).
    summary_from: int = 0
    #: What counted ``summary`` (set in the main process): it counts the Batches
    #: before ``summary_from`` that the merge keeps.
    summarize: Callable[[list[Batch]], dict[str, Any]] | None = None
    #: The same chunk read again in this process, with its counts per second (set in
    #: the main process).
    read_again: Callable[[], Chunk] | None = None
    #: The first chunk: the file's format, and its start (to say which format it reads
    #: as if none of it is valid).
    format_name: str = ""
    sample: str = ""

    def summary_parts(self, turns_away: Callable[[int], bool]) -> list[dict[str, Any]]:
        """What the whole run's summary adds of this chunk, in the order of its seconds:
        the Batches before ``summary_from`` that the merge keeps (``turns_away`` says
        which it doesn't), counted here, then the worker's part."""
        if not self.summary or self.summarize is None:
            return []
        kept = [
            batch
            for batch in self.reorderer.open_batches()
            if batch.second < self.summary_from and not turns_away(batch.second)
        ]
        return [self.summarize(kept), self.summary]
