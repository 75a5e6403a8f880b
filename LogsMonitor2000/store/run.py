"""What ``--store`` adds to a run (the composition root's part, ``app.py``): the store,
the record API of the run's HTTP listeners, the window that writes its minutes, the
notifier that writes its alerts, and the stored past a live page starts with."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..output import Notifier, Tee
from ..parsers import ParserFactory
from ..pipeline.filters import anonymous
from ..pipeline.windows import Window
from ..settings import Settings
from .api import RecordApi
from .reader import past
from .writer import Store, StoreNotifier

if TYPE_CHECKING:
    from ..output.html.live import ServeNotifier
    from ..pipeline.monitor import Monitor


class StoredRun:
    """A run's store, opened (``UsageError`` when it can't be)."""

    def __init__(self, settings: Settings, warn: Callable[[str], None]) -> None:
        assert settings.store is not None
        self.settings = settings
        shown: Callable[[str], str] = anonymous if settings.anonymize else str
        self.store = Store(settings.store, retain=settings.retain, shown_sender=shown, warn=warn)
        self.api: RecordApi | None = None
        if any(url.startswith("http") for url in settings.listen):
            self.api = RecordApi(
                settings.store, credentials=settings.listen_auth, shown_sender=shown
            )
        #: The run's monitor, once built (its counts of late and invalid records).
        self.monitor: Monitor | None = None

    def around(self, notifier: Notifier) -> Notifier:
        return Tee([notifier, StoreNotifier(self.store)])

    def windows(self, factory: ParserFactory) -> list[Window]:
        """The window of the minutes (``Monitor``'s ``attach``)."""
        assert self.monitor is not None
        return self.store.windows(factory, self.monitor.counted)

    def prime(self, served: ServeNotifier, *, restored: bool) -> None:
        """The live page starts with the stored past this run will not report again:
        before where a restored run goes on; all of it when only new lines come
        (``--from-end``, listeners); none when the logs are read from their start."""
        settings, monitor = self.settings, self.monitor
        assert settings.store is not None and monitor is not None
        before = monitor.reported_until() if restored else None
        if not restored and (settings.from_end or not settings.paths):
            before = 1 << 62
        if before is not None:
            served.prime(past(settings.store, before))

    def close(self) -> None:
        self.store.close()
        if self.api is not None:
            self.api.close()
