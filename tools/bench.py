"""The benchmark: ``python -m tools.bench`` (standard library only).

Generates deterministic logs of N lines (default 1M) - the same busy-server traffic as
access CSV, Combined Log Format, an nginx custom format (with the request time),
Caddy's JSON and pymongowatch CSV - then, in the same run, times for each:

* the **monitor**: ``python -m LogsMonitor2000 FILE --output json > /dev/null``;
* its **floor**, as a program of its own (so that both pay for starting Python):
  iterating the file with ``csv.reader`` doing nothing (access CSV, pymongowatch CSV),
  one compiled Common Log Format regex match per line (Combined, nginx), or
  ``json.loads`` per line (Caddy).

It prints lines/s, the ratio monitor / floor, the ratio of the Combined run's lines/s
to this one's (``vs clf``), and the peak RSS of the monitor (its largest process: the
main one or a worker).  Two more cases are runs of several inputs: ``clf*3``, three
servers' logs of N/3 lines each over the same hours, and ``clf+day``, the Combined log
and a copy of it a day later (their ``vs clf`` is against the one N-line input).  Each
command runs ``--repeat`` times (default 3), interleaved, and the fastest run of each
counts: the machine is shared.

``--baseline DIR`` (a checkout of another version, ``git worktree add /tmp/before
HEAD~3`` say) also times that version's monitor on the same logs, interleaved with
this one, and prints the ratio of the two (``vs base``: this one's time over the
baseline's): a change measured before and after in one run.

    python -m tools.bench --lines 200000 --formats csv,nginx --keep /tmp/logs
    python -m tools.bench --baseline /tmp/before --no-views
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
START = 1700000000  # 2023-11-14T22:13:20Z
RATE = 120  # requests per second on average: about 2 h 20 min for 1M lines

CSV_FLOOR = "import csv, sys\nfor row in csv.reader(open(sys.argv[1], newline='')): pass"
CLF_FLOOR = (
    "import re, sys\n"
    "line = re.compile(r'(\\S+) (\\S+) (\\S+) \\[([^\\]]+)\\] \"(.*?)\" (\\d{3}) (\\S+)')\n"
    "for text in open(sys.argv[1]): line.match(text)"
)
JSON_FLOOR = "import json, sys\nfor text in open(sys.argv[1]): json.loads(text)"
FLOORS = {
    "csv": CSV_FLOOR,
    "clf": CLF_FLOOR,
    "nginx": CLF_FLOOR,
    "caddy": JSON_FLOOR,
    "mongo": CSV_FLOOR,
    "clf*3": CLF_FLOOR,
    "clf+day": CLF_FLOOR,
}
FLOOR_NAMES = {"csv": "csv.reader", "caddy": "json.loads", "mongo": "csv.reader"}

#: The nginx custom format (the request time last).
NGINX_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time'
)

SECTIONS = ["/api/users", "/api/orders/7", "/api/search?q=shoes", "/static/app.js",
            "/static/style.css", "/login", "/report/daily", "/", "/images/logo.png"]  # fmt: skip
AGENTS = ['"-" "curl/8.4.0"', '"https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"']
NAMESPACES = [("shop", "orders"), ("shop", "items"), ("shop", "users"), ("audit", "log")]
OPERATIONS = ["find", "find_one", "insert_one", "update_one", "aggregate", "delete_one"]


def seconds_of_traffic(
    rng: random.Random, lines: int, rate: int = RATE
) -> Iterator[tuple[int, int]]:
    """(second, requests in it) until ``lines`` requests: a base rate with bursts."""
    second, left = START, lines
    while left > 0:
        burst = 3.0 if (second - START) % 3600 < 300 else 1.0
        count = min(left, max(0, int(rng.gauss(rate * burst, 15 * rate / RATE))))
        yield second, count
        left -= count
        second += 1


def requests(
    lines: int, seed: int, rate: int = RATE
) -> Iterator[tuple[int, str, str, int, int, int]]:
    """(time, host, path, status, bytes, agent) in the order they are logged: slightly
    disordered, a few very late."""
    rng = random.Random(seed)
    hosts = [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(1, 5001)]
    weights = [1 / i**0.9 for i in range(1, 5001)]
    for second, count in seconds_of_traffic(rng, lines, rate):
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


def write_clf(path: Path, lines: int, *, later: int = 0) -> None:
    """Combined Log Format (``later`` seconds later than the other logs)."""
    stamps: dict[int, str] = {}
    with open(path, "w", encoding="utf-8") as out:
        for time_, host, section, status, size, agent in requests(lines, seed=1):
            time_ += later
            stamp = stamps.get(time_)
            if stamp is None:
                when = datetime.fromtimestamp(time_, timezone.utc)
                stamp = stamps[time_] = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
            out.write(
                f'{host} - - [{stamp}] "GET {section} HTTP/1.1" {status} {size} {AGENTS[agent]}\n'
            )


def write_nginx(path: Path, lines: int) -> None:
    """The Combined traffic in the nginx custom format: the request time last."""
    stamps: dict[int, str] = {}
    rng = random.Random(5)
    with open(path, "w", encoding="utf-8") as out:
        for time_, host, section, status, size, agent in requests(lines, seed=1):
            stamp = stamps.get(time_)
            if stamp is None:
                when = datetime.fromtimestamp(time_, timezone.utc)
                stamp = stamps[time_] = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
            taken = rng.expovariate(20.0)
            out.write(
                f'{host} - - [{stamp}] "GET {section} HTTP/1.1" {status} {size} '
                f"{AGENTS[agent]} {taken:.3f}\n"
            )


def write_caddy(path: Path, lines: int) -> None:
    """The same traffic as Caddy's JSON access log writes it."""
    rng = random.Random(6)
    agents = ["curl/8.4.0", "Mozilla/5.0 (X11; Linux x86_64)"]
    with open(path, "w", encoding="utf-8") as out:
        for time_, host, section, status, size, agent in requests(lines, seed=1):
            path_part, _, query = section.partition("?")
            record = {
                "level": "info",
                "ts": time_ + rng.random(),
                "logger": "http.log.access.log0",
                "msg": "handled request",
                "request": {
                    "remote_ip": host,
                    "remote_port": str(rng.randrange(1024, 65536)),
                    "client_ip": host,
                    "proto": "HTTP/1.1",
                    "method": "GET",
                    "host": "example.com",
                    "uri": section,
                    "headers": {"User-Agent": [agents[agent]], "Accept": ["*/*"]},
                },
                "bytes_read": 0,
                "user_id": "",
                "duration": rng.expovariate(20.0),
                "size": size,
                "status": status,
                "resp_headers": {"Server": ["Caddy"], "Content-Type": ["text/html"]},
            }
            out.write(json.dumps(record, separators=(",", ":")) + "\n")


