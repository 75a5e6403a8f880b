"""The README's pictures, made from the bundled sample: ``python -m tools.screenshots``
(needs chromium and tmux).

* ``report-desktop.png`` and ``report-phone.png``: the ``--report`` page of
  ``tests/data/sample.log`` at 1280 x 800 and 390 x 844; ``report-panels.png``: the
  same page's panels (its charts of days and hours, then the tables), at 1280 wide;
* ``dashboard.png`` (120 x 34) and ``dashboard-80.png`` (80 x 30): ``--dashboard``
  following a copy of the sample in a tmux window, its screen (with its colours, from
  ``capture-pane -e``) drawn as HTML and photographed by Chromium;
* ``live-alert.png``: the ``--serve`` live page of the sample, followed, as the alert
  starts (1280 x 900).
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.browser import Browser, screenshot
from tests.live import LiveMonitor
from tests.sse import served_url
from tests.support import DATA, TOP, run_monitor
from tests.output.test_dashboard import Terminal

FOLDER = TOP / "docs" / "screenshots"

#: The eight ANSI colours, as a terminal with a dark background shows them.
COLOURS = ["#1d2330", "#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#dcdfe4"]


def report_pictures(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "report.html"
        done = run_monitor(str(DATA / "sample.log"), "--report", str(report))
        assert done.returncode == 0, done.stderr
        screenshot(report.as_uri(), folder / "report-desktop.png", 1280, 800)
        screenshot(report.as_uri(), folder / "report-phone.png", 390, 844)
        with Browser() as browser:
            browser.open(report.as_uri())
            browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                         deviceScaleFactor=1, mobile=False)  # fmt: skip
            top = browser.wait_for(
                "document.getElementById('visitors').getBoundingClientRect().top + scrollY"
            )
            bottom = browser.evaluate(
                "document.querySelector('.panels').getBoundingClientRect().bottom + scrollY"
            )
            shot = browser.call(
                "Page.captureScreenshot",
                captureBeyondViewport=True,
                clip={
                    "x": 0,
                    "y": top - 16,
                    "width": 1280,
                    "height": bottom - top + 32,
                    "scale": 1,
                },
            )
            (folder / "report-panels.png").write_bytes(base64.b64decode(shot["data"]))


def dashboard_picture(path: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / "access.log"
        lines = (DATA / "sample.log").read_text().splitlines(keepends=True)
        # The sample up to the middle of its burst: the alert is on.
        log.write_text("".join(lines[:2600]))
        command = [sys.executable, "-m", "LogsMonitor2000", log.name, "--follow", "--dashboard"]
        environment = {"TZ": "UTC", "PYTHONPATH": str(TOP)}
        terminal = Terminal(command, width=width, height=height, env=environment, cwd=Path(work))
        try:
            terminal.wait_for("HIGH TRAFFIC")
            time.sleep(1.5)
            screen = terminal.screen(escapes=True)
        finally:
            terminal.close()
        page = Path(work) / "dashboard.html"
        page.write_text(terminal_html(screen))
        screenshot(page.as_uri(), path, width * 9 + 30, height * 19 + 30)


def live_picture(path: Path) -> None:
    """The live page as the alert starts: the sample up to the alert, followed."""
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / "access.log"
        lines = (DATA / "sample.log").read_text().splitlines(keepends=True)
        log.write_text("".join(lines[:1950]))
        live = LiveMonitor(str(log), "--serve", "127.0.0.1:0", output="text")
        with live:
            url = served_url(live)
            live.wait_for_text("High traffic generated an alert")
            time.sleep(2.5)  # (published at most twice a second)
            screenshot(url, path, 1280, 900)
            live.stop()


def terminal_html(screen: str) -> str:
    """A screen captured with its SGR escapes, as a page that shows it."""
    out, style = [], {"fg": None, "bold": False, "reverse": False}
    for text, codes in re.findall(r"([^\x1b]*)(?:\x1b\[([0-9;]*)m)?", screen):
        if text:
            fg = COLOURS[style["fg"]] if isinstance(style["fg"], int) else COLOURS[7]
            css = f"color:{fg}"
            if style["reverse"]:
                css = f"background:{fg};color:{COLOURS[0]}"
            if style["bold"]:
                css += ";font-weight:bold"
            out.append(f'<span style="{css}">{html.escape(text)}</span>')
        for code in (codes or "").split(";") if codes is not None else []:
            number = int(code or 0)
            if number == 0:
                style = {"fg": None, "bold": False, "reverse": False}
            elif number == 1:
                style["bold"] = True
            elif number == 7:
                style["reverse"] = True
            elif 30 <= number <= 37:
                style["fg"] = number - 30
            elif number == 39:
                style["fg"] = None
    return (
        '<!DOCTYPE html><meta charset="utf-8"><body style="margin:0;background:#1d2330">'
        "<pre style=\"margin:0;padding:14px;font:14px/1.3 'DejaVu Sans Mono',monospace;"
        f'color:#dcdfe4">{"".join(out)}</pre>'
    )


def main() -> None:
    if not (shutil.which("chromium") and shutil.which("tmux")):
        raise SystemExit("needs chromium and tmux")
    FOLDER.mkdir(exist_ok=True)
    report_pictures(FOLDER)
    dashboard_picture(FOLDER / "dashboard.png", 120, 34)
    dashboard_picture(FOLDER / "dashboard-80.png", 80, 30)
    live_picture(FOLDER / "live-alert.png")
    for png in sorted(FOLDER.glob("*.png")):
        print(png.relative_to(TOP))


if __name__ == "__main__":
    main()
