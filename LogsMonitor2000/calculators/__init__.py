"""Calculators: incremental statistics over windows of closed Batches (``base.py``).

``stats.py`` counts the family's panels over each stats window and over the whole run;
``counters.py`` the ``/metrics`` counters; the alert rules, one module each, are
registered below.  A new rule is a module here (an ``AlertRule`` with a ``of(context)``
that builds it, or returns None when the run doesn't ask for it) and one line in
``RULES``; a new kind of ``--alert`` rule is a module (a ``StagedRule``), its form in
``expression.py`` and one line in ``KINDS``.  The monitor evaluates every rule built,
every view shows its reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .base import AlertRule, Context
from .baseline import BaselineRule
from .expression import RuleSpec
from .percentile import PercentileRule
from .rate import RateRule
from .share import ShareRule
from .slow import SlowRule
from .staged import StagedRule
from .traffic import TrafficRule

#: The kinds of ``--alert`` rules (``expression.RuleSpec.kind``).
KINDS: dict[str, Callable[[RuleSpec, Context], StagedRule]] = {
    "rate": RateRule,
    "share": ShareRule,
    "percentile": PercentileRule,
    "baseline": BaselineRule,
}


def configured(context: Context) -> Sequence[AlertRule]:
    """The rules of ``--alert``, in command-line order (before the events are known,
    those that need to know what they are are not built)."""
    return [
        KINDS[spec.kind](spec, context)
        for spec in context.settings.alerts
        if context.family is not None or (spec.scope is None and spec.kind != "percentile")
    ]


def traffic(context: Context) -> Sequence[AlertRule]:
    return [TrafficRule.of(context)]


def slow(context: Context) -> Sequence[AlertRule]:
    rule = SlowRule.of(context)
    return [] if rule is None else [rule]


#: How the alert rules are built, in the order their reports come at one second.
RULES: tuple[Callable[[Context], Sequence[AlertRule]], ...] = (traffic, configured, slow)


def alert_rules(context: Context) -> list[AlertRule]:
    """The rules of a run (``UsageError`` when one can't be evaluated for it)."""
    return [rule for build in RULES for rule in build(context)]


__all__ = ["KINDS", "RULES", "AlertRule", "Context", "alert_rules"]
