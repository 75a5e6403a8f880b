"""A second's visit log (the panels' requests): added up past COMPACT_AT, it holds the
same requests - for the panels, for a rule on paths, for --anonymize, for a checkpoint."""

from __future__ import annotations

import json
import random
import unittest

from LogsMonitor2000.calculators import Context
from LogsMonitor2000.calculators.expression import parse_scope
from LogsMonitor2000.calculators.scope import matcher
from LogsMonitor2000.families import HTTP
from LogsMonitor2000.families.http import HttpBatch
from LogsMonitor2000.pipeline.batch import COMPACT_AT, VisitLog, Visits
from LogsMonitor2000.pipeline.filters import Anonymizer
from LogsMonitor2000.settings import Settings


def requests(rng: random.Random, count: int) -> list[tuple[tuple[str, ...], int, float | None]]:
    return [
        (
            (
                f"10.0.0.{rng.randrange(9)}",
                rng.choice(["-", "ann"]),
                rng.choice(["/api/a?token=1", "/api", "/apiary", "/x.css"]),
                rng.choice(["200", "404"]),
                rng.choice(["-", "https://example.com/?q=1"]),
                "curl/8",
            ),
            rng.randrange(1000),
            rng.choice([None, float(rng.randrange(100))]),
        )
        for _ in range(count)
    ]


class VisitLogTest(unittest.TestCase):
    def test_added_up_it_holds_the_same_requests(self) -> None:
        rng = random.Random(1)
        every = requests(rng, 3 * COMPACT_AT)
        one_by_one, added_up = VisitLog(), VisitLog()
        one_by_one.keys = [key for key, _, _ in every]  # (as the fast paths append)
        one_by_one.sizes = [size for _, size, _ in every]
        one_by_one.timed = [(key, ms) for key, _, ms in every if ms is not None]
        for key, size, ms in every:
            added_up.add(key, size, ms)
        self.assertTrue(added_up.counted)
        self.assertLessEqual(len(added_up.keys), COMPACT_AT)
        self.assertEqual(len(added_up), len(every))
        self.assertEqual(added_up, one_by_one)
        # A checkpoint, a merge.
        aggregate = Visits("visits")
        again = aggregate.from_json(json.loads(json.dumps(aggregate.to_json(added_up))))
        self.assertEqual(again, one_by_one)
        twice = VisitLog()
        twice.extend(added_up)
        twice.extend(one_by_one)
        doubled = VisitLog()
        for key, size, ms in every + every:
            doubled.add(key, size, ms)
        self.assertEqual(twice, doubled)
        # A rule on a path counts the same.
        context = Context(settings=Settings(paths=("x",)), family=HTTP, durations=False,
                          format_description="")  # fmt: skip
        count = matcher(parse_scope("/api"), context, "r")
        batches = []
        for log in (one_by_one, added_up):
            batch = HttpBatch(1)
            batch.visits = log
            batches.append(batch)
        self.assertEqual(count(batches[0]), count(batches[1]))
        self.assertEqual(
            count(batches[0]), sum(1 for key, _, _ in every if key[2].startswith("/api"))
        )
        # --anonymize shows the same of both.
        anonymizer = Anonymizer(downstream=None, fields=("sources",))  # type: ignore[arg-type]
        self.assertEqual(anonymizer.shown(batches[0]).visits, anonymizer.shown(batches[1]).visits)
        shown = anonymizer.shown(batches[1]).visits
        self.assertNotIn("?", "".join(key[2] + key[4] for key in shown.counted))


if __name__ == "__main__":
    unittest.main()
