"""``--alert RULE``: the text of a rule read into a ``RuleSpec`` (docs/alerts.md).

    [NAME:] rate[(SCOPE)] > X/s over W          events matching SCOPE per second
    [NAME:] rate[(SCOPE)] < X/s over W
    [NAME:] share(MATCH) > P% over W            their percentage of all events
    [NAME:] pNN > X ms over W                   a percentile of the durations
    [NAME:] rate > K x baseline(H) over W       against the H seconds before the window

A scope (or match) is one of: a path prefix (``/api``), a status code or class
(``status=404``, ``status=5xx``, or bare ``404``, ``5xx``), ``vhost=HOST``,
``source=CIDR``, ``method=GET``, a Python logging level and above (``level=ERROR``, or
bare ``ERROR``), a MongoDB namespace prefix (``ns=db.coll``).  Durations are ``ms``,
``s``, ``m``, ``h`` or ``d`` (a bare number: seconds; a window is whole seconds).
Whether the run's format can evaluate a rule is decided once it is known
(``scope.py``); a text that is no rule is refused here, at start.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from ..parsers.urls import decode

#: Python logging's levels by name (``level=`` takes a name or a number).
LEVELS = {"CRITICAL": 50, "FATAL": 50, "ERROR": 40, "WARNING": 30, "WARN": 30, "INFO": 20}
LEVELS |= {"DEBUG": 10, "NOTSET": 0}
#: The seconds of a duration's unit.
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_DURATION = rf"({_NUMBER})\s*(ms|s|m|h|d)?"
_NAME = r"^\s*(?:(?P<name>[^:()<>]*[^:()<>\s])\s*:\s*)?"
_SCOPE = r"(?:\(\s*(?P<scope>[^()]*?)\s*\))?"
_OVER = rf"\s+over\s+(?P<window>{_NUMBER}\s*(?:ms|s|m|h|d)?)\s*$"
_OP = r"\s*(?P<op>[<>])\s*"
_FORMS = {
    "baseline": re.compile(
        rf"{_NAME}rate\s*{_SCOPE}{_OP}(?P<x>{_NUMBER})\s*[x×]\s*baseline\s*"
        rf"\(\s*(?P<baseline>{_NUMBER}\s*(?:ms|s|m|h|d)?)\s*\){_OVER}",
        re.IGNORECASE,
    ),
    "rate": re.compile(
        rf"{_NAME}rate\s*{_SCOPE}{_OP}(?P<x>{_NUMBER})\s*/\s*(?P<per>s|m|h){_OVER}",
        re.IGNORECASE,
    ),
    "share": re.compile(
        rf"{_NAME}share\s*{_SCOPE}{_OP}(?P<x>{_NUMBER})\s*%?{_OVER}", re.IGNORECASE
    ),
    "percentile": re.compile(
        rf"{_NAME}p(?P<nn>[0-9]{{1,3}}){_OP}(?P<x>{_NUMBER})\s*(?P<unit>ms|s|m|h)?{_OVER}",
        re.IGNORECASE,
    ),
}


@dataclass(frozen=True)
class Scope:
    """Which events a rule counts: ``kind`` is ``path``, ``code``, ``class``, ``vhost``,
    ``source``, ``method``, ``level`` or ``ns``; ``value`` what it is matched against
    (a decoded path prefix, ``404``, ``5xx``, a host, a network, a method, a level's
    number, a namespace prefix)."""

    kind: str
    value: str
    #: As written in the rule.
    text: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value, "text": self.text}


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the command line gives it."""

    #: Its name (``NAME:``), or its own text.
    name: str
    #: ``rate``, ``share``, ``percentile`` or ``baseline``.
    kind: str
    #: ``>`` (True) or ``<``.
    above: bool
    #: X per second, P percent, X milliseconds, or the factor K.
    threshold: float
    #: W, in seconds.
    window: int
    scope: Scope | None = None
    #: NN of ``pNN``.
    percentile: int = 0
    #: H of ``baseline(H)``, in seconds.
    baseline: int = 0
    #: The rule as written (its name aside), and what its value is ("share(5xx)").
    text: str = ""
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        """What decides the rule's counts (a ``--state`` checkpoint is for these)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "above": self.above,
            "threshold": self.threshold,
            "window": self.window,
            "scope": None if self.scope is None else self.scope.to_json(),
            "percentile": self.percentile,
            "baseline": self.baseline,
        }


def parse_rule(text: str) -> RuleSpec:
    """``--alert``'s text as a rule; ``ValueError`` saying what is wrong."""
    for kind, form in _FORMS.items():
        found = form.match(text)
        if found is not None:
            return _spec(kind, found, text)
    raise ValueError(
        f"{text!r} is no rule: try 'rate(/api) > 50/s over 1m', 'share(5xx) > 5% over 5m', "
        "'p99 > 800ms over 2m' or 'rate > 3x baseline(1h) over 2m'"
    )


