"""--state: checkpoints survive kill -9, rotation while stopped, and refuse a state
file that belongs to another log or other settings."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import stat
import subprocess
import tempfile
import time
import unittest
from functools import partial
from pathlib import Path
from typing import Any

from LogsMonitor2000.pipeline.monitor import Monitor, StopRequested
from LogsMonitor2000.calculators.expression import parse_rule
from LogsMonitor2000.settings import Settings
from LogsMonitor2000.inputs import Idle
from tests.live import LiveMonitor, append, csv_row, grow, hits_seen, settled
from tests.support import (
    Blocks,
    Collector,
    DATA,
    TOP,
    blocks_of,
    environment,
    monitor_command,
    run_monitor,
    run_process,
    slow,
)

# Small windows so that every record is settled a few seconds after the last line.
OPTIONS = ["--alert-window", "10", "--threshold", "4", "--stats-interval", "5", "--buffer", "2"]
HORIZON = 10 + 5 + 2 + 1  # W + I + B + 1: past that, only empty windows


def log_lines(rng: random.Random, second: int) -> str:
    """One second of traffic: a burst now and then, a little disorder, a late line."""
    count = rng.choice([1, 2, 3, 12]) if second % 40 < 20 else rng.choice([0, 1])
    lines = []
    for _ in range(count):
        lag = rng.choice([0, 0, 0, 1, 2, 7])  # 7 s behind is late with B = 2
        lines.append(csv_row(second - lag, source=f"10.0.0.{rng.randint(1, 6)}"))
    return "".join(lines)


@slow
class KillTest(unittest.TestCase):
    def test_kill_9_and_restart_print_what_one_run_prints(self) -> None:
        rng = random.Random(3)
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "access.log"
            state = Path(folder) / "state.json"
            append(log, "")
            start, seconds = 1_000_000, 260
            # (one second of log time every 40 ms)
            done = grow(log, partial(log_lines, rng), range(start, start + seconds), 0.04)
            union: set[str] = set()
            restarts = 0
            while True:
                monitor = LiveMonitor(str(log), *OPTIONS, "--state", str(state))
                if done.wait(random.Random(restarts).uniform(0.3, 1.5)):
                    break
                monitor.kill()
                union |= settled(monitor.records, start + seconds + HORIZON)
                restarts += 1
            monitor.wait_for(
                lambda r: any(
                    x["type"] == "stats" and x["end"] > start + seconds + HORIZON for x in r
                )
            )
            self.assertEqual(monitor.stop(), 130)
            union |= settled(monitor.records, start + seconds + HORIZON)
            self.assertGreaterEqual(restarts, 3)

            with LiveMonitor(str(log), *OPTIONS) as whole:
                whole.wait_for(
                    lambda r: any(
                        x["type"] == "stats" and x["end"] > start + seconds + HORIZON for x in r
                    )
                )
                whole.stop()
            expected = settled(whole.records, start + seconds + HORIZON)

        self.assertEqual(union, expected)
        kinds = {json.loads(record)["type"] for record in expected}
        self.assertLessEqual({"stats", "alert", "recovery"}, kinds)
        late = whole.records[-1]["late"]
        self.assertGreater(late, 0)


#: A rule of each --alert kind (their windows and states carry over too).
RULES = tuple(
    parse_rule(text)
    for text in (
        "e: share(5xx) > 5% over 1m",
        "a: rate(/api) > 1/s over 20s",
        "rate < 0.8x baseline(2m) over 30s",
        "p: rate(method=POST) > 0.2/s over 10s",
    )
)


class StoppingBlocks(Blocks):
    """Blocks, then a wait (which decides the format of a short input, as a live
    reader's wait does), then the end a signal brings: StopRequested while waiting."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self.items
        yield Idle(0.0)
        raise StopRequested(signal.SIGTERM)


class SnapshotTest(unittest.TestCase):
    """snapshot() then restore() in a new monitor: the two halves print what one run
    prints, for every format (held CSV lines, MongoDB bookkeeping and the panels of
    access logs included)."""

    def test_halves_print_what_one_run_prints(self) -> None:
        rng = random.Random(8)
        cases = [
            ("sample.csv", {}),
            ("sample.log", {"alert_window": 30, "threshold": 5.0, "alerts": RULES}),
            ("mongo-traffic.csv", {"slow_ms": 30.0, "stats_interval": 5}),
            ("mongo.csv", {"alert_window": 4, "threshold": 0.5, "slow_ms": 100.0}),
        ]
        for name, options in cases:
            text = (DATA / name).read_text()
            # Cut inside a multi-line CSV record too: the held lines must carry over.
            blocks: list[str | Idle] = list(blocks_of(text, rng.randint(3, 40)))
            whole = self.run_whole(blocks, options)
            for cut in sorted(rng.sample(range(1, len(blocks)), 3)):
                with self.subTest(name=name, cut=cut):
                    first = Monitor(Settings(paths=(name,), **options), Collector(), warn=print)
                    first.run([StoppingBlocks(blocks[:cut])])
                    saved = json.loads(json.dumps(first.snapshot()))
                    second_notes = Collector()
                    second = Monitor(Settings(paths=(name,), **options), second_notes, warn=print)
                    second.add_inputs([name], [Blocks(blocks[cut:])])
                    second.restore(saved)
                    second.run()
                    assert isinstance(first.notifier, Collector)
                    halves = first.notifier.records + second_notes.records
                    summary = {**second_notes.summary, **second_notes.panels}
                    self.assertEqual(halves + [summary], whole)

    def test_a_cut_inside_an_open_record_or_between_repeated_rows(self) -> None:
        valid = '"10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234\n'
        mongo = (DATA / "mongo.csv").read_text().splitlines(keepends=True)
        cases: list[tuple[list[str | Idle], int]] = [
            # A CSV record open at the end of the first part: held, then finished.
            ([valid * 3 + '"10.0.0.9","-","-",1549573861,"GET /a\n', 'b HTTP/1.0",200,1\n'], 1),
            # The final row of a cursor, then (after the cut) its repetition.
            (["".join(mongo[:9]), "".join(mongo[9:])], 1),
        ]
        for blocks, cut in cases:
            with self.subTest(blocks=blocks[0][:40]):
                whole = self.run_whole(blocks, {})
                first = Monitor(Settings(paths=("x",)), Collector(), warn=print)
                first.run([StoppingBlocks(blocks[:cut])])
                second_notes = Collector()
                second = Monitor(Settings(paths=("x",)), second_notes, warn=print)
                second.add_inputs(["x"], [Blocks(blocks[cut:])])
                second.restore(json.loads(json.dumps(first.snapshot())))
                second.run()
                assert isinstance(first.notifier, Collector)
                halves = first.notifier.records + second_notes.records
                summary = {**second_notes.summary, **second_notes.panels}
                self.assertEqual(halves + [summary], whole)

    def run_whole(self, blocks: list[str | Idle], options: dict[str, Any]) -> list[dict[str, Any]]:
        notes = Collector()
        Monitor(Settings(paths=("whole",), **options), notes, warn=print).run([Blocks(blocks)])
        assert notes.summary is not None
        return notes.records + [{**notes.summary, **notes.panels}]  # (the panels too)


class StateTest(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.log = Path(self.folder.name) / "access.log"
        self.state = Path(self.folder.name) / "state.json"

    def rows(self, count: int, source: str = "10.0.0.1") -> str:
        now = int(time.time())
        return "".join(csv_row(now, source) for _ in range(count))

    def run_until(self, hits: int, *extra: str, signum: int = signal.SIGTERM) -> LiveMonitor:
        with LiveMonitor(str(self.log), "--state", str(self.state), *extra) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) >= hits)
            self.assertEqual(monitor.stop(signum), 128 + signum)
        return monitor

    @slow
    def test_sigterm_saves_and_a_restart_carries_on(self) -> None:
        append(self.log, self.rows(3))
        quick = ["--stats-interval", "1", "--buffer", "0"]
        first = self.run_until(3, *quick)
        self.assertEqual(first.records[-1]["events"], 3)
        saved = json.loads(self.state.read_text())
        self.assertEqual(saved["positions"][0]["offset"], self.log.stat().st_size)
        append(self.log, self.rows(2))
        second = self.run_until(2, *quick, signum=signal.SIGINT)
        self.assertEqual(second.records[-1]["events"], 5)  # the counts carry on
        self.assertEqual(hits_seen(second.records), 2)  # and nothing is read twice

    @slow
    def test_rotation_while_stopped(self) -> None:
        append(self.log, self.rows(2))
        self.run_until(2, "--stats-interval", "1")
        append(self.log, self.rows(1))  # written before the rotation
        os.rename(self.log, self.log.with_suffix(".log.1"))
        append(self.log, self.rows(3, source="10.0.0.2"))
        second = self.run_until(4, "--stats-interval", "1")
        self.assertEqual(second.records[-1]["events"], 6)

    @slow
    def test_state_reset_starts_over(self) -> None:
        append(self.log, self.rows(2))
        self.run_until(2, "--stats-interval", "1")
        again = self.run_until(2, "--stats-interval", "1", "--state-reset")
        self.assertEqual(again.records[-1]["events"], 2)

    @slow
    def test_refused_state_files(self) -> None:
        append(self.log, self.rows(1))
        self.run_until(1)
        other = Path(self.folder.name) / "other.log"
        append(other, self.rows(1))
        cases = {
            "another log": ([str(other), "--follow", "--state", str(self.state)], "not of"),
            "other settings": (
                [str(self.log), "--follow", "--state", str(self.state), "--alert-window", "7"],
                "other settings",
            ),
            "another format": (
                [str(self.log), "--follow", "--state", str(self.state), "--format", "clf"],
                "--format",
            ),
        }
        for name, (args, words) in cases.items():
            with self.subTest(name):
                result = run_process(*args, timeout=30)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(words, result.stderr)
                self.assertIn("--state-reset", result.stderr)
                self.assertEqual(len(result.stderr.splitlines()), 1)
        for damage in ["{not json", '{"version": 1}', "", '{"version": 99}']:
            with self.subTest(damage=damage):
                self.state.write_text(damage)
                result = run_monitor(str(self.log), "--follow", "--state", str(self.state))
                self.assertEqual(result.returncode, 2)
                self.assertIn("--state-reset", result.stderr)

    @slow
    def test_display_options_may_change_and_a_restart_says_where_it_resumed(self) -> None:
        append(self.log, self.rows(3))
        self.run_until(3, "--stats-interval", "1")
        append(self.log, self.rows(2))
        display = ["--top", "1", "--no-color", "--verbose", "--stats-interval", "1"]
        with LiveMonitor(str(self.log), "--state", str(self.state), *display) as monitor:
            monitor.wait_for(lambda r: hits_seen(r) >= 2)
            self.assertEqual(monitor.stop(), 130)
        self.assertEqual(monitor.records[-1]["events"], 5)
        # Three lines were read before: the restart carries on at the fourth.
        self.assertRegex(
            monitor.stderr, r"resuming .*access\.log at line 4 \(byte \d+\); log time "
        )
        with LiveMonitor(
            str(self.log), "--state", str(self.state), "--stats-interval", "1", output="text"
        ) as text:
            text.wait_for_stderr("resuming")
            self.assertEqual(text.stop(), 130)
        self.assertNotIn("--state-reset", text.stderr)

    def test_an_unwritable_state_file(self) -> None:
        append(self.log, self.rows(1))
        target = Path(self.folder.name) / "no" / "such" / "folder" / "state.json"
        result = run_monitor(str(self.log), "--follow", "--state", str(target))
        self.assertEqual(result.returncode, 2)
        self.assertIn("cannot write the state file", result.stderr)


