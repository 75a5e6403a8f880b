"""The benchmark: ``python -m tests.bench`` (standard library only).

Generates deterministic logs of N lines (default 1M) in the three formats - the same
busy-server traffic as access CSV, Combined Log Format and pymongowatch CSV - then, in
the same run, times for each:

* the **monitor**: ``python -m LogsMonitor2000 FILE --output json > /dev/null``;
* its **floor**, as a program of its own (so that both pay for starting Python):
  iterating the file with ``csv.reader`` doing nothing (access CSV, pymongowatch CSV),
  or one compiled Common Log Format regex match per line (Combined).

It prints lines/s, the ratio monitor / floor and the peak RSS of the monitor (its
largest process: the main one or a worker).  Each command runs ``--repeat`` times
(default 3), interleaved, and the fastest run of each counts: the machine is shared.

    python -m tests.bench --lines 200000 --formats csv --keep /tmp/logs
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
START = 1700000000  # 2023-11-14T22:13:20Z
RATE = 120  # requests per second on average: about 2 h 20 min for 1M lines

FLOORS = {
    "csv": "import csv, sys\nfor row in csv.reader(open(sys.argv[1], newline='')): pass",
    "clf": (
        "import re, sys\n"
        "line = re.compile(r'(\\S+) (\\S+) (\\S+) \\[([^\\]]+)\\] \"(.*?)\" (\\d{3}) (\\S+)')\n"
        "for text in open(sys.argv[1]): line.match(text)"
    ),
    "mongo": "import csv, sys\nfor row in csv.reader(open(sys.argv[1], newline='')): pass",
}
FLOOR_NAMES = {"csv": "csv.reader", "clf": "CLF regex", "mongo": "csv.reader"}

SECTIONS = ["/api/users", "/api/orders/7", "/api/search?q=shoes", "/static/app.js",
            "/static/style.css", "/login", "/report/daily", "/", "/images/logo.png"]  # fmt: skip
AGENTS = ['"-" "curl/8.4.0"', '"https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"']
NAMESPACES = [("shop", "orders"), ("shop", "items"), ("shop", "users"), ("audit", "log")]
OPERATIONS = ["find", "find_one", "insert_one", "update_one", "aggregate", "delete_one"]


def seconds_of_traffic(rng: random.Random, lines: int) -> Iterator[tuple[int, int]]:
    """(second, requests in it) until ``lines`` requests: a base rate with bursts."""
    second, left = START, lines
    while left > 0:
        burst = 3.0 if (second - START) % 3600 < 300 else 1.0
        count = min(left, max(0, int(rng.gauss(RATE * burst, 15))))
        yield second, count
        left -= count
        second += 1


def requests(lines: int, seed: int) -> Iterator[tuple[int, str, str, int, int, int]]:
    """(time, host, path, status, bytes, agent) in the order they are logged: slightly
    disordered, a few very late."""
    rng = random.Random(seed)
    hosts = [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(1, 5001)]
    weights = [1 / i**0.9 for i in range(1, 5001)]
    for second, count in seconds_of_traffic(rng, lines):
        chosen = rng.choices(hosts, weights, k=count)
        for i in range(count):
            lag = rng.random()
            time_ = second - (rng.randint(1, 2) if lag < 0.05 else 9 if lag < 0.0505 else 0)
            yield (
                time_,
                chosen[i],
                SECTIONS[rng.randrange(len(SECTIONS))],
                (200, 200, 200, 200, 304, 404, 500)[rng.randrange(7)],
                rng.randrange(200, 40000),
                rng.randrange(2),
            )


def write_csv(path: Path, lines: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write('"remotehost","rfc931","authuser","date","request","status","bytes"\n')
        for time_, host, section, status, size, _ in requests(lines - 1, seed=1):
            out.write(f'"{host}","-","-",{time_},"GET {section} HTTP/1.1",{status},{size}\n')


def write_clf(path: Path, lines: int) -> None:
    stamps: dict[int, str] = {}
    with open(path, "w", encoding="utf-8") as out:
        for time_, host, section, status, size, agent in requests(lines, seed=1):
            stamp = stamps.get(time_)
            if stamp is None:
                when = datetime.fromtimestamp(time_, timezone.utc)
                stamp = stamps[time_] = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
            out.write(
                f'{host} - - [{stamp}] "GET {section} HTTP/1.1" {status} {size} {AGENTS[agent]}\n'
            )


def write_mongo(path: Path, lines: int) -> None:
    """pymongowatch's format: mostly single final rows, some cursors with iterations."""
    rng = random.Random(3)
    stamps: dict[int, str] = {}

    def local(time_: float) -> str:
        whole = int(time_)
        text = stamps.get(whole)
        if text is None:
            text = stamps[whole] = datetime.fromtimestamp(whole).strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{int((time_ - whole) * 1e6):06d}"

    written = 1
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            "WatcherName,WatchID,Iteration,StartTime,EndTime,DB,Collection,Operation,Filter,"
            "Duration,MatchedCount,InsertedCount,UpsertedCount,ModifiedCount,DeletedCount\n"
        )
        n = 0
        for second, count in seconds_of_traffic(rng, lines):
            for _ in range(count):
                if written >= lines:
                    return
                n += 1
                db, collection = NAMESPACES[rng.randrange(4)]
                operation = OPERATIONS[rng.randrange(6)]
                duration = rng.expovariate(200.0)
                start = second + rng.random()
                query = (
                    f'"{{""user"": ""u{rng.randrange(999)}"", ""age"": {{""$gt"": '
                    f'{rng.randrange(99)}}}}}"'
                )
                iterations = 2 if rng.random() < 0.1 else 0
                for iteration in range(1, iterations + 1):
                    out.write(
                        f"pymongo.watcher.cursor,{n:024x},{iteration},{local(start)},"
                        f"{local(start + duration * iteration / 3)},{db},{collection},find,"
                        f"{query},{duration * iteration / 3},0,,,,\n"
                    )
                    written += 1
                out.write(
                    f"pymongo.watcher.collection,{n:024x},final,{local(start)},"
                    f"{local(start + duration)},{db},{collection},{operation},{query},"
                    f"{duration},1,,,,\n"
                )
                written += 1


