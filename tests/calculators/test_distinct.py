"""A day's distinct visitors (docs/panels.md): exact up to 100,000, then HyperLogLog
within 2%, the same whether counted at once, in halves merged, or through a
checkpoint."""

from __future__ import annotations

import functools
import json
import pickle
import unittest

from LogsMonitor2000.calculators.distinct import EXACT_VISITORS, DayVisitors, visitor_id
from tests.support import SLOW

#: The most visitors a case counts (the slow group goes further).
MOST = 400_000 if SLOW else 130_000


def pair(n: int) -> tuple[str, str]:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", f"agent {n % 7}"


@functools.lru_cache(maxsize=1)
def ids() -> list[int]:
    """The ids of visitors 0 to ``MOST - 1``, hashed once."""
    return [visitor_id(*pair(n)) for n in range(MOST)]


def counted(first: int, last: int) -> DayVisitors:
    day = DayVisitors()
    day.add_ids(ids()[first:last])
    return day


class DayVisitorsTest(unittest.TestCase):
    def test_exact_then_within_two_percent(self) -> None:
        for total in (1, 5_000, EXACT_VISITORS, EXACT_VISITORS + 1, MOST):
            with self.subTest(total=total):
                day = counted(0, total)
                day.merge(counted(0, total // 2))  # (visitors met again: counted once)
                if total <= EXACT_VISITORS:
                    self.assertEqual(day.count(), total)
                    self.assertIsNone(day.registers)
                else:
                    self.assertIsNotNone(day.registers)
                    self.assertLess(abs(day.count() - total) / total, 0.02)

    def test_halves_merged_and_checkpoints_count_as_the_whole(self) -> None:
        whole = counted(0, MOST)
        for cut in (1_000, 60_000, EXACT_VISITORS - 10):  # both exact, or not
            with self.subTest(cut=cut):
                first, second = counted(0, cut), counted(cut, MOST)
                first.merge(second)
                self.assertEqual(first.registers, whole.registers)
                second.merge(counted(0, cut))
                self.assertEqual(second.registers, whole.registers)
        for day in (counted(0, 2_000), whole):
            back = DayVisitors()
            back.restore(json.loads(json.dumps(day.to_json())))
            self.assertEqual(
                (back.count(), back.ids, back.registers), (day.count(), day.ids, day.registers)
            )

    def test_visitors_shipped_between_processes_count_as_the_others(self) -> None:
        # Pickled (a worker's, to the main process), the ids travel packed: merged
        # from the bytes, merged into or counting on, the same as the ones that never
        # crossed, exact or not.
        whole = counted(0, MOST)
        for cut in (1_000, EXACT_VISITORS - 10):
            with self.subTest(cut=cut):
                first, second = counted(0, cut), counted(cut, MOST)
                shipped = pickle.loads(pickle.dumps(first))
                self.assertEqual((shipped.count(), shipped.to_json()), (cut, first.to_json()))
                plain = DayVisitors()
                plain.merge(first)
                plain.merge(second)
                from_bytes = DayVisitors()
                from_bytes.merge(shipped)
                from_bytes.merge(pickle.loads(pickle.dumps(second)))
                self.assertEqual(from_bytes.to_json(), plain.to_json())
                self.assertEqual(plain.registers, whole.registers)
                shipped.merge(second)  # (past EXACT_VISITORS: HyperLogLog of the bytes)
                self.assertEqual(shipped.registers, whole.registers)
        counting_on = pickle.loads(pickle.dumps(counted(0, 10)))
        for n in (3, 10, 11, 3):
            counting_on.id_of(*pair(n))
        self.assertEqual(counting_on.count(), 12)
        self.assertEqual(counting_on.ids, set(ids()[:12]))

    def test_a_visitor_is_named_by_source_and_agent(self) -> None:
        day = DayVisitors()
        for n in (1, 2, 1, 3, 2):
            self.assertEqual(day.id_of(*pair(n)), ids()[n])
        self.assertEqual(day.count(), 3)
        self.assertNotEqual(visitor_id("10.0.0.1", "a"), visitor_id("10.0.0.1", "b"))

    def test_a_checkpoint_of_an_earlier_version_names_its_visitors(self) -> None:
        pairs = [pair(n) for n in range(50)]
        back = DayVisitors()
        back.restore({"ids": [list(p) for p in pairs], "registers": None})
        self.assertEqual(back.ids, set(ids()[:50]))
        back.id_of(*pairs[0])  # (met again: not counted twice)
        self.assertEqual(back.count(), 50)
        for damaged in ([-1], [1 << 60], ["x"]):
            with self.subTest(damaged=damaged), self.assertRaises(ValueError):
                DayVisitors().restore({"ids": damaged, "registers": None})


if __name__ == "__main__":
    unittest.main()
