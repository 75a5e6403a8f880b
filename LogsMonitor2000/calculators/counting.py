"""Small helpers shared by the calculators: top lists and percentiles."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from itertools import compress, repeat
from operator import le


def top(counts: Mapping[str, int], n: int) -> list[tuple[str, int]]:
    """The ``n`` largest counts: count descending, then key ascending (docs/counting.md, "Stats windows").

    The n-th largest count is found among the counts alone, the items at or above it
    are picked in C (``compress``), and only those few are sorted by (count, key)."""
    if n <= 0 or not counts:
        return []
    items: Iterable[tuple[str, int]] = counts.items()
    if len(counts) > n:
        cut = heapq.nlargest(n, counts.values())[-1]
        items = compress(items, map(le, repeat(cut), counts.values()))
    return sorted(items, key=_count_then_key)[:n]


def _count_then_key(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def rank(percent: int, total: int) -> int:
    """The nearest rank (1-based) of the ``percent`` percentile of ``total`` values:
    ``ceil(percent / 100 * total)``, at least 1, in integers (no rounding surprises)."""
    return max(1, (percent * total + 99) // 100)


def nearest_rank(sorted_values: list[tuple[float, int]], total: int, percent: int) -> float:
    """The nearest-rank ``percent`` percentile of a multiset given as sorted
    (value, multiplicity) pairs holding ``total`` values: the smallest value with at
    least ``rank(percent, total)`` values at or below it."""
    wanted = rank(percent, total)
    seen = 0
    for value, count in sorted_values:
        seen += count
        if seen >= wanted:
            return value
    raise ValueError("percentile of an empty multiset")
