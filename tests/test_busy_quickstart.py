"""Issue 23, done when: "`make run` beside `stress-ng --cpu 2` completes with exit 0 and a
one-line busy summary". The suite's quickstart_run fixture runs the shipped quickstart
through the CLI, as `make run` does, beside a CPU hog on every CPU this process may use
(tests/hog_support.py, bounded in time)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def test_quickstart_beside_a_cpu_hog_exits_0_and_says_busy_once_per_site(quickstart_run):
    folder, stdout = quickstart_run
    manifest = json.loads((folder / "manifest.json").read_text())
    assert quickstart_run.returncode == 0, stdout[-3000:]
    busy_units = [k for k, u in manifest["units"].items() if u.get("busy")]
    assert busy_units, "the hog did not make any unit busy: the test proves nothing"
    busy = [line for line in stdout.splitlines() if line.startswith("BUSY ")]
    sites = {k.split("/")[0] for k in busy_units}
    # one line per site that had busy units (bench.hostload.site_lines), none per unit
    assert len(busy) == len(sites), busy
    for site in sites:
        n = sum(k.startswith(f"{site}/") for k in busy_units)
        total = sum(k.startswith(f"{site}/") for k in manifest["units"])
        assert any(f"{site}: host busy during {n} of {total} units" in line for line in busy), \
            busy
