"""Syslog messages (RFC 5424 and RFC 3164) as the sender's host and a log line, with
what the header says of the message: its severity, its tag, its time.

* RFC 5424: ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG``
  (what ``logger --rfc5424`` and rsyslog's ``RSYSLOG_SyslogProtocol23Format`` send);
* RFC 3164: ``<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`` (nginx's ``access_log syslog:``,
  ``logger --rfc3164``), or with an RFC 3339 timestamp (rsyslog's forwarding format);
* anything else after ``<PRI>`` is the message itself, with no host (Python's
  ``SysLogHandler``): the sender's address stands for it.

The message is the log line, read in the run's format; its time is the log line's, not
the header's (the header's is the relay's, and RFC 3164's has no year).  ``-`` as the
HOSTNAME means none.  A message without ``<PRI>`` is taken whole.  A message that is no
log line of a format - what Python's ``SysLogHandler`` sends with its default
formatter, read with ``--format pylog`` - is made a logging record from the header
(``parsers/pylog.py``, ``syslog_record``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..bounds import MAX_KEY_CHARS

_PRI = re.compile(rb"<([0-9]{1,3})>")
_RFC5424 = re.compile(rb"1 (\S+) (\S+) (\S+) \S+ \S+ ")
_STRUCTURED = re.compile(rb'-|(?:\[(?:[^\]"\\]|\\.|"(?:[^"\\]|\\.)*")*\])+')
_RFC3164 = re.compile(
    rb"(?:[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}|([0-9]{4}-[0-9]{2}-[0-9]{2}T\S+))"
    rb" (\S+) "
)
#: A TAG (``nginx:``, ``app[42]:``) in front of an RFC 3164 message.
_TAG = re.compile(rb"([\w./-]{1,48})(?:\[[0-9]{1,10}\])?: ?")


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    """A message: its sender's HOSTNAME (None: none), its text as one line, and what the
    header says of it (each None when it doesn't)."""

    host: str | None
    text: str
    #: PRI's severity, 0 (emergency) to 7 (debug).
    severity: int | None = None
    #: RFC 5424's APP-NAME, RFC 3164's TAG.
    tag: str | None = None
    #: RFC 5424's (or an RFC 3339) timestamp, in seconds since the epoch.
    time: float | None = None


_BOM = b"\xef\xbb\xbf"


def parse_message(message: bytes) -> SyslogMessage:
    """The HOSTNAME, the text (as one line) and the header's facts of ``message``."""
    message = message.rstrip(b"\r\n\0")
    host = tag = stamp = None
    severity: int | None = None
    pri = _PRI.match(message)
    if pri is not None:
        severity = int(pri.group(1)) % 8
        at = pri.end()
        modern = _RFC5424.match(message, at)
        if modern is not None:
            stamp, host, tag = modern.group(1), modern.group(2), modern.group(3)
            data = _STRUCTURED.match(message, modern.end())
            at = modern.end() if data is None else data.end()
            if message[at : at + 1] == b" ":
                at += 1
        else:
            legacy = _RFC3164.match(message, at)
            if legacy is not None:
                stamp, host = legacy.group(1), legacy.group(2)
                at = legacy.end()
                found = _TAG.match(message, at)
                if found is not None:
                    tag, at = found.group(1), found.end()
        message = message[at:]
    if message.startswith(_BOM):
        message = message[len(_BOM) :]
    text = message.decode("utf-8", "replace").replace("\n", " ").replace("\r", " ")
    return SyslogMessage(
        host=(
            None
            if host is None or host == b"-"
            else host[:MAX_KEY_CHARS].decode("utf-8", "replace")
        ),
        text=text,
        severity=severity,
        tag=None if tag is None or tag == b"-" else tag.decode("utf-8", "replace"),
        time=_seconds(stamp),
    )


def _seconds(stamp: bytes | None) -> float | None:
    """An RFC 5424 (RFC 3339) timestamp as seconds since the epoch (None: none)."""
    if stamp is None or stamp == b"-":
        return None
    text = stamp.decode("ascii", "replace")
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
