"""The families of events, one module each, and their registry.

A family declares its Batch, its panels and its ``/metrics`` counters (``base.py``);
a parser says which family its events are (``parsers/``).  A new family is a module
here and one line below.
"""

from __future__ import annotations

from .base import Family, Panel
from .http import HTTP
from .mongo import MONGO
from .pylog import PYLOG

#: Family name -> family.
FAMILIES: dict[str, Family] = {family.name: family for family in (HTTP, MONGO, PYLOG)}

__all__ = ["FAMILIES", "HTTP", "MONGO", "PYLOG", "Family", "Panel"]
