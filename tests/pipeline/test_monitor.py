"""The pipeline in process: what a stop request does at each moment of a run."""

from __future__ import annotations

import signal
import unittest

from LogsMonitor2000.pipeline.monitor import Monitor, StopRequested
from LogsMonitor2000.reports import Report
from LogsMonitor2000.settings import Settings
from LogsMonitor2000.inputs import Idle
from tests.support import Blocks, Collector, csv_line


class StopInTheMiddle(Collector):
    """A notifier that asks its monitor to stop - twice, as an impatient user presses
    Ctrl-C - when the first record comes out, in the middle of a block."""

    monitor: Monitor

    def emit(self, record: Report) -> None:
        super().emit(record)
        if len(self.records) == 1:
            self.monitor.request_stop(signal.SIGINT)
            self.monitor.request_stop(signal.SIGINT)


class StopTest(unittest.TestCase):
    def test_a_stop_during_a_block_lets_it_finish_and_counts_it(self) -> None:
        # Two blocks: the first one's records come out while it is processed; the
        # second one is never read.
        first = "".join(csv_line(1000 + i, "/a", "10.0.0.1", 200, 1) for i in range(50))
        second = "".join(csv_line(2000 + i, "/b", "10.0.0.1", 200, 1) for i in range(50))
        notes = StopInTheMiddle()
        monitor = Monitor(Settings(paths=("x",), log_format="csv"), notes, warn=print)
        notes.monitor = monitor
        summary = monitor.run([Blocks([first, Idle(0.0), second])])
        self.assertEqual(summary.stopped_by, signal.SIGINT)
        self.assertEqual(summary.events, 50)
        assert notes.summary is not None
        self.assertEqual(notes.summary["events"], 50)


class StoppedAtOnce(Blocks):
    """Blocks, then the stop a signal brings while the reader waits, before any Idle:
    the format of a short input is not decided yet."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self.items
        raise StopRequested(signal.SIGINT)


class StoppedEarlyTest(unittest.TestCase):
    def test_lines_read_before_the_format_was_decided_are_counted(self) -> None:
        lines = "".join(csv_line(1000 + i, "/a", "10.0.0.1", 200, 1) for i in range(3))
        notes = Collector()
        summary = Monitor(Settings(paths=("x",)), notes, warn=print).run([StoppedAtOnce([lines])])
        self.assertEqual((summary.stopped_by, summary.events), (signal.SIGINT, 3))

    def test_a_record_left_open_at_the_end_of_a_live_input_counts(self) -> None:
        # As at the end of a finished input: the unclosed quote makes it invalid.
        lines = csv_line(1000, "/a", "10.0.0.1", 200, 1) + '"10.0.0.2","-","-",1001,"GET /b\n'
        live = StoppedAtOnce([lines])
        live.live = True
        summary = Monitor(Settings(paths=("x",), log_format="csv"), Collector(), warn=print).run(
            [live]
        )
        self.assertEqual((summary.events, summary.invalid), (1, 1))


if __name__ == "__main__":
    unittest.main()
