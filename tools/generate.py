"""Deterministic access logs for the tests, the bundled sample and the benchmark.

Standard library only; the same seed always gives the same bytes.

    python -m tools.generate     # rewrites tests/data/sample.csv and tests/data/sample.log

Traffic is a Poisson process per second with bursts; timestamps are slightly disordered
(a request is logged when it ends, stamped when it began), a few lines are very late and
a few are garbage.  ``write_csv`` and ``write_clf`` render the same traffic as access
CSV and as Combined Log Format, so both must give the same report.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"

SAMPLE_START = 1549573860  # 2019-02-07T21:11:00Z, as in the classic sample

SECTIONS = {
    "/api": ["user", "orders", "items/42", "search?q=shoes"],
    "/report": ["", "daily", "weekly"],
    "/login": [""],
    "/static": ["app.js", "style.css", "logo.png"],
    "/": [""],
}
USERS = ["-", "-", "-", "apache", "frank", "mary"]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "curl/8.4.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
]
GARBAGE = [
    "this is not a log line",
    '"10.0.0.1","-","apache",1549573860,"GET /api/user HTTP/1.0",200',
    '"10.0.0.1","-","apache",not-a-time,"GET /api/user HTTP/1.0",200,12',
    '"10.0.0.1","-","apache",1549573860,"GET /api/user HTTP/1.0",999,12',
    "\x00\x01\x02 binary \xff",
]


@dataclass(frozen=True, slots=True)
class Request:
    """One logged request, or a garbage line when ``garbage`` is set."""

    time: int
    host: str
    user: str
    method: str
    path: str
    status: int
    size: int
    agent: str
    garbage: str | None = None


@dataclass(frozen=True, slots=True)
class Burst:
    """``rate`` requests per second for ``seconds`` seconds from ``offset``."""

    offset: int
    seconds: int
    rate: float


def _poisson(rng: random.Random, rate: float) -> int:
    """A Poisson draw (Knuth's method for small rates, a normal one beyond)."""
    if rate > 30:
        return max(0, round(rng.gauss(rate, math.sqrt(rate))))
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def traffic(
    *,
    seed: int,
    start: int,
    seconds: int,
    base_rate: float,
    bursts: tuple[Burst, ...] = (),
    disorder: float = 0.1,
    late: float = 0.002,
    garbage: float = 0.003,
    hosts: int = 40,
) -> Iterator[Request]:
    """Requests in the order they are logged."""
    rng = random.Random(seed)
    host_names = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(hosts)]
    weights = [1 / (i + 1) for i in range(hosts)]  # a few busy clients, a long tail
    sections = list(SECTIONS)
    for offset in range(seconds):
        rate = base_rate
        for burst in bursts:
            if burst.offset <= offset < burst.offset + burst.seconds:
                rate = burst.rate
        for _ in range(_poisson(rng, rate)):
            time = start + offset
            roll = rng.random()
            if roll < garbage:
                yield Request(time, "", "", "", "", 0, 0, "", garbage=rng.choice(GARBAGE))
                continue
            if roll < garbage + late:
                time -= rng.randint(5, 12)
            elif roll < garbage + late + disorder:
                time -= rng.randint(1, 2)
            section = rng.choice(sections)
            rest = rng.choice(SECTIONS[section])
            path = section if not rest else f"{section.rstrip('/')}/{rest}"
            status = rng.choices([200, 201, 304, 404, 500, 503], [70, 5, 10, 10, 3, 2])[0]
            yield Request(
                time=time,
                host=rng.choices(host_names, weights)[0],
                user=rng.choice(USERS),
                method=rng.choices(["GET", "POST", "PUT"], [80, 15, 5])[0],
                path=path,
                status=status,
                size=0 if status == 304 else rng.randint(200, 50_000),
                agent=rng.choice(AGENTS),
            )


def write_csv(requests: Iterator[Request], out: TextIO) -> None:
    """Access CSV, with its header."""
    out.write('"remotehost","rfc931","authuser","date","request","status","bytes"\n')
    for r in requests:
        if r.garbage is not None:
            out.write(r.garbage + "\n")
        else:
            out.write(
                f'"{r.host}","-","{r.user}",{r.time},"{r.method} {r.path} HTTP/1.0",'
                f"{r.status},{r.size}\n"
            )


def write_clf(requests: Iterator[Request], out: TextIO, *, utc_offset_minutes: int = 60) -> None:
    """Combined Log Format, stamped in a zone ``utc_offset_minutes`` east of UTC."""
    zone = timezone(timedelta(minutes=utc_offset_minutes))
    sign = "+" if utc_offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(utc_offset_minutes), 60)
    suffix = f" {sign}{hours:02d}{minutes:02d}"
    for r in requests:
        if r.garbage is not None:
            out.write(r.garbage + "\n")
            continue
        stamp = datetime.fromtimestamp(r.time, zone).strftime("%d/%b/%Y:%H:%M:%S") + suffix
        size = "-" if r.size == 0 else str(r.size)
        out.write(
            f'{r.host} - {r.user} [{stamp}] "{r.method} {r.path} HTTP/1.1" {r.status} {size} '
            f'"-" "{r.agent}"\n'
        )


