"""docs/collecting.md's examples, as written there (the host and the ports aside),
with the real programs on 127.0.0.1: the monitor's command lines, nginx's ``access_log
syslog:``, an rsyslog relay (octet-counted RFC 5424 over TCP), the Python handlers,
util-linux ``logger`` and curl - each skipped when the program is absent (Debian
packages nginx-light, rsyslog, bsdutils and curl, which .ci/run installs)."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.live import PATIENCE, LiveMonitor
from tests.support import TOP, slow
from tests.inputs.listen.test_listen import addresses, clf, listen, summary

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
RSYSLOGD = shutil.which("rsyslogd") or (
    "/usr/sbin/rsyslogd" if Path("/usr/sbin/rsyslogd").exists() else None
)
LOGGER = shutil.which("logger")


COLLECTING = (TOP / "docs" / "collecting.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)\n```", COLLECTING, re.DOTALL)


def example(start: str) -> str:
    """The doc's example that starts so (a line, and the lines it continues onto)."""
    for _, block in BLOCKS:
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(start):
                taken = [line]
                while taken[-1].count("(") > taken[-1].count(")") or (
                    i + len(taken) < len(lines) and lines[i + len(taken)].startswith(" ")
                ):
                    taken.append(lines[i + len(taken)])
                return "\n".join(taken)
    raise AssertionError(f"no example starts with {start!r} in docs/collecting.md")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def udp_bound(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (UDP), from /proc/net/udp."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as table:
        return any(line.split()[1] == wanted for line in list(table)[1:])


class Daemon:
    """A program in the foreground, stopped at the end of the test."""

    def __init__(self, *command: str) -> None:
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> str:
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output.decode(errors="replace")


@slow
class SendersTest(unittest.TestCase):
    @unittest.skipIf(NGINX is None, "no nginx (Debian package nginx-light)")
    def test_nginx_access_log_to_syslog(self) -> None:
        assert NGINX is not None
        with (
            tempfile.TemporaryDirectory() as folder,
            listen("--listen", "syslog+udp://127.0.0.1:0") as live,
        ):
            ((_, _, udp),) = addresses(live, 1)
            web = free_port()
            config = Path(folder) / "nginx.conf"
            temp = " ".join(
                f"{kind}_temp_path {folder}/{kind};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            config.write_text(f"""
worker_processes 1;
master_process off;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
  {temp}
  {example("access_log syslog:").replace("logs.example:5514", f"127.0.0.1:{udp}")}
  server {{
    listen 127.0.0.1:{web};
    location / {{ return 200 "ok\\n"; }}
    location /missing {{ return 404; }}
  }}
}}
""")
            nginx = Daemon(NGINX, "-p", folder, "-c", str(config))
            self.addCleanup(nginx.stop)
            deadline = time.monotonic() + PATIENCE
            while True:  # until nginx answers
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{web}/api/ready", timeout=1)
                    break
                except OSError:
                    self.assertLess(time.monotonic(), deadline, "nginx did not start")
                    time.sleep(0.1)
            for path in ["/api/orders", "/api/users", "/static/app.js", "/missing"]:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{web}{path}", timeout=PATIENCE)
                except urllib.error.HTTPError as error:
                    self.assertEqual(error.code, 404)
            live.wait_for(lambda records: sum(r["hits"] for r in records) >= 5)
            live.stop()
        done = summary(live)
        self.assertEqual(done["events"], 5)
        self.assertEqual(done["invalid"], 0)
        self.assertEqual(dict(done["sections"]), {"/api": 3, "/static": 1, "/missing": 1})
        self.assertEqual(done["status"], {"2xx": 4, "4xx": 1})
        self.assertEqual(done["hosts"], [[socket.gethostname(), 5]])

    @unittest.skipIf(RSYSLOGD is None or LOGGER is None, "no rsyslogd or logger")
    def test_an_rsyslog_relay(self) -> None:
        assert RSYSLOGD is not None and LOGGER is not None
        with (
            tempfile.TemporaryDirectory() as folder,
            listen("--listen", "syslog+tcp://127.0.0.1:0") as live,
        ):
            ((_, _, tcp),) = addresses(live, 1)
            relay = free_port(socket.SOCK_DGRAM)
            config = Path(folder) / "rsyslog.conf"
            config.write_text(f"""
