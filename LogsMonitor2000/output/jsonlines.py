"""``--output json``: one JSON object per line on stdout, and nothing else there
(``docs/json.md``).  Each report says what it is as JSON (``to_json``); the keys are a
contract: keys may be added, never renamed."""

from __future__ import annotations

import json

from ..reports import Report, Summary
from . import RunInfo, Stream


class JsonLinesNotifier:
    """Writes reports as JSON lines."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    def start(self, run: RunInfo) -> None:
        pass

    def emit(self, record: Report) -> None:
        self.stream.write(json.dumps(record.to_json()) + "\n")

    def flush(self) -> None:
        self.stream.flush()

    def finish(self, summary: Summary) -> None:
        self.stream.write(json.dumps(summary.to_json()) + "\n")
        self.stream.flush()
