"""--follow on real files: growth, both logrotate styles, truncation, half-written
lines, a file that doesn't exist yet, silence, latency and idle cost; and standard
input.  Timings are generous: the machine may be slow and shared."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import unittest
from pathlib import Path

from tests.live import LiveMonitor, append, csv_row, hits_seen, stats
from tests.support import slow

FAST = ["--stats-interval", "1", "--buffer", "0"]


def summary_of(monitor: LiveMonitor) -> dict[str, object]:
    records = monitor.records
    assert records and records[-1]["type"] == "summary", records[-3:]
    return records[-1]


class FollowTest(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.log = Path(self.folder.name) / "access.log"

    def now_rows(self, count: int, source: str = "10.0.0.1") -> str:
        now = int(time.time())
        return "".join(csv_row(now, source) for _ in range(count))

    @slow
    def test_existing_lines_then_appended_ones(self) -> None:
        append(self.log, self.now_rows(3))
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 3)
            append(self.log, self.now_rows(2))
            monitor.wait_for(lambda r: hits_seen(r) == 5)
            self.assertEqual(monitor.stop(), 130)
        self.assertEqual(summary_of(monitor)["events"], 5)

    @slow
    def test_a_line_written_in_two_halves_counts_once(self) -> None:
        append(self.log, self.now_rows(1))
        # B = 1: the second half comes a second after the row was stamped.
        with LiveMonitor(str(self.log), "--stats-interval", "1", "--buffer", "1") as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 1)
            row = self.now_rows(1)
            append(self.log, row[:20])
            time.sleep(1.0)
            append(self.log, row[20:])
            monitor.wait_for(lambda r: hits_seen(r) == 2)
            monitor.stop()
        summary = summary_of(monitor)
        self.assertEqual((summary["events"], summary["invalid"]), (2, 0))

    def test_a_half_written_line_at_shutdown_is_reported_not_counted(self) -> None:
        append(self.log, self.now_rows(1) + '"10.0.0.9","-","-",12')
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 1)
            monitor.stop(signal.SIGTERM)
        self.assertIn("incomplete last line", monitor.stderr)
        self.assertEqual(summary_of(monitor)["invalid"], 0)

    @slow
    def test_rotation_by_rename(self) -> None:
        append(self.log, self.now_rows(2))
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 2)
            rotated = self.log.with_suffix(".log.1")
            os.rename(self.log, rotated)
            append(rotated, self.now_rows(1))  # the writer hasn't reopened yet
            time.sleep(0.5)
            append(self.log, self.now_rows(3, source="10.0.0.2"))  # the new file
            monitor.wait_for(lambda r: hits_seen(r) == 6)
            monitor.stop()
        self.assertEqual(summary_of(monitor)["events"], 6)

    @slow
    def test_rotation_by_removal(self) -> None:
        append(self.log, self.now_rows(2))
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 2)
            self.log.unlink()
            time.sleep(0.5)
            append(self.log, self.now_rows(1))
            monitor.wait_for(lambda r: hits_seen(r) == 3)
            monitor.stop()

    @slow
    def test_copytruncate_then_a_shorter_file(self) -> None:
        append(self.log, self.now_rows(5))
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 5)
            shutil.copy(self.log, self.log.with_suffix(".log.1"))
            with open(self.log, "r+b") as log:
                log.truncate(0)
            time.sleep(0.5)
            append(self.log, self.now_rows(1, source="10.0.0.7"))
            monitor.wait_for(lambda r: hits_seen(r) == 6)
            monitor.stop()
        self.assertIn("truncated", monitor.stderr)

    @slow
    def test_copytruncate_then_writes_past_the_old_size(self) -> None:
        # The same inode gets new first bytes and grows past the old size before the
        # monitor looks: only the first bytes tell it was rewritten.
        append(self.log, self.now_rows(2))
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 2)
            descriptor = os.open(self.log, os.O_WRONLY)
            try:
                os.pwrite(descriptor, self.now_rows(3, source="10.0.0.3").encode(), 0)
            finally:
                os.close(descriptor)
            monitor.wait_for(lambda r: hits_seen(r) == 5)
            monitor.stop()

    @slow
    def test_a_file_that_does_not_exist_yet(self) -> None:
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for_stderr("waiting for")
            time.sleep(0.5)
            append(self.log, self.now_rows(2))
            monitor.wait_for(lambda r: hits_seen(r) == 2)
            monitor.stop()
        self.assertEqual(monitor.stderr.count("waiting for"), 1)

    @slow
    def test_from_end_skips_what_exists(self) -> None:
        append(self.log, self.now_rows(4) + '"10.0.0.5","-","-",')  # and a partial line
        with LiveMonitor(str(self.log), *FAST, "--from-end") as monitor:
            time.sleep(1.0)
            partial = self.now_rows(1, source="10.0.0.5")
            append(self.log, partial[len('"10.0.0.5","-","-",') :] + self.now_rows(1))
            monitor.wait_for(lambda r: hits_seen(r) == 2)
            monitor.stop()
        self.assertEqual(summary_of(monitor)["invalid"], 0)

    @slow
    def test_sigusr1_keeps_running_and_reads_the_new_file(self) -> None:
        append(self.log, self.now_rows(1))
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 1)
            os.rename(self.log, self.log.with_suffix(".log.1"))
            append(self.log, self.now_rows(2))
            monitor.process.send_signal(signal.SIGUSR1)
            monitor.wait_for(lambda r: hits_seen(r) == 3)
            self.assertIsNone(monitor.process.poll())
            monitor.stop()


class OddFilesTest(unittest.TestCase):
    """What tail -F meets: a named pipe, a path that becomes a directory or unreadable,
    a CSV record left open when the monitor stops."""

    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.log = Path(self.folder.name) / "access.log"

    def test_a_named_pipe_is_read_like_a_pipe(self) -> None:
        # Before: internal error OSError(29, 'Illegal seek').
        os.mkfifo(self.log)
        now = int(time.time())
        with LiveMonitor(str(self.log), *FAST) as monitor:
            with open(open_for_writing(self.log), "w") as writer:
                writer.write(csv_row(now) * 3)
                writer.flush()
                monitor.wait_for(lambda r: hits_seen(r) == 3)
                writer.write(csv_row(now + 1))
            # The writer closed it: the end of the input, as with a pipe.
            self.assertEqual(monitor.process.wait(timeout=30), 0)
            monitor.stop()
        self.assertEqual(summary_of(monitor)["events"], 4)
        self.assertEqual(monitor.stderr, "")

    @slow
    def test_a_path_that_becomes_a_directory_is_waited_for(self) -> None:
        # Before: IsADirectoryError, exit 1.  As tail -F does: one warning, then waiting.
        append(self.log, csv_row(int(time.time())))
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 1)
            self.log.rename(self.log.with_suffix(".log.1"))
            self.log.mkdir()
            monitor.wait_for_stderr("not a regular file")
            time.sleep(0.5)
            self.assertIsNone(monitor.process.poll())
            self.log.rmdir()
            append(self.log, csv_row(int(time.time())) * 2)
            monitor.wait_for(lambda r: hits_seen(r) == 3)
            self.assertEqual(monitor.stop(), 130)
        self.assertEqual(monitor.stderr.count("not a regular file"), 1)
        self.assertNotIn("internal error", monitor.stderr)

    @unittest.skipIf(os.geteuid() == 0, "root reads whatever the permissions say")
    def test_a_path_recreated_unreadable_is_waited_for(self) -> None:
        append(self.log, csv_row(int(time.time())))
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 1)
            self.log.unlink()
            append(self.log, csv_row(int(time.time())))
            self.log.chmod(0)
            monitor.wait_for_stderr("Permission denied")
            self.log.chmod(0o644)
            monitor.wait_for(lambda r: hits_seen(r) == 2)
            self.assertEqual(monitor.stop(), 130)

    def test_a_record_left_open_is_counted_when_the_monitor_stops(self) -> None:
        # A finished run counts it invalid; so does a stopped live one (before: neither
        # counted nor reported).  With --state it waits in the checkpoint instead.
        append(self.log, csv_row(int(time.time())) + '"10.0.0.9","-","-",12,"GET /a\n')
        with LiveMonitor(str(self.log), *FAST) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 1)
            self.assertEqual(monitor.stop(), 130)
        self.assertEqual((summary_of(monitor)["events"], summary_of(monitor)["invalid"]), (1, 1))


def open_for_writing(fifo: Path, timeout: float = 30.0) -> int:
    """The writing end of a named pipe, once a reader has it open (never blocking)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            if time.monotonic() > deadline:
                raise AssertionError(f"nobody opened {fifo} for reading") from None
            time.sleep(0.05)
            continue
        os.set_blocking(descriptor, True)
        return descriptor


