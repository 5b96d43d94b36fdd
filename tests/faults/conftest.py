"""One uninterrupted run of the reduced quickstart, shared by the fault suite.

While it runs, the concurrency cases act on it (a resume of the live campaign, `gc
--delete` of it, a second `--no-wait` run); their outcomes are kept for
test_concurrency.py to check, and the finished run's unit set is what every resumed
campaign must end with. One run instead of two keeps the suite inside its time budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

from tests.faults.support import Run, units_in_tables


@dataclass
class Uninterrupted:
    run: Run
    rc: int
    err: str
    units: set[tuple[str, str, int]]
    namespaces_before: list[dict] = field(default_factory=list)
    namespaces_after: list[dict] = field(default_factory=list)
    attempts: dict[str, object] = field(default_factory=dict)


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory) -> Uninterrupted:
    tmp = tmp_path_factory.mktemp("baseline")
    live = Run(tmp, extra=("--no-score",))
    try:
        deadline = time.monotonic() + 600
        while not live.reached("postgres") and live.proc.poll() is None:
            assert time.monotonic() < deadline, "the baseline never started PostgreSQL"
            time.sleep(0.05)
        before = [r for r in live.resources() if r["kind"] == "namespace"]
        attempts = {
            "resume": live.bakeoff("run", str(live.scenario), "--results", str(live.results),
                                   "--resume", live.campaign_id, "--quiet", "--no-score"),
            "gc_delete": live.bakeoff("gc", "--delete", "--campaign", live.campaign_id),
            "gc_list": live.bakeoff("gc", "-p", "local"),
            "second": live.bakeoff("run", str(live.scenario), "--results",
                                   str(tmp / "second"), "--quiet", "--no-wait"),
            "alive_after": live.proc.poll() is None,
        }
        after = [r for r in live.resources() if r["kind"] == "namespace"]
        rc, err = live.wait(timeout=600)
    finally:
        if live.proc.poll() is None:
            live.proc.kill()
            live.proc.wait()
    units = units_in_tables(live) if rc == 0 else set()
    return Uninterrupted(live, rc, err, units, before, after, attempts)
