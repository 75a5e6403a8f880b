"""Small helpers shared by the calculators: multiset arithmetic, top lists, percentiles."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from operator import itemgetter
from typing import TypeVar

Key = TypeVar("Key")


def add_counts(total: dict[Key, int], part: Mapping[Key, int]) -> None:
    """``total += part``, touching only the keys of ``part``."""
    get = total.get
    for key, count in part.items():
        total[key] = get(key, 0) + count


def subtract_counts(total: dict[Key, int], part: Mapping[Key, int]) -> None:
    """Undo ``add_counts(total, part)``; keys that reach 0 are deleted.

    (``Counter -=`` would rescan the whole counter and is ten times slower.)"""
    for key, count in part.items():
        left = total[key] - count
        if left:
            total[key] = left
        else:
            del total[key]


def top(counts: Mapping[str, int], n: int) -> list[tuple[str, int]]:
    """The ``n`` largest counts: count descending, then key ascending (SPEC §4).

    The heap compares counts in C; only when a tie straddles the cut are the tied keys
    sorted, so a window of many thousand keys costs no sort of all of them."""
    if n <= 0 or not counts:
        return []
    best = heapq.nlargest(n, counts.items(), key=itemgetter(1))
    cut = best[-1][1]
    if list(counts.values()).count(cut) > sum(1 for _, count in best if count == cut):
        above = [item for item in best if item[1] > cut]
        tied = sorted(key for key, count in counts.items() if count == cut)
        best = above + [(key, cut) for key in tied[: n - len(above)]]
    return sorted(best, key=lambda item: (-item[1], item[0]))


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