class TimeJumpTest(unittest.TestCase):
    """docs/counting.md, "Stats windows": an empty window is reported only when it closes while the reader waits
    (the beat), never when the log's own timestamps jump over it."""

    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.log = Path(self.folder.name) / "access.log"

    @slow
    def test_a_day_old_log_then_a_current_line(self) -> None:
        # Before: 86,400 empty windows at once (8,629 with the default interval).
        day_old = int(time.time()) - 86_400
        append(self.log, "".join(csv_row(day_old + i) for i in range(80)))
        with LiveMonitor(str(self.log), "--stats-interval", "1", "--buffer", "0") as monitor:
            monitor.wait_for(lambda r: hits_seen(r) == 80)
            append(self.log, csv_row(int(time.time())))
            monitor.wait_for(lambda r: hits_seen(r) == 81)
            self.assertEqual(monitor.stop(), 130)
        records = monitor.records
        self.assertEqual(records[-1]["events"], 81)
        beats = [r for r in stats(records) if r["hits"] == 0]
        self.assertLess(len(beats), 15)
        self.assertTrue(all(r["start"] > day_old + 79 for r in beats))

    @slow
    def test_text_says_quiet_once_per_silence(self) -> None:
        append(self.log, csv_row(int(time.time())))
        options = ["--stats-interval", "1", "--buffer", "0"]
        with LiveMonitor(str(self.log), *options, output="text") as monitor:
            monitor.wait_for_text("quiet since")
            time.sleep(2.5)  # more empty windows: nothing more is printed
            self.assertEqual(sum("quiet since" in line for line in monitor.text), 1)
            append(self.log, csv_row(int(time.time())) * 2)
            monitor.wait_for_text("2 hits")
            time.sleep(2.5)
            monitor.stop()
        self.assertEqual(sum("quiet since" in line for line in monitor.text), 2)
        self.assertFalse(any("0 hits" in line for line in monitor.text))


