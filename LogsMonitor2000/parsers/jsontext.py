"""JSON that comes from outside, read so that nothing in it can hurt what follows.

Two things a JSON text may hold that the standard library's decoder lets through:

* nesting deeper than Python's recursion allows (``'[' * 200000``): ``json.loads``
  raises ``RecursionError``, and one as deep as it still takes can't be written out
  again.  Here both are a ``ValueError``: the record is invalid, the body a 400;
* a lone surrogate (``"\\ud800"``): a string no UTF-8 can carry, which would fail the
  first view that encodes it (``/metrics``, the report).  Here it becomes U+FFFD, as
  undecodable bytes do everywhere else in the monitor.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: A lone surrogate, as ``json.loads`` leaves it in a string.
_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(text: str) -> Any:
    """``json.loads(text)``; ``ValueError`` when it is no JSON or nested too deeply,
    lone surrogates replaced."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if may_hold_surrogates(text):
        value = without_surrogates(value)
    return value


def may_hold_surrogates(text: str) -> bool:
    """Whether a JSON text may decode to a lone surrogate: it holds the escape of one
    (looked for only where there is a backslash at all: a search for one character is
    fifty times as fast as for three, and most logs have none)."""
    return "\\" in text and ("\\ud" in text or "\\uD" in text)


def dumps(value: Any) -> str:
    """``value`` as compact JSON, non-ASCII as it is; ``ValueError`` when it is nested
    too deeply to write."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def without_surrogates(value: Any) -> Any:
    """A decoded JSON value with every lone surrogate in its strings (keys too)
    replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if _SURROGATE.search(text) is None:
        return value
    return json.loads(_SURROGATE.sub("\ufffd", text))


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (a string decoded with
    ``unicode_escape`` may hold them)."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)
