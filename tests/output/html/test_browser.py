"""The pages in a real browser (headless Chromium, skipped without it): the report
laid out on a desktop and on a phone, and the live page updated as windows close."""

from __future__ import annotations

import tempfile
import time
import unittest
from pathlib import Path

from tests.browser import CHROMIUM, Browser, png_size, screenshot
from tests.live import LiveMonitor, append, csv_row, stats
from tests.sse import get_json, served_url
from tests.servers import free_port
from tests.support import DATA, run_monitor, slow

#: (width, height) of the screens the pages are looked at on.
SCREENS = [(1280, 800), (390, 844)]

#: The time labels of every chart that are shown, as [left, right] in CSS pixels (the
#: panels' column charts apart), and the widest the page needs; null until the page
#: has loaded.
LAYOUT = """(() => {
  if (document.readyState !== 'complete' || !document.querySelector('.plot')) return null;
  const shown = plot => [...plot.querySelectorAll('.x')]
      .filter(label => getComputedStyle(label).display !== 'none')
      .map(label => { const r = label.getBoundingClientRect(); return [r.left, r.right]; });
  const plots = [...document.querySelectorAll(':not(.columns) > .plot')].map(shown);
  const columns = [...document.querySelectorAll('.columns > .plot')].map(shown);
  return {plots, columns, width: document.documentElement.scrollWidth,
          fonts: [...document.querySelectorAll('.plot .x, .plot .y, td, .card span')]
            .map(e => parseFloat(getComputedStyle(e).fontSize))};
})()"""


@unittest.skipIf(CHROMIUM is None, "no chromium (Debian package chromium)")
@slow
class BrowserTest(unittest.TestCase):
    def test_report_layout_on_a_desktop_and_a_phone(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "report.html"
            done = run_monitor(str(DATA / "sample.log"), "--report", str(report))
            self.assertEqual(done.returncode, 0, done.stderr)
            for width, height in SCREENS:
                png = Path(folder) / f"report-{width}.png"
                screenshot(report.as_uri(), png, width, height)
                self.assertEqual(png_size(png), (width, height))
                self.assertGreater(png.stat().st_size, 10_000)  # not a blank page
            with Browser() as browser:
                browser.open(report.as_uri())
                for width, height in SCREENS:
                    with self.subTest(width=width):
                        browser.call(
                            "Emulation.setDeviceMetricsOverride",
                            width=width,
                            height=height,
                            deviceScaleFactor=1,
                            mobile=width < 500,
                        )
                        layout = browser.wait_for(LAYOUT)
                        self.assertLessEqual(layout["width"], width, "no sideways scrolling")
                        self.assertGreaterEqual(min(layout["fonts"]), 11, "readable")
                        self.assertGreaterEqual(len(layout["plots"]), 2)
                        for labels in layout["plots"]:
                            self.assertGreaterEqual(len(labels), 3, "time labels")
                            for (_, right), (left, _) in zip(labels, labels[1:]):
                                self.assertLess(right, left, "time labels overlap")
                            self.assertGreaterEqual(labels[0][0], 0)
                            self.assertLessEqual(labels[-1][1], width)
                        # The panels' charts: days and hours, labels apart and on screen.
                        self.assertEqual(len(layout["columns"]), 2)
                        for labels in layout["columns"]:
                            self.assertGreaterEqual(len(labels), 1)
                            for (_, right), (left, _) in zip(labels, labels[1:]):
                                self.assertLess(right, left, "column labels overlap")
                            self.assertGreaterEqual(labels[0][0], 0)
                            self.assertLessEqual(labels[-1][1], width)

    def test_live_page_shows_a_window_within_two_seconds(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "access.csv"
            log.write_text("".join(csv_row(1000 + t) for t in range(5)))
            with LiveMonitor(str(log), "--serve", "127.0.0.1:0") as live, Browser() as browser:
                url = served_url(live)
                browser.open(url)
                browser.wait_for("document.getElementById('live').textContent === 'live'")
                deadline = time.monotonic() + 30
                while get_json(url, "/healthz")["subscribers"] < 1:
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.05)
                self.assertEqual(
                    browser.evaluate("document.getElementById('latest').textContent"), "-"
                )
                append(log, "".join(csv_row(1010 + t) for t in range(4)))  # closes [1000, 1010)
                closed = live.wait_for(lambda records: len(stats(records)) >= 1)
                browser.wait_for("document.getElementById('latest').textContent === '5'", 5)
                shown = time.monotonic()
                self.assertLess(shown - closed, 2.0)
                # The charts and tables follow: the page is fetched again and swapped in.
                rows = "document.querySelectorAll('details.timeline tr[data-start]').length"
                browser.wait_for(f"{rows} === 1", 5)
                self.assertLess(time.monotonic() - closed, 3.0)
                append(log, "".join(csv_row(1020 + t) for t in range(3)))  # [1010, 1020)
                closed = live.wait_for(lambda records: len(stats(records)) >= 2)
                browser.wait_for("document.getElementById('latest').textContent === '4'", 5)
                self.assertLess(time.monotonic() - closed, 2.0)
                browser.wait_for(f"{rows} === 2", 5)
                self.assertEqual(live.stop(), 130)


@unittest.skipIf(CHROMIUM is None, "no chromium (Debian package chromium)")
@slow
class RestartTest(unittest.TestCase):
    def test_the_page_reloads_into_the_new_run_after_a_restart(self) -> None:
        # The monitor restarted on the same port (--state): the page's stream comes
        # back with an id of the old run, is told to reload, and shows the new run.
        with tempfile.TemporaryDirectory() as folder:
            log, state = Path(folder) / "access.csv", Path(folder) / "state.json"
            log.write_text("".join(csv_row(1000 + t) for t in range(15)))
            serve = ["--serve", f"127.0.0.1:{free_port()}", "--state", str(state)]
            with Browser() as browser:
                with LiveMonitor(str(log), *serve) as first:
                    url = served_url(first)
                    old = get_json(url, "/healthz")["run"]
                    browser.open(url)
                    browser.wait_for("document.getElementById('live').textContent === 'live'")
                    self.assertEqual(
                        browser.evaluate("document.querySelector('main').dataset.run"), old
                    )
                    self.assertEqual(first.stop(), 130)
                with LiveMonitor(str(log), *serve) as second:
                    # (more records than the page had seen: its id's number is one
                    # this run has too, before the browser comes back)
                    append(log, "".join(csv_row(1015 + t) for t in range(60)))
                    second.wait_for(lambda records: len(stats(records)) >= 5)
                    new = get_json(served_url(second), "/healthz")["run"]
                    self.assertNotEqual(new, old)
                    browser.wait_for(f"document.querySelector('main').dataset.run === '{new}'", 15)
                    browser.wait_for("document.getElementById('live').textContent === 'live'")
                    self.assertEqual(second.stop(), 130)
