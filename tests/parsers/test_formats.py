"""--log-format (nginx log_format, Apache LogFormat) and --format json, against the
reference on generated logs; the timed fast path against the plain one."""

from __future__ import annotations

import json
import random
import re
import unittest
from datetime import datetime, timedelta, timezone
from typing import Any

from LogsMonitor2000.pipeline.filters import Filter, Selection
from LogsMonitor2000.families.http import HttpBatch
from LogsMonitor2000.parsers.access_fields import HttpEvents
from LogsMonitor2000.pipeline.reorder import Reorderer
from tests.parsing import KeepBatches
from tests.reference import Event, reference_several
from tests.support import analyse, blocks_of, json_lines, run_monitor
from tests.pipeline.test_bruteforce import random_events

#: Format strings as the servers' documentation gives them (nginx's ngx_http_log_module
#: and its blog on logging, Apache's mod_log_config), and common ones.
NGINX = {
    "combined": '$remote_addr - $remote_user [$time_local] "$request" $status '
    '$body_bytes_sent "$http_referer" "$http_user_agent"',
    "compression": '$remote_addr - $remote_user [$time_local] "$request" $status $bytes_sent '
    '"$http_referer" "$http_user_agent" "$gzip_ratio"',
    "timed": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time',
    "upstream": '$remote_addr - $remote_user [$time_local] "$request" $status '
    '$body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time '
    'uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"',
    "iso, host, method and URI": '$host $remote_addr [$time_iso8601] "$request_method '
    '$request_uri" $status $body_bytes_sent $request_time',
    "msec": "$msec $remote_addr $request_method $request_uri $status $body_bytes_sent",
    # What real servers write that a word per field can't read: a user with a space, an
    # empty $host, upstream lists after a fail-over, values holding spaces between tabs
    # or pipes, a quoted host with a space, $uri$is_args$args.
    "odd values": '$remote_addr - $remote_user [$time_local] "$request" $status '
    '$body_bytes_sent "$http_referer" "$http_user_agent" $host rt=$request_time '
    "urt=$upstream_response_time ust=$upstream_status",
    "upstream time only": '$remote_addr - $remote_user [$time_local] "$request" $status '
    "$body_bytes_sent $upstream_response_time",
    "tabs": "$remote_addr\t$remote_user\t$time_local\t$request\t$status\t$body_bytes_sent"
    "\t$http_user_agent\t$request_time",
    "pipes": "$remote_addr|$time_local|$request_method $uri$is_args$args|$status"
    "|$body_bytes_sent|$http_user_agent",
    "quoted host": '$remote_addr [$time_local] "$http_host" "$request" $status $body_bytes_sent',
}
APACHE = {
    "common": '%h %l %u %t "%r" %>s %b',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"',
    "vhost_common": '%v %h %l %u %t "%r" %>s %b',
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "with %D": '%h %l %u %t "%r" %>s %b %D',
    "with %T in ms": '%h %{X-Forwarded-For}i %t "%m %U%q %H" %>s %B %{ms}T',
    "strftime": '%h %l %u [%{%d/%b/%Y %T}t] "%r" %>s %b',
    # %U is written decoded (spaces and all); %u may hold spaces; escaped quotes.
    "decoded path": '%h %l %u %t \\"%m %U%q %H\\" %>s %b \\"%{User-Agent}i\\" %D',
}
#: A user agent with quotes in it, as each server escapes them.
NGINX_AGENT = r"Mozilla/5.0 (X11; Linux x86_64) \x22quoted\x22 x"
APACHE_AGENT = r"Mozilla/5.0 (X11; Linux x86_64) \"quoted\" x"
AGENT = APACHE_AGENT


def clf_time(second: int) -> str:
    zone = timezone(timedelta(hours=1))
    return datetime.fromtimestamp(second, zone).strftime("%d/%b/%Y:%H:%M:%S +0100")


