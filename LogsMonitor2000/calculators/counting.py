"""Small helpers shared by the calculators: multiset arithmetic, top lists, percentiles."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping
from typing import TypeVar

Key = TypeVar("Key")


def add_counts(total: Counter[Key], part: Mapping[Key, int]) -> None:
    """``total += part``, touching only the keys of ``part``."""
    get = total.get
    for key, count in part.items():
        total[key] = get(key, 0) + count


def subtract_counts(total: Counter[Key], part: Mapping[Key, int]) -> None:
    """Undo ``add_counts(total, part)``; keys that reach 0 are deleted.

    (``Counter -=`` would rescan the whole counter and is ten times slower.)"""
    for key, count in part.items():
        left = total[key] - count
        if left:
            total[key] = left
        else:
            del total[key]


def _count_then_key(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def top(counts: Mapping[str, int], n: int) -> list[tuple[str, int]]:
    """The ``n`` largest counts: count descending, then key ascending (SPEC §4)."""
    return heapq.nsmallest(n, counts.items(), key=_count_then_key)


def nearest_rank(sorted_values: list[tuple[float, int]], total: int, percent: int) -> float:
    """The nearest-rank ``percent`` percentile of a multiset given as sorted
    (value, multiplicity) pairs holding ``total`` values: the smallest value with at
    least ``ceil(percent / 100 * total)`` values at or below it."""
    rank = max(1, (percent * total + 99) // 100)
    seen = 0
    for value, count in sorted_values:
        seen += count
        if seen >= rank:
            return value
    raise ValueError("percentile of an empty multiset")
