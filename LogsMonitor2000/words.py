"""Numbers and times as people read them, the same in every view.

Times are local ISO-8601 (``TZ``); sizes in binary units; durations in ms up to a
second, then in s; counts with thousands separators and the noun in the plural when
it takes one.  Keys that come from a log are escaped before they reach a terminal or a
page (``printable``).
"""

from __future__ import annotations

from datetime import datetime, timezone


def local_time(second: int) -> str:
    """``second`` as local ISO-8601 with its offset, e.g. 2019-02-07T22:11:00+01:00."""
    try:
        return datetime.fromtimestamp(second, timezone.utc).astimezone().isoformat()
    except (OverflowError, OSError, ValueError):
        return f"@{second}"  # beyond what datetime can show


def clock_time(second: int) -> str:
    """The local time of day of ``second``, e.g. 22:11:10."""
    return local_time(second).partition("T")[2][:8] or local_time(second)


def printable(key: str) -> str:
    """A key from the log, with control characters escaped."""
    if key.isprintable():
        return key
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in key)


def shortened(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def size(nbytes: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"):
        if value < 1024:
            return f"{nbytes} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.3g} YiB"


def milliseconds(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def number(value: float) -> str:
    """10.0 -> '10', 10.5 -> '10.5'."""
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def counted(count: int, noun: str) -> str:
    """1 -> '1 hit', 4344 -> '4,344 hits'."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
