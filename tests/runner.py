"""Runs the whole suite, as ``python -m unittest`` does, and ends with its own line
``N passed, M failed`` (a test with failing subtests counts once, as failed).

    python -m tests.runner [RESULT_FILE]

With RESULT_FILE, that last line is also written there (``.ci/run`` prints it last).
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent


def main() -> int:
    suite = unittest.defaultTestLoader.discover(str(TOP / "tests"), top_level_dir=str(TOP))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = {
        getattr(test, "test_case", test).id()
        for test, _ in result.failures
        + result.errors
        + [(test, "") for test in result.unexpectedSuccesses]
    }
    passed = result.testsRun - len(failed) - len(result.skipped)
    line = f"{passed} passed, {len(failed)} failed"
    print(line)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(line + "\n", encoding="utf-8")
    return 0 if not failed and result.testsRun else 1


if __name__ == "__main__":
    sys.exit(main())