WRITERS = {"csv": write_csv, "clf": write_clf, "mongo": write_mongo}


def timed(command: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of a command, its output to /dev/null."""
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        process = subprocess.Popen(command, stdout=devnull, cwd=TOP)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    process.returncode = 0
    return elapsed, usage.ru_maxrss


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--lines", type=int, default=1_000_000)
    options.add_argument("--formats", default="csv,clf,mongo")
    options.add_argument("--repeat", type=int, default=3)
    options.add_argument("--keep", metavar="DIR", help="write (and reuse) the logs there")
    args = options.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="logsmonitor-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{args.lines:,} lines per log, best of {args.repeat}, Python {sys.version.split()[0]}")
    print(f"{'format':<7} {'floor':<11} {'floor s':>8} {'monitor s':>10} {'ratio':>6} "
          f"{'lines/s':>10} {'peak RSS':>9}")  # fmt: skip
    for name in args.formats.split(","):
        path = folder / f"bench-{args.lines}.{name}"
        if not path.exists():
            WRITERS[name](path, args.lines)
        floors, runs, peaks = [], [], []
        for _ in range(args.repeat):
            floors.append(timed([sys.executable, "-c", FLOORS[name], str(path)])[0])
            elapsed, peak = timed(
                [sys.executable, "-m", "LogsMonitor2000", str(path), "--output", "json"]
            )
            runs.append(elapsed)
            peaks.append(peak)
        floor, run = min(floors), min(runs)
        print(
            f"{name:<7} {FLOOR_NAMES[name]:<11} {floor:>8.2f} {run:>10.2f} {run / floor:>6.2f} "
            f"{args.lines / run:>10,.0f} {max(peaks) / 1024:>6.1f} MB"
        )
    if not args.keep:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