def render(fmt: str, event: Event, rng: random.Random) -> tuple[str, float | None, str | None]:
    """A line of ``fmt`` for ``event`` (the test's own reading of the syntax), the
    request time it writes, in ms, as the monitor must read it back, and the virtual
    host it writes ("" for an empty one)."""
    path = event.section + "/page?q=1"
    spaced = event.section + "/a page"  # (decoded)
    user = rng.choice(["-", "-", "bob smith", "ann"])
    host = "" if rng.random() < 0.2 else str(event.vhost)
    upstream = rng.choice([1, 1, 2, 3])
    taken: dict[str, Any] = {}
    ms = rng.choice([0, 1, 4, 250, 1234, 60000])

    def nginx(found: re.Match[str]) -> str:
        name = found.group(1)
        if name == "request_time":
            taken["ms"] = float(f"{ms / 1000:.3f}") * 1000.0
            return f"{ms / 1000:.3f}"
        if name == "upstream_response_time" and "$request_time" not in fmt:
            taken["ms"] = float(f"{ms / 1000:.3f}") * 1000.0  # (the first one counts)
            return ", ".join([f"{ms / 1000:.3f}"] + ["0.000"] * (upstream - 1))
        if name == "host":
            taken["host"] = host
        if name == "http_host":
            taken["host"] = rng.choice(["a b.example", "c.example"])
            return str(taken["host"])
        values = {
            "remote_addr": event.source,
            "remote_user": user,
            "upstream_response_time": ", ".join(["0.001"] * upstream),
            "upstream_status": ", ".join(["502"] * (upstream - 1) + [str(event.status)]),
            "uri": path.partition("?")[0],
            "is_args": "?",
            "args": path.partition("?")[2],
            "time_local": clf_time(event.time),
            "time_iso8601": datetime.fromtimestamp(event.time, timezone.utc).isoformat(),
            "msec": f"{event.time}.{rng.randint(0, 999):03d}",
            "request": f"GET {path} HTTP/1.1",
            "request_method": "GET",
            "request_uri": path,
            "status": str(event.status),
            "body_bytes_sent": str(event.size),
            "bytes_sent": str(event.size),
            "http_referer": "-",
            "http_user_agent": NGINX_AGENT,
            "host": host,
        }
        return values.get(name, "-")

    def apache(found: re.Match[str]) -> str:
        argument, letter = found.group(1), found.group(2)
        if letter == "D":
            taken["ms"] = float(ms * 1000) * 0.001
            return str(ms * 1000)
        if letter == "T":
            taken["ms"] = float(ms)
            return str(ms)
        if letter == "t":
            if argument:
                moment = datetime.fromtimestamp(event.time, timezone.utc)
                return moment.strftime(argument.replace("%T", "%H:%M:%S"))
            return f"[{clf_time(event.time)}]"
        values = {
            "h": event.source,
            "l": "-",
            "u": user,
            "r": f"GET {path} HTTP/1.1",
            "m": "GET",
            "U": spaced if "%q" in fmt else path.partition("?")[0],
            "q": "?" + path.partition("?")[2],
            "H": "HTTP/1.1",
            "s": str(event.status),
            "b": str(event.size) if event.size else "-",
            "B": str(event.size),
            "O": str(event.size),
            "v": str(event.vhost),
            "p": "443",
            "i": APACHE_AGENT if argument and argument.lower() == "user-agent" else "-",
        }
        return values.get(letter, "-")

    if "$" in fmt:
        line = re.sub(r"\$(\w+)", nginx, fmt)
    else:
        line = re.sub(r"%>?(?:\{([^}]*)\})?([a-zA-Z])", apache, fmt.replace('\\"', '"'))
    return line, taken.get("ms"), taken.get("host")