def write_servers(path: Path, lines: int) -> list[Path]:
    """Three servers' Combined logs of ``lines / 3`` lines each, over the same hours."""
    paths = [path.with_name(f"{path.name}.{i}") for i in range(3)]
    for i, one in enumerate(paths):
        stamps: dict[int, str] = {}
        with open(one, "w", encoding="utf-8") as out:
            for time_, host, section, status, size, agent in requests(
                lines // 3, seed=10 + i, rate=RATE // 3
            ):
                stamp = stamps.get(time_)
                if stamp is None:
                    when = datetime.fromtimestamp(time_, timezone.utc)
                    stamp = stamps[time_] = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
                out.write(
                    f'{host} - - [{stamp}] "GET {section} HTTP/1.1" {status} {size} '
                    f"{AGENTS[agent]}\n"
                )
    return paths


def write_day_apart(path: Path, lines: int) -> list[Path]:
    """The Combined log, and the same a day later: two logs that never overlap."""
    first, second = path.with_name(path.name + ".0"), path.with_name(path.name + ".1")
    write_clf(first, lines)
    write_clf(second, lines, later=86_400)
    return [first, second]


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


WRITERS: dict[str, Callable[[Path, int], object]] = {
    "csv": write_csv,
    "clf": write_clf,
    "nginx": write_nginx,
    "caddy": write_caddy,
    "mongo": write_mongo,
    "clf*3": write_servers,
    "clf+day": write_day_apart,
}
#: What the monitor is told besides the file (the format of the nginx log).
OPTIONS = {"nginx": ["--log-format", NGINX_FORMAT]}


