"""Reading with worker processes (``parallel.py``) against reading in one process, on
random logs with disorder, late lines, garbage and records across chunk boundaries."""

from __future__ import annotations

import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any

from LogsMonitor2000.calculators.expression import parse_rule
from LogsMonitor2000.calculators.panels import chunk_panels
from LogsMonitor2000.inputs import Source as Input
from LogsMonitor2000.pipeline.monitor import Monitor
from LogsMonitor2000.inputs.parallel import (
    worker_options,
    MIN_BYTES,
    SPARSE_LINES,
    Chunk,
    ParallelFile,
    chunk_bounds,
    parallel_source,
)
from LogsMonitor2000.parsers import Rejects
from LogsMonitor2000.pipeline.filters import Selection
from LogsMonitor2000.settings import Settings
from LogsMonitor2000.inputs import open_source
from LogsMonitor2000.inputs.base import Defaults
from tools.generate import Request, traffic, write_clf, write_csv
from tests.support import (
    Blocks,
    Collector,
    environment,
    json_lines,
    monitor_command,
    run_monitor,
    SLOW,
    TOP,
    slow,
)
from tests.pipeline.test_bruteforce import random_events

GARBAGE = [
    "garbage",
    "",
    '"10.0.0.1","-","-",notatime,"GET /a HTTP/1.0",200,1',
    "\x00\x01\x02 binary",
    "x" * 400,
    '"remotehost","rfc931","authuser","date","request","status","bytes"',
]


def random_log(rng: random.Random, format_name: str) -> str:
    """A log of random events in ``format_name`` with garbage lines among them (and,
    for CSV, quoted fields that hold newlines, and a quote never closed at the end)."""
    requests = []
    for event in random_events(rng, rng.randint(0, 800)):
        path = event.section + "/page"
        if format_name == "csv" and rng.random() < 0.02:
            path += "?q=one\ntwo"  # a record on two lines
        garbage = rng.choice(GARBAGE) if rng.random() < 0.03 else None
        requests.append(
            Request(
                event.time, event.source, "-", "GET", path, event.status, event.size, "t", garbage
            )
        )
    out = io.StringIO()
    if format_name == "csv":
        write_csv(iter(requests), out)
        if rng.random() < 0.2:
            out.write('"10.0.0.9","-","-",5,"GET /unclosed HTTP/1.0,200,1\n')
    else:
        write_clf(iter(requests), out, utc_offset_minutes=rng.choice([-300, 0, 60]))
    return out.getvalue()


