"""--dashboard driven in a real terminal: tmux (skipped without it) runs the monitor,
``send-keys`` types, ``capture-pane`` reads the screen."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path

from tests.live import PATIENCE, append, csv_row
from tests.support import DATA, TOP, run_monitor, run_process, slow

TMUX = shutil.which("tmux")


class Terminal:
    """A tmux session of ``width`` x ``height`` running one command (on a server of
    its own, so nothing else of the user's tmux is touched)."""

    def __init__(
        self,
        command: list[str],
        *,
        width: int,
        height: int,
        env: dict[str, str],
        cwd: Path = TOP,
    ) -> None:
        assert TMUX is not None
        self.socket = f"logsmonitor2000-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
        shell = f"cd {shlex.quote(str(cwd))} && env {exports} {shlex.join(command)}; echo EXIT=$?; sleep 600"
        self._tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), shell)

    def _tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
        return done.stdout

    def screen(self, *, escapes: bool = False) -> str:
        return self._tmux("capture-pane", "-p", *(["-e", "-N"] if escapes else []), "-t", "t")

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + PATIENCE
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the screen:\n{screen}")
            time.sleep(0.1)

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def close(self) -> None:
        self._tmux("kill-server")


@unittest.skipIf(TMUX is None, "no tmux")
@slow
class DashboardTest(unittest.TestCase):
    def start(self, *extra: str, width: int = 100, height: int = 30, **env: str) -> Terminal:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.log = Path(folder.name) / "access.csv"
        self.log.write_text("".join(csv_row(1000 + t) for t in range(5)))
        command = [
            sys.executable,
            "-m",
            "LogsMonitor2000",
            str(self.log),
            "--follow",
            "--dashboard",
        ]
        terminal = Terminal(
            command + list(extra), width=width, height=height, env={"TZ": "UTC", **env}
        )
        self.addCleanup(terminal.close)
        return terminal

    def test_redraws_resizes_and_quits_with_the_summary(self) -> None:
        terminal = self.start()
        screen = terminal.wait_for("q quits")
        self.assertIn("traffic normal", screen)
        self.assertIn("no stats window yet", screen)
        append(self.log, "".join(csv_row(1010 + t) for t in range(4)))  # closes [1000, 1010)
        screen = terminal.wait_for("5 hits  0.5/s")
        self.assertIn("sections /api 5", screen)
        self.assertIn("sources  10.0.0.1 5", screen)
        self.assertIn("hits per second, the last", screen)
        # A burst: the banner turns to the alert, and the alert is listed.
        append(self.log, "".join(csv_row(1020) for _ in range(1500)) + csv_row(1030))
        screen = terminal.wait_for("HIGH TRAFFIC since")
        self.assertIn("High traffic generated an alert", screen)
        terminal.resize(60, 20)
        deadline = time.monotonic() + PATIENCE
        while True:
            lines = terminal.screen().splitlines()
            redrawn = lines and lines[0].startswith("LogsMonitor2000") and "q quits" in lines[-1]
            if len(lines) == 20 and redrawn:
                break
            self.assertLess(time.monotonic(), deadline, lines)
            time.sleep(0.1)
        # Redrawn for the new width: a column a second, as many as fit (60 - 10).
        self.assertIn("the last 50 s", "\n".join(lines))
        axis = next((line for line in lines if " +-" in line), "")
        self.assertEqual(len(axis.rstrip()), 59, lines)
        self.assertEqual(axis.count("-"), 50 - 9, lines)
        terminal.keys("q")
        screen = terminal.wait_for("EXIT=")
        self.assertIn("EXIT=0", screen)
        self.assertIn("Summary  1,510 hits", screen)
        self.assertNotIn("q quits", screen)  # the screen was given back

    def test_p_shows_the_next_panel(self) -> None:
        terminal = self.start(height=40)
        append(self.log, "".join(csv_row(1010, "10.0.0.2", "/b") for _ in range(3)))
        append(self.log, "".join(csv_row(1011, "10.0.0.3", "/static") for _ in range(2)))
        screen = terminal.wait_for("Requested URLs (1/9, p: next)  3 unique visitors")
        panel = screen[screen.index("Requested URLs") :].splitlines()
        rows = {line.split()[0]: line.split()[1:] for line in panel if line.startswith("  /")}
        self.assertEqual(rows["/api/x"][:3], ["5", "1", "50"])
        self.assertEqual(rows["/b/x"][:3], ["3", "1", "30"])
        self.assertEqual(rows["/static/x"][:3], ["2", "1", "20"])  # (no extension: not static)
        terminal.keys("p")
        terminal.wait_for("Static files (2/9, p: next)")
        terminal.keys("p")
        screen = terminal.wait_for("Not found (404) (3/9, p: next)")
        self.assertIn("  none", screen)
        for _ in range(7):
            terminal.keys("p")
        terminal.wait_for("Requested URLs (1/9, p: next)")  # (round again)

    def test_colours_and_no_color(self) -> None:
        coloured = self.start()
        coloured.wait_for("q quits")
        self.assertRegex(coloured.screen(escapes=True), r"\x1b\[[0-9;]*3[0-7]m")
        plain = self.start(NO_COLOR="1")
        plain.wait_for("q quits")
        self.assertNotRegex(plain.screen(escapes=True), r"\x1b\[[0-9;]*3[0-7]m")
        plain.keys("C-c")
        screen = plain.wait_for("EXIT=")
        self.assertIn("EXIT=130", screen)
        self.assertIn("Summary", screen)


class DashboardOptionsTest(unittest.TestCase):
    def test_needs_a_terminal_and_a_live_input(self) -> None:
        done = run_process(str(DATA / "sample.csv"), "--follow", "--dashboard", timeout=PATIENCE)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(
            done.stderr.strip(),
            "LogsMonitor2000: error: --dashboard needs a terminal: standard output is not one",
        )
        done = run_monitor(str(DATA / "sample.csv"), "--dashboard")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--dashboard needs a live input", done.stderr)
        done = run_monitor(str(DATA / "sample.csv"), "--follow", "--dashboard", "--output", "json")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--output json can't go with it", done.stderr)