def timed(command: list[str], cwd: Path = TOP) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of a command (run in ``cwd``), its output to
    /dev/null."""
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        process = subprocess.Popen(command, stdout=devnull, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    process.returncode = 0
    return elapsed, usage.ru_maxrss


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--lines", type=int, default=1_000_000)
    options.add_argument("--formats", default=",".join(WRITERS))
    options.add_argument("--repeat", type=int, default=3)
    options.add_argument("--keep", metavar="DIR", help="write (and reuse) the logs there")
    options.add_argument(
        "--no-views", dest="views", action="store_false", help="skip --report and --serve"
    )
    options.add_argument(
        "--listen-only", action="store_true", help="only the listeners' figures (--listen)"
    )
    options.add_argument(
        "--store-only", metavar="LOG", help="only --store's figures, on this Combined log"
    )
    options.add_argument(
        "--baseline", metavar="DIR", help="also time the monitor of another checkout (its top)"
    )
    args = options.parse_args()
    if args.listen_only:
        bench_listeners(args.lines // 2, args.repeat)
        return
    if args.store_only:
        bench_store(Path(args.store_only), args.repeat)
        return
    folder = Path(args.keep or tempfile.mkdtemp(prefix="logsmonitor-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{args.lines:,} lines per log, best of {args.repeat}, Python {sys.version.split()[0]}")
    print(f"{'format':<8} {'floor':<11} {'floor s':>8} {'monitor s':>10} {'ratio':>6} "
          f"{'lines/s':>10} {'vs clf':>7} {'peak RSS':>9}"
          + (f" {'base s':>7} {'vs base':>7}" if args.baseline else ""))  # fmt: skip
    clf_rate: float | None = None
    for name in args.formats.split(","):
        inputs = prepare(folder, name, args.lines)
        lines = args.lines * (2 if name == "clf+day" else 1)
        floors, runs, peaks, bases = [], [], [], []
        command = [sys.executable, "-m", "LogsMonitor2000", *map(str, inputs), "--output", "json",
                   *OPTIONS.get(name, [])]  # fmt: skip
        for _ in range(args.repeat):
            floors.append(
                sum(timed([sys.executable, "-c", FLOORS[name], str(p)])[0] for p in inputs)
            )
            elapsed, peak = timed(command)
            runs.append(elapsed)
            peaks.append(peak)
            if args.baseline:
                bases.append(timed(command, cwd=Path(args.baseline))[0])
        floor, run = min(floors), min(runs)
        rate = lines / run
        if name == "clf":
            clf_rate = rate
        versus = f"{clf_rate / rate:>7.2f}" if clf_rate and name != "clf" else f"{'':>7}"
        based = f" {min(bases):>7.2f} {run / min(bases):>7.2f}" if bases else ""
        print(
            f"{name:<8} {FLOOR_NAMES.get(name, 'CLF regex'):<11} {floor:>8.2f} {run:>10.2f} "
            f"{run / floor:>6.2f} {rate:>10,.0f} {versus} {max(peaks) / 1024:>6.1f} MB{based}"
        )
    if "clf" in args.formats.split(","):
        bench_goaccess(prepare(folder, "clf", args.lines)[0], args.repeat)
        bench_rules(prepare(folder, "clf", args.lines)[0], args.repeat)
        bench_store(prepare(folder, "clf", args.lines)[0], args.repeat)
    if args.views:
        clf = prepare(folder, "clf", args.lines)[0]
        bench_report(clf, args.repeat)
        bench_subscribers(clf, args.repeat)
    bench_listeners(args.lines // 2, args.repeat)
    if not args.keep:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


def bench_goaccess(log: Path, repeat: int) -> None:
    """The Combined log read by GoAccess with the same panels (one entry per URL,
    whatever the method and protocol), and by the monitor."""
    if shutil.which("goaccess") is None:
        print("GoAccess: not installed (apt-get install goaccess), not compared")
        return
    report = log.with_name(log.name + ".goaccess.json")
    goaccess = ["goaccess", str(log), "--log-format=COMBINED", "-o", str(report),
                "--http-method=no", "--http-protocol=no", "--no-progress"]  # fmt: skip
    ours = [sys.executable, "-m", "LogsMonitor2000", str(log), "--output", "json"]
    theirs, mine = [], []
    for _ in range(repeat):
        theirs.append(timed(goaccess)[0])
        mine.append(timed(ours)[0])
    report.unlink()
    print(
        f"GoAccess (-o json --http-method=no --http-protocol=no): {min(theirs):.2f} s, the "
        f"monitor {min(mine):.2f} s: {min(theirs) / min(mine):.1f}x faster"
    )


#: Five --alert rules of the kinds and scopes operators use first (docs/alerts.md).
RULES = [
    "errors: share(5xx) > 5% over 5m",
    "posts: rate(method=POST) > 20/s over 1m",
    "drop: rate < 0.3x baseline(1h) over 5m",
    "busy: rate > 200/s over 30s",
    "office: share(source=10.0.0.0/24) > 50% over 2m",
]


def bench_rules(log: Path, repeat: int) -> None:
    """The Combined log with and without five ``--alert`` rules, interleaved; then with
    a rule on a path, which has the main process count the panels."""
    plain = [sys.executable, "-m", "LogsMonitor2000", str(log), "--output", "json"]
    five = plain + [option for rule in RULES for option in ("--alert", rule)]
    path = five + ["--alert", "api: rate(/api) > 50/s over 1m"]
    times: dict[str, list[float]] = {"plain": [], "five": [], "path": []}
    for _ in range(repeat):
        for name, command in (("plain", plain), ("five", five), ("path", path)):
            times[name].append(timed(command)[0])
    base = min(times["plain"])
    print(
        f"--alert: five rules {min(times['five']):.2f} s against {base:.2f} s without "
        f"(ratio {min(times['five']) / base:.2f}); with a rule on a path too "
        f"{min(times['path']):.2f} s (ratio {min(times['path']) / base:.2f})"
    )


def bench_store(log: Path, repeat: int) -> None:
    """The Combined log with and without ``--store``, interleaved: time, peak RSS, the
    database's size."""
    store = log.with_name(log.name + ".db")
    command = [sys.executable, "-m", "LogsMonitor2000", str(log), "--output", "json"]
    plain, stored, peaks = [], [], []
    for _ in range(repeat):
        plain.append(timed(command)[0])
        for path in log.parent.glob(store.name + "*"):
            path.unlink()
        elapsed, peak = timed(command + ["--store", str(store)])
        stored.append(elapsed)
        peaks.append(peak)
    print(
        f"--store: {min(stored):.2f} s against {min(plain):.2f} s without "
        f"(ratio {min(stored) / min(plain):.2f}), peak RSS {max(peaks) / 1024:.1f} MB, "
        f"the database {store.stat().st_size / 1e6:.2f} MB"
    )
    store.unlink()


