"""Calculators: incremental statistics over windows of closed Batches (``base.py``).

``stats.py`` counts the family's panels over each stats window and over the whole run;
``counters.py`` the ``/metrics`` counters; the alert rules, one module each, are
registered below.  A new rule is a module here (an ``AlertRule`` with a ``of(context)``
that builds it, or returns None when the run doesn't ask for it) and one line in
``RULES``: the monitor evaluates every rule built, every view shows its reports.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import AlertRule, Context
from .slow import SlowRule
from .traffic import TrafficRule

#: How each alert rule is built, in the order their reports come at one second.
RULES: tuple[Callable[[Context], AlertRule | None], ...] = (TrafficRule.of, SlowRule.of)


def alert_rules(context: Context) -> list[AlertRule]:
    """The rules of a run (``UsageError`` when one can't be evaluated for it)."""
    return [rule for build in RULES if (rule := build(context)) is not None]


__all__ = ["RULES", "AlertRule", "Context", "alert_rules"]
