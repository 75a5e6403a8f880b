"""Syslog messages (RFC 5424 and RFC 3164) as the sender's host and a log line.

* RFC 5424: ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG``
  (what ``logger --rfc5424`` and rsyslog's ``RSYSLOG_SyslogProtocol23Format`` send);
* RFC 3164: ``<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`` (nginx's ``access_log syslog:``,
  ``logger --rfc3164``), or with an RFC 3339 timestamp (rsyslog's forwarding format);
* anything else after ``<PRI>`` is the message itself, with no host (Python's
  ``SysLogHandler``): the sender's address stands for it.

The message is the log line, read in the run's format; its time is the log line's, not
the header's (the header's is the relay's, and RFC 3164's has no year).  ``-`` as the
HOSTNAME means none.  A message without ``<PRI>`` is taken whole.
"""

from __future__ import annotations

import re

_PRI = re.compile(rb"<([0-9]{1,3})>")
_RFC5424 = re.compile(rb"1 (\S+) (\S+) \S+ \S+ \S+ ")
_STRUCTURED = re.compile(rb'-|(?:\[(?:[^\]"\\]|\\.|"(?:[^"\\]|\\.)*")*\])+')
_RFC3164 = re.compile(
    rb"(?:[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}|[0-9]{4}-[0-9]{2}-[0-9]{2}T\S+)"
    rb" (\S+) "
)
#: A TAG (``nginx:``, ``app[42]:``) in front of an RFC 3164 message.
_TAG = re.compile(rb"[\w./-]{1,48}(?:\[[0-9]{1,10}\])?: ?")
_BOM = b"\xef\xbb\xbf"


def parse_message(message: bytes) -> tuple[str | None, str]:
    """The HOSTNAME of ``message`` (None when it has none) and its text as one line."""
    message = message.rstrip(b"\r\n\0")
    host: bytes | None = None
    pri = _PRI.match(message)
    if pri is not None:
        at = pri.end()
        modern = _RFC5424.match(message, at)
        if modern is not None:
            host = modern.group(2)
            data = _STRUCTURED.match(message, modern.end())
            at = modern.end() if data is None else data.end()
            if message[at : at + 1] == b" ":
                at += 1
        else:
            legacy = _RFC3164.match(message, at)
            if legacy is not None:
                host = legacy.group(1)
                at = legacy.end()
                tag = _TAG.match(message, at)
                if tag is not None:
                    at = tag.end()
        message = message[at:]
    if message.startswith(_BOM):
        message = message[len(_BOM) :]
    text = message.decode("utf-8", "replace").replace("\n", " ").replace("\r", " ")
    if host is None or host == b"-":
        return None, text
    return host.decode("utf-8", "replace"), text
