"""Fold pgbench per-transaction logs (-l) into one HDR histogram, on the host that ran pgbench.

    python -m bench.poc.pgbench_log LOGFILE_OR_DIR...  → JSON {hdr, transactions, failed, ...}

Log line format (pgbench 15): `client_id transaction_no time script_no time_epoch time_us
[schedule_lag]`, where `time` is the transaction's latency in microseconds, or `failed` /
`skipped`. Folding on the host keeps long runs from shipping megabytes of log lines.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from bench.hdr import encode, new_histogram, record_us


def fold(lines: Iterable[str]) -> dict[str, object]:
    hist = new_histogram()
    counts = {"transactions": 0, "failed": 0, "skipped": 0, "malformed": 0}
    for line in lines:
        parts = line.split()
        if len(parts) < 6:
            counts["malformed"] += int(bool(parts))
            continue
        if parts[2] in ("failed", "skipped"):
            counts[parts[2]] += 1
            continue
        try:
            record_us(hist, float(parts[2]))
        except ValueError:
            counts["malformed"] += 1
            continue
        counts["transactions"] += 1
    return {"hdr": encode(hist), **counts}


def main(paths: list[str]) -> int:
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]

    def lines() -> Iterable[str]:
        for path in files:
            with open(path) as fh:
                yield from fh
    print(json.dumps(fold(lines())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
