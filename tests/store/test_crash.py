"""--store under a live run: another process reads while the monitor writes, and kill
-9 at random moments leaves a store that opens, passes ``PRAGMA integrity_check``, and
(with --state) holds each minute once, as a one-shot run's store does."""

from __future__ import annotations

import random
import signal
import sqlite3
import tempfile
import time
import unittest
from functools import partial
from pathlib import Path

from tests.live import PATIENCE, LiveMonitor, append, csv_row, grow
from tests.pages import number, read_page
from tests.sse import get, served_url
from tests.support import run_monitor, slow

#: Small windows: every minute is closed a few seconds after the last line.
OPTIONS = ["--stats-interval", "5", "--buffer", "2", "--alert-window", "10", "--threshold", "4"]


def log_lines(rng: random.Random, second: int) -> str:
    count = rng.choice([1, 2, 3, 12]) if second % 90 < 40 else rng.choice([0, 1])
    return "".join(
        csv_row(second - rng.choice([0, 0, 1, 7]), source=f"10.0.0.{rng.randint(1, 6)}")
        for _ in range(count)
    )


def per_minute(db: Path) -> dict[int, tuple[int, int]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as stored:
        query = "SELECT minute, events, bytes FROM minutes ORDER BY minute"
        return {minute: (events, nbytes) for minute, events, nbytes in stored.execute(query)}


def intact(db: Path) -> bool:
    with sqlite3.connect(db) as stored:
        return stored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@slow
class ReaderTest(unittest.TestCase):
    def test_a_reader_while_the_monitor_writes(self) -> None:
        with tempfile.TemporaryDirectory() as name:
            log, db = Path(name) / "access.log", Path(name) / "history.db"
            append(log, "")
            start = 1_000_020
            with LiveMonitor(str(log), *OPTIONS, "--store", str(db)) as live:
                seen: list[int] = []
                for second in range(start, start + 240, 2):
                    append(log, csv_row(second) + csv_row(second + 1))
                    time.sleep(0.008)
                    if db.exists() and second % 20 == 0:  # (read while it writes)
                        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as r:
                            seen.append(
                                r.execute("SELECT TOTAL(events) FROM minutes").fetchone()[0]
                            )
                append(log, csv_row(start + 300))  # (closes the minutes before it)
                deadline = time.monotonic() + PATIENCE
                while (start + 239) // 60 * 60 not in per_minute(db):
                    self.assertLess(time.monotonic(), deadline, live.stderr)
                    time.sleep(0.05)
                self.assertEqual(live.stop(), 130)
            self.assertEqual(seen, sorted(seen))  # (each read sees whole minutes)
            self.assertGreater(len(set(seen)), 2)
            minutes = per_minute(db)
            self.assertEqual(sum(events for events, _ in minutes.values()), 241)
            self.assertTrue(intact(db))


@slow
class KillTest(unittest.TestCase):
    def test_kill_9_leaves_a_store_and_a_restart_writes_each_minute_once(self) -> None:
        rng = random.Random(5)
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            log, state, db = folder / "access.log", folder / "state.json", folder / "h.db"
            append(log, "")
            start, seconds = 1_000_000, 300
            # (one second of log time every 30 ms)
            done = grow(log, partial(log_lines, rng), range(start, start + seconds), 0.03)
            kills = 0
            args = [str(log), *OPTIONS, "--state", str(state), "--store", str(db)]
            while True:
                monitor = LiveMonitor(*args)
                if done.wait(random.Random(kills).uniform(0.3, 1.5)):
                    break
                monitor.kill()
                kills += 1
                if db.exists():
                    self.assertTrue(intact(db))
            append(log, csv_row(start + seconds + 120))  # (closes the last minutes)
            monitor.wait_for(lambda r: any(x.get("end", 0) > start + seconds + 100 for x in r))
            self.assertEqual(monitor.stop(), 130)
            self.assertGreaterEqual(kills, 3)
            once = run_monitor(str(log), *OPTIONS, "--store", str(folder / "once.db"))
            self.assertEqual(once.returncode, 0, once.stderr)
            self.assertEqual(per_minute(db), per_minute(folder / "once.db"))
            self.assertTrue(intact(db))


@slow
class LivePastTest(unittest.TestCase):
    def test_the_live_page_starts_with_the_stored_past_after_a_restart(self) -> None:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            log, state, db = folder / "access.log", folder / "state.json", folder / "h.db"
            start = 1_000_020  # (a minute's start)
            append(log, "".join(csv_row(second) for second in range(start, start + 300)))
            args = [str(log), *OPTIONS, "--state", str(state), "--store", str(db)]
            with LiveMonitor(*args, "--serve", "127.0.0.1:0") as first:
                served_url(first)
                deadline = time.monotonic() + PATIENCE
                while start + 180 not in per_minute(db) if db.exists() else True:
                    self.assertLess(time.monotonic(), deadline, first.stderr)
                    time.sleep(0.05)
                self.assertEqual(first.stop(signal.SIGTERM), 143)
            with LiveMonitor(*args, "--serve", "127.0.0.1:0") as second:
                url = served_url(second)
                append(log, csv_row(start + 400))
                second.wait_for(lambda records: any(r.get("end", 0) > start + 300 for r in records))
                page = read_page(get(url, "/")[2].decode())
                second.stop()
            rows = [(int(row[0]), int(row[1]), number(row[3])) for row in page.timeline]
            rows = [row for row in rows if row[0] < start + 300]  # (not the last line's)
            # The first run's stats windows, from the store, then the second run's:
            # every line of the log once, none missing at the restart.
            self.assertEqual(rows[0], (start, start + 5, 5))
            self.assertEqual([row[0] for row in rows], list(range(start, start + 300, 5)))
            self.assertEqual(sum(hits for _, _, hits in rows), 300, rows)


if __name__ == "__main__":
    unittest.main()