def sample_traffic() -> Iterator[Request]:
    """About 13 minutes of traffic with one burst that raises and clears the alert."""
    return traffic(
        seed=2019,
        start=SAMPLE_START,
        seconds=780,
        base_rate=3.0,
        bursts=(Burst(offset=240, seconds=180, rate=14.0),),
    )


#: The nginx log_format of ``nginx-timed.log``: Combined, then the request time.
NGINX_TIMED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time'
)


def request_time(request: Request) -> float:
    """A request time in seconds for a request (the same every time): mostly quick,
    the reports slow."""
    rng = random.Random(f"{request.time}{request.host}{request.path}{request.size}")
    slow = 20.0 if request.path.startswith("/report") else 1.0
    return round(rng.expovariate(40.0) * slow, 3)


def write_nginx_timed(requests: Iterator[Request], out: TextIO) -> None:
    """``NGINX_TIMED`` lines (times in +0100), garbage as it comes."""
    zone = timezone(timedelta(hours=1))
    for r in requests:
        if r.garbage is not None:
            out.write(r.garbage + "\n")
            continue
        stamp = datetime.fromtimestamp(r.time, zone).strftime("%d/%b/%Y:%H:%M:%S +0100")
        agent = r.agent.replace('"', "\\x22")
        out.write(
            f'{r.host} - {r.user} [{stamp}] "{r.method} {r.path} HTTP/1.1" {r.status} '
            f'{r.size} "-" "{agent}" {request_time(r):.3f}\n'
        )


def write_caddy(requests: Iterator[Request], out: TextIO) -> None:
    """Caddy's JSON access log (``log { format json }``), garbage as it comes."""
    hosts = ["shop.example.com", "api.example.com"]
    for r in requests:
        if r.garbage is not None:
            out.write(r.garbage + "\n")
            continue
        record = {
            "level": "info",
            "ts": r.time + (r.size % 1000) / 1000,
            "logger": "http.log.access.log0",
            "msg": "handled request",
            "request": {
                "remote_ip": r.host,
                "remote_port": "51234",
                "client_ip": r.host,
                "proto": "HTTP/2.0",
                "method": r.method,
                "host": hosts[r.path.startswith("/api")],
                "uri": r.path,
                "headers": {"User-Agent": [r.agent]},
            },
            "bytes_read": 0,
            "user_id": "",
            "duration": request_time(r),
            "size": r.size,
            "status": r.status,
            "resp_headers": {"Server": ["Caddy"]},
        }
        out.write(json.dumps(record, separators=(",", ":")) + "\n")


def short_traffic(seed: int, hosts: int = 40) -> Iterator[Request]:
    """Three minutes of traffic, for the README's other examples."""
    return traffic(seed=seed, start=SAMPLE_START, seconds=180, base_rate=6.0, hosts=hosts)


def main() -> None:
    DATA.mkdir(exist_ok=True)
    with open(DATA / "sample.csv", "w", encoding="utf-8", newline="") as out:
        write_csv(sample_traffic(), out)
    with open(DATA / "sample.log", "w", encoding="utf-8", newline="") as out:
        write_clf(sample_traffic(), out)
    with open(DATA / "nginx-timed.log", "w", encoding="utf-8", newline="") as out:
        write_nginx_timed(short_traffic(seed=21), out)
    with open(DATA / "caddy.json", "w", encoding="utf-8", newline="") as out:
        write_caddy(short_traffic(seed=22), out)
    # Two servers behind one name, and the sample as a rotated set (the oldest part
    # compressed, as logrotate's delaycompress leaves it).
    for number, seed in ((1, 23), (2, 24)):
        with open(DATA / f"web{number}.log", "w", encoding="utf-8", newline="") as out:
            write_clf(short_traffic(seed=seed, hosts=12), out)
    rotated = DATA / "rotated"
    rotated.mkdir(exist_ok=True)
    lines = (DATA / "sample.log").read_text(encoding="utf-8").splitlines(keepends=True)
    third = len(lines) // 3
    (rotated / "access.log.2.gz").write_bytes(
        gzip.compress("".join(lines[:third]).encode(), mtime=0)
    )
    (rotated / "access.log.1").write_text("".join(lines[third : 2 * third]), encoding="utf-8")
    (rotated / "access.log").write_text("".join(lines[2 * third :]), encoding="utf-8")


if __name__ == "__main__":
    main()
