"""Query shapes: a MongoDB filter with its keys kept and every value masked.

    {"user": "alice", "age": {"$gt": 30}}   ->   {"user": ?, "age": {"$gt": ?}}

pymongowatch writes a filter as JSON, or, when JSON can't hold it (an ObjectId, a
datetime), as Python's ``str`` of the dict.  JSON is read and rebuilt from its keys; the
other is scanned as tokens: a quoted string followed by ``:`` is a key and is kept,
brackets, braces and commas are kept, and everything else - strings, numbers, calls like
``ObjectId('...')`` - becomes ``?``.  Lists of plain values become ``[?]`` (their length
says nothing useful); lists of documents keep their shapes (aggregation pipelines).
No value is ever copied into a shape.  Nesting deeper than ``MAX_DEPTH`` is shown as
``…`` (a filter a few thousand brackets deep is no query anyone wrote).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..bounds import MAX_KEY_CHARS
from .jsontext import loads

#: The shape shown for a missing filter.
NO_FILTER = "-"
#: Documents and lists deeper than this are shown as ``…``.
MAX_DEPTH = 32
DEEPER = "…"

_STRING = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.DOTALL)
_KEY_AFTER = re.compile(r"\s*:")
_PLAIN_LIST = re.compile(r"\[\?(?:, \?)*\]")


def query_shape(text: str) -> str:
    """The shape of a filter as pymongowatch wrote it."""
    text = text.strip()
    if not text or text == "None":
        return NO_FILTER
    try:
        value = loads(text)
    except ValueError:  # not JSON, or too deep for its decoder
        return _scan(text)[:MAX_KEY_CHARS]
    return _shape(value, 0)[:MAX_KEY_CHARS]


def _shape(value: Any, depth: int) -> str:
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        return DEEPER
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}: {_shape(v, depth + 1)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        if any(isinstance(item, (dict, list)) for item in value):
            return "[" + ", ".join(_shape(item, depth + 1) for item in value) + "]"
        return "[?]"
    return "?"


def _scan(text: str) -> str:
    """Mask a filter written as Python's str() of a dict, token by token."""
    out: list[str] = []
    position, depth = 0, 0  # depth: inside parentheses (a call's arguments)
    nesting = 0  # of brackets and braces: past MAX_DEPTH, one "…" stands for it all
    while position < len(text):
        char = text[position]
        if char in "{[":
            nesting += 1
        elif char in "}]":
            nesting -= 1
        # Hidden: inside a bracket opened past MAX_DEPTH, that bracket's close included.
        hidden = nesting > MAX_DEPTH or (nesting == MAX_DEPTH and char in "}]")
        if char in "'\"":
            found = _STRING.match(text, position)
            end = found.end() if found else len(text)
            if hidden:
                pass
            elif depth == 0 and found and _KEY_AFTER.match(text, end):
                out.append(json.dumps(_unquote(found.group())))
            else:
                _value(out, depth)
            position = end
            continue
        if hidden:
            if nesting == MAX_DEPTH + 1 and char in "{[":
                out.append(DEEPER)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and char in "{}[]:,":
            out.append(char + " " if char in ":," else char)
        elif not char.isspace():
            _value(out, depth)
        position += 1
    shape = "".join(out).replace(" }", "}").replace(" ]", "]").strip()
    return _PLAIN_LIST.sub("[?]", shape)


def _value(out: list[str], depth: int) -> None:
    """Something that is part of a value: one ``?`` stands for the whole value."""
    if depth == 0 and (not out or out[-1] != "?"):
        out.append("?")


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)
