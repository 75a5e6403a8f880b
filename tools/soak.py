"""The soak: ``python -m tools.soak`` runs the monitor as it runs on a server - under
``--follow --state --serve`` - through two ``kill -9`` and a last SIGTERM, and checks
what the people and systems watching it saw.

* A **writer** appends a bursty access log, a second of log time every 40 ms (about
  ``--rate`` lines a wall second, four times that in bursts, a line now and then 12 s
  late or invalid), and renames it away every ``--rotate`` seconds as logrotate does.
* The **monitor** is killed twice at random moments and started again at once on the
  same port with its ``--state``; once everything is written and its windows are
  closed, it gets SIGTERM.
* **Clients** follow ``/events`` as the live page does: from the run's first record
  (``?after=0``); back with the ``Last-Event-ID`` they had after a restart; from the new
  run's first record once told to reload.  One of them reads slowly; one more connects
  and never reads.  A **scraper** reads ``/metrics`` four times a second.  Each run's
  resident memory is taken when it serves and when it ends.

Then the whole log, read in one run, gives the windows that the runs' must add up to
(a last line well past the others closes them in both).  The checks (``problems``):

* per window: the union of every run's settled records is the whole run's - none lost,
  none twice with other numbers;
* the last summary counts what the whole run counts;
* every client: of each run, each record at most once, in order, as the run printed
  it; of the last run, every record, then the summary; an id of an earlier run is
  always answered ``reload``;
* within a run, no ``/metrics`` counter goes back.

``--checkout DIR`` soaks another version (a ``git worktree`` of an earlier commit): the
same soak before and after a change.  The slow test group runs a short one
(``tests/pipeline/test_soak.py``).

    python -m tools.soak --seconds 300 --rate 1500
    python -m tools.soak --seconds 60 --checkout /tmp/before
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.live import LiveMonitor, append, settled
from tests.servers import free_port
from tests.sse import EventStream
from tests.support import TOP, environment, monitor_command
from tests.test_hostile import resident_kb

#: The monitor's settings: windows that close a few seconds of log time after a line.
WINDOW, INTERVAL, BUFFER = 10, 5, 5
#: Past the last line's second, only the empty windows of the silence that follows.
HORIZON = WINDOW + INTERVAL + BUFFER + 1
#: Log seconds written a wall second.
SPEED = 25
#: The /metrics counters watched.
COUNTERS = ("events_total", "late_events_total", "invalid_records_total")


@dataclass
class Plan:
    #: How long the writer writes (wall seconds), and about how many lines a second.
    seconds: float = 30.0
    rate: int = 150
    #: A rename every so many wall seconds.
    rotate: float = 7.0
    clients: int = 4
    seed: int = 1
    checkout: Path = TOP


@dataclass
class Segment:
    """What a client read over one connection: the run that served it, the id it
    came back with (``RUN:N``, or None), and the events (id number, type, data)."""

    run: int
    came_back_with: str | None
    events: list[tuple[int | None, str, str]] = field(default_factory=list)


@dataclass
class Client:
    slow: bool
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Run:
    records: list[dict[str, Any]]
    status: int | None
    #: Resident memory (KiB) when it served and when it ended.
    resident: tuple[int, int]
    #: Each scrape: {counter: value}.
    scrapes: list[dict[str, float]]


@dataclass
class Soak:
    plan: Plan
    lines: int
    runs: list[Run]
    clients: list[Client]
    whole: list[dict[str, Any]]
    #: The last second of log time written (but the closing line's).
    last_second: int
    seconds: float


class Writer(threading.Thread):
    """The log's writer (and logrotate's rename now and then); every line also goes to
    ``whole``, the log as one file."""

    def __init__(self, folder: Path, plan: Plan) -> None:
        super().__init__(daemon=True)
        self.log, self.whole = folder / "access.log", folder / "whole.log"
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.start_second = 1_700_000_000
        self.last_second = self.start_second
        self.lines = 0
        append(self.log, "")

    def second(self, second: int) -> str:
        per_second = self.plan.rate / SPEED
        burst = second % 60 < 8  # 8 seconds of bursts a minute of log time
        count = int(per_second * (4 if burst else 1) * self.rng.uniform(0.5, 1.5) + 0.5)
        rows = []
        for _ in range(count):
            roll = self.rng.random()
            if roll < 0.01:
                rows.append("not a record\n")
                continue
            rows.append(self.row(second, 12 if roll < 0.02 else self.rng.choice([0, 0, 0, 1, 2])))
        self.lines += len(rows)
        return "".join(rows)

    def row(self, second: int, lag: int) -> str:
        source = f"10.0.{self.rng.randint(0, 3)}.{self.rng.randint(1, 50)}"
        path = self.rng.choice(["/api/user", "/api/order", "/static/app.js", "/"])
        status = self.rng.choice([200, 200, 200, 304, 404, 500])
        return (
            f'"{source}","-","-",{second - lag},"GET {path} HTTP/1.1",{status},'
            f"{self.rng.randint(100, 5000)}\n"
        )

    def run(self) -> None:
        seconds = int(self.plan.seconds * SPEED)
        rotated = 0
        started = time.monotonic()
        for offset in range(seconds):
            now = time.monotonic() - started
            if now >= (rotated + 1) * self.plan.rotate:
                rotated += 1
                old = self.log.with_name("access.log.1")
                if old.exists():
                    os.replace(old, self.log.with_name("access.log.2"))
                os.rename(self.log, old)
                append(self.log, "")
            text = self.second(self.start_second + offset)
            append(self.log, text)
            append(self.whole, text)
            self.last_second = self.start_second + offset
            time.sleep(max(0.0, (offset + 1) / SPEED - (time.monotonic() - started)))
        # A line well past the horizon closes the last windows at once, in both logs.
        text = self.row(self.last_second + HORIZON + 2 * INTERVAL + BUFFER, lag=0)
        append(self.log, text)
        append(self.whole, text)
        self.lines += 1


class Watchers:
    """The clients and the scraper, across the runs: ``serving`` says which run is up
    (None between a kill and the next start)."""

    def __init__(self, port: int, plan: Plan) -> None:
        self.port = port
        self.serving: int | None = None
        self.over = threading.Event()
        self.clients = [Client(slow=index == 0) for index in range(plan.clients)]
        self.scrapes: dict[int, list[dict[str, float]]] = {}
        self.threads = [
            threading.Thread(target=self.follow, args=(client,), daemon=True)
            for client in self.clients
        ] + [threading.Thread(target=self.scrape, daemon=True)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def follow(self, client: Client) -> None:
        """A live page's stream: reconnect after a break with the last id seen; once
        told to reload, start again from the run's first record."""
        last: str | None = None
        while not self.over.is_set():
            try:
                stream = EventStream(
                    f"http://127.0.0.1:{self.port}/",
                    path="/events" if last else "/events?after=0",
                    last_event_id=last,
                    timeout=60,
                )
            except OSError:
                time.sleep(0.05)
                continue
            run = self.serving
            if run is None or stream.status != 200:
                stream.close()
                time.sleep(0.05)
                continue
            segment = Segment(run, last)
            client.segments.append(segment)
            try:
                while (event := stream.next()) is not None:
                    segment.events.append((event.id, event.event, event.data))
                    if event.event == "reload":
                        last = None
                    elif event.event == "summary":
                        return
                    else:
                        last = f"{event.run}:{event.id}" if event.run else str(event.id)
                    if client.slow:
                        time.sleep(0.003)
            except (OSError, http.client.HTTPException):
                pass  # (a kill)
            finally:
                stream.close()

    def scrape(self) -> None:
        while not self.over.is_set():
            run = self.serving
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", "/metrics")
                body = connection.getresponse().read().decode()
                connection.close()
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
                continue
            if run is not None and run == self.serving:
                values = {}
                for line in body.splitlines():
                    name, _, value = line.removeprefix("logsmonitor2000_").partition(" ")
                    if name in COUNTERS:
                        values[name] = float(value)
                self.scrapes.setdefault(run, []).append(values)
            time.sleep(0.25)


