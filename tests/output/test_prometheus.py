"""/metrics across a restart, scraped by a real Prometheus (Debian's ``prometheus``,
started here on 127.0.0.1; skipped without it): every counter starts from zero with
the monitor's process, so what Prometheus makes of the series over a restart - its
resets handled as ``rate()`` and ``increase()`` handle them - is what was written."""

from __future__ import annotations

import json
import signal
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
from pathlib import Path

from tests.live import PATIENCE, LiveMonitor, append, csv_row
from tests.servers import Server, free_port, program
from tests.support import slow

PROMETHEUS = program("prometheus", "/usr/bin/prometheus")
#: The counters and what the writer sent of each.
COUNTERS = ("events_total", "late_events_total", "invalid_records_total")


def written(start: int, seconds: int) -> tuple[str, dict[str, int]]:
    """A second of log time per line, every tenth line 30 s late (the buffer is 2 s),
    every seventh invalid: the lines and how many of each kind."""
    lines, counts = [], dict.fromkeys(COUNTERS, 0)
    for second in range(start, start + seconds):
        if second % 7 == 0:
            lines.append("not a record\n")
            counts["invalid_records_total"] += 1
        elif second % 10 == 5:
            lines.append(csv_row(second - 30))
            counts["late_events_total"] += 1
        else:
            lines.append(csv_row(second))
            counts["events_total"] += 1
    return "".join(lines), counts


def series(port: int, name: str, since: float) -> list[float]:
    """The values Prometheus scraped of ``name`` since ``since``, in order."""
    query = urllib.parse.urlencode({"query": f"logsmonitor2000_{name}[10m]"})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?{query}") as answer:
        data = json.load(answer)["data"]["result"]
    assert len(data) == 1, data
    return [float(value) for at, value in data[0]["values"] if float(at) >= since]


def scraped(port: int, name: str) -> float | None:
    """Prometheus's latest value of ``name`` (None: none yet)."""
    query = urllib.parse.urlencode({"query": f"logsmonitor2000_{name}"})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?{query}") as answer:
        data = json.load(answer)["data"]["result"]
    return float(data[0]["value"][1]) if data else None


def exposed(port: int, name: str) -> float:
    """The monitor's own value of ``name`` (its /metrics)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(f"logsmonitor2000_{name} "):
                return float(line.split()[1])
    raise AssertionError(f"no {name}")


def increase(values: list[float]) -> float:
    """The increase of a counter's samples, a reset read as a start from zero (as
    Prometheus reads one), the first sample counted from zero (its process's start)."""
    total = values[0]
    for before, after in zip(values, values[1:]):
        total += after - before if after >= before else after
    return total


@slow
@unittest.skipIf(PROMETHEUS is None, "no prometheus")
class PrometheusRestartTest(unittest.TestCase):
    def wait_scraped(self, served: int, scraping: int) -> None:
        """Until Prometheus has scraped what the monitor shows now (its counters still)."""
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                now = [exposed(served, key) for key in COUNTERS]
            except (AssertionError, OSError):  # (not serving yet, or no format yet)
                time.sleep(0.2)
                continue
            if [scraped(scraping, key) for key in COUNTERS] == now:
                time.sleep(1.5)  # (and once more, unchanged)
                if [exposed(served, key) for key in COUNTERS] == now:
                    return
            self.assertLess(time.monotonic(), deadline, "not scraped")
            time.sleep(0.2)

    def test_a_restart_under_a_real_prometheus(self) -> None:
        assert PROMETHEUS is not None
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            log, state = folder / "access.log", folder / "state.json"
            append(log, "")
            served, scraping = free_port(), free_port()
            (folder / "prometheus.yml").write_text(
                "global: {scrape_interval: 1s}\n"
                "scrape_configs:\n"
                f"  - job_name: monitor\n    static_configs: [{{targets: ['127.0.0.1:{served}']}}]\n"
            )
            prometheus = Server(
                [PROMETHEUS, f"--config.file={folder / 'prometheus.yml'}",
                 f"--storage.tsdb.path={folder / 'data'}",
                 f"--web.listen-address=127.0.0.1:{scraping}"],
                scraping,
                folder,
            )  # fmt: skip
            self.addCleanup(prometheus.stop)
            since = time.time()
            args = [str(log), "--state", str(state), "--serve", f"127.0.0.1:{served}"]
            totals = dict.fromkeys(COUNTERS, 0)
            start = 1_000_000
            first_scrape = 0.0
            for run in range(2):  # (a SIGTERM and a restart between them)
                with LiveMonitor(*args) as live:
                    if run == 0:  # (the counters at zero, scraped, before anything else)
                        first_scrape = time.time()
                        append(log, csv_row(start - 100))  # (the clock moves on meanwhile)
                        totals["events_total"] += 1
                        self.wait_scraped(served, scraping)
                    # (fewer the second time: its counters, from zero, stay below
                    # the first's, which is how Prometheus tells a reset)
                    # (the second run's lines later in log time than the wall clock
                    # moved the first run's clock while it waited: none is late for it)
                    text, counts = written(start + 1000 * run, 100 if run else 200)
                    if run == 1:  # (a last line, later: every second before it closes)
                        text += csv_row(start + 1200)
                    append(log, text)
                    for key, count in counts.items():
                        totals[key] += count
                    time.sleep(1)
                    self.wait_scraped(served, scraping)
                    self.assertEqual(live.stop(signal.SIGTERM), 143, live.stderr)
                summary = live.records[-1]
            # The last run's summary is the whole run's (--state carried it on) ...
            self.assertEqual(summary["invalid"], totals["invalid_records_total"])
            time.sleep(1)
            found = {key: series(scraping, key, since) for key in COUNTERS}
            for key, values in found.items():
                with self.subTest(counter=key):
                    # ... and /metrics counted each process's own: a reset at the restart.
                    self.assertTrue(any(b < a for a, b in zip(values, values[1:])), values)
                    self.assertEqual(increase(values), totals[key])
            # Prometheus's own increase() over the run (from the first scrape, at zero:
            # it extrapolates to the range's ends, so close, not exact).
            for key in COUNTERS:
                window = int(time.time() - first_scrape)
                expression = f"increase(logsmonitor2000_{key}[{window}s])"
                query = urllib.parse.urlencode({"query": expression})
                url = f"http://127.0.0.1:{scraping}/api/v1/query?{query}"
                with urllib.request.urlopen(url) as answer:
                    estimate = float(json.load(answer)["data"]["result"][0]["value"][1])
                with self.subTest(increase=key):
                    self.assertLess(abs(estimate - totals[key]) / totals[key], 0.25, estimate)


if __name__ == "__main__":
    unittest.main()
