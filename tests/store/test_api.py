"""Chronologer's record API on an HTTP listener of a run with --store (docs/store.md):
an application's HTTPHandler, configured for Chronologer, posts its records unchanged;
http.client asks for counts, groups, pages and single records."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import logging.handlers
import sqlite3
import tempfile
import unittest
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.inputs.listen.test_listen import addresses, listen, summary
from tests.live import PATIENCE

AUTH = ("app", "s3cret:pw")
#: (seconds after T0, logger, level, extra order number)
RECORDS = [
    (0, "shop.web", logging.INFO, 1),
    (5, "shop.web", logging.WARNING, 2),
    (1800, "shop.db", logging.ERROR, 3),
    (3500, "shop.web", logging.INFO, 4),
    (3700, "other", logging.ERROR, 5),
    (7300, "shop.db", logging.DEBUG, 6),
    (9000, "shopping", logging.CRITICAL, 7),
]
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


class Api:
    def __init__(self, port: int) -> None:
        self.port = port

    def ask(
        self, method: str, target: str, *, auth: tuple[str, str] | None = AUTH, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=PATIENCE)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if auth is not None:
            token = base64.b64encode(":".join(auth).encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            connection.request(method, target, body=body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            connection.close()

    def count(self, query: str) -> int:
        status, headers, _ = self.ask("HEAD", f"/api/v1/record?{query}")
        assert status == 200, status
        return int(headers["X-Record-Count"])

    def get(self, target: str) -> Any:
        status, _, body = self.ask("GET", target)
        assert status == 200, (status, body)
        return json.loads(body)


def expected_count(
    *, after: int = 0, before: int = 1 << 40, level: int = 0, names: tuple[str, ...] = ()
) -> int:
    return sum(
        1
        for offset, name, number, _ in RECORDS
        if after <= T0 + offset < before
        and number >= level
        and (not names or any(name.startswith(prefix) for prefix in names))
    )


class RecordApiTest(unittest.TestCase):
    def test_an_application_configured_for_chronologer_works_unchanged(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "history.db"
            options = ["--listen", "http://127.0.0.1:0", "--listen-auth", ":".join(AUTH)]
            with listen(*options, "--store", str(db), "--format", "pylog") as live:
                ((_, _, port),) = addresses(live, 1)
                api = Api(port)
                handler = logging.handlers.HTTPHandler(
                    f"127.0.0.1:{port}", "/api/v1/record", "POST", credentials=AUTH
                )
                with warnings.catch_warnings():  # (HTTPHandler leaves its sockets to the GC)
                    warnings.simplefilter("ignore", ResourceWarning)
                    self.post_records(handler)
                # One posted by hand: 201, its id and where it is.
                status, headers, body = api.ask(
                    "POST",
                    "/api/v1/record",
                    body=f"name=x&msg=m&levelno=20&created={T0 - 60}".encode(),
                )
                self.assertEqual(status, 201, body)
                posted = json.loads(body)["id"]
                self.assertEqual(api.get(f"/api/v1/record/{posted}")["levelname"], "INFO")
                self.assertEqual(headers["Location"], f"/api/v1/record/{posted}")
                self.check_queries(api, posted)
                live.stop()
            done = summary(live)
            # Counted too (the one posted last is late: the input's clock is past it).
            self.assertEqual((done["events"], done["late"]), (len(RECORDS), 1))
            with sqlite3.connect(db) as stored:  # (stored once: not again with its minute)
                self.assertEqual(
                    stored.execute("SELECT COUNT(*) FROM records").fetchone()[0],
                    len(RECORDS) + 1,
                )

    def post_records(self, handler: logging.Handler) -> None:
        for offset, name, level, order in RECORDS:
            record = logging.getLogger(name).makeRecord(
                name, level, "shop.py", 7, "order %s of %s", (order, "bob"), None,
                extra={"order": order},
            )  # fmt: skip
            record.created = T0 + offset
            handler.handle(record)

    def check_queries(self, api: Api, posted: int) -> None:
        total = len(RECORDS) + 1
        self.assertEqual(api.count(""), total)
        self.assertEqual(api.count("level=40"), expected_count(level=40))
        self.assertEqual(api.count("level=WARNING"), expected_count(level=30))
        self.assertEqual(api.count("name=shop."), expected_count(names=("shop.",)))
        self.assertEqual(
            api.count("name=shop.db,other"), expected_count(names=("shop.db", "other"))
        )
        after, before = "2023-11-14T22:43:20Z", "2023-11-15T00:15:00%2B00:00"
        self.assertEqual(
            api.count(f"after={after}&before={before}"),
            expected_count(after=T0 + 1800, before=T0 + 7300),
        )
        # A free-form query changes nothing (there is none).
        self.assertEqual(api.count("query=level%3D50%20OR%201%3D1"), total)
        self.assertEqual(
            api.count("level=40&query=drop%20table%20records"), expected_count(level=40)
        )

        # Counts per local hour of a time zone with a half-hour offset.
        status, headers, _ = api.ask(
            "HEAD", "/api/v1/record?group=hour&timezone=Asia/Kolkata&after=2000-01-01T00:00:00Z"
        )
        self.assertEqual(status, 200)
        zone = ZoneInfo("Asia/Kolkata")
        groups: dict[str, int] = {}
        for offset in [-60] + [record[0] for record in RECORDS]:  # (and the one posted)
            moment = datetime.fromtimestamp(T0 + offset, timezone.utc).astimezone(zone)
            key = moment.replace(minute=0, second=0, microsecond=0).isoformat()
            groups[key] = groups.get(key, 0) + 1
        self.assertEqual(json.loads(headers["X-Record-Group"]), groups)
        status, headers, _ = api.ask("HEAD", "/api/v1/record?group=day&timezone=America/New_York")
        self.assertEqual(sum(json.loads(headers["X-Record-Group"]).values()), total)
        self.assertEqual(len(json.loads(headers["X-Record-Group"])), 1)  # (one day there)

        # Pages, newest first, right inclusive.
        newest = sorted(RECORDS, reverse=True)
        page = api.get("/api/v1/record?left=1&right=3")
        self.assertEqual([r["name"] for r in page], [r[1] for r in newest[1:4]])
        self.assertEqual(page[0]["message"], f"order {newest[1][3]} of bob")
        whole = api.get("/api/v1/record?left=0&right=99")
        self.assertEqual(len(whole), total)
        self.assertEqual(whole[-1]["id"], posted)  # (the oldest)

        # One record: its extra fields (data) and the other attributes (meta).
        one = api.get(f"/api/v1/record/{page[0]['id']}")
        self.assertEqual(one["logrec"]["data"], {"order": str(newest[1][3])})
        self.assertEqual(one["logrec"]["meta"]["msg"], "order %s of %s")
        self.assertEqual(one["logrec"]["meta"]["lineno"], "7")
        self.assertEqual(one["level"], newest[1][2])

        # What is refused, and how.
        self.assertEqual(api.ask("HEAD", "/api/v1/record", auth=None)[0], 401)
        self.assertEqual(api.ask("GET", "/api/v1/record", auth=("app", "wrong"))[0], 401)
        self.assertEqual(api.ask("HEAD", "/api/v1/record?level=loud")[0], 400)
        self.assertEqual(api.ask("GET", "/api/v1/record?left=5&right=2")[0], 400)
        self.assertEqual(api.ask("HEAD", "/api/v1/record?group=week")[0], 400)
        self.assertEqual(api.ask("HEAD", "/api/v1/record?group=hour&timezone=Mars/Base")[0], 400)
        self.assertEqual(api.ask("GET", "/api/v1/record/99999999")[0], 404)
        self.assertEqual(api.ask("GET", "/api/v1/record/99999999999999999999999")[0], 404)
        self.assertEqual(api.ask("DELETE", "/api/v1/record")[0], 405)
        self.assertEqual(api.ask("POST", "/api/v1/record", body=b"name=x&msg=m")[0], 400)
        far = b"name=x&msg=m&levelno=20&created=1e30"
        self.assertEqual(api.ask("POST", "/api/v1/record", body=far)[0], 400)
        for odd in ("after=0001-01-01T00:00:00", "before=9999-12-31T23:59:59-23:59", "after=x"):
            self.assertIn(api.ask("HEAD", f"/api/v1/record?{odd}")[0], (200, 400), odd)


if __name__ == "__main__":
    unittest.main()