def analyse_source(source: Input, **options: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Records, the summary last, and warnings of the monitor reading ``source``."""
    collector = Collector()
    warnings: list[str] = []
    monitor = Monitor(
        Settings(paths=("test",), verbose=True, **options), collector, warn=warnings.append
    )
    try:
        monitor.run([source])
    finally:
        source.close()
    assert collector.summary is not None
    return collector.records + [{**collector.summary, **collector.panels}], warnings


class CountedRereads(Defaults):
    """A ParallelFile whose chunks count how often the monitor reads them again."""

    def __init__(self, parallel: ParallelFile) -> None:
        self.parallel = parallel
        self.read_again = 0

    def __iter__(self) -> Iterator[Chunk]:
        for chunk in self.parallel:
            again = chunk.read_again
            assert again is not None

            def counted(again: Callable[[], Chunk] = again) -> Chunk:
                self.read_again += 1
                return again()

            chunk.read_again = counted
            yield chunk

    def close(self) -> None:
        self.parallel.close()


#: Rules on a second's counts, not only its hits (docs/alerts.md).
RULES = tuple(
    parse_rule(text)
    for text in (
        "e: share(5xx) > 10% over 20s",
        "a: rate(/a) > 0.5/s over 10s",
        "rate < 0.5x baseline(30s) over 10s",
    )
)


class ParallelTest(unittest.TestCase):
    def test_workers_read_as_one_process_does(self) -> None:
        read_again = 0
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(30) if SLOW else (0, 3):  # the slow group tries more
                rng = random.Random(seed)
                format_name = rng.choice(["csv", "clf"])
                options = {
                    "log_format": format_name,
                    "lateness": rng.randint(0, 5),
                    "alert_window": rng.randint(1, 40),
                    "threshold": rng.choice([0.0, 0.5, 1.0, 2.5]),
                    "stats_interval": rng.randint(1, 15),
                    "top": rng.randint(0, 5),
                    "selection": rng.choice(
                        [
                            Selection(),
                            Selection(paths=("/a",)),
                            Selection(statuses=frozenset({"404"})),
                        ]
                    ),
                    "anonymize": rng.random() < 0.3,
                    "alerts": rng.choice([(), RULES]),
                }
                path = Path(tmp) / f"{seed}.log"
                path.write_text(random_log(rng, format_name))
                chunk_bytes = rng.choice([1, 64, 500, 4000])
                with self.subTest(seed=seed, chunk_bytes=chunk_bytes, **options):
                    plain = analyse_source(
                        open_source(str(path), follow=False, warn=print), **options
                    )
                    parallel = ParallelFile(
                        str(path),
                        format_name,
                        lateness=int(options["lateness"]),
                        selection=options["selection"],
                        # (how the app has workers read for these settings)
                        **worker_options(Settings(paths=("x",), **options), chunk_panels),
                        jobs=2,
                        chunk_bytes=chunk_bytes,
                    )
                    counted = CountedRereads(parallel)
                    self.assertEqual(analyse_source(counted, **options), plain)
                    read_again += counted.read_again
        # Chunks whose seconds of one stats window the merge would split were read
        # again with their counts per second (the comparison covers both ways).
        self.assertGreater(read_again, 0)

    def test_the_random_logs_hold_what_they_should(self) -> None:
        # The comparison above is only worth something if the logs have late, invalid
        # and multi-line records, and chunks that cut records.
        text = random_log(random.Random(3), "csv")
        records, _ = analyse_source(Blocks([text]), log_format="csv", lateness=2)
        summary = records[-1]
        self.assertGreater(summary["late"], 0)
        self.assertGreater(summary["invalid"], 0)
        self.assertIn("?q=one\ntwo", text)

    def test_chunks_end_at_line_ends(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "lines"
            data = b"a\n" + b"b" * 200_000 + b"\nc\nd"
            path.write_bytes(data)
            with open(path, "rb") as file:
                bounds = chunk_bounds(file.fileno(), len(data), chunk_bytes=3)
        self.assertEqual(bounds[0][0], 0)
        self.assertEqual(bounds[-1][1], len(data))
        for (_, end), (start, _) in zip(bounds, bounds[1:]):
            self.assertEqual(end, start)
            self.assertEqual(data[end - 1 : end], b"\n")
        self.assertEqual(bounds[0], (0, 200_003))  # on to the end of the long line

    def test_rejects_merge_renumbers_lines(self) -> None:
        chunk = Rejects(name_first=5)
        for line in (2, 7):
            chunk.add(line, "bad", "why")
        merged = Rejects(name_first=1)
        merged.add(1, "first", "why")
        merged.merge(chunk, line_offset=10)
        self.assertEqual(merged.count, 3)
        self.assertEqual(merged.first, (1, "'first'"))
        self.assertEqual(merged.examples, [(1, "'first'", "why")])
        fresh = Rejects(name_first=5)
        fresh.merge(chunk, line_offset=10)
        self.assertEqual([example[0] for example in fresh.examples], [12, 17])
        self.assertEqual(fresh.first, (12, "'bad'"))

    def test_which_inputs_are_read_in_parallel(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            small = Path(tmp) / "small.csv"
            small.write_text(random_log(random.Random(1), "csv"))
            self.assertIsNone(
                parallel_source(
                    str(small), "auto", lateness=2, selection=Selection(), interval=10, jobs=2
                )
            )
            big = Path(tmp) / "big.log"
            write_big(big, "clf")
            source = parallel_source(
                str(big), "auto", lateness=2, selection=Selection(), interval=10, jobs=2
            )
            self.assertIsNotNone(source)
            assert source is not None
            self.assertEqual(source.format_name, "clf")
            self.assertIsNone(
                parallel_source(
                    str(big), "auto", lateness=2, selection=Selection(), interval=10, jobs=1
                )
            )
            self.assertIsNone(
                parallel_source(
                    str(big), "mongo", lateness=2, selection=Selection(), interval=10, jobs=2
                )
            )
            self.assertIsNone(
                parallel_source("-", "auto", lateness=2, selection=Selection(), interval=10, jobs=2)
            )

    def test_a_sparse_log_is_read_in_one_process_unless_jobs_are_asked_for(self) -> None:
        # By default (--jobs not given) a large log of fewer than SPARSE_LINES lines a
        # second is read in one process: its seconds are nearly one per line.
        with tempfile.TemporaryDirectory() as tmp:
            for per_second, parallel in ((SPARSE_LINES - 1, False), (SPARSE_LINES, True)):
                with self.subTest(per_second=per_second):
                    path = Path(tmp) / f"{per_second}.log"
                    write_busy(path, per_second)
                    source = parallel_source(
                        str(path), "auto", lateness=2, selection=Selection(), interval=10,
                        jobs=None,
                    )  # fmt: skip
                    self.assertEqual(source is not None, parallel)
                    asked = parallel_source(
                        str(path), "auto", lateness=2, selection=Selection(), interval=10, jobs=2
                    )
                    self.assertIsNotNone(asked)
                    for found in (source, asked):
                        if found is not None:
                            found.close()


#: Runs the command after the file name; writes its peak RSS (KiB) to that file and
#: exits with its status.
PEAK = (
    "import resource, subprocess, sys\n"
    "status = subprocess.run(sys.argv[2:]).returncode\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(status)"
)


class ParallelCommandTest(unittest.TestCase):
    """The command line on a file large enough for workers."""

    def test_jobs_change_nothing_in_the_output(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.csv"
            write_big(path, "csv")
            results = [
                run_monitor(str(path), "--output", "json", "--verbose", "--jobs", jobs)
                for jobs in ("1", "2")
            ]
        self.assertEqual(results[0].returncode, 0, results[0].stderr)
        self.assertEqual(results[1].returncode, 0, results[1].stderr)
        self.assertEqual(results[1].stdout, results[0].stdout)
        self.assertEqual(results[1].stderr, results[0].stderr)
        summary = json_lines(results[0].stdout)[-1]
        self.assertGreater(summary["late"], 0)
        self.assertGreater(summary["invalid"], 0)

    def run_both(self, path: Path, *args: str) -> list[tuple[int, str, str, int]]:
        """The run with one process and with two: exit status, stdout, stderr, peak RSS
        (KiB) of the largest process.  The monitor is started by a small interpreter
        (``PEAK``): a child forked from this large test process would count its pages."""
        runs = []
        for jobs in ("1", "2"):
            with tempfile.TemporaryDirectory() as tmp:
                peak = Path(tmp) / "peak"
                done = subprocess.run(
                    [sys.executable, "-c", PEAK, str(peak),
                     *monitor_command(str(path), "--output", "json", "-v", "--jobs", jobs, *args)],
                    capture_output=True, text=True, cwd=TOP, env=environment(),
                )  # fmt: skip
                runs.append((done.returncode, done.stdout, done.stderr, int(peak.read_text())))
        return runs

    @slow
    def test_a_long_line_is_cut_as_one_process_cuts_it(self) -> None:
        # Before: a 10 MB line gave 4,343 events with workers and 4,344 without.
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.csv"
            write_big(path, "csv")
            with open(path, "a") as out:
                out.write('"10.0.0.1","-","-",100,"GET /' + "x" * 10_000_000 + ' HTTP/1.0",200,1\n')
                out.write('"10.0.0.1","-","-",101,"GET /after HTTP/1.0",200,1\n')
            one, two = self.run_both(path)
        self.assertEqual(one[0], 0, one[2])
        self.assertEqual(two[:3], one[:3])

    @slow
    def test_a_huge_line_costs_workers_no_memory(self) -> None:
        # Before: one 400 MB line peaked at 1.97 GB with workers (27 MB without).
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.log"
            write_big(path, "clf")
            with open(path, "a") as out:
                line = '10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "GET /'
                out.write(line + "x" * (1 << 20))
                for _ in range(200):  # 200 MiB more of the same line
                    out.write("x" * (1 << 20))
                out.write(' HTTP/1.1" 200 1\n' + line + 'y HTTP/1.1" 200 1\n')
            one, two = self.run_both(path)
        self.assertEqual(two[:3], one[:3])
        self.assertLess(two[3], 250_000)  # KiB, coverage's share included (before: ~1 GB)

    @slow
    def test_a_file_renamed_or_removed_while_workers_read_it(self) -> None:
        # Before: renamed, 93,297 of 317,112 events and no warning; removed, an
        # internal error (FileNotFoundError).  The workers read the file that was opened.
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "access.csv"
            with open(path, "w") as out:
                write_csv(traffic(seed=5, start=0, seconds=4000, base_rate=80.0), out)
            whole = run_monitor(str(path), "--output", "json", "--jobs", "1")
            self.assertGreater(path.stat().st_size, 2 * MIN_BYTES)
            for change in ("rename", "remove"):
                with self.subTest(change):
                    kept = Path(tmp) / "kept.csv"
                    shutil.copy(path, kept)
                    process = subprocess.Popen(
                        monitor_command(str(kept), "--output", "json", "--jobs", "2"),
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=TOP,
                        env=environment(), bufsize=0,  # readline takes one line, no more
                    )  # fmt: skip
                    assert process.stdout is not None
                    first = process.stdout.readline().decode()  # reading has begun
                    if change == "rename":
                        kept.rename(Path(tmp) / "kept.csv.1")
                        kept.write_text('"10.0.0.9","-","-",5,"GET /new HTTP/1.0",200,1\n')
                    else:
                        kept.unlink()
                    rest, stderr = process.communicate(timeout=120)
                    self.assertEqual(process.returncode, 0, stderr)
                    self.assertEqual(first + rest.decode(), whole.stdout)
                    for leftover in Path(tmp).glob("kept.csv*"):
                        leftover.unlink()

    def test_a_wrong_format_read_by_workers_says_which_format_fits(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.log"
            write_big(path, "clf")
            result = run_monitor(str(path), "--format", "csv", "--output", "json", "--jobs", "2")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("try --format clf", result.stderr.splitlines()[-1])

    def test_ctrl_c_stops_the_workers(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.csv"
            with open(path, "w") as out:
                for second in range(60_000):
                    out.write(f'"10.0.0.1","-","-",{second},"GET /a HTTP/1.0",200,1\n' * 20)
            process = subprocess.Popen(
                monitor_command(str(path), "--output", "json", "--jobs", "2"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=TOP,
                env=environment(),
                start_new_session=True,  # a terminal's Ctrl-C reaches the whole group
                bufsize=0,  # readline takes one line, communicate the rest
            )
            assert process.stdout is not None
            first = process.stdout.readline()
            self.assertIn(b'"stats"', first)
            os.killpg(process.pid, signal.SIGINT)
            stdout, stderr = process.communicate(timeout=60)
            self.assertEqual(process.returncode, 130, stderr)
            self.assertNotIn(b"Traceback", stderr)
            self.assertEqual(json_lines(stdout.decode())[-1]["type"], "summary")
            self.assertEqual(processes_reading(str(path)), [])


def write_big(path: Path, format_name: str) -> None:
    """A random log just large enough to be read in parallel."""
    rng = random.Random(7)
    with open(path, "w") as out:
        while out.tell() < MIN_BYTES + (1 << 20):
            out.write(random_log(rng, format_name))


def write_busy(path: Path, per_second: int) -> None:
    """A Combined log of ``per_second`` lines every second, just large enough to be
    read in parallel."""
    with open(path, "w") as out:
        second = 1_700_000_000
        while out.tell() < MIN_BYTES + (1 << 20):
            stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
            for n in range(per_second):
                out.write(f'10.0.0.{n} - - [{stamp}] "GET /a/{n} HTTP/1.1" 200 {n} "-" "curl"\n')
            second += 1


def processes_reading(path: str) -> list[int]:
    """Processes whose command line names ``path`` (workers left behind)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                if path.encode() in file.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


if __name__ == "__main__":
    unittest.main()
