"""What a family of logs declares: its Batch, its panels, its /metrics counters.

A *family* is a kind of event: requests of an access log (``http``), MongoDB operations
(``mongo``), Python logging records (``pylog``).  Its parsers fold events into its own
Batch (``pipeline/batch.py``).  Its *panels* are what a stats window and the summary
show of those Batches: each counts one Batch field, in one of a few *shapes*, and says
what it is called in each view.  The calculators build a panel's running totals from
its shape (``calculators/stats.py``); the outputs render a shape the same way whatever
the panel (``output/``), so a new panel is a line here and nothing else.

Shapes (what a panel's value is):

* ``TOP``: a top list, ``[(key, count), ...]`` (``[key, count, overcount]`` once the
  whole run's counts are estimates, see ``calculators/bounded.py``);
* ``CLASSES``: counts of a few classes, ``{key: count}`` (status classes, levels);
* ``PERCENTILES``: p50, p95, p99 and the maximum of durations, in ms;
* ``SIZE``: a number of bytes;
* ``SLOWEST``: the slowest queries, ``[(ms, namespace, operation, shape), ...]``;
* ``PANELS``: the whole run's panels of an access log (``calculators/panels.py``), a
  dict of the summary's keys (``requests``, ``not_found``... ``unique_visitors``),
  each spread into the summary as a key of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..pipeline.batch import Batch

TOP = "top"
CLASSES = "classes"
PERCENTILES = "percentiles"
SIZE = "size"
SLOWEST = "slowest"
PANELS = "panels"


@dataclass(frozen=True, kw_only=True)
class Panel:
    """One figure of a stats window and of the summary."""

    #: Its key in the JSON records (``sections``, ``status``, ``duration``...).
    key: str
    #: The Batch field it counts.
    field: str
    shape: str
    #: Its label on a line of text and of the dashboard (default: ``key``).
    label: str = ""
    #: Its table's title in the report, and what the table's keys are.
    title: str = ""
    column: str = ""
    #: What the report's table counts, singular (default: the family's ``unit``).
    counted: str = ""
    #: Its key in a ``--state`` checkpoint (default: ``key``).
    state: str = ""
    #: Shown only when it has something, or when the run's formats carry it (the
    #: virtual hosts, the syslog hosts); older checkpoints may lack it.
    optional: bool = False
    #: ``CLASSES``: the report charts it over time, stacked (the status classes).
    chart: bool = False
    #: ``CLASSES``: these keys first, in this order, then the others by name (levels,
    #: most severe first); empty: by name.
    order: tuple[str, ...] = ()
    #: ``TOP``: the key that stands for none (a record read from a file has no sender:
    #: ``-``); a list of it alone says nothing, and the views leave it out.
    unknown: str | None = None
    #: Counted for the whole run only (the summary), not per stats window.
    summary_only: bool = False

    @property
    def text_label(self) -> str:
        return self.label or self.key

    @property
    def state_key(self) -> str:
        return self.state or self.key


@dataclass(frozen=True, kw_only=True)
class Counter:
    """A ``/metrics`` counter of a family: ``<name>`` counts the Batch field ``field``.

    * ``TOTAL``: one sample, the field's sum (an int field, or ``hits``);
    * ``BY``: a sample per key, labelled ``label`` (few keys: status classes, levels);
    * ``BOUNDED``: likewise, but the first keys seen and the busiest ones get a label
      of their own, the rest ``other`` (``calculators/counters.py``);
    * ``HISTOGRAM``: the durations of a ``Values`` field, in Prometheus' buckets.
    """

    name: str
    kind: str
    field: str
    help: str
    label: str = ""


TOTAL = "total"
BY = "by"
BOUNDED = "bounded"
HISTOGRAM = "histogram"


@dataclass(frozen=True, kw_only=True)
class Family:
    """A kind of event, as the pipeline and the views need to know it."""

    name: str
    #: What one event is called in the views: hit, operation, record.
    unit: str
    #: How the ``/metrics`` help texts speak of its events ("events", "operations").
    noun: str
    #: Its events, for messages ("requests", "MongoDB operations").
    described: str
    #: Its Batch class, whose ``FIELDS`` the parsers fill.
    batch: type[Batch]
    #: In the order of the JSON records.
    panels: tuple[Panel, ...]
    #: Its ``/metrics`` counters, in the order they are exposed.
    counters: tuple[Counter, ...]
    #: The filter options that mean something for it (``--path``, ``--level``...).
    filters: frozenset[str]
    #: The Batch fields whose keys are network addresses (``--anonymize``).
    addresses: tuple[str, ...] = ()
    #: What a duration times ("request", "operation"); empty: events have none.
    timed: str = ""
    #: Whether the summary counts operations that started and never finished.
    unfinished: bool = False
    #: The scopes ``--alert`` rules may count its events by (``calculators/scope.py``:
    #: ``path``, ``code``, ``class``, ``vhost``, ``source``, ``method``, ``level``,
    #: ``ns``), each with the Batch field it counts.
    scopes: tuple[tuple[str, str], ...] = ()

    def panel(self, key: str) -> Panel | None:
        return next((panel for panel in self.panels if panel.key == key), None)
