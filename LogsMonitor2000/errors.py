"""The one family of exceptions the library raises.

Every ``MonitorError`` is a problem the user can fix (a missing file, a bad option, a
log in an unknown format, a state file from another log).  Library code raises it and
never exits; ``cli.main`` prints it on one line and exits with status 2.
"""


class MonitorError(Exception):
    """Base class: a user-facing problem, reported on one line."""


class UsageError(MonitorError):
    """The command line asks for something impossible."""


class InputError(MonitorError):
    """The input can't be opened or read."""


class FormatError(MonitorError):
    """The log format can't be recognised."""


class StateError(MonitorError):
    """The ``--state`` file can't be used for this log."""
