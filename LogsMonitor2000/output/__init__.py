"""Notifiers: records in, something for a person or a program out.

``text`` renders for a terminal, ``jsonlines`` writes one JSON object per line.  Both
only render the data the calculators reported; neither computes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..records import Record, Summary


@dataclass(slots=True, frozen=True, kw_only=True)
class RunInfo:
    """What a header says about the run, once the format is known."""

    path: str
    format_name: str | None
    format_description: str | None
    stats_interval: int
    alert_window: int
    threshold: float
    lateness: int
    follow: bool
    slow_ms: float | None
    #: What the windows count, in the singular: "hit" (HTTP) or "operation" (MongoDB).
    unit: str = "hit"
    #: The filters, as options (``--path /api``), and whether sources are anonymized.
    filters: tuple[str, ...] = ()
    anonymize: bool = False
    verbose: bool = False


class Notifier(Protocol):
    """Where records go."""

    def start(self, run: RunInfo) -> None:
        """The run starts (the format is known)."""

    def emit(self, record: Record) -> None:
        """One record, in SPEC §5 order."""

    def flush(self) -> None:
        """A block has been processed: make what was emitted visible."""

    def finish(self, summary: Summary) -> None:
        """The run ends: the summary comes last."""
