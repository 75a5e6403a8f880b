"""Both cores for a finished file: chunks read in worker processes, merged in order.

For a regular file in access CSV or Common/Combined Log Format (records that don't
depend on each other), the file is cut into chunks of about ``CHUNK_BYTES`` at line
ends.  A worker reads a chunk with the ordinary parser, into a reorderer of its own
that judges lateness by the chunk's events alone; the main process takes the chunks in
file order and ``Reorderer.merge`` completes every verdict with what came before.  The
records are those of one process reading the whole file (the tests compare them).

Before handing a chunk over, a worker gathers the counts of each stats window into the
first of its Batches (``_gather``): the main process then has fewer entries to unpickle
and add.  When the merge would keep some seconds of a window and turn others away as
late, it needs their counts apart: the chunk is read again, per second, in the main
process (``Monitor._merge``).

At most ``IN_FLIGHT`` chunks per worker are read ahead, so memory stays flat whatever
the file's size.  A CSV record still open at the end of a chunk (a quoted field across
lines) is read again with the next chunk, in the main process.  Workers ignore SIGINT
(Ctrl-C reaches the whole process group): the main process decides, and stops them.

MongoDB logs are read in one process: whether a row is an event depends on every
earlier row of its operation.
"""

from __future__ import annotations

import gc
import os
import signal
import stat
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from ..pipeline.batch import Batch
from ..pipeline.filters import Filter, Selection
from ..parsers import FORMAT_STRING, NAMED_REJECTS, PARSERS, Rejects, parser_factory
from ..parsers.detect import SAMPLE_BYTES, detect
from ..pipeline.reorder import Reorderer
from .base import Defaults
from .chunk import Chunk
from .lines import BLOCK_BYTES, LineSplitter

if TYPE_CHECKING:  # multiprocessing itself is imported when a file is read in parallel
    from multiprocessing.pool import AsyncResult, Pool

    from ..settings import Settings

#: A chunk's size: larger ones add up more of the panels' visits in the worker and
#: leave the main process fewer chunks to merge (4 MiB: 14% less time than 2 MiB on
#: the Combined benchmark, 9 MB more at the peak).
CHUNK_BYTES = 1 << 22
#: The most seconds at a chunk's start whose counts for the whole run's summary are left
#: to the main process: the ones the merge may turn away as late (a file's lines a few
#: seconds out of order across a chunk's start).  A chunk leaves as many as its own
#: lines are out of order (none for a file in order): should the merge turn away later
#: ones, the chunk is read again there.
SUMMARY_LEAD = 30
#: Smaller files are not worth the workers.
MIN_BYTES = 8 << 20
#: Nor, unless ``--jobs`` asks for them, are logs of fewer lines a second than this (in
#: their first ``SPARSE_SAMPLE`` bytes): a second is a Batch, which workers pickle and
#: the main process unpickles, and in a sparse log there is one for nearly every line.
#: Measured on 300,000-line Combined logs, workers against one process: at 0.5 lines/s
#: 1.33 times as long and 2.5 times the memory, at 2 lines/s as long and 1.7 times the
#: memory, at 8 lines/s 0.77 times as long.
SPARSE_LINES = 4
SPARSE_SAMPLE = 1 << 18
#: Chunks read ahead per worker (each input): 2 took as long, and with three inputs
#: held 30 MB more of chunks waiting to be merged.
IN_FLIGHT = 1
#: The formats whose records are independent of each other.
FORMATS = ("csv", "clf", "vhost_combined", "json", FORMAT_STRING)


#: Counts what the whole run's summary counts of a chunk's Batches and takes it out of
#: them (a worker then does that work, not the main process): the parts by panel key.
Summarizer = Callable[[list[Batch]], dict[str, Any]]


class _Nowhere:
    """A worker's reorderer never releases anything: the main process merges."""

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> None:
        raise AssertionError("a chunk's reorderer released seconds")

    def finish(self) -> None:
        pass


