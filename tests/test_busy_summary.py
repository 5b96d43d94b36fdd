"""A busy host is said once and never hidden behind a firm verdict (issue 23, Build 4).

The scored fixture (tests/decide_fixture.py) has `large` ahead of `small` on CPU
throughput by 1.9x; flagging large's three sysbench-cpu units busy must turn the
headline from "beyond the run-to-run noise" into a lead that is not trustworthy, naming
CPU throughput, with one banner counting the busy units.
"""

from __future__ import annotations

import json

from decide_fixture import make_campaign
from rich.console import Console

from bench.hostload import banner, count_busy, site_lines
from bench.show import render_problems
from scoring.decide import score_campaign_dir
from scoring.summary import decision, summary_lines


def _flag(folder, keys):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    for key in keys:
        manifest["units"][key].update(busy=True, busy_reason="other processes used 1.9 "
                                      "cores on average (python3 pid 4242)")
    path.write_text(json.dumps(manifest))
    return manifest


def test_quiet_host_lead_is_beyond_the_noise_busy_host_lead_is_not(tmp_path):
    folder = make_campaign(tmp_path, reps=4)  # 4: the fixture's invalid rep leaves 3 valid
    quiet = decision(score_campaign_dir(folder, write=False))
    assert quiet["verdict"] == "beyond the noise" and quiet["leader"] == "large", quiet
    assert quiet["busy"] == ""

    _flag(folder, [f"large/sysbench-cpu/{r}" for r in range(4)])
    result = score_campaign_dir(folder)
    d = decision(result)
    assert d["verdict"] == "busy host", d["headline"]
    assert "beyond the run-to-run noise" not in d["headline"]
    assert "not trustworthy" in d["headline"] and "CPU throughput" in d["headline"]
    # 2 sites x 6 workloads (fio has two metrics) x 4 repetitions = 48 units
    assert "Host busy during 4 of 48 units" in d["busy"]
    report = (folder / "report" / "report.md").read_text()
    assert report.count("Host busy during 4 of 48 units") == 1
    assert 'id="busy-banner"' in (folder / "report" / "index.html").read_text()
    assert any("Host busy during" in line for line in summary_lines(result))


def test_busy_units_of_a_site_out_of_the_race_leave_the_verdict_alone(tmp_path):
    # large (1.9x) leads medium (1.5x); small's units are not part of that comparison
    folder = make_campaign(tmp_path, sites=["small", "large", "medium"], reps=4,
                           criteria=[{"name": "cpu", "weight": 5}])
    before = decision(score_campaign_dir(folder, write=False))
    assert before["leader"] == "large" and before["verdict"] == "beyond the noise", before
    _flag(folder, [f"small/sysbench-cpu/{r}" for r in range(4)])
    after = decision(score_campaign_dir(folder, write=False))
    assert after["verdict"] == "beyond the noise" and "Host busy during 4 of" in after["busy"]
    _flag(folder, ["medium/sysbench-cpu/0"])  # now the runner-up's CPU value is in doubt
    assert decision(score_campaign_dir(folder, write=False))["verdict"] == "busy host"


def test_one_line_per_site_in_the_terminal(tmp_path):
    folder = make_campaign(tmp_path)
    manifest = _flag(folder, [f"{s}/{w}/{r}" for s in ("small", "large")
                              for w in ("sysbench-cpu", "stream") for r in range(3)])
    # 6 workloads x 3 repetitions per site, and large has the fixture's extra failed ping/3
    assert count_busy(manifest).count == 12
    lines = site_lines(manifest)
    assert lines == [
        "large: host busy during 6 of 19 units (stream 3, sysbench-cpu 3); kept, their "
        "numbers may understate the site (`bakeoff show` lists the other work)",
        "small: host busy during 6 of 18 units (stream 3, sysbench-cpu 3); kept, their "
        "numbers may understate the site (`bakeoff show` lists the other work)"]
    console = Console(width=80, record=True, color_system=None)
    render_problems(manifest, console)
    busy = [line for line in console.export_text().splitlines() if "BUSY" in line]
    assert len(busy) == 2  # not one per unit
    assert banner({"units": {}}) == ""


# stress-ng 0.15.06 --stream 2 --timeout 6s beside `stress-ng --cpu 4` on this 2-core
# machine: instance 1's loop ran under 4.5 s and printed no rate (instance 0 alone says
# "too short", and it did not need to). Lines as captured from such runs; the metrics table
# is left out (the parser does not read it).
BUSY_STREAM = """\
stress-ng: info:  [19143] setting to a 6 second run per stressor
stress-ng: info:  [19143] dispatching hogs: 2 stream
stress-ng: info:  [19146] stream: Using CPU cache size of 32768K
stress-ng: info:  [19146] stream: memory rate: 739.70 MB read/sec, 493.13 MB write/sec, \
64.64 Mflop/sec (instance 0)
stress-ng: info:  [19143] successful run completed in 6.76s
"""


def test_stream_without_a_rate_on_a_busy_host_blames_the_host_not_time_s():
    import pytest

    from bench.workloads import REGISTRY
    from core.errors import ParseError

    stream = REGISTRY["stream"]
    with pytest.raises(ParseError) as given:
        stream.parse(BUSY_STREAM, stream.Params(time_s=6))
    assert "1 of 2 stream instances" in str(given.value)
    assert "host was too busy" in str(given.value) and "time_s >=" not in str(given.value)
    with pytest.raises(ParseError, match=r"use time_s >= 6"):  # no params: the rule itself
        stream.parse(BUSY_STREAM)
    # the run gets 4 s beyond time_s to fill its arrays, so the loop keeps about time_s
    assert "--timeout" in (argv := stream.plan(stream.Params(time_s=6), _Env()).steps[0].argv)
    assert argv[argv.index("--timeout") + 1] == "10s"


class _Env:
    """What Stream.plan reads of an environment: the client host's vCPU fact."""

    def __init__(self) -> None:
        self.client = type("Host", (), {"facts": {"vcpus": 2}})()
