"""The page's panels of an access log (docs/panels.md): the visitors per day and the
time of day as column charts, then a table per panel - its keys with their hits (and a
bar), visitors, bytes and, when the log has request times, their average, p95 and
maximum.  Drawn from the summary's panel value, the same numbers as ``--output json``."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from ...words import milliseconds, printable, size
from .charts import HEIGHT, WIDTH

#: The panels shown as tables, in order, with their titles and the name of their key.
TABLES = (
    ("requests", "Requested URLs", "URL"),
    ("static_requests", "Static files", "URL"),
    ("not_found", "Not found (404)", "URL"),
    ("status_codes", "Status codes", "status"),
    ("referrers", "Referrers", "referrer"),
    ("referring_sites", "Referring sites", "site"),
    ("browsers", "Browsers", "browser"),
    ("os", "Operating systems", "system"),
    ("remote_users", "Remote users", "user"),
)
#: The columns' colours of the charts: hits, visitors.
HITS_COLOUR, VISITORS_COLOUR = "#3b7dd8", "#e09b2d"


def panel_sections(value: dict[str, Any]) -> str:
    """The charts and tables of the panels ("" when there was no request)."""
    days, hours = value.get("visitors", []), value.get("visit_time", [])
    if not days:
        return ""
    parts = [
        _columns(
            f"Visitors per day · {value.get('unique_visitors', 0):,} unique",
            "visitors",
            days,
        ),
        _columns("Time of day (local hour)", "hours", hours),
        '<div class="tables panels">',
    ]
    parts += [
        _table(key, title, column, value[key]) for key, title, column in TABLES if value.get(key)
    ]
    parts.append("</div>")
    return "\n".join(parts)


def _columns(caption: str, name: str, entries: Sequence[dict[str, Any]]) -> str:
    """A column chart of the hits and the visitors of each entry (a day, an hour), each
    on its own scale (a visitor makes many hits), their largest values in the key."""
    tops = {
        field: max((e[field] for e in entries), default=0) or 1 for field in ("hits", "visitors")
    }
    step = WIDTH / max(len(entries), 12)
    #: A label every ``every`` columns: at most 24 (a date's is wider than an hour's).
    every = -(-len(entries) // (24 if len(entries) == 24 else 16))
    width = step * 0.4
    bars, labels = [], []
    for index, entry in enumerate(entries):
        x = index * step + step * 0.1
        for offset, field, colour in (
            (0, "hits", HITS_COLOUR),
            (width, "visitors", VISITORS_COLOUR),
        ):
            height = entry[field] / tops[field] * HEIGHT
            bars.append(
                f'<rect x="{x + offset:.1f}" y="{HEIGHT - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{escape(entry["key"])}: '
                f"{entry[field]:,} {field}</title></rect>"
            )
        if index % every == 0:  # (every other one is hidden on a narrow screen)
            alt = " alt" if index // every % 2 else ""
            labels.append(
                f'<span class="x{alt}" style="left:{(index + 0.5) * step / WIDTH * 100:.2f}%">'
                f"{escape(_short(entry['key']))}</span>"
            )
    return (
        f'<figure class="columns" id="{name}"><figcaption>{escape(caption)} '
        f'<span class="key"><i style="background:{HITS_COLOUR}"></i>hits (top {tops["hits"]:,})'
        f'<i style="background:{VISITORS_COLOUR}"></i>visitors (top {tops["visitors"]:,})'
        f'</span></figcaption><div class="plot"><svg viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'preserveAspectRatio="none">{"".join(bars)}</svg>{"".join(labels)}</div></figure>'
    )


def _short(key: str) -> str:
    """An axis label: a date as month-day, an hour as it is."""
    return key[5:] if len(key) == 10 else key


def _table(key: str, title: str, column: str, entries: Sequence[dict[str, Any]]) -> str:
    timed = "avg_ms" in entries[0]
    largest = max(entry["hits"] for entry in entries) or 1
    head = (
        f'<th>{escape(column)}</th><th class="n">hits</th><th></th>'
        '<th class="n">visitors</th><th class="n">bytes</th>'
    )
    if timed:
        head += '<th class="n">avg</th><th class="n">p95</th><th class="n">max</th>'
    rows = []
    for entry in entries:
        cells = (
            f'<td class="k">{escape(printable(entry["key"]))}</td>'
            f'<td class="n">{entry["hits"]:,}</td>'
            f'<td class="bar"><span style="width:{entry["hits"] / largest * 100:.1f}%"></span></td>'
            f'<td class="n">{entry["visitors"]:,}</td><td class="n">{escape(size(entry["bytes"]))}</td>'
        )
        if timed:
            cells += "".join(
                f'<td class="n">{"-" if entry[name] is None else escape(milliseconds(entry[name]))}</td>'
                for name in ("avg_ms", "p95_ms", "max_ms")
            )
        rows.append(f"<tr>{cells}</tr>")
    overcount = max((entry.get("overcount", 0) for entry in entries), default=0)
    note = (
        f'<p class="muted">Estimated counts: each at most {overcount:,} over '
        "(more distinct keys than are counted exactly).</p>"
        if "overcount" in entries[0]
        else ""
    )
    return (
        f'<section class="top panel" data-panel="{key}"><h2>{escape(title)}</h2>'
        f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f"{note}</section>"
    )