global(workDirectory="{folder}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{relay}")
{example('action(type="omfwd"').replace("logs.example", "127.0.0.1").replace('"5514"', f'"{tcp}"')}
""")
            rsyslog = Daemon(RSYSLOGD, "-n", "-f", str(config), "-i", f"{folder}/rsyslog.pid")
            self.addCleanup(rsyslog.stop)
            deadline = time.monotonic() + PATIENCE
            while not udp_bound(relay):  # (a datagram sent before is lost on its side)
                self.assertLess(time.monotonic(), deadline, "rsyslog did not start")
                time.sleep(0.05)
            for i in range(5):
                subprocess.run(
                    [LOGGER, "--udp", "-n", "127.0.0.1", "-P", str(relay), "-t", "nginx"]
                    + ["--", clf(f"10.0.0.{i}", "/relay")],
                    check=True,
                )
            live.wait_for(lambda records: sum(r["hits"] for r in records) >= 5)
            live.stop()
        done = summary(live)
        self.assertEqual(done["events"], 5)
        self.assertEqual(done["invalid"], 0)
        self.assertEqual(done["sections"], [["/relay", 5]])
        self.assertEqual(done["hosts"], [[socket.gethostname(), 5]], "the HOSTNAME kept")


def loopback(command: str) -> str:
    """A command of the doc as a test may run it: its listeners on 127.0.0.1 (a test
    binds no other address), on free ports."""
    return re.sub(r"://(?:0\.0\.0\.0)?:\d+", "://127.0.0.1:0", command)


@contextlib.contextmanager
def handlers_added() -> Iterator[Callable[[], list[logging.Handler]]]:
    """The root logger's handlers a documented example adds (``added()``), removed and
    closed at the end, whatever happened."""
    root = logging.getLogger()
    before = list(root.handlers)

    def added() -> list[logging.Handler]:
        return [handler for handler in root.handlers if handler not in before]

    try:
        yield added
    finally:
        for handler in added():
            root.removeHandler(handler)
            handler.close()


@slow
class DocumentedExamplesTest(unittest.TestCase):
    def test_the_monitor_command_lines(self) -> None:
        commands = [
            line
            for kind, block in BLOCKS
            if kind == "sh"
            for line in block.splitlines()
            if line.startswith("python -m LogsMonitor2000 --listen")
        ]
        self.assertGreaterEqual(len(commands), 4)
        with tempfile.TemporaryDirectory() as folder:
            secret = Path(folder) / "logsmonitor.auth"
            secret.write_text("user:password\n")
            for command in commands:
                with self.subTest(command=command):
                    words = shlex.split(loopback(command).replace("/etc/", f"{folder}/"))
                    live = LiveMonitor(*words[3:])
                    with live:
                        addresses(live, words.count("--listen"))
                        self.assertEqual(live.stop(), 130, live.stderr)
                    self.assertNotIn("error", live.stderr)

    def test_the_chronologer_handler(self) -> None:
        code = [block for kind, block in BLOCKS if kind == "python"][1]
        self.assertIn("/api/v1/record", code)
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "records.db"
            options = ["--listen", "http://127.0.0.1:0", "--listen-auth", "app:secret"]
            with listen(*options, "--store", str(db), "--format", "pylog") as live:
                ((_, _, http),) = addresses(live, 1)
                code = code.replace('"logs.example:8514"', f'"127.0.0.1:{http}"')
                with handlers_added():
                    exec(compile(code, "docs/collecting.md", "exec"), {"logging": logging})
                    logging.getLogger("app.billing").error("a card was refused")
                self.assertEqual(live.stop(), 130)
            with sqlite3.connect(db) as stored:
                found = stored.execute("SELECT name, message FROM records").fetchall()
        self.assertEqual(found, [("app.billing", "a card was refused")])
        self.assertEqual(summary(live)["events"], 1)

    def test_the_python_handlers(self) -> None:
        code = next(block for kind, block in BLOCKS if kind == "python")
        with listen(
            "--listen", "http://127.0.0.1:0", "--listen", "syslog+udp://127.0.0.1:0",
            "--format", "pylog", "--listen-auth", "app:secret",
        ) as live:  # fmt: skip
            (_, _, http), (_, _, udp) = addresses(live, 2)
            code = code.replace('"logs.example:8514"', f'"127.0.0.1:{http}"')
            code = code.replace('("logs.example", 5514)', f'("127.0.0.1", {udp})')
            with handlers_added() as added:
                exec(compile(code, "docs/collecting.md", "exec"), {})
                self.assertEqual(len(added()), 2)
                logging.getLogger("app.billing").error("a card was refused")
            live.wait_for(lambda records: sum(r["hits"] for r in records) >= 2)
            self.assertEqual(live.stop(), 130)
        done = summary(live)
        self.assertEqual((done["events"], done["invalid"]), (2, 0))
        self.assertEqual(done["sections"], [["app.billing", 2]])  # (both name the logger)
        self.assertEqual(done["levels"], {"ERROR": 2})

    @unittest.skipIf(LOGGER is None or shutil.which("curl") is None, "no logger or curl")
    def test_logger_and_curl(self) -> None:
        block = next(block for kind, block in BLOCKS if kind == "sh" and block.startswith("logger"))
        lines = [line.split("  #")[0].strip() for line in block.splitlines()]
        with (
            tempfile.TemporaryDirectory() as folder,
            listen(
                "--listen", "syslog+tcp://127.0.0.1:0", "--listen", "http://127.0.0.1:0"
            ) as live,
        ):
            (_, _, tcp), (_, _, http) = addresses(live, 2)
            log = Path(folder) / "access.log"
            log.write_text("".join(clf(f"10.0.0.{i}", "/curl") + "\n" for i in range(3)))
            environment = dict(os.environ, line=clf("10.0.0.9", "/logger"))
            for line in lines:
                command = line.replace("logs.example:8514", f"127.0.0.1:{http}")
                command = command.replace("-n logs.example -P 5514", f"-n 127.0.0.1 -P {tcp}")
                done = subprocess.run(
                    command, shell=True, cwd=folder, env=environment, capture_output=True,
                    text=True, timeout=PATIENCE,
                )  # fmt: skip
                self.assertEqual(done.returncode, 0, (command, done.stderr))
            live.wait_for(lambda records: sum(r["hits"] for r in records) >= 4)
            self.assertEqual(live.stop(), 130)
        done = summary(live)
        self.assertEqual((done["events"], done["invalid"]), (4, 0))
        self.assertEqual(dict(done["sections"]), {"/curl": 3, "/logger": 1})