def bench_report(log: Path, repeat: int) -> None:
    """The Combined log with and without ``--report``: time, peak RSS, the page's size."""
    report = log.with_name(log.name + ".html")
    plain, with_report, peaks = [], [], []
    command = [sys.executable, "-m", "LogsMonitor2000", str(log), "--output", "json"]
    for _ in range(repeat):
        plain.append(timed(command)[0])
        elapsed, peak = timed(command + ["--report", str(report)])
        with_report.append(elapsed)
        peaks.append(peak)
    print(
        f"--report: {min(with_report):.2f} s against {min(plain):.2f} s without "
        f"(ratio {min(with_report) / min(plain):.2f}), peak RSS {max(peaks) / 1024:.1f} MB, "
        f"the page {report.stat().st_size / 1e6:.2f} MB"
    )
    report.unlink()


def bench_subscribers(log: Path, repeat: int, subscribers: int = 200, stuck: int = 20) -> None:
    """``--follow --serve``: the time to read the Combined log appended to a followed
    file, with ``subscribers`` clients of /events (``stuck`` of them never reading)
    against none.  The time runs from the append until the monitor has read the whole
    file (``/proc/PID/io``: it parses each block before it reads the next)."""
    alone, watched = [], []
    for _ in range(repeat):
        alone.append(_followed_read_time(log, 0, 0))
        watched.append(_followed_read_time(log, subscribers, stuck))
    print(
        f"--serve, {subscribers} /events subscribers ({stuck} never reading): "
        f"{min(watched):.2f} s against {min(alone):.2f} s with none "
        f"(ratio {min(watched) / min(alone):.2f})"
    )