def read_chunk(
    format_name: str,
    format_string: str | None,
    json_fields: str | None,
    descriptor: int,
    start: int,
    end: int,
    lateness: int,
    selection: Selection,
    carried: str,
    last: bool,
    gather: int,
    summarize: Summarizer | None = None,
) -> Chunk:
    """Parse bytes ``[start, end)`` of the open file ``descriptor`` after ``carried``
    (a record left open by the chunk before), counts gathered by stats windows of
    ``gather`` seconds (0: left per second), and what the whole run counts of them
    counted by ``summarize`` (when gathered).  Runs in a worker, or in the main process
    for a chunk read again."""
    # The parser of the chunk before is in a reference cycle (a parser holds its own
    # bound methods) with its reorderer's Batches; with the young-generation threshold
    # raised (see ``cli``) they would wait for a collection through many chunks.
    gc.collect()
    text = carried + _lines_of(descriptor, start, end)
    factory = parser_factory(format_name, format_string=format_string, json_fields=json_fields)
    reorderer = Reorderer(
        lateness_seconds=lateness, downstream=_Nowhere(), batch=factory.family.batch
    )
    rejects = Rejects(name_first=NAMED_REJECTS)
    chosen = Filter(selection) if selection else None
    parser = factory(reorderer, rejects, chosen)
    parser.feed(text)
    if last:
        parser.finish()
    pending = parser.pending()
    summary, summary_from = None, 0
    batches = reorderer.open_batches()
    if summarize is not None and batches:
        lead = min(SUMMARY_LEAD, reorderer.max_lateness)
        summary_from = min(batch.second for batch in batches) + lead
        summary = summarize([batch for batch in batches if batch.second >= summary_from])
    if gather:
        _gather(reorderer, gather)
    return Chunk(
        reorderer=reorderer,
        rejects=rejects,
        skipped=parser.skipped,
        headers=parser.headers,
        lines=text.count("\n") - pending.count("\n"),
        pending=pending,
        filtered=chosen.filtered if chosen else 0,
        gathered=gather,
        summary=summary,
        summary_from=summary_from,
    )


def _lines_of(descriptor: int, start: int, end: int) -> str:
    """Bytes ``[start, end)`` as the sequential reader hands them over: decoded, a
    byte-order mark at the file's start dropped, a line longer than ``MAX_LINE_BYTES``
    cut there (so that a huge line costs no memory here either), the last line ended.
    ``pread`` on the descriptor opened once: a file renamed or removed meanwhile is
    still the same file."""
    splitter = LineSplitter(at_start=start == 0)
    blocks = []
    offset = start
    while offset < end:
        data = os.pread(descriptor, min(BLOCK_BYTES, end - offset), offset)
        if not data:
            break  # the file shrank
        offset += len(data)
        blocks.append(splitter.feed(data))
    blocks.append(splitter.flush())  # a chunk ends after a newline, but for the file's last
    return "".join(blocks)


def _gather(reorderer: Reorderer, interval: int) -> None:
    """Move the counts of each stats window's seconds into its first Batch, leaving
    the others their hits: the windows add them up all the same, and fewer, larger
    counts cost the main process less to unpickle and to add (see ``Monitor._merge``
    for when the merge needs them per second)."""
    first: Batch | None = None
    for batch in reorderer.open_batches():
        if first is not None and batch.second // interval == first.second // interval:
            first.take_counts(batch)
        else:
            first = batch


def chunk_bounds(
    descriptor: int, size: int, chunk_bytes: int = CHUNK_BYTES
) -> list[tuple[int, int]]:
    """``[start, end)`` byte ranges of about ``chunk_bytes`` each, cut after a newline."""
    bounds = []
    start = 0
    while start < size:
        end = min(size, start + chunk_bytes)
        while end < size:  # on to the end of the line
            tail = os.pread(descriptor, 1 << 16, end)
            cut = tail.find(b"\n")
            if cut >= 0:
                end += cut + 1
                break
            end = min(size, end + len(tail)) if tail else size
        bounds.append((start, end))
        start = end
    return bounds


