"""Byte-identical JSON output: ``python -m tools.identical record DIR`` runs the monitor
with ``--output json`` over every log of the benchmark (written there by
``tools.bench``'s writers when missing), with ``--jobs 1`` and with the default, and
keeps the outputs in DIR; ``python -m tools.identical check DIR`` runs them again and
compares them byte for byte with what was kept.

    python -m tools.identical record /tmp/identical     # before a change
    python -m tools.identical check /tmp/identical      # after it
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

try:
    from tools.bench import OPTIONS, WRITERS, prepare
except ImportError:  # (before the benchmark moved out of tests/)
    from tools.bench import OPTIONS, WRITERS, prepare  # type: ignore[no-redef]

TOP = Path(__file__).resolve().parent.parent
LINES = 1_000_000
JOBS = {"jobs1": ["--jobs", "1"], "default": []}


def outputs(folder: Path) -> dict[str, bytes]:
    found = {}
    for name in WRITERS:
        inputs = prepare(folder, name, LINES)
        for label, jobs in JOBS.items():
            command = [sys.executable, "-m", "LogsMonitor2000", *map(str, inputs)]
            command += ["--output", "json", *OPTIONS.get(name, []), *jobs]
            done = subprocess.run(command, capture_output=True, cwd=TOP, check=False)
            found[f"{name}.{label}"] = done.stdout + b"\n-- exit %d\n" % done.returncode
    return found


def main() -> int:
    what, folder = sys.argv[1], Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    differ = 0
    for key, data in outputs(folder).items():
        kept = folder / f"{key}.json"
        digest = hashlib.sha256(data).hexdigest()[:16]
        if what == "record":
            kept.write_bytes(data)
            print(f"{key:<20} {len(data):>10,} bytes  {digest}")
        elif kept.read_bytes() == data:
            print(f"{key:<20} identical ({len(data):,} bytes)")
        else:
            differ += 1
            print(f"{key:<20} DIFFERS ({len(data):,} bytes against {kept.stat().st_size:,})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
