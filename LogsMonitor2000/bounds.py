"""How much the monitor keeps of what it is sent, whatever it is sent (``docs/security.md``).

A log's keys (paths, sources, loggers, level names...) are the monitor's memory: each
is kept in the windows, the summary's lists and ``/metrics``.  So they are bounded in
bytes as well as in number:

* a key longer than ``MAX_KEY_CHARS`` is cut there by the parser that reads it, before
  it is counted (and so it counts under the cut key);
* a list of a few keys (log levels) keeps the first ``MAX_CLASSES`` distinct ones and
  counts the rest under ``OTHER`` (``add_capped``);
* the memos that save the parsers work (a request's section, a time's second) keep
  keys of at most ``MEMO_KEY_CHARS`` and start again when full (``remember``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

#: The longest key kept: a longer one is cut here.
MAX_KEY_CHARS = 1024
#: The most distinct keys of a list of a few (levels); the rest count as ``OTHER``.
MAX_CLASSES = 20
OTHER = "other"
#: The longest key a memo keeps (a longer one is worked out each time).
MEMO_KEY_CHARS = 256

Value = TypeVar("Value")


def add_capped(total: dict[str, int], part: Mapping[str, int]) -> None:
    """``total += part``, with at most ``MAX_CLASSES`` keys of its own in ``total``:
    a later key counts as ``OTHER``."""
    get = total.get
    for key, count in part.items():
        if key not in total and len(total) >= MAX_CLASSES:
            key = OTHER
        total[key] = get(key, 0) + count


def remember(memo: dict[str, Value], key: str, value: Value, size: int) -> None:
    """Keep ``key -> value`` in ``memo`` (at most ``size`` keys: a full memo is
    emptied first) unless ``key`` is longer than ``MEMO_KEY_CHARS``."""
    if len(key) <= MEMO_KEY_CHARS:
        if len(memo) >= size:
            memo.clear()
        memo[key] = value