def _start_worker() -> None:
    # Ctrl-C reaches the whole process group: the main process decides what to do.  The
    # handlers inherited from it (which stop a monitor) don't belong here: SIGTERM, which
    # ends the pool, must end a worker at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class ParallelFile(Defaults):
    """A finished regular file read by ``jobs`` worker processes: a source of
    ``Chunk`` items (see ``Monitor``)."""

    def __init__(
        self,
        path: str,
        format_name: str,
        *,
        lateness: int,
        selection: Selection,
        interval: int,
        jobs: int,
        chunk_bytes: int = CHUNK_BYTES,
        sample: str = "",
        descriptor: int | None = None,
        format_string: str | None = None,
        json_fields: str | None = None,
        summarize: Summarizer | None = None,
    ) -> None:
        self.path = path
        self.summarize = summarize
        self.format_string = format_string
        self.json_fields = json_fields
        #: The file, opened once: workers (forked) read it through ``pread``.
        self.descriptor = os.open(path, os.O_RDONLY) if descriptor is None else descriptor
        self.sample = sample
        self.format_name = format_name
        self.lateness = lateness
        self.selection = selection
        self.interval = interval
        self.jobs = jobs
        self.chunk_bytes = chunk_bytes
        self._pool: Pool | None = None
        #: Where the chunks handed over end, and the file's size (the progress line).
        self._done, self._size = 0, os.fstat(self.descriptor).st_size

    def progress(self) -> tuple[int, int] | None:
        return (self._done, self._size) if self._size else None

    def close(self) -> None:
        """Stop the workers if the reading was not finished (a stop, an error)."""
        self._end_pool(finished=False)
        if self.descriptor >= 0:
            os.close(self.descriptor)
            self.descriptor = -1

    def _end_pool(self, *, finished: bool) -> None:
        if self._pool is not None:
            self._pool = None
            _Workers.release(finished=finished)

    def __iter__(self) -> Iterator[Chunk]:
        size = self._size = os.fstat(self.descriptor).st_size
        bounds = chunk_bounds(self.descriptor, size, self.chunk_bytes)
        pool = self._pool = _Workers.acquire(self.jobs)
        waiting: deque[tuple[int, AsyncResult[Chunk]]] = deque()
        finished = False
        try:
            submitted, carried = 0, ""
            while waiting or submitted < len(bounds):
                while submitted < len(bounds) and len(waiting) < IN_FLIGHT * self.jobs:
                    waiting.append(
                        (
                            submitted,
                            pool.apply_async(
                                read_chunk, self._task(bounds, submitted, "", self.interval)
                            ),
                        )
                    )
                    submitted += 1
                index, result = waiting.popleft()
                chunk = result.get()
                if carried:  # read again after the record the chunk before left open
                    chunk = read_chunk(*self._task(bounds, index, carried, self.interval))
                again = self._task(bounds, index, carried, 0, summarize=False)
                chunk.read_again = partial(read_chunk, *again)
                chunk.summarize = self.summarize
                if index == 0:
                    chunk.format_name, chunk.sample = self.format_name, self.sample
                carried = chunk.pending
                self._done = bounds[index][1]
                yield chunk
            finished = True
        finally:
            self._end_pool(finished=finished)

    def _task(
        self,
        bounds: list[tuple[int, int]],
        index: int,
        carried: str,
        gather: int,
        *,
        summarize: bool = True,
    ) -> tuple[Any, ...]:
        """``read_chunk``'s arguments (read again: per second, and the main process
        counts the summary's part)."""
        start, end = bounds[index]
        last = index == len(bounds) - 1
        return (
            self.format_name,
            self.format_string,
            self.json_fields,
            self.descriptor,
            start,
            end,
            self.lateness,
            self.selection,
            carried,
            last,
            gather,
            self.summarize if summarize else None,
        )


