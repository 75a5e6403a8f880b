"""Faults that must not hurt (bad input, early or repeated signals, odd paths, files
that change while they are read): never a traceback, never an "internal error", a
usage or file problem is one line and exit 2, nothing counted is lost or counted
twice, and no credential is ever printed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path
from typing import Any

from LogsMonitor2000.net.addresses import check_http_url, shown_url
from tests.live import LiveMonitor, csv_row, hits_seen
from tests.support import TOP, environment, json_lines, monitor_command, run_monitor, slow

#: SIGTERM's bit in /proc/PID/status's SigCgt: set once the program's own code runs
#: (Python itself catches only SIGINT at start-up).
SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def catches_sigterm(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & SIGTERM_BIT)
    return False


class EarlySignalTest(unittest.TestCase):
    def test_ctrl_c_in_the_first_moments_exits_130_quietly(self) -> None:
        # From the program's first instruction on (its SIGTERM handler is in place),
        # at any moment of the start-up - imports, options, opening the input.
        rng = random.Random(12)
        for trial in range(20):
            delay = rng.uniform(0, 0.08)
            with self.subTest(trial=trial, delay=round(delay, 3)):
                process = subprocess.Popen(
                    monitor_command("-", "--follow", "--output", "json"),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=TOP,
                    env=environment(),
                )
                deadline = time.monotonic() + 30
                while not catches_sigterm(process.pid) and time.monotonic() < deadline:
                    time.sleep(0.0005)
                time.sleep(delay)
                process.send_signal(signal.SIGINT)
                _, stderr = process.communicate(timeout=30)
                self.assertEqual(process.returncode, 130, stderr)
                self.assertNotIn(b"Traceback", stderr)
                self.assertNotIn(b"KeyboardInterrupt", stderr)


class TimeJumpTest(unittest.TestCase):
    @slow
    def test_a_date_with_a_digit_too_many_costs_nothing(self) -> None:
        # 15495738600 after 1549573860: a jump of four centuries in log time.  Before:
        # RSS grew ~90 MB/s with nothing printed, and Ctrl-C waited for seconds.
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "access.csv"
            log.write_text(csv_row(1549573860) + csv_row(15495738600) + csv_row(1549573861))
            with LiveMonitor(str(log), "--stats-interval", "1") as monitor:
                monitor.wait_for(lambda r: hits_seen(r) >= 1)
                time.sleep(2.0)
                rss_kib = resident_kib(monitor.process.pid)
                asked = time.monotonic()
                self.assertEqual(monitor.stop(), 130)
                stopped = time.monotonic() - asked
        self.assertLess(rss_kib, 100_000)
        self.assertLess(stopped, 1.0)
        summary = monitor.records[-1]
        self.assertEqual((summary["events"], summary["late"]), (2, 1))
        self.assertLess(len(monitor.records), 20)


MONGO_HEADER = (
    "WatcherName,WatchID,Iteration,StartTime,EndTime,DB,Collection,Operation,Filter,"
    "Duration,MatchedCount,InsertedCount,UpsertedCount,ModifiedCount,DeletedCount\n"
)


def mongo_row(watch_id: str, query: str = "", duration: str = "0.1") -> str:
    query = '"' + query.replace('"', '""') + '"'
    return (
        f"pymongo.watcher.collection,{watch_id},final,2024-03-01 12:00:00.000000,"
        f"2024-03-01 12:00:01.000000,shop,items,find,{query},{duration},,,,,\n"
    )


class NumbersTest(unittest.TestCase):
    """Every number read is bounded: a record holding an absurd one is invalid."""

    def test_huge_numbers_and_deep_filters_are_invalid_records_not_errors(self) -> None:
        row = '"10.0.0.1","-","-",{time},"GET / HTTP/1.0",200,{size}\n'
        cases = {
            "bytes of 4,301 digits": row.format(time=1000, size="9" * 4301),
            "bytes of 309 digits": row.format(time=1000, size="9" * 309),
            "bytes of 2^63": row.format(time=1000, size=2**63),
            "a time of 4,301 digits": row.format(time="9" * 4301, size=1),
            "a time past 9999": row.format(time=253402300800, size=1),
        }
        mongo = {
            "a Duration of 1e306": mongo_row("w1", duration="1e306"),
            "a Duration of inf": mongo_row("w1", duration="inf"),
            "a Duration of nan": mongo_row("w1", duration="nan"),
            "a negative Duration": mongo_row("w1", duration="-5"),
        }
        with tempfile.TemporaryDirectory() as folder:
            for name, bad in [*cases.items(), *mongo.items()]:
                for output in ("json", "text"):
                    with self.subTest(name, output=output):
                        log = Path(folder) / "log"
                        good = row.format(time=1000, size=1) if name in cases else ""
                        log.write_text((MONGO_HEADER if name in mongo else "") + good * 2 + bad)
                        format_name = "mongo" if name in mongo else "csv"
                        result = run_monitor(str(log), "--format", format_name, "--output", output)
                        self.assertIn(result.returncode, (0, 1), result.stderr)
                        self.assertNotIn("internal error", result.stderr)
                        self.assertNotIn("Infinity", result.stdout)
                        if output == "json":
                            self.assertEqual(json_lines(result.stdout)[-1]["invalid"], 1)

    def test_a_filter_thousands_of_brackets_deep(self) -> None:
        deep = '{"a": ' * 5000 + "1" + "}" * 5000
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "mongo.csv"
            log.write_text(
                MONGO_HEADER + mongo_row("w1", deep) + mongo_row("w2", "{'b': " * 5000 + "}" * 5000)
            )
            result = run_monitor(str(log), "--output", "json")
        self.assertEqual(result.returncode, 0, result.stderr)
        records = json_lines(result.stdout)
        self.assertEqual(records[-1]["events"], 2)
        self.assertIn("…", records[0]["slowest"][0]["shape"])
        self.assertLess(len(records[0]["slowest"][0]["shape"]), 300)


class CredentialsTest(unittest.TestCase):
    """No message may show a password: errors, warnings, the summary, -v."""

    def test_urls_are_shown_without_their_password(self) -> None:
        for url in [
            "http://alice:s3cret@h/x",
            "http://alice:s3/cret@h/x",  # unencoded: urllib sees host alice, port s3
            "http://alice:12/s3cret@h:81/x",  # ... or a port 12
            "https://alice:s3#cret@h/x",
            "http://:s3cret@h/",
            "http://alice:s3cret@h/x?to=a@b",
        ]:
            with self.subTest(url=url):
                shown = shown_url(url)
                self.assertNotIn("s3", shown)
                self.assertNotIn("cret", shown)
                self.assertTrue(shown.startswith(url.partition(":")[0] + "://"))
        self.assertEqual(shown_url("http://h:81/x"), "http://h:81/x")

    def test_urls_that_cannot_work_are_refused_at_start(self) -> None:
        for url, reason in [
            ("http://alice:pa/ss@h/x", "percent-encode"),
            ("http://alice:12/ss@h/x", "percent-encode"),
            ("http://h/x y", "space"),
            ("http://h/x\r\nHost: evil", "control"),
            ("http://h:99999/x", "port"),
            ("ftp://h/x", "http"),
        ]:
            with self.subTest(url=url):
                with self.assertRaises(ValueError) as caught:
                    check_http_url(url)
                self.assertIn(reason, str(caught.exception))
                self.assertNotIn("ss@", str(caught.exception))
        self.assertEqual(check_http_url("http://alice:pa%2Fss@h/x"), "http://alice:pa%2Fss@h/x")

    def test_no_password_in_any_output(self) -> None:
        sample = "tests/data/sample.csv"
        refused = run_monitor(sample, "--alert-url", "http://alice:pa/ss@h/x")
        self.assertEqual(refused.returncode, 2)
        self.assertEqual(len(refused.stderr.splitlines()), 1, refused.stderr)
        self.assertNotIn("pa/ss", refused.stderr)
        for output in ("text", "json"):
            with self.subTest(output=output):
                unreachable = run_monitor(
                    sample,
                    "-v",
                    "--output",
                    output,
                    "--alert-url",
                    "http://alice:s3cr%2Ft@127.0.0.1:9/x",
                )
                self.assertEqual(unreachable.returncode, 0, unreachable.stderr)
                self.assertIn("not delivered", unreachable.stderr)
                everything = unreachable.stdout + unreachable.stderr
                self.assertNotIn("s3cr", everything)


class StandardOutputTest(unittest.TestCase):
    def run_with(
        self, stdout: Any, *args: str, closed: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            monitor_command("tests/data/sample.csv", *args),
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            cwd=TOP,
            env=environment(),
            timeout=60,
            preexec_fn=(lambda: os.close(1)) if closed else None,
        )

    def test_a_closed_or_full_standard_output_is_one_clear_line(self) -> None:
        with open("/dev/full", "w") as full:
            for output in ("text", "json"):
                with self.subTest(output=output):
                    result = self.run_with(full, "--output", output)
                    self.assertEqual(result.returncode, 1)
                    self.assertEqual(
                        result.stderr,
                        "LogsMonitor2000: error: cannot write to standard output: "
                        "No space left on device\n",
                    )
        closed = self.run_with(None, closed=True)
        self.assertEqual(closed.returncode, 1)
        self.assertEqual(
            closed.stderr, "LogsMonitor2000: error: cannot write to standard output: it is closed\n"
        )


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


if __name__ == "__main__":
    unittest.main()
