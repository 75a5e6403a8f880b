"""The report and live page read back with ``html.parser``: the numbers it shows, and
whether it is well-formed (every element closed, in order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

#: Elements that have no end tag.
VOID = {"meta", "br", "img", "input", "link", "hr", "path", "rect"}


@dataclass
class Page:
    """What a page shows, as text: the timeline's rows, the top tables, the cards."""

    #: [start, end, count, per second, then the status classes' and percentiles' cells].
    timeline: list[list[str]] = field(default_factory=list)
    timeline_head: list[str] = field(default_factory=list)
    #: A top table's name (its data-list) -> its rows [key, count, share].
    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    #: An access log's panel (``data-panel``) -> its rows, every cell.
    panels: dict[str, list[list[str]]] = field(default_factory=dict)
    #: A card's label -> its value.
    cards: dict[str, str] = field(default_factory=dict)
    #: The text of the whole page, tags taken out.
    text: str = ""
    #: The records the page includes (main's data-records).
    records: int = -1
    #: Elements closed in the wrong order, or never.
    errors: list[str] = field(default_factory=list)
    scripts: int = 0
    #: What the page would fetch: any src or href that is not a fragment.
    fetches: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.open: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.in_head = False
        self.table: str | None = None
        self.panel: str | None = None
        self.in_timeline = False
        self.card: list[str] | None = None
        self.card_parts: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name) and not (found[name] or "").startswith("#"):
                self.page.fetches.append(found[name] or "")
        if tag == "script":
            self.page.scripts += 1
        if tag not in VOID:
            self.open.append(tag)
        classes = (found.get("class") or "").split()
        if tag == "main":
            self.page.records = int(found.get("data-records") or -1)
        if tag == "details" and "timeline" in classes:
            self.in_timeline = True
        if tag == "section" and found.get("data-panel"):
            self.panel = found["data-panel"]
            self.page.panels[self.panel or ""] = []
        if tag == "section" and found.get("data-list"):
            self.table = found["data-list"]
            self.page.tables[self.table or ""] = []
        if tag == "thead":
            self.in_head = True
        if tag == "tr":
            self.row = []
            if self.in_timeline and not self.in_head:
                self.row += [found.get("data-start") or "", found.get("data-end") or ""]
        if tag in ("td", "th"):
            self.cell = []
        if tag == "div" and "card" in classes:
            self.card = []
            self.card_parts = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.page.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        if tag == "tr" and self.row is not None:
            if self.in_timeline:
                if self.in_head:
                    self.page.timeline_head = self.row
                else:
                    self.page.timeline.append(self.row)
            elif self.table is not None and not self.in_head:
                self.page.tables[self.table].append(self.row[:3])
            elif self.panel is not None and not self.in_head:
                self.page.panels[self.panel].append(self.row)
            self.row = None
        if tag == "thead":
            self.in_head = False
        if tag == "section":
            self.table = self.panel = None
        if tag == "details":
            self.in_timeline = False
        if tag in ("b", "span") and self.card is not None:
            self.card_parts.append("".join(self.card).strip())
            self.card = []
        if tag == "div" and self.card is not None:
            parts = [part for part in self.card_parts if part]
            if len(parts) >= 2:
                self.page.cards[parts[-1]] = parts[0]
            self.card = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self.cell is not None:
            self.cell.append(data)
        if self.card is not None:
            self.card.append(data)


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    page = reader.page
    if reader.open:
        page.errors.append(f"never closed: {reader.open}")
    page.text = " ".join("".join(reader.texts).split())
    return page


def number(cell: str) -> int:
    """'1,234' -> 1234."""
    return int(cell.replace(",", ""))
