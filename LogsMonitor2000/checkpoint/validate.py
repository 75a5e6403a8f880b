"""Values read back from a ``--state`` checkpoint, checked one by one.

A checkpoint may be damaged and still be valid JSON: a count that is negative, a
string where a second should be, ``1e999`` (infinity).  Each ``restore`` reads its
fields through these, so that such a file is refused as a whole (``ValueError``, which
``cli`` reports with the file's name and ``--state-reset``) and never taken in.
"""

from __future__ import annotations

import math
from typing import Any

#: No count, second or offset of a real run comes near this.
LARGEST = 1 << 63


def integer(value: Any) -> int:
    """An int (not a bool, not a float) of at most 2^63 either way."""
    if type(value) is not int or not -LARGEST < value < LARGEST:
        raise ValueError(f"{value!r} is not an integer")
    return value


def count(value: Any) -> int:
    """An int of 0 or more."""
    if integer(value) < 0:
        raise ValueError(f"{value!r} is not a count")
    return int(value)


def optional_integer(value: Any) -> int | None:
    return None if value is None else integer(value)


def number(value: Any) -> float:
    """A finite int or float."""
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)


def duration(value: Any) -> float:
    """A finite number of 0 or more."""
    if number(value) < 0:
        raise ValueError(f"{value!r} is not a duration")
    return float(value)


def text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(f"{value!r} is not a string")
    return value


def listed(value: Any) -> list[Any]:
    if type(value) is not list:
        raise ValueError(f"{value!r} is not a list")
    return value


def mapping(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise ValueError(f"{value!r} is not an object")
    return value


def counts(value: Any) -> dict[str, int]:
    """An object of counts (its keys are strings in JSON)."""
    return {text(key): count(n) for key, n in mapping(value).items()}


def boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError(f"{value!r} is not true or false")
    return value
