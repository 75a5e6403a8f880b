"""A short soak (``tools/soak.py``): the monitor under ``--follow --state --serve`` with
a writer that rotates its log, clients of ``/events`` and a ``/metrics`` scraper,
through two ``kill -9`` and a SIGTERM; then the soak's checks shown to catch what they
are for."""

from __future__ import annotations

import copy
import unittest

from tests.support import slow
from tools.soak import Plan, Soak, problems, soak


@slow
class SoakTest(unittest.TestCase):
    result: Soak

    @classmethod
    def setUpClass(cls) -> None:
        cls.result = soak(Plan(seconds=20, rate=150, rotate=6, clients=3))

    def test_nothing_lost_or_doubled_and_every_client_got_every_record(self) -> None:
        self.assertEqual(problems(self.result), [])
        runs = self.result.runs
        self.assertEqual([run.status for run in runs], [-9, -9, 143])
        kinds = {record["type"] for record in self.result.whole}
        self.assertLessEqual({"stats", "alert", "recovery", "summary"}, kinds)
        self.assertGreater(self.result.whole[-1]["late"], 0)
        self.assertGreater(self.result.whole[-1]["invalid"], 0)
        for client in self.result.clients:
            # Each run served it, and it came back to the two restarted ones with an
            # id of the run before (told to reload).
            self.assertEqual({segment.run for segment in client.segments}, {0, 1, 2})
            came_back = [s for s in client.segments if s.came_back_with and s.events]
            self.assertGreaterEqual(len(came_back), 2)
        for run in runs:
            self.assertGreater(len(run.scrapes), 2)

    def test_the_checks_catch_what_they_are_for(self) -> None:
        def spoilt(change: object) -> list[str]:
            result = copy.deepcopy(self.result)
            change(result)  # type: ignore[operator]
            return problems(result)

        def no_summary(result: Soak) -> None:
            result.clients[1].segments[-1].events.pop()

        def a_record_twice(result: Soak) -> None:
            events = result.clients[2].segments[-1].events
            events.insert(3, events[2])

        def wrong_run_after_a_restart(result: Soak) -> None:
            segment = next(s for s in result.clients[0].segments if s.came_back_with and s.events)
            segment.events[0] = (5, "stats", "{}")

        def a_window_doubled(result: Soak) -> None:
            record = next(r for r in result.runs[1].records if r["type"] == "stats")
            result.runs[1].records.append(dict(record, hits=record["hits"] + 1))

        def a_counter_back(result: Soak) -> None:
            scrapes = result.runs[2].scrapes
            scrapes.append(
                dict(scrapes[-1], late_events_total=scrapes[-1]["late_events_total"] - 1)
            )

        for change, expected in [
            (no_summary, "client 1: no summary at the end"),
            (a_record_twice, "client 2: run 2: record 3 after 3"),
            (wrong_run_after_a_restart, "client 0: back with"),
            (a_window_doubled, "windows: 1 records no whole run printed"),
            (a_counter_back, "run 2: late_events_total went back"),
        ]:
            with self.subTest(change.__name__):
                found = spoilt(change)
                self.assertTrue(any(p.startswith(expected) for p in found), found)