class StateFaultTest(unittest.TestCase):
    """A --state file that is damaged, odd, shared or can't be written."""

    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.log = Path(self.folder.name) / "access.log"
        self.state = Path(self.folder.name) / "state.json"
        append(self.log, "".join(csv_row(1000 + i) for i in range(5)))

    def follow(self, *extra: str, state: Path | None = None) -> subprocess.CompletedProcess[str]:
        """A followed run that must stop at once, at start (with stdin closed)."""
        where = str(state or self.state)
        return run_process(str(self.log), "--follow", "--state", where, *extra, timeout=30)

    @slow
    def test_a_damaged_checkpoint_is_refused_field_by_field(self) -> None:
        good = self.checkpoint()
        damages = {
            "monitor is null": lambda d: d.update(monitor=None),
            "newest is a string": lambda d: d["monitor"]["lanes"][0]["reorderer"].update(
                newest="x"
            ),
            "late is negative": lambda d: d["monitor"]["lanes"][0]["reorderer"].update(late=-1),
            "a count of 1e999": lambda d: d["monitor"]["lanes"][0]["rejects"].update(
                count=float("inf")
            ),
            "hits of 2.5": lambda d: d["monitor"]["windows"][0]["calculator"].update(hits=2.5),
            "an input too many": lambda d: d["monitor"]["lanes"].append(d["monitor"]["lanes"][0]),
            "a negative offset": lambda d: d["positions"][0].update(offset=-1),
            "settings are a list": lambda d: d.update(settings=[]),
            "a window too many": lambda d: d["monitor"]["windows"].append({}),
            "a source count of true": lambda d: d["monitor"]["windows"][1]["calculator"]["sources"][
                "counts"
            ].update({"10.0.0.1": True}),
            "nested a thousand deep": lambda d: d["monitor"].update(parser=[[[[]]]] * 1000),
        }
        for name, damage in damages.items():
            with self.subTest(name):
                data = json.loads(good)
                damage(data)
                self.state.write_text(json.dumps(data).replace("Infinity", "1e999"))
                result = self.follow()
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertIn(str(self.state), result.stderr)
                self.assertIn("--state-reset", result.stderr)
        self.state.write_text("[" * 100_000 + "]" * 100_000)
        self.assertEqual(self.follow().returncode, 2)

    def checkpoint(self) -> str:
        with LiveMonitor(str(self.log), "--state", str(self.state), "--stats-interval", "1") as run:
            run.wait_for(lambda r: hits_seen(r) >= 5)
            self.assertEqual(run.stop(), 130)
        return self.state.read_text()

    def test_only_a_regular_file_and_never_an_input(self) -> None:
        folder = Path(self.folder.name)
        link = folder / "link"
        link.symlink_to(self.log)
        cases = [
            (folder, "not a regular file"),
            (self.log, "one of the inputs"),
            (link, "one of the inputs"),
        ]
        # Private nodes like /dev/null and /dev/full (never the real ones: a monitor
        # that took them for state files would replace them).
        for name, minor in (("null", 3), ("full", 7)):
            try:
                os.mknod(folder / name, 0o600 | stat.S_IFCHR, os.makedev(1, minor))
            except PermissionError:
                continue  # not root: the folder above stands for them
            cases.append((folder / name, "not a regular file"))
        for state, words in cases:
            for reset in ([], ["--state-reset"]):
                with self.subTest(state=str(state), reset=reset):
                    # (refused at start: in this process, as a usage error is)
                    result = run_monitor(str(self.log), "--follow", "--state", str(state), *reset)
                    self.assertEqual(result.returncode, 2, result.stderr)
                    self.assertIn(words, result.stderr)
                    self.assertEqual(len(result.stderr.splitlines()), 1)
        self.assertEqual(self.log.read_text().count("\n"), 5)  # the log is untouched

    @slow
    def test_two_monitors_cannot_share_a_state_file(self) -> None:
        with LiveMonitor(
            str(self.log), "--state", str(self.state), "--stats-interval", "1"
        ) as first:
            first.wait_for(lambda r: hits_seen(r) >= 5)
            second = self.follow("--stats-interval", "1")
            self.assertEqual(second.returncode, 2)
            self.assertIn("in use by another monitor", second.stderr)
            self.assertEqual(first.stop(), 130)
        self.assertEqual(json.loads(self.state.read_text())["version"], 3)  # whole
        again = LiveMonitor(str(self.log), "--state", str(self.state), "--stats-interval", "1")
        with again:  # the lock went with the first monitor
            again.wait_for_stderr("resuming")
            self.assertEqual(again.stop(), 130)

    @slow
    def test_a_full_disk_while_saving_still_prints_the_summary(self) -> None:
        # A file-size limit of 0 makes every checkpoint write fail (as a full disk does).
        def no_room() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

        process = subprocess.Popen(
            monitor_command(
                str(self.log), "--follow", "--state", str(self.state), "--output", "json"
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=TOP,
            env=without_coverage(environment()),  # (its data file can't be written either)
            preexec_fn=no_room,
        )
        time.sleep(2.0)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 130, stderr)
        self.assertEqual(json.loads(stdout.splitlines()[-1])["events"], 5)
        self.assertIn("the checkpoint was not saved", stderr)
        self.assertNotIn("Traceback", stderr)
        leftovers = [p.name for p in Path(self.folder.name).iterdir() if p.name.endswith(".tmp")]
        self.assertEqual(leftovers, [])


def without_coverage(env: dict[str, str]) -> dict[str, str]:
    """The environment, without what starts coverage in a subprocess (CI's)."""
    return {
        k: v
        for k, v in env.items()
        if k not in ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")
    }


if __name__ == "__main__":
    unittest.main()
