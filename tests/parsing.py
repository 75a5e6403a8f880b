"""Running a parser for real: through a Reorderer that never calls anything late, into
a downstream that keeps the closed Batches."""

from __future__ import annotations

from LogsMonitor2000.pipeline.batch import Batch
from LogsMonitor2000.parsers import PARSERS, Parser, Rejects
from LogsMonitor2000.pipeline.reorder import Reorderer


class KeepBatches:
    """A downstream that keeps every closed Batch by second."""

    def __init__(self) -> None:
        self.batches: dict[int, Batch] = {}
        self.finished = False

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> None:
        for batch in batches:
            self.batches[batch.second] = batch

    def finish(self) -> None:
        self.finished = True


def parse(
    format_name: str, *blocks: str, finish: bool = True
) -> tuple[dict[int, Batch], Rejects, Parser]:
    """Feed ``blocks`` to the ``format_name`` parser; the Batches, rejects and parser."""
    keep = KeepBatches()
    factory = PARSERS[format_name]
    reorderer = Reorderer(lateness_seconds=10**12, downstream=keep, batch=factory.family.batch)
    rejects = Rejects()
    parser = factory(reorderer, rejects)
    for block in blocks:
        parser.feed(block)
        reorderer.release()
    if finish:
        parser.finish()
        reorderer.finish()
    return keep.batches, rejects, parser