def never_reading(port: int) -> socket.socket | None:
    """A subscriber that never reads (its receive buffer small)."""
    try:
        stuck = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return None
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return stuck


def soak(plan: Plan) -> Soak:
    started = time.monotonic()
    rng = random.Random(plan.seed)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        writer = Writer(folder, plan)
        port = free_port()
        options = ["--alert-window", str(WINDOW), "--stats-interval", str(INTERVAL)]
        options += ["--buffer", str(BUFFER), "--threshold", str(2 * plan.rate // SPEED)]
        command = [str(writer.log), *options, "--state", str(folder / "state.json")]
        command += ["--serve", f"127.0.0.1:{port}"]
        watchers = Watchers(port, plan)
        kills = [rng.uniform(0.2, 0.45) * plan.seconds, rng.uniform(0.55, 0.8) * plan.seconds]
        runs: list[Run] = []
        writer.start()
        watchers.start()
        while len(runs) <= len(kills):
            with LiveMonitor(*command, checkout=plan.checkout) as monitor:
                monitor.wait_for_stderr("serving ")
                watchers.serving = len(runs)
                first = resident_kb(monitor.process.pid)
                stuck = never_reading(port)
                if len(runs) < len(kills):
                    time.sleep(max(0.0, kills[len(runs)] - (time.monotonic() - started)))
                    last = resident_kb(monitor.process.pid)
                    watchers.serving = None
                    monitor.kill()
                else:
                    writer.join()
                    end = writer.last_second + HORIZON
                    monitor.wait_for(lambda rs: any(r.get("end", 0) > end for r in rs), 120)
                    last = resident_kb(monitor.process.pid)
                    monitor.stop(signal.SIGTERM)
                if stuck is not None:
                    stuck.close()
            scrapes = watchers.scrapes.get(len(runs), [])
            runs.append(Run(monitor.records, monitor.process.returncode, (first, last), scrapes))
        watchers.over.set()
        for thread in watchers.threads:
            thread.join(30)
        whole = subprocess.run(
            monitor_command(str(writer.whole), *options, "--output", "json"),
            cwd=plan.checkout,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        records = [json.loads(line) for line in whole.stdout.splitlines()]
        return Soak(
            plan,
            writer.lines,
            runs,
            watchers.clients,
            records,
            writer.last_second,
            time.monotonic() - started,
        )


def problems(result: Soak) -> list[str]:
    """Every way the soak went wrong, one sentence each (none: it went right)."""
    found = []
    last = result.last_second
    union = set().union(*(settled(run.records, last + HORIZON) for run in result.runs))
    expected = settled(result.whole, last + HORIZON)
    if union != expected:
        found.append(
            f"windows: {len(union - expected)} records no whole run printed, "
            f"{len(expected - union)} of the whole run's missing"
        )
    summary, whole = result.runs[-1].records[-1], result.whole[-1]
    for key in ("events", "late", "invalid"):
        if summary.get(key) != whole.get(key):
            found.append(f"the last summary's {key}: {summary.get(key)}, not {whole.get(key)}")
    for index, client in enumerate(result.clients):
        found += [f"client {index}: {problem}" for problem in _client_problems(client, result)]
    for index, run in enumerate(result.runs):
        for before, after in zip(run.scrapes, run.scrapes[1:]):
            back = [name for name in COUNTERS if after.get(name, 0) < before.get(name, 0)]
            if back:
                found.append(f"run {index}: {', '.join(back)} went back")
                break
    return found


def _client_problems(client: Client, result: Soak) -> list[str]:
    found = []
    final = len(result.runs) - 1
    got: dict[int, list[int]] = {}  # the id numbers each run gave it
    for segment in client.segments:
        records = [r for r in result.runs[segment.run].records if r["type"] != "summary"]
        events = segment.events
        if segment.came_back_with is not None:
            if not events:
                continue  # (the run went away before answering)
            if events[0][1] != "reload":
                found.append(f"back with {segment.came_back_with}, got {events[0][1]}")
            continue
        for number, kind, data in events:
            if kind == "summary":
                if json.loads(data) != result.runs[segment.run].records[-1]:
                    found.append("a summary that is not the run's")
                continue
            numbers = got.setdefault(segment.run, [])
            if number is not None and number > len(records) and segment.run < final:
                break  # (sent, then the process was killed before it printed it whole)
            if number is None or number != len(numbers) + 1:
                found.append(f"run {segment.run}: record {number} after {len(numbers)}")
                break
            numbers.append(number)
            if number > len(records) or json.loads(data) != records[number - 1]:
                found.append(f"run {segment.run}: record {number} is not what it printed")
                break
    printed = sum(1 for r in result.runs[final].records if r["type"] != "summary")
    if len(got.get(final, [])) != printed:
        found.append(f"of the last run's {printed} records, {len(got.get(final, []))}")
    last_events = client.segments[-1].events if client.segments else []
    if not last_events or last_events[-1][1] != "summary":
        found.append("no summary at the end")
    return found


def figures(result: Soak) -> str:
    """The soak in a few lines."""
    lines = [
        f"{result.lines:,} lines in {result.plan.seconds:g} s of writing, "
        f"{len(result.runs)} runs, the soak took {result.seconds:.0f} s"
    ]
    for index, run in enumerate(result.runs):
        printed = sum(1 for r in run.records if r["type"] != "summary")
        how = {-9: "kill -9", 143: "SIGTERM"}.get(run.status or 0, str(run.status))
        first = run.scrapes[0] if run.scrapes else {}
        lines.append(
            f"run {index} ({how}): {printed} records, RSS {run.resident[0] / 1024:.1f}"
            f" -> {run.resident[1] / 1024:.1f} MB, {len(run.scrapes)} scrapes, the first "
            + " ".join(f"{name} {first.get(name, 0):g}" for name in COUNTERS)
        )
    for index, client in enumerate(result.clients):
        per_run = []
        for run_index, run in enumerate(result.runs):
            printed = sum(1 for r in run.records if r["type"] != "summary")
            seen = {
                number
                for segment in client.segments
                if segment.run == run_index and segment.came_back_with is None
                for number, kind, _ in segment.events
                if kind not in ("summary", "reload")
            }
            per_run.append(f"{len(seen)}/{printed}")
        events = [event for segment in client.segments for event in segment.events]
        lines.append(
            f"client {index}{' (slow)' if client.slow else ''}: records per run "
            + " ".join(per_run)
            + f", {sum(1 for e in events if e[1] == 'reload')} reloads, summary "
            + ("yes" if events and events[-1][1] == "summary" else "no")
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=Plan.seconds, help="of writing")
    parser.add_argument("--rate", type=int, default=Plan.rate, help="lines a second")
    parser.add_argument("--rotate", type=float, default=Plan.rotate, help="seconds")
    parser.add_argument("--clients", type=int, default=Plan.clients)
    parser.add_argument("--seed", type=int, default=Plan.seed)
    parser.add_argument("--checkout", type=Path, default=TOP, help="another version's top")
    args = parser.parse_args()
    result = soak(
        Plan(args.seconds, args.rate, args.rotate, args.clients, args.seed, args.checkout)
    )
    print(figures(result))
    found = problems(result)
    print("\n".join(found) if found else "no problems")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