def _spec(kind: str, found: re.Match[str], text: str) -> RuleSpec:
    parts = found.groupdict()
    own = text.strip()
    name = parts["name"] or own
    if parts["name"]:
        own = own.split(":", 1)[1].strip()
    scope = None if not parts.get("scope") else parse_scope(parts["scope"])
    threshold = float(parts["x"])
    percentile = baseline = 0
    if kind == "rate":
        threshold /= UNITS[parts["per"].lower()]
    elif kind == "share":
        if scope is None:
            raise ValueError(f"{own!r}: share needs what to count, as in share(5xx)")
        if threshold > 100:
            raise ValueError(f"{own!r}: a share is at most 100%")
    elif kind == "percentile":
        percentile = int(parts["nn"])
        if not 1 <= percentile <= 100:
            raise ValueError(f"{own!r}: a percentile is p1 to p100")
        if scope is not None:
            raise ValueError(f"{own!r}: a percentile takes no scope")
        threshold *= UNITS[(parts["unit"] or "ms").lower()] * 1000
    else:
        baseline = whole_seconds(parts["baseline"], own)
    return RuleSpec(
        name=name,
        text=own,
        label=re.split(r"\s*[<>]", own, maxsplit=1)[0],
        kind=kind,
        above=parts["op"] == ">",
        threshold=threshold,
        window=whole_seconds(parts["window"], own),
        scope=scope,
        percentile=percentile,
        baseline=baseline,
    )


def whole_seconds(text: str, rule: str) -> int:
    """A duration of a rule as whole seconds, at least one."""
    found = re.fullmatch(_DURATION, text.strip(), re.IGNORECASE)
    if found is None:  # (a rule's forms only let durations through)
        raise ValueError(f"{rule!r}: {text.strip()!r} is no duration (30s, 5m, 12h, 30d)")
    seconds = float(found.group(1)) * UNITS[(found.group(2) or "s").lower()]
    if seconds < 1 or seconds != int(seconds) or seconds > 10 * 365 * 86400:
        raise ValueError(
            f"{rule!r}: {text.strip()} is no number of whole seconds (1 s to 10 years)"
        )
    return int(seconds)


def parse_scope(text: str) -> Scope:
    """What ``rate(...)`` and ``share(...)`` hold."""
    key, sign, value = text.partition("=")
    key, value = key.strip().lower(), value.strip()
    if not sign:
        key, value = "", text.strip()
    if not value:
        raise ValueError(f"{text!r}: nothing to match")
    if key == "" and value.startswith("/"):
        return Scope("path", decode(value), text)
    if key in ("", "status"):
        if re.fullmatch(r"[1-5]xx", value, re.IGNORECASE):
            return Scope("class", value.lower(), text)
        if re.fullmatch(r"[1-5][0-9]{2}", value):
            return Scope("code", value, text)
        if key == "status":
            raise ValueError(f"{text!r}: a status is a code (404) or a class (5xx)")
    if key in ("", "level"):
        number = LEVELS.get(value.upper())
        if number is None and key == "level" and value.isdigit() and len(value) <= 3:
            number = int(value)
        if number is not None:
            return Scope("level", str(number), text)
        if key == "level":
            raise ValueError(f"{text!r}: a level is a name (ERROR) or a number")
    if key == "source":
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{text!r}: source= takes an address or a network (CIDR)") from None
        return Scope("source", str(network), text)
    if key in ("vhost", "method", "ns"):
        return Scope(key, value, text)
    raise ValueError(
        f"{text!r}: a scope is a path (/api), a status (5xx, status=404), vhost=, "
        "source=CIDR, method=, level= (or ERROR) or ns="
    )