class FormatStringTest(unittest.TestCase):
    def test_documented_formats_against_the_reference(self) -> None:
        for family, formats in (("nginx", NGINX), ("Apache", APACHE)):
            for name, fmt in formats.items():
                rng = random.Random(name)
                events = random_events(rng, rng.randint(50, 300))
                has_host = "$host" in fmt or "$http_host" in fmt or "%v" in fmt
                has_client = "remote_addr" in fmt or "%h" in fmt
                lines, expected = [], []
                for event in events:
                    event = event._replace(vhost=rng.choice(["a.example", "b.example"]))
                    line, ms, host = render(fmt, event, rng)
                    lines.append(line + "\n")
                    if rng.random() < 0.02:
                        lines.append("garbage\n")
                    if host is not None:
                        event = event._replace(vhost=host or None)
                    expected.append(
                        event._replace(
                            ms=ms,
                            vhost=event.vhost if has_host else None,
                            source=event.source if has_client else "-",
                        )
                    )
                options = {"lateness": rng.randint(0, 4), "stats_interval": rng.randint(1, 15)}
                with self.subTest(family=family, name=name):
                    got = analyse(
                        blocks_of("".join(lines), rng.randint(1, 80)),
                        log_format="format",
                        format_string=fmt,
                        **options,
                    )
                    want = reference_several([expected], vhosts=has_host, **options)
                    want[-1]["invalid"] = lines.count("garbage\n")
                    self.assertEqual(got, want)

    def test_a_format_without_a_time_or_a_status_is_refused(self) -> None:
        for fmt, words in [
            ("$remote_addr $request", "no time and no status"),
            ('%h %t "%r"', "no status"),
            ("$status $body_bytes_sent", "no time"),
        ]:
            with self.subTest(fmt=fmt):
                result = run_monitor("tests/data/sample.log", "--log-format", fmt)
                self.assertEqual(result.returncode, 2)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertIn(words, result.stderr)

    def test_the_usual_names(self) -> None:
        plain = run_monitor("tests/data/sample.log", "--output", "json")
        for name in ("combined", "main"):
            with self.subTest(name=name):
                named = run_monitor(
                    "tests/data/sample.log", "--output", "json", "--log-format", name
                )
                self.assertEqual(named.stdout, plain.stdout)
        line = '{vhost}:443 10.0.0.1 - - [01/Jan/2020:00:00:0{s} +0000] "GET /a HTTP/1.1" 200 5 "-" "curl"\n'
        text = "".join(
            line.format(vhost=v, s=s) for s, v in enumerate(["a.example"] * 3 + ["b.example"])
        )
        detected = run_monitor("-", "--output", "json", input=text)
        self.assertEqual(detected.returncode, 0, detected.stderr)
        self.assertEqual(
            json_lines(detected.stdout)[-1]["vhosts"], [["a.example", 3], ["b.example", 1]]
        )


class TimedFastPathTest(unittest.TestCase):
    def test_fold_timed_counts_as_the_plain_path(self) -> None:
        # Records of 10 fields, good and bad; a filter that keeps all takes the plain path.
        for seed in range(30):
            rng = random.Random(seed)
            records = []
            for _ in range(rng.randint(0, 300)):
                records.append(
                    (
                        rng.choice(["10.0.0.1", "10.0.0.2", "::1"]),
                        "",
                        "",
                        str(1000 + rng.randint(0, 40)),
                        rng.choice(["GET /a/b HTTP/1.1", "-", "GET http://h/x", "POST /"]),
                        rng.choice(["200", "404", "999", "5xx"]),
                        rng.choice(["1", "-", "12345", "x", str(2**63)]),
                        rng.choice(["", "-", "0.5", "12", "-1", "nan", "x", "1e400"]),
                        rng.choice(["", "a.example", "b.example"]),
                        "",
                    )
                )
            records.insert(rng.randint(0, len(records)), ("short",))
            with self.subTest(seed=seed):
                self.assertEqual(self.fold(records, None), self.fold(records, Filter(Selection())))

    def fold(self, records: list[tuple[str, ...]], selection: Filter | None) -> Any:
        keep = KeepBatches()
        reorderer = Reorderer(lateness_seconds=5, downstream=keep, batch=HttpBatch)
        reasons: list[tuple[int, str | None]] = []
        events = HttpEvents(reorderer, lambda text: int(text), header=None, selection=selection)
        events.fold_timed(records, lambda index, reason: reasons.append((index, reason)))
        reorderer.finish()
        return sorted((s, repr(b)) for s, b in keep.batches.items()), reasons, reorderer.late