@slow
class FastWriterTest(unittest.TestCase):
    def test_a_writer_stamping_the_current_second_is_never_late(self) -> None:
        # docs/counting.md, "Time": M = max(M, s + floor(now - t)); before, 535 of 400,000 were late.
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "access.log"
            append(log, "")
            with LiveMonitor(str(log), "--buffer", "0", "--stats-interval", "1") as monitor:
                written, deadline = 0, time.monotonic() + 8
                with open(log, "a", encoding="utf-8") as out:
                    while time.monotonic() < deadline:  # about 50,000 lines/s
                        out.write(csv_row(int(time.time())) * 500)
                        out.flush()
                        written += 500
                        time.sleep(0.01)
                monitor.wait_for(lambda r: hits_seen(r) == written)
                monitor.stop()
        summary = summary_of(monitor)
        self.assertGreater(written, 200_000)
        self.assertEqual((summary["events"], summary["late"]), (written, 0))


@slow
class SilenceTest(unittest.TestCase):
    """docs/counting.md, "Time" and "Stats windows" on a live input: the clock moves on while nothing comes."""

    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.log = Path(self.folder.name) / "access.log"
        append(self.log, "")

    def test_recovery_and_empty_windows_during_silence(self) -> None:
        # W = 3, B = 1, T = 1: 8 hits in one second alert; silence must recover within
        # W + B + 1 = 5 s of the last line (plus slack for a slow machine).
        options = ["--alert-window", "3", "--threshold", "1", "--buffer", "1"]
        with LiveMonitor(str(self.log), *options, "--stats-interval", "1") as monitor:
            time.sleep(0.5)
            now = int(time.time())
            append(self.log, "".join(csv_row(now) for _ in range(8)))
            written = time.monotonic()
            monitor.wait_for(lambda r: any(x["type"] == "alert" for x in r))
            recovered = monitor.wait_for(lambda r: any(x["type"] == "recovery" for x in r))
            self.assertLess(recovered - written, 5 + 2.5)
            monitor.wait_for(lambda r: any(x["hits"] == 0 for x in stats(r)))
            monitor.stop()

    def test_alert_latency(self) -> None:
        # B = 1: an alert must show within B + 1.5 s of the line that triggers it.
        options = ["--alert-window", "2", "--threshold", "0.5", "--buffer", "1"]
        with LiveMonitor(str(self.log), *options) as monitor:
            time.sleep(0.5)
            second = int(time.time())
            if time.time() - second > 0.7:  # stay inside one second
                time.sleep(1 - (time.time() - second))
                second = int(time.time())
            append(self.log, csv_row(second))
            time.sleep(0.1)
            written = time.monotonic()
            append(self.log, csv_row(second))  # the second hit: 2 / 2 s > 0.5
            alerted = monitor.wait_for(lambda r: any(x["type"] == "alert" for x in r))
            monitor.stop()
        self.assertLess(alerted - written, 1 + 1.5 + 1.0)  # B + 1.5 s, and slack

    def test_idle_costs_under_one_percent_of_a_core(self) -> None:
        append(self.log, csv_row(int(time.time())))
        with LiveMonitor(str(self.log)) as monitor:
            time.sleep(1.5)
            before, started = monitor.cpu_seconds(), time.monotonic()
            time.sleep(4.0)
            used = monitor.cpu_seconds() - before
            elapsed = time.monotonic() - started
            monitor.stop()
        self.assertLess(used / elapsed, 0.01)


