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

from tests.calculators.test_panels import NGINX_TIMED, line_of, random_hits
from tests.support import run_monitor, time_zone

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

    def test_a_range_counts_what_a_run_over_its_lines_counts(self) -> None:
        with tempfile.TemporaryDirectory() as name:
            for zone in ("UTC", "Asia/Kolkata"):
                with time_zone(zone):
                    for seed in range(3):
                        for timed in (False, True):
                            with self.subTest(zone=zone, seed=seed, timed=timed):
                                self.run_case(Path(name), seed, timed=timed)


def _iso(second: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(second, datetime.timezone.utc).isoformat()


if __name__ == "__main__":
    unittest.main()