class JsonLogTest(unittest.TestCase):
    def lines(self, kind: str, events: list[Event], rng: random.Random) -> tuple[str, list[Event]]:
        out, expected = [], []
        for event in events:
            path = event.section + "/page?x=1"
            host = rng.choice(["shop.example", "api.example"])
            if kind == "caddy":
                seconds = rng.choice([0.000123, 0.25, 1.5])
                obj: dict[str, Any] = {
                    "level": "info", "ts": event.time + rng.random(), "logger": "http.log.access",
                    "msg": "handled request",
                    "request": {"remote_ip": event.source, "method": "GET", "host": host,
                                "uri": path, "headers": {"User-Agent": [AGENT]}},
                    "duration": seconds, "size": event.size, "status": event.status,
                }  # fmt: skip
                ms = float(seconds) * 1000.0
            elif kind == "traefik":
                nanoseconds = rng.choice([1500000, 42, 3_000_000_000])
                obj = {
                    "ClientHost": event.source, "ClientAddr": f"{event.source}:5000",
                    "DownstreamContentSize": event.size, "DownstreamStatus": event.status,
                    "Duration": nanoseconds, "RequestHost": host, "RequestMethod": "GET",
                    "RequestPath": path,
                    "StartUTC": datetime.fromtimestamp(event.time, timezone.utc)
                    .isoformat().replace("+00:00", "Z"),
                }  # fmt: skip
                ms = float(nanoseconds) * 1e-6
            else:  # nginx escape=json: every value a string
                obj = {
                    "time_local": clf_time(event.time), "remote_addr": event.source,
                    "request": f"GET {path} HTTP/1.1", "status": str(event.status),
                    "body_bytes_sent": str(event.size), "request_time": "0.010",
                    "http_user_agent": AGENT,
                }  # fmt: skip
                ms = float("0.010") * 1000.0
                host = None  # type: ignore[assignment]
            out.append(json.dumps(obj) + "\n")
            expected.append(event._replace(ms=ms, vhost=host))
        return "".join(out), expected

    def test_caddy_traefik_and_nginx_json_against_the_reference(self) -> None:
        for kind in ("caddy", "traefik", "nginx"):
            rng = random.Random(kind)
            events = random_events(rng, 200)
            text, expected = self.lines(kind, events, rng)
            bad = [
                "not json\n",
                "[1, 2]\n",
                '{"ts": 1000, "request": {"uri": "/x"}}\n',  # no status
                '{"status": 200}\n',  # no time
                '{"ts": true, "status": 200}\n',
                '{"ts": "yesterday", "status": 200}\n',
                '{"ts": 1000, "status": "abc"}\n',
                '{"ts": 1000, "status": 200, "size": -5}\n',
                '{"ts": 1000, "status": 200, "duration": -1}\n',
            ]
            with self.subTest(kind=kind):
                got = analyse(blocks_of(text + "".join(bad), 50), log_format="json")
                want = reference_several([expected], vhosts=kind != "nginx")
                want[-1]["invalid"] = len(bad)
                self.assertEqual(got, want)

    def test_fields_named_on_the_command_line(self) -> None:
        text = "".join(
            json.dumps({"when": {"t": 1000 + i}, "who": "10.0.0.1", "what": "GET /a", "code": 200,
                        "len": 3, "took": {"us": 1500}})  # fmt: skip
            + "\n"
            for i in range(5)
        )
        fields = "time=when.t,source=who,request=what,status=code,bytes=len,duration=took.us:us"
        result = run_monitor(
            "-", "--format", "json", "--json-fields", fields, "--output", "json", input=text
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json_lines(result.stdout)[-1]
        self.assertEqual((summary["events"], summary["bytes"]), (5, 15))
        self.assertEqual(summary["duration"]["max"], 1.5)
        bad = run_monitor("-", "--json-fields", "colour=x", input=text)
        self.assertEqual(bad.returncode, 2)


if __name__ == "__main__":
    unittest.main()
