"""--alertmanager against a real Prometheus Alertmanager (Debian's
``prometheus-alertmanager``, started here on 127.0.0.1; skipped without it): alerts
arrive with their labels, annotations and start, a recovery resolves them, active ones
are sent again so that Alertmanager keeps them; and without one, what could not be
delivered is counted and the password never shown."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path
from typing import Any

from tests.live import LiveMonitor
from tests.servers import PATIENCE, free_port, program
from tests.support import DATA, json_lines, run_monitor, slow

ALERTMANAGER = program("prometheus-alertmanager", "/usr/bin/alertmanager")


class Alertmanager:
    """Alertmanager in the foreground, clustering off, its data in ``folder``."""

    def __init__(self, folder: Path, resolve_timeout: str = "5m") -> None:
        assert ALERTMANAGER is not None
        config = folder / "alertmanager.yml"
        config.write_text(
            f"global:\n  resolve_timeout: {resolve_timeout}\n"
            'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={config}", f"--storage.path={folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                self.get("/api/v2/status")
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.1)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=PATIENCE) as answer:
            return json.load(answer)

    def active(self) -> dict[str, dict[str, Any]]:
        """The alerts Alertmanager holds as active, by name."""
        return {
            alert["labels"]["alertname"]: alert
            for alert in self.get("/api/v2/alerts")
            if alert["status"]["state"] == "active"
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(PATIENCE)


@unittest.skipIf(ALERTMANAGER is None, "no prometheus-alertmanager")
@slow
class AlertmanagerTest(unittest.TestCase):
    def start(self, **options: str) -> Alertmanager:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        manager = Alertmanager(Path(folder.name), **options)
        self.addCleanup(manager.stop)
        return manager

    def test_alerts_and_recoveries_arrive(self) -> None:
        manager = self.start()
        done = run_monitor(str(DATA / "sample.log"), "--output", "json",
                           "--alert", "errors: share(5xx) > 5% over 1m",
                           "--alertmanager", manager.url)  # fmt: skip
        self.assertEqual(done.returncode, 0, done.stderr)
        records = json_lines(done.stdout)
        summary = records[-1]
        self.assertEqual(summary["active"], ["errors"])  # (traffic recovered)
        self.assertEqual(summary["undelivered"], 0)
        last = [r for r in records if r.get("rule") == "errors"][-1]
        active = manager.active()
        self.assertEqual(set(active), {"errors"})
        errors = active["errors"]
        self.assertEqual(errors["labels"]["job"], "logsmonitor2000")
        self.assertEqual(errors["labels"]["log"], str(DATA / "sample.log"))
        self.assertTrue(errors["labels"]["instance"])
        self.assertEqual(
            errors["startsAt"][:19],
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(last["time"])),
        )
        self.assertEqual(float(errors["annotations"]["value"]), last["value"])
        self.assertEqual(float(errors["annotations"]["threshold"]), 5.0)
        self.assertIn("share(5xx)", errors["annotations"]["summary"])

    def test_active_alerts_are_sent_again_until_the_monitor_stops(self) -> None:
        # Alertmanager resolves an alert not sent again within 3 s: while the monitor
        # runs, the site-down alert of a log gone silent stays active; once the monitor
        # stopped, it is resolved.
        manager = self.start(resolve_timeout="3s")
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "access.log"
            lines = (DATA / "sample.log").read_text().splitlines(keepends=True)
            log.write_text("".join(lines[:300]))
            with LiveMonitor(str(log), "--alert", "down: rate < 1/s over 5s",
                             "--alertmanager", manager.url,
                             "--alertmanager-resend", "1") as live:  # fmt: skip
                live.wait_for(lambda records: any(r.get("rule") == "down" for r in records))
                deadline = time.monotonic() + PATIENCE
                while "down" not in manager.active():
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.2)
                time.sleep(7)  # (twice the resolve timeout, and more)
                self.assertIn("down", manager.active())
                self.assertEqual(live.stop(), 130)
            deadline = time.monotonic() + PATIENCE
            while "down" in manager.active():
                self.assertLess(time.monotonic(), deadline, "resolved once no longer sent")
                time.sleep(0.5)


class UndeliveredTest(unittest.TestCase):
    def test_nobody_there_is_counted_and_the_password_never_shown(self) -> None:
        port = free_port()  # (nothing listens there)
        done = run_monitor(str(DATA / "sample.log"), "--output", "json",
                           "--alertmanager", f"http://ops:s3cret@127.0.0.1:{port}")  # fmt: skip
        self.assertEqual(done.returncode, 0, done.stderr)
        summary = json_lines(done.stdout)[-1]
        self.assertEqual(summary["undelivered"], 2)  # (the traffic alert and its recovery)
        self.assertIn(f"alerts are not reaching http://ops:***@127.0.0.1:{port}", done.stderr)
        self.assertNotIn("s3cret", done.stderr + done.stdout)

    def test_a_url_that_is_no_url(self) -> None:
        done = run_monitor(str(DATA / "sample.log"), "--alertmanager", "ftp://ops:s3cret@x")
        self.assertEqual(done.returncode, 2)
        self.assertNotIn("s3cret", done.stderr)
        done = run_monitor(str(DATA / "sample.log"), "--alertmanager-resend", "0")
        self.assertEqual(done.returncode, 2)


if __name__ == "__main__":
    unittest.main()