class PipeTest(unittest.TestCase):
    @slow
    def test_standard_input_followed(self) -> None:
        reader, writer = os.pipe()
        with LiveMonitor("-", "--stats-interval", "1", "--buffer", "0", stdin=reader) as monitor:
            os.close(reader)
            now = int(time.time())
            os.write(writer, "".join(csv_row(now) for _ in range(3)).encode())
            monitor.wait_for(lambda r: hits_seen(r) == 3)
            monitor.wait_for(lambda r: any(x["hits"] == 0 for x in stats(r)))  # silence
            os.close(writer)  # the end of the input
            self.assertEqual(monitor.process.wait(timeout=30), 0)
            monitor.stop()
        self.assertEqual(summary_of(monitor)["events"], 3)


class OptionsTest(unittest.TestCase):
    def test_follow_options_need_follow(self) -> None:
        from tests.support import run_monitor

        for args in (["--from-end"], ["--state", "x"], ["--follow", "--state-reset"]):
            with self.subTest(args=args):
                result = run_monitor("tests/data/sample.csv", *args)
                self.assertEqual(result.returncode, 2)
                self.assertEqual(len(result.stderr.splitlines()), 1)
        result = run_monitor("-", "--follow", "--state", "x", input="")
        self.assertEqual(result.returncode, 2)

    def test_a_compressed_file_cannot_be_followed(self) -> None:
        import gzip

        from tests.support import run_monitor

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "old.log.gz"
            path.write_bytes(gzip.compress(b"x\n"))
            result = run_monitor(str(path), "--follow")
        self.assertEqual(result.returncode, 2)
        self.assertIn("gzip", result.stderr)


if __name__ == "__main__":
    unittest.main()
