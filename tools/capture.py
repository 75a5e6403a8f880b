"""Logs real servers write, kept for the tests: ``python -m tools.capture``.

Drives nginx, Apache and Caddy on 127.0.0.1 as ``tests/parsers/test_real_servers.py``
does (the servers that are installed), and writes their access logs to
``tests/data/real/`` with ``expected.json``: for each log, the options it is read
with and what the clients saw (the requests, their status classes).  With
``--baseline DIR``, also prints how many lines the monitor of another checkout finds
invalid in each (the monitor of this checkout must find none).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests import servers
from tests.parsers.test_real_servers import (
    APACHE_FORMATS,
    NGINX_FORMATS,
    class_counts,
    drive_apache,
    drive_caddy,
    drive_nginx,
)

TOP = Path(__file__).resolve().parent.parent
REAL = TOP / "tests" / "data" / "real"


def capture() -> dict[str, Any]:
    expected: dict[str, Any] = {}
    REAL.mkdir(parents=True, exist_ok=True)
    runs: list[tuple[str, Callable[[Path], servers.Server], Callable[..., None], dict[str, str]]]
    runs = []
    if servers.NGINX:
        runs.append(
            ("nginx", lambda f: servers.nginx(f, NGINX_FORMATS), drive_nginx, NGINX_FORMATS)
        )
    if servers.APACHE:
        runs.append(
            ("apache", lambda f: servers.apache(f, APACHE_FORMATS), drive_apache, APACHE_FORMATS)
        )
    for server_name, start, drive, formats in runs:
        with tempfile.TemporaryDirectory() as folder:
            server = start(Path(folder))
            drive(server)
            server.stop()
            for name, fmt in formats.items():
                file = f"{server_name}-{name}.log"
                shutil.copy(Path(folder) / f"{name}.log", REAL / file)
                expected[f"{server_name} {name}"] = {
                    "file": file,
                    "options": ["--log-format", fmt],
                    "events": len(server.statuses),
                    "status": class_counts(server.statuses),
                }
    if servers.CADDY:
        with tempfile.TemporaryDirectory() as folder:
            server = servers.caddy(Path(folder))
            drive_caddy(server)
            server.stop()
            shutil.copy(Path(folder) / "caddy.log", REAL / "caddy.log")
            lines = [json.loads(line) for line in (REAL / "caddy.log").read_text().splitlines()]
            other = [x for x in lines if not x.get("logger", "").startswith("http.log.access")]
            expected["caddy"] = {
                "file": "caddy.log",
                "options": [],
                "events": len(server.statuses),
                "status": class_counts(server.statuses),
                "other": len(other),
            }
    (REAL / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    return expected


def invalid(checkout: Path, log: Path, options: list[str]) -> tuple[int, int]:
    """(events, invalid) of ``log`` by the monitor of ``checkout``."""
    done = subprocess.run(
        [sys.executable, "-m", "LogsMonitor2000", str(log), "--output", "json", *options],
        capture_output=True,
        text=True,
        cwd=checkout,
        check=False,
    )
    if not done.stdout:
        return 0, -1
    summary = json.loads(done.stdout.splitlines()[-1])
    return int(summary["events"]), int(summary["invalid"])


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--baseline", metavar="DIR", help="another checkout to compare with")
    args = options.parse_args()
    expected = capture()
    print(
        f"{'log':<20} {'lines':>5} {'invalid now':>11}"
        + (" invalid before" if args.baseline else "")
    )
    for name, wanted in expected.items():
        log = REAL / wanted["file"]
        lines = len(log.read_text().splitlines())
        now = invalid(TOP, log, wanted["options"])[1]
        row = f"{name:<20} {lines:>5} {now:>11}"
        if args.baseline:
            row += f" {invalid(Path(args.baseline), log, wanted['options'])[1]:>14}"
        print(row)


if __name__ == "__main__":
    main()
