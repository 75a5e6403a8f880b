"""Writes the pymongowatch fixtures of tests/data through pymongowatch itself.

Not part of the test suite (which stays stdlib-only): run it by hand, in a throwaway
virtual environment that has pymongowatch (1.0.0 made the committed files)::

    python3 -m venv /tmp/pmw && /tmp/pmw/bin/pip install pymongowatch
    /tmp/pmw/bin/python tests/data/pymongowatch_fixtures.py

Every row goes through pymongowatch's own ``WatchMessage`` and a logging formatter
``{name},{watch.csv}``, as its configuration writes files; the header is the one it adds
to an empty file.  Times are naive local times; the expected records in
``mongo.csv.jsonl`` are for ``TZ=UTC`` (see README.md there for the arithmetic).
"""

from __future__ import annotations

import io
import logging
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo.watcher.logger import WatchMessage

HERE = Path(__file__).parent
NOON = datetime(2024, 3, 1, 12, 0, 0)


def at(seconds: float) -> datetime:
    return NOON + timedelta(seconds=seconds)


def watch_id(n: int) -> str:
    return f"65e1c2d0aa00bb00cc{n:06x}"


class Writer:
    """Rows as pymongowatch's logging would write them."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        handler = logging.StreamHandler(self.out)
        handler.setFormatter(logging.Formatter("{name},{watch.csv}", style="{"))
        for name in ("pymongo.watcher.collection", "pymongo.watcher.cursor"):
            logger = logging.getLogger(name)
            logger.handlers = [handler]
            logger.setLevel(logging.DEBUG)
            logger.propagate = False

    def emit(self, message: Any, watcher: str = "collection") -> None:
        logging.getLogger(f"pymongo.watcher.{watcher}").info(message, extra={"watch": message})

    def text(self, header: bool) -> str:
        first = "WatcherName," + ",".join(WatchMessage.csv_columns()) + "\n"
        return (first if header else "") + self.out.getvalue()


def operation(n: int, **fields: Any) -> Any:
    fields.setdefault("StartTime", at(0))
    return WatchMessage(WatchID=watch_id(n), **fields)


def final(message: Any) -> Any:
    message.finalize()
    return message


def handmade() -> str:
    """The small file whose records README.md works out by hand."""
    w = Writer()
    w.emit(
        final(
            operation(
                1,
                EndTime=at(0.1),
                DB="shop",
                Collection="orders",
                Operation="insert_one",
                Duration=0.004,
                InsertedCount=1,
            )
        )
    )
    cursor = operation(
        2,
        StartTime=at(1),
        EndTime=None,
        DB="shop",
        Collection="items",
        Operation="find",
        Filter={"tags": {"$in": ["a,b", "c"]}},
        Duration=0.0,
        MatchedCount=0,
    )
    cursor["Iteration"] = 1
    cursor["EndTime"], cursor["Duration"] = at(1.25), 0.05
    w.emit(cursor, "cursor")
    w.emit(
        final(
            operation(
                3,
                StartTime=at(1.9),
                EndTime=None,
                DB="shop",
                Collection="users",
                Operation="find_one",
                Filter={"name": 'O\'Brien, "Bob"'},
                Duration=None,
            )
        )
    )
    cursor["Iteration"] = 2
    cursor["EndTime"], cursor["Duration"] = at(2.25), 0.1
    w.emit(cursor, "cursor")
    w.emit(
        final(
            operation(
                5,
                StartTime=at(1.7),
                EndTime=at(2),
                DB="shop",
                Collection="orders",
                Operation="aggregate",
                Filter=[
                    {"$match": {"status": "A"}},
                    {"$group": {"_id": "$cust", "total": {"$sum": "$amount"}}},
                ],
                Duration=0.3,
            )
        )
    )
    w.emit(
        operation(
            4,
            StartTime=at(2),
            EndTime=None,
            DB="shop",
            Collection="users",
            Operation="update_one",
            Filter={"_id": 7},
            Duration=None,
        )
    )
    cursor["Iteration"] = 3
    cursor["EndTime"], cursor["Duration"] = at(3.25), 0.14
    w.emit(cursor, "cursor")
    cursor["EndTime"], cursor["Duration"] = at(3.5), 0.15
    w.emit(final(cursor), "cursor")
    w.emit(cursor, "cursor")  # the final row again: ignored
    late_iteration = WatchMessage(cursor)
    late_iteration["Iteration"] = 2
    w.emit(late_iteration, "cursor")  # an iteration after the final row: ignored
    w.emit(
        final(
            operation(
                6,
                StartTime=at(4.9),
                EndTime=at(4.999),
                DB="shop",
                Collection="users",
                Operation="update_one",
                Filter={"_id": _ObjectIdLike(), "when": at(4.9)},
                Duration=1e-05,
            )
        )
    )
    w.emit(
        final(
            operation(
                7, EndTime="yesterday", DB="shop", Collection="x", Operation="find", Duration=0.1
            )
        )
    )  # unreadable time
    w.emit(
        final(
            operation(
                8, EndTime=at(5), DB="shop", Collection="x", Operation="find", Duration="fast"
            )
        )
    )  # unreadable duration
    bad = final(
        operation(9, EndTime=at(5), DB="shop", Collection="x", Operation="find", Duration=0.1)
    )
    bad["WatchID"] = ""
    w.emit(bad)  # no WatchID
    w.emit(
        final(
            operation(
                10,
                EndTime=at(5),
                DB="shop",
                Collection="x",
                Operation="find",
                Duration=0.1,
                Comment="an extra key",
            )
        )
    )  # a 16th column
    w.emit(
        final(
            operation(
                11,
                EndTime=at(6),
                DB="shop",
                Collection="orders",
                Operation="delete_many",
                Filter={"status": "cancelled"},
                Duration=0.05,
                DeletedCount=3,
            )
        )
    )
    w.emit(
        final(
            operation(
                12,
                EndTime=at(7),
                DB="shop",
                Collection="items",
                Operation="count_documents",
                Filter={"qty": {"$lt": 5}},
                Duration=0.12,
                MatchedCount=4,
            )
        )
    )
    w.emit(
        final(
            operation(
                13,
                EndTime=at(3),
                DB="shop",
                Collection="items",
                Operation="find",
                Filter={"late": True},
                Duration=0.5,
            )
        )
    )  # late
    never = operation(
        14,
        StartTime=at(7),
        EndTime=None,
        DB="shop",
        Collection="items",
        Operation="find",
        Filter={},
        Duration=0.0,
        MatchedCount=0,
    )
    never["Iteration"] = 1
    never["EndTime"] = at(7.5)
    w.emit(never, "cursor")  # a cursor that never finishes
    w.emit(
        final(
            operation(
                15,
                EndTime=at(11),
                DB="shop",
                Collection="orders",
                Operation="insert_many",
                Duration=0.002,
                InsertedCount=2,
            )
        )
    )
    return w.text(header=True)


class _ObjectIdLike:
    """Stands for a bson ObjectId: not JSON, so pymongowatch falls back to str()."""

    def __repr__(self) -> str:
        return "ObjectId('65e1c2d0aa00bb00cc999999')"


def traffic(seed: int, operations: int) -> str:
    """A few thousand operations of a small shop: cursors with several iterations,
    timeouts that never finish, repeated final rows, None times and durations."""
    rng = random.Random(seed)
    w = Writer()
    namespaces = [("shop", "orders"), ("shop", "items"), ("shop", "users"), ("audit", "log")]
    clock = 0.0
    for n in range(100, 100 + operations):
        clock += rng.expovariate(8.0) if rng.random() < 0.9 else rng.uniform(20, 40)
        db, collection = rng.choice(namespaces)
        duration = rng.lognormvariate(-4.5, 1.4)
        query = {
            "user": f"user{rng.randint(1, 99)}",
            "age": {"$gt": rng.randint(18, 60)},
            "note": 'commas, and "quotes"',
        }
        if rng.random() < 0.3:  # a cursor with iterations
            message = operation(
                n,
                StartTime=at(clock),
                EndTime=None,
                DB=db,
                Collection=collection,
                Operation="find",
                Filter=query,
                Duration=0.0,
                MatchedCount=0,
            )
            for iteration in range(1, rng.randint(2, 5)):
                message["Iteration"] = iteration
                message["Duration"] = duration * iteration / 5
                message["EndTime"] = at(clock + duration * iteration / 5)
                w.emit(message, "cursor")
            if rng.random() < 0.1:
                continue  # it timed out: never finishes
            message["EndTime"] = at(clock + duration)
            message["Duration"] = duration
            w.emit(final(message), "cursor")
            if rng.random() < 0.1:
                w.emit(message, "cursor")  # repeated after its final row
        else:
            op = rng.choice(["insert_one", "update_one", "delete_one", "find_one", "aggregate"])
            end = at(clock + duration) if rng.random() > 0.05 else None
            known = duration if rng.random() > 0.05 else None
            w.emit(
                final(
                    operation(
                        n,
                        StartTime=at(clock),
                        EndTime=end,
                        DB=db,
                        Collection=collection,
                        Operation=op,
                        Filter=query,
                        Duration=known,
                    )
                )
            )
    return w.text(header=True)


def main() -> None:
    text = handmade()
    (HERE / "mongo.csv").write_text(text)
    (HERE / "mongo-noheader.csv").write_text(text.split("\n", 1)[1])
    (HERE / "mongo-traffic.csv").write_text(traffic(seed=4, operations=3000))


if __name__ == "__main__":
    main()
