"""``python -m LogsMonitor2000``."""

import sys

from .cli import main

sys.exit(main())
