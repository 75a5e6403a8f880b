"""--store and --from-store (docs/store.md): a stored range's summary against a run
over the log lines of those minutes, retention, and a reader while the monitor writes."""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import unittest
from pathlib import Path
from typing import Any

from tests.calculators.test_panels import NGINX_TIMED, batches_of, line_of, random_hits
from LogsMonitor2000.calculators.distinct import EXACT_VISITORS
from LogsMonitor2000.calculators.stats import PanelsTally, Stats
from LogsMonitor2000.families import FAMILIES
from LogsMonitor2000.inputs.parallel import MIN_BYTES
from LogsMonitor2000.store import rows
from LogsMonitor2000.store.schema import open_store
from tests.pages import number, read_page
from tests.support import DATA, SLOW, run_monitor, run_process, slow, time_zone

#: What a run over a range's lines and the stored range count alike: everything but
#: what depends on what came before the range (late, invalid, the alerts).
NOT_COUNTS = {"late", "invalid", "max_lateness", "alert_since", "active"}


def summary_of(stdout: str) -> dict[str, Any]:
    record = json.loads(stdout.splitlines()[-1])
    assert record["type"] == "summary", record
    return record


class FromStoreTest(unittest.TestCase):
    def run_case(self, folder: Path, seed: int, *, timed: bool) -> None:
        rng = random.Random(seed)
        hits = random_hits(rng, rng.randrange(100, 600), timed)
        log, db = folder / f"{seed}-{timed}.log", folder / f"{seed}-{timed}.db"
        log.write_text("".join(line_of(hit, timed) for hit in hits))
        fmt = ["--log-format", NGINX_TIMED] if timed else ["--format", "clf"]
        common = [*fmt, "--output", "json", "--top", "12", "--buffer", "10"]
        direct = run_monitor(
            str(log), *common, "--store", str(db), "--alert", "share(5xx) > 20% over 1m"
        )
        self.assertEqual(direct.returncode, 0, direct.stderr)
        stored = run_monitor("--from-store", str(db), "--output", "json", "--top", "12")
        self.assertEqual(stored.returncode, 0, stored.stderr)
        self.assertEqual(summary_of(stored.stdout), summary_of(direct.stdout))

        minutes = sorted({hit.time // 60 * 60 for hit in hits})
        first = rng.choice(minutes)
        last = rng.choice([m for m in minutes if m >= first])
        part = folder / f"{seed}-{timed}-part.log"
        part.write_text(
            "".join(line_of(hit, timed) for hit in hits if first <= hit.time < last + 60)
        )
        alone = run_monitor(str(part), *common)
        ranged = run_monitor(
            "--from-store", str(db), "--output", "json", "--top", "12",
            "--since", _iso(first), "--until", _iso(last + 60),
        )  # fmt: skip
        self.assertEqual(ranged.returncode, 0, ranged.stderr)
        got, expected = summary_of(ranged.stdout), summary_of(alone.stdout)
        for key in NOT_COUNTS:
            got.pop(key, None), expected.pop(key, None)
        self.assertEqual(got, expected)

    def test_the_report_of_a_range(self) -> None:
        # The bundled sample stored, then the report of five of its minutes: one row
        # a minute, their hits those of the range, the alert in it.
        with tempfile.TemporaryDirectory() as name:
            db, report = Path(name) / "h.db", Path(name) / "range.html"
            self.assertEqual(
                run_monitor(str(DATA / "sample.log"), "--store", str(db)).returncode, 0
            )
            first, last = 1549574100, 1549574400  # 21:15 to 21:20 UTC
            done = run_monitor(
                "--from-store", str(db), "--since", _iso(first), "--until", _iso(last),
                "--report", str(report), "--output", "json",
            )  # fmt: skip
            self.assertEqual(done.returncode, 0, done.stderr)
            page = read_page(report.read_text())
            rows = [(int(row[0]), int(row[1]), number(row[3])) for row in page.timeline]
            self.assertEqual([row[0] for row in rows], list(range(first, last, 60)))
            self.assertEqual(sum(row[2] for row in rows), summary_of(done.stdout)["events"])
            self.assertIn(
                "traffic: alert at 2019-02-07T21:16:18+00:00, value 10.16, threshold 10", page.text
            )

    def test_a_range_counts_what_a_run_over_its_lines_counts(self) -> None:
        with tempfile.TemporaryDirectory() as name:
            for zone in ("UTC", "Asia/Kolkata"):
                with time_zone(zone):
                    for seed in range(8 if SLOW else 1):
                        for timed in (False, True):
                            with self.subTest(zone=zone, seed=seed, timed=timed):
                                self.run_case(Path(name), seed, timed=timed)


class RowsTest(unittest.TestCase):
    def test_a_minute_past_the_exact_visitors_is_read_back_as_their_number(self) -> None:
        # A minute of more than 100,000 visitors keeps only their number (HyperLogLog):
        # read back, its day has that many visitors, and the minutes with ids theirs.
        with tempfile.TemporaryDirectory() as name, time_zone("UTC"):
            db = open_store(str(Path(name) / "h.db"), write=True)
            written, rng = [], random.Random(4)
            one, two = 1_700_000_040, 1_700_000_100
            for minute, estimated in ((one, False), (two, True)):
                stats = Stats(FAMILIES["http"], top_n=rows.KEEP, bounded=True)
                tally = next(t for t in stats.tallies if isinstance(t, PanelsTally))
                hits = [hit._replace(time=minute + rng.randrange(60))
                        for hit in random_hits(rng, 300, True)]  # fmt: skip
                for _, batch in sorted(batches_of(sorted(hits)).items()):
                    tally.count(batch)
                if estimated:  # (as many more visitors as make the day's an estimate)
                    tally.panels.unique_visitors()  # (its visits spread)
                    for day in tally.panels.visitors.values():
                        day.add_ids(rng.getrandbits(56) for _ in range(EXACT_VISITORS))
                        self.assertIsNotNone(day.registers)
                db.execute("INSERT INTO minutes VALUES (?, 1, 0, 0, 0, 0, 0, 0)", (minute,))
                rows.write(db, minute, tally)
                written.append(tally.panels.value(rows.KEEP))
            for minute, expected in ((one, written[0]), (two, written[1])):
                with self.subTest(minute=minute):
                    back = Stats(FAMILIES["http"], top_n=rows.KEEP, bounded=True)
                    rows.read_stats(db, (minute, minute), back)
                    got = next(t for t in back.tallies if isinstance(t, PanelsTally))
                    value = got.panels.value(rows.KEEP)
                    for key in ("visitors", "unique_visitors", "visit_time"):
                        self.assertEqual(value[key], expected[key], key)
            both = Stats(FAMILIES["http"], top_n=rows.KEEP, bounded=True)
            rows.read_stats(db, (one, two), both)
            tally = next(t for t in both.tallies if isinstance(t, PanelsTally))
            days = {e["key"]: e["visitors"] for e in tally.panels.value(rows.KEEP)["visitors"]}
            self.assertEqual(sum(days.values()), tally.panels.unique_visitors())
            db.close()


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in order, but the late and invalid records of each minute
    (those read since the minute before: when they were read depends on how)."""
    with sqlite3.connect(db) as stored:
        tables = ["counts", "figures", "entries", "visitors", "windows"]
        rows = {table: sorted(stored.execute(f"SELECT * FROM {table}")) for table in tables}
        rows["alerts"] = list(stored.execute("SELECT record FROM alerts ORDER BY time, id"))
        rows["minutes"] = sorted(
            stored.execute("SELECT minute, events, bytes, first, last FROM minutes")
        )
    return rows


class WorkersTest(unittest.TestCase):
    @slow
    def test_workers_store_what_one_process_stores(self) -> None:
        rng = random.Random(12)
        hits = random_hits(rng, 50_000, True)
        with tempfile.TemporaryDirectory() as name:
            log = Path(name) / "access.log"
            log.write_text("".join(line_of(hit, True) for hit in hits))
            self.assertGreater(log.stat().st_size, MIN_BYTES)
            outputs = []
            for jobs in ("1", "2"):
                db = Path(name) / f"{jobs}.db"
                done = run_process(
                    str(log), "--output", "json", "--log-format", NGINX_TIMED, "--jobs", jobs,
                    "--store", str(db), "--alert", "e: share(5xx) > 17% over 1d", TZ="UTC",
                )  # fmt: skip
                self.assertEqual(done.returncode, 0, done.stderr)
                outputs.append((done.stdout, dump(db)))
            self.assertEqual(outputs[0][0], outputs[1][0])
            self.assertEqual(outputs[0][1], outputs[1][1])
            self.assertGreater(len(outputs[0][1]["minutes"]), 100)


class RetentionTest(unittest.TestCase):
    def test_what_is_older_than_retain_is_gone_at_the_end(self) -> None:
        # Logging records over three days, one every ten minutes, and an error spell
        # on the first day that alerts: --retain 1d keeps the last day of each table.
        start = 1_700_006_400  # (a UTC midnight)
        lines = []
        for n in range(3 * 144):
            level = "ERROR" if 10 <= n < 14 else "INFO"
            lines.append(
                json.dumps({"name": "app", "msg": f"n{n}", "levelname": level,
                            "created": start + 600 * n + 0.5})  # fmt: skip
            )
        with tempfile.TemporaryDirectory() as name:
            log, db = Path(name) / "app.log", Path(name) / "history.db"
            log.write_text("\n".join(lines) + "\n")
            done = run_monitor(
                str(log), "--format", "pylog", "--store", str(db), "--retain", "1d",
                "--alert", "errors: rate(ERROR) > 0.0005/s over 1h", "--output", "json",
            )  # fmt: skip
            self.assertEqual(done.returncode, 0, done.stderr)
            newest = start + 600 * (3 * 144 - 1)
            cutoff = newest - newest % 60 + 60 - 86400
            with sqlite3.connect(db) as stored:
                for table, column in [("minutes", "minute"), ("counts", "minute"),
                                      ("records", "created"), ("alerts", "time")]:  # fmt: skip
                    oldest, rows = stored.execute(
                        f"SELECT MIN({column}), COUNT(*) FROM {table}"
                    ).fetchone()
                    with self.subTest(table=table):
                        if table == "alerts":
                            self.assertEqual(rows, 0)  # (the spell was two days ago)
                        else:
                            self.assertGreaterEqual(oldest, cutoff)
                            self.assertLess(oldest, cutoff + 600)
                kept = stored.execute("SELECT COUNT(*) FROM records").fetchone()[0]
            self.assertEqual(kept, sum(1 for n in range(3 * 144) if start + 600 * n >= cutoff))
            # Without --retain the alerts of the first day are there.
            again = run_monitor(
                str(log), "--format", "pylog", "--store", str(Path(name) / "all.db"),
                "--alert", "errors: rate(ERROR) > 0.0005/s over 1h", "--output", "json",
            )  # fmt: skip
            with sqlite3.connect(Path(name) / "all.db") as stored:
                kinds = [row[0] for row in stored.execute("SELECT type FROM alerts ORDER BY time")]
                records = stored.execute("SELECT COUNT(*), SUM(kept) FROM records").fetchone()
            self.assertEqual(kinds, ["alert", "recovery"])
            self.assertEqual(records, (3 * 144, 3 * 144))
            self.assertEqual(again.returncode, 0, again.stderr)


class UsageTest(unittest.TestCase):
    def test_mistakes_are_one_line_and_exit_2(self) -> None:
        with tempfile.TemporaryDirectory() as name:
            db = str(Path(name) / "h.db")
            log = str(Path(name) / "x.log")
            Path(log).write_text("")
            cases = [
                ("--from-store", db),  # (none there yet)
                ("--from-store", log),  # (no store)
                ("--from-store", db, log),
                ("--from-store", db, "--path", "/api"),
                (log, "--retain", "3d"),
                (log, "--store", db, "--retain", "soon"),
                (log, "--store", log),
                (log, "--store", name),  # (a directory)
            ]
            for args in cases:
                with self.subTest(args=args):
                    done = run_monitor(*args)
                    self.assertEqual(done.returncode, 2, done.stderr)
                    self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
                    self.assertNotIn("Traceback", done.stderr)
            # A store of access logs won't take logging records.
            sample = str(Path(name) / "a.log")
            Path(sample).write_text(
                '1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.1" 200 5\n'
            )
            self.assertEqual(run_monitor(sample, "--store", db).returncode, 0)
            records = str(Path(name) / "r.log")
            Path(records).write_text('{"name": "a", "levelname": "INFO", "created": 5}\n')
            done = run_monitor(records, "--format", "pylog", "--store", db)
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn("holds requests", done.stderr)


def _iso(second: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(second, datetime.timezone.utc).isoformat()


if __name__ == "__main__":
    unittest.main()
