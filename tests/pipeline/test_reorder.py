"""docs/counting.md, "Time": allowed lateness, closed seconds, the watermark, idle time."""

import unittest

from LogsMonitor2000.pipeline.batch import Batch
from LogsMonitor2000.pipeline.reorder import Reorderer


class Recorder:
    """A downstream that keeps what it is told, in order."""

    def __init__(self) -> None:
        self.closed: list[tuple[list[int], int]] = []
        self.beats: list[int | None] = []
        self.finished = False

    def close(self, batches: list[Batch], through: int, beat: int | None = None) -> None:
        self.closed.append(([b.second for b in batches], through))
        self.beats.append(beat)

    def finish(self) -> None:
        self.finished = True

    @property
    def released(self) -> list[int]:
        return [second for seconds, _ in self.closed for second in seconds]


def feed(reorderer: Reorderer, *seconds: int) -> list[bool]:
    """Offer one event per second given, one block each; whether each was accepted."""
    accepted = []
    for second in seconds:
        batch = reorderer.batch_for(second)
        if batch is not None:
            batch.hits += 1
        accepted.append(batch is not None)
        reorderer.release()
    return accepted


class ReordererTest(unittest.TestCase):
    def setUp(self) -> None:
        self.down = Recorder()
        self.reorderer = Reorderer(lateness_seconds=2, downstream=self.down)

    def test_lateness_boundary(self) -> None:
        #   98  99  100
        #   ▲ M - B = 98: accepted     97 < 98: late
        self.assertEqual(feed(self.reorderer, 100, 98, 97), [True, True, False])
        self.assertEqual(self.reorderer.late, 1)
        self.assertEqual(self.reorderer.max_lateness, 3)

    def test_older_events_within_the_buffer_are_accepted_in_order(self) -> None:
        feed(self.reorderer, 10, 12, 11, 10, 13, 14, 15)
        self.reorderer.finish()
        self.assertEqual(self.down.released, [10, 11, 12, 13, 14, 15])
        self.assertTrue(self.down.finished)
        self.assertEqual(self.reorderer.accepted, 7)
        self.assertEqual((self.reorderer.first, self.reorderer.last), (10, 15))

    def test_a_second_closes_once_it_is_below_the_watermark(self) -> None:
        feed(self.reorderer, 10)
        feed(self.reorderer, 12)
        self.assertEqual(self.down.released, [])  # 10 is not < 12 - 2
        feed(self.reorderer, 13)
        self.assertEqual(self.down.released, [10])
        self.assertEqual(self.down.closed[-1], ([10], 10))

    def test_release_hands_over_what_closed_in_the_block(self) -> None:
        for second in (10, 11, 14, 20):
            self.reorderer.batch_for(second)
        self.assertEqual(self.down.closed, [])  # nothing before release
        self.assertIsNone(self.reorderer.batch_for(12))  # 12 < 20 - 2: late all the same
        self.reorderer.release()
        self.assertEqual(self.down.closed, [([10, 11, 14], 17)])

    def test_equal_seconds_share_one_batch(self) -> None:
        first = self.reorderer.batch_for(5)
        feed(self.reorderer, 6)
        self.assertIs(self.reorderer.batch_for(5), first)

    def test_the_watermark_never_goes_backwards(self) -> None:
        feed(self.reorderer, 100, 50, 99, 20)
        throughs = [through for _, through in self.down.closed]
        self.assertEqual(throughs, sorted(throughs))
        self.assertEqual(self.reorderer.late, 2)

    def test_finish_closes_everything_through_the_newest_second(self) -> None:
        feed(self.reorderer, 1, 2, 3)
        self.reorderer.finish()
        self.assertEqual(self.down.closed[-1], ([1, 2, 3], 3))

    def test_the_wall_clock_moves_m_while_the_reader_waits(self) -> None:
        # docs/counting.md, "Time": M = max(M, s + floor(now - t)), s = 100 read at t = 50.0.
        self.reorderer.now = 50.0
        feed(self.reorderer, 100)
        self.reorderer.idle(50.6)
        self.assertEqual(self.reorderer.newest, 100)
        self.reorderer.idle(51.2)
        self.assertEqual(self.reorderer.newest, 101)
        self.reorderer.idle(53.1)
        self.assertEqual(self.reorderer.newest, 103)
        self.assertEqual(self.down.released, [100])
        self.assertEqual(self.down.beats[-1], 100)  # closed while waiting: a beat
        self.assertEqual(feed(self.reorderer, 100, 101), [False, True])
        self.assertEqual(self.reorderer.last, 101)

    def test_later_events_of_the_newest_second_move_t(self) -> None:
        # Lines stamped 100 are still read at 50.9: t = 50.9, so at 51.5 M is still 100.
        self.reorderer.now = 50.0
        feed(self.reorderer, 100)
        self.reorderer.now = 50.9
        feed(self.reorderer, 100)
        self.reorderer.idle(51.5)
        self.assertEqual(self.reorderer.newest, 100)
        self.reorderer.idle(51.9)
        self.assertEqual(self.reorderer.newest, 101)
        self.assertEqual(self.reorderer.late, 0)

    def test_a_writer_stamping_the_current_second_is_never_late(self) -> None:
        # A writer at 50,000 lines/s stamping each line with its wall-clock second,
        # read in blocks every 0.1 s plus a little delay: with B = 0, nothing is late.
        late_free = Reorderer(lateness_seconds=0, downstream=self.down)
        wall, written = 1000.0, 0
        for _ in range(100):  # 10 s
            late_free.idle(wall)
            late_free.now = wall
            for line in range(5000):  # the lines written during the last 0.1 s
                batch = late_free.batch_for(int(wall - 0.1 + line * 0.1 / 5000))
                assert batch is not None
                batch.hits += 1
                written += 1
            late_free.release()
            wall += 0.1 + 0.003
        self.assertEqual((late_free.late, late_free.accepted), (0, written))

    def test_idle_before_any_event_does_nothing(self) -> None:
        self.reorderer.idle(1000)
        self.assertIsNone(self.reorderer.newest)
        self.assertEqual(self.down.closed, [])

    def test_state_round_trip(self) -> None:
        feed(self.reorderer, 10, 11, 12, 9, 5)
        self.reorderer.idle(0.5)
        copy = Reorderer(lateness_seconds=2, downstream=self.down)
        copy.restore(self.reorderer.to_json())
        self.assertEqual(copy.to_json(), self.reorderer.to_json())
        self.assertEqual(feed(copy, 10, 9), [True, False])


if __name__ == "__main__":
    unittest.main()