class _Workers:
    """One pool of worker processes for every file a run reads in parallel (several
    pools would only contend for the same cores).  It is forked when the first file
    starts, after every input was opened, so the workers have every descriptor; it
    ends when the last file is done, or at once when one stops unfinished (a stop, an
    error: the run is over)."""

    pool: Pool | None = None
    users = 0

    @classmethod
    def acquire(cls, jobs: int) -> Pool:
        if cls.pool is None:
            import multiprocessing

            cls.pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_start_worker)
        cls.users += 1
        return cls.pool

    @classmethod
    def release(cls, *, finished: bool) -> None:
        cls.users -= 1
        pool = cls.pool
        if pool is None or (finished and cls.users > 0):
            return
        cls.pool, cls.users = None, 0
        if finished:
            pool.close()
        else:  # the chunks still being read are not wanted
            pool.terminate()
        pool.join()


def parallel_source(
    path: str,
    requested_format: str,
    *,
    lateness: int,
    selection: Selection,
    interval: int,
    jobs: int | None,
    format_string: str | None = None,
    json_fields: str | None = None,
    summarize: Summarizer | None = None,
) -> ParallelFile | None:
    """The parallel reading of ``path`` when it is worth it: a regular file of at
    least ``MIN_BYTES`` in a format whose records are independent (decided from its
    first lines when ``requested_format`` is ``auto``), more than one job (None: one
    per core, for a file of at least ``SPARSE_LINES`` lines a second), and workers
    that can be forked (they share the file's descriptor).  None otherwise: read it in
    one process."""
    workers = jobs if jobs is not None else os.cpu_count() or 1
    if workers < 2 or path == "-" or not hasattr(os, "fork"):
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # the one process says why
    try:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode) or found.st_size < MIN_BYTES:
            raise ValueError("not worth it")
        start = os.pread(descriptor, 1 << 20, 0)
        if start.startswith(b"\x1f\x8b"):  # gzip: one stream
            raise ValueError("compressed")
        text = start[: start.rfind(b"\n") + 1].decode("utf-8", "replace")
        name = requested_format
        if name == "auto":
            name = detect(text, PARSERS) or ""
        if name not in FORMATS:
            raise ValueError("not a format of independent records")
        if jobs is None and _sparse(
            name, format_string, json_fields, descriptor, start, lateness, selection
        ):
            raise ValueError("too few lines a second")
    except (OSError, ValueError):
        os.close(descriptor)
        return None
    return ParallelFile(
        path,
        name,
        lateness=lateness,
        selection=selection,
        interval=interval,
        jobs=workers,
        sample=text[:SAMPLE_BYTES],
        descriptor=descriptor,
        format_string=format_string,
        json_fields=json_fields,
        summarize=summarize,
    )


def _sparse(
    name: str,
    format_string: str | None,
    json_fields: str | None,
    descriptor: int,
    start: bytes,
    lateness: int,
    selection: Selection,
) -> bool:
    """Whether the file's first lines come fewer than ``SPARSE_LINES`` a second of log
    time, from their first second to their last (they are parsed: what a second is
    depends on the format)."""
    end = start.rfind(b"\n", 0, SPARSE_SAMPLE) + 1
    sample = read_chunk(
        name, format_string, json_fields, descriptor, 0, end, lateness, selection, "", False, 0
    )
    seconds = [batch.second for batch in sample.reorderer.open_batches()]
    if not seconds:
        return False
    return sample.lines < SPARSE_LINES * (max(seconds) - min(seconds))


def worker_options(settings: Settings, panels: Summarizer) -> dict[str, Any]:
    """How workers read a large file for this run: the stats interval they gather a
    window's counts by (0: per second, for an alert rule that reads more than a
    second's hits), and what they count of the whole run's summary (``panels``; none
    with ``--anonymize``, whose anonymous sources are the main process's, or with a
    rule on paths, which reads the visits the panels would take out)."""
    per_second = (
        settings.slow_ms is not None
        or any(spec.scope is not None or spec.kind == "percentile" for spec in settings.alerts)
        or (settings.store is not None and 60 % settings.stats_interval != 0)  # (minutes)
    )
    paths = any(spec.scope is not None and spec.scope.kind == "path" for spec in settings.alerts)
    return {
        "interval": 0 if per_second else settings.stats_interval,
        "summarize": None if settings.anonymize or paths else panels,
    }
