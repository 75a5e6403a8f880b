"""The whole pipeline against ``reference.py`` on random streams: every record, every
number, for bursts, silences, disorder, late lines and ties in the top lists."""

import random
import unittest

from tests.reference import Event, reference
from tests.support import analyse, blocks_of, csv_line

SECTIONS = ["/", "/api", "/report", "/a", "/b"]
SOURCES = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.1.1"]


def random_events(rng: random.Random, count: int) -> list[Event]:
    """Events in arrival order: a clock that mostly crawls, sometimes jumps, and
    timestamps that are sometimes a little or a lot behind it."""
    clock = rng.randint(0, 10**9)
    events = []
    for _ in range(count):
        step = rng.random()
        if step < 0.02:
            clock += rng.randint(20, 400)  # a silence
        elif step < 0.4:
            clock += 1
        time = clock
        lag = rng.random()
        if lag < 0.05:
            time -= rng.randint(3, 15)  # probably late
        elif lag < 0.3:
            time -= rng.randint(0, 3)
        events.append(
            Event(
                time=time,
                section=rng.choice(SECTIONS),
                source=rng.choice(SOURCES),
                status=rng.choice([200, 200, 302, 404, 500]),
                size=rng.randint(0, 5000),
            )
        )
    return events


class BruteForceTest(unittest.TestCase):
    def test_random_streams_match_the_reference(self) -> None:
        for seed in range(40):
            rng = random.Random(seed)
            options = {
                "lateness": rng.randint(0, 5),
                "alert_window": rng.randint(1, 40),
                "threshold": rng.choice([0.0, 0.5, 1.0, 2.5, 4.0]),
                "stats_interval": rng.randint(1, 15),
                "top": rng.randint(0, 5),
            }
            events = random_events(rng, rng.randint(0, 600))
            text = "".join(csv_line(*event[:5]) for event in events)
            with self.subTest(seed=seed, **options):
                got = analyse(blocks_of(text, rng.randint(1, 80)), log_format="csv", **options)
                self.assertEqual(got, reference(events, **options))

    def test_the_alert_triggers_and_recovers_in_random_streams(self) -> None:
        # The table above must exercise what it claims: alerts, recoveries and lateness.
        kinds: set[str] = set()
        late = 0
        for seed in range(40):
            rng = random.Random(seed)
            events = random_events(rng, 300)
            records = reference(events, lateness=2, alert_window=5, threshold=1.0)
            kinds.update(r["type"] for r in records)
            late += records[-1]["late"]
        self.assertLessEqual({"alert", "recovery", "stats", "summary"}, kinds)
        self.assertGreater(late, 0)


if __name__ == "__main__":
    unittest.main()