def _followed_read_time(log: Path, subscribers: int, stuck: int) -> float:
    import re
    import selectors
    import signal
    import socket
    import threading
    import urllib.request

    followed = log.with_name(log.name + ".followed")
    followed.write_bytes(b"")
    process = subprocess.Popen(
        [sys.executable, "-m", "LogsMonitor2000", str(followed), "--follow", "--output", "json"]
        + ["--serve", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=TOP,
    )
    assert process.stderr is not None
    found = re.search(rb"serving http://127\.0\.0\.1:(\d+)/", process.stderr.readline())
    assert found, "the monitor did not say where it serves"
    port = int(found.group(1))
    clients = []
    for i in range(subscribers):
        client = socket.create_connection(("127.0.0.1", port))
        if i < stuck:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        clients.append(client)
    reading = selectors.DefaultSelector()
    for client in clients[stuck:]:
        client.setblocking(False)
        reading.register(client, selectors.EVENT_READ)
    done = threading.Event()

    def drain() -> None:
        while not done.is_set():
            for key, _ in reading.select(timeout=0.1):
                try:
                    key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                except OSError:
                    pass

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + 60
    while json.load(urllib.request.urlopen(url))["subscribers"] < subscribers:
        if time.monotonic() > deadline:  # (a refused subscription must not hang the bench)
            process.kill()
            raise SystemExit("the /events subscribers were not all taken")
        time.sleep(0.05)
    size = log.stat().st_size
    read_before = _bytes_read(process.pid)
    started = time.perf_counter()
    with open(log, "rb") as source, open(followed, "ab") as target:
        while chunk := source.read(1 << 20):
            target.write(chunk)
    while _bytes_read(process.pid) - read_before < size:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    process.stderr.close()
    done.set()
    drainer.join()
    for client in clients:
        client.close()
    followed.unlink()
    return elapsed


#: The loader of ``bench_listeners``, another process: argv is the kind (tcp, http,
#: handler), the port and the number of lines; it prints the lines acknowledged.
LOADER = r"""
import http.client, logging, logging.handlers, socket, sys, time
kind, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
lines = [f'10.0.{i % 256}.{i % 7} - - [{stamp}] "GET /s{i % 20}/x HTTP/1.1" 200 {i}\n'
         for i in range(1000)]
batch = "".join(lines).encode()
sent = 0
if kind == "tcp":
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(count // 1000):
            sock.sendall(batch)
            sent += 1000
elif kind == "http":
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(count // 1000):
        connection.request("POST", "/ingest", body=batch,
                           headers={"Content-Type": "text/plain"})
        answer = connection.getresponse()
        answer.read()
        sent += 1000 if answer.status == 200 else 0
else:  # "handler" to /ingest, "chronologer" to the record API
    path = "/ingest" if kind == "handler" else "/api/v1/record"
    handler = logging.handlers.HTTPHandler(f"127.0.0.1:{port}", path, method="POST")
    logger = logging.getLogger("bench")
    logger.propagate = False
    logger.addHandler(handler)
    for i in range(count):
        logger.warning("record %d", i)
        sent += 1
print(sent)
"""


#: What ``HTTPHandler`` is measured against: servers that answer 200 and do nothing,
#: the stdlib's (a thread per connection) and a bare selector loop (the fastest a
#: Python server answers: the client's own limit).
NULL_SERVER = r"""
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""
NULL_LOOP = r"""
import selectors, socket
selector, listener = selectors.DefaultSelector(), socket.create_server(("127.0.0.1", 0))
listener.setblocking(False)
selector.register(listener, selectors.EVENT_READ)
print(listener.getsockname()[1], flush=True)
answer, pending = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", {}
while True:
    for key, _ in selector.select():
        if key.fileobj is listener:
            client, _ = listener.accept()
            client.setblocking(False)
            selector.register(client, selectors.EVENT_READ)
            pending[client] = b""
            continue
        client = key.fileobj
        data = client.recv(65536)
        if not data:
            selector.unregister(client)
            client.close()
            del pending[client]
            continue
        data = pending[client] + data
        end = data.find(b"\r\n\r\n")
        length = 0
        for line in data[:end].split(b"\r\n")[1:]:
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if end >= 0 and len(data) >= end + 4 + length:
            client.send(answer)
            data = data[end + 4 + length :]
        pending[client] = data
"""


def bench_listeners(lines: int, repeat: int) -> None:
    """``--listen``: a loader in another process sends ``lines`` Combined lines over
    TCP syslog (newline-framed), as HTTP text batches of 1,000 lines, and (a tenth of
    them) as ``HTTPHandler`` records one per request; the time runs from the loader's
    start to the monitor's exit after SIGINT, once the loader is done.  Every line the
    loader sent (or got a 200 for) must be in the summary."""
    cases = [
        ("TCP syslog", "syslog+tcp", "tcp", lines),
        ("HTTP batches of 1,000 lines", "http", "http", lines),
        ("HTTPHandler, a record per request", "http", "handler", max(lines // 10, 1000)),
        ("HTTPHandler to the record API of a --store", "http", "chronologer",
         max(lines // 10, 1000)),
    ]  # fmt: skip
    for title, scheme, kind, count in cases:
        best, peak, counted, sent = math.inf, 0, 0, 0
        for _ in range(repeat):
            elapsed, peak_kb, counted, sent = _listener_run(scheme, kind, count)
            best, peak = min(best, elapsed), max(peak, peak_kb)
        print(
            f"--listen {title}: {sent:,} sent, {counted:,} counted, {best:.2f} s, "
            f"{sent / best:,.0f} lines/s, peak RSS {peak / 1024:.1f} MB"
        )
        if kind == "handler":
            for name, server in (("http.server", NULL_SERVER), ("a bare selector loop", NULL_LOOP)):
                alone = min(_null_server_run(count, server) for _ in range(repeat))
                print(
                    f"  the same client against {name} doing nothing: {alone:.2f} s, "
                    f"{count / alone:,.0f} records/s (ratio {best / alone:.2f})"
                )


def _listener_run(scheme: str, kind: str, count: int) -> tuple[float, int, int, int]:
    import re
    import signal

    folder = Path(tempfile.mkdtemp(prefix="logsmonitor-bench-"))
    stored = ["--store", str(folder / "records.db")] if kind == "chronologer" else []
    process = subprocess.Popen(
        [sys.executable, "-m", "LogsMonitor2000", "--listen", f"{scheme}://127.0.0.1:0"]
        + ["--output", "json", "--buffer", "3600", *stored],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=TOP,
    )
    assert process.stderr is not None and process.stdout is not None
    found = re.search(rb"listening on \S+://127\.0\.0\.1:(\d+)", process.stderr.readline())
    assert found, "the monitor did not say where it listens"
    started = time.perf_counter()
    loader = subprocess.run(
        [sys.executable, "-c", LOADER, kind, found.group(1).decode(), str(count)],
        capture_output=True,
        check=True,
        text=True,
    )
    peak = _peak_rss_kb(process.pid)  # (the peak so far: the load is over)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=300)
    elapsed = time.perf_counter() - started
    summary = json.loads(out.splitlines()[-1])
    shutil.rmtree(folder)
    return elapsed, peak, summary["events"] + summary["invalid"], int(loader.stdout)


def _null_server_run(count: int, code: str) -> float:
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    port = server.stdout.readline().strip()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", LOADER, "handler", port, str(count)],
        capture_output=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    server.kill()
    server.wait()
    return elapsed


def _peak_rss_kb(pid: int) -> int:
    """The peak resident set of a running process so far (``VmHWM``), in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _bytes_read(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/PID/io")


def prepare(folder: Path, name: str, lines: int) -> list[Path]:
    """The log (or logs) of a case, written unless they are there already."""
    path = folder / f"bench-{lines}.{name}"
    written = {
        "clf*3": [path.with_name(f"{path.name}.{i}") for i in range(3)],
        "clf+day": [path.with_name(f"{path.name}.{i}") for i in range(2)],
    }.get(name, [path])
    if not all(p.exists() for p in written):
        WRITERS[name](path, lines)
    return written


if __name__ == "__main__":
    main()
