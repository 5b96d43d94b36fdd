"""Issue 19, Build 4: parsers check their summary against their details and refuse what no
single run can print (tests/golden/impossible/, each refusal naming the inconsistency);
real outputs, PerfKit Benchmarker's included, still parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.workloads import REGISTRY
from core.errors import ParseError

GOLDEN = Path(__file__).parent / "golden"

IMPOSSIBLE = [
    ("ping", "reply_above_max.txt", r"a reply of 7\.035 ms is above the summary's max 0\.049"),
    ("ping", "loss_7pct_5_of_5.txt", r"7% packet loss printed, but 20 of 20 received is 0%"),
    ("ping", "max_1234.txt", r"min/max 0\.012/1234\.5 ms is no reply's time"),
    ("ping", "mdev_1234.txt", r"mdev 1234\.5 ms exceeds half the min-max range"),
    ("ping", "avg_off.txt", r"the summary's avg 0\.045 ms differs from the replies' mean"),
    ("ping", "more_replies_than_received.txt", r"20 reply lines, but the summary counts 19"),
    ("db-query", "failed_1e13.json", r"10000000000000 failed transactions in a 2 s run"),
    ("db-query", "transactions_1e13_in_1s.json", r"10000000000000 transactions in a 1 s run"),
    ("db-query", "transactions_5x_tps.json", r"8500 transactions, but tps 857\.885 over the "
                                              r"2 s run allows about 1716"),
    ("iperf3", "retransmits_1e13.json", r"10000000000000 retransmits, but 1\.82583e\+09 bytes"),
    ("iperf3", "intervals_3x_total.json", r"the intervals add up to .* but end\.sum_sent says"),
    ("fio", "iops_10x_total_ios.json", r"read: iops 254246, but total_ios 25450 in 1001 ms is "
                                       r"25424\.6"),
]


@pytest.mark.parametrize("workload,case,match", IMPOSSIBLE,
                         ids=[f"{w}/{c}" for w, c, _ in IMPOSSIBLE])
def test_impossible_output_is_refused(workload, case, match):
    text = (GOLDEN / "impossible" / workload / case).read_text()
    with pytest.raises(ParseError, match=match):
        REGISTRY[workload].parse(text, None)


def test_every_impossible_golden_is_tested_and_listed():
    readme = (GOLDEN / "impossible" / "README.md").read_text()
    files = {f"{p.parent.name}/{p.name}" for p in (GOLDEN / "impossible").glob("*/*")}
    assert files == {f"{w}/{c}" for w, c, _ in IMPOSSIBLE}
    assert all(f in readme for f in files)


def test_ping_transmitted_beyond_the_count_asked():
    text = (GOLDEN / "ping" / "c20_i005_verbose.txt").read_text()
    params = REGISTRY["ping"].Params(count=10)
    with pytest.raises(ParseError, match=r"20 packets transmitted, but the run sent at most 10"):
        REGISTRY["ping"].parse(text, params)


def test_perfkit_ping_output_parses_and_agrees_with_its_replies():
    """PerfKit Benchmarker's tests/data/ping.out: 100 replies, summary 0.280/0.352/0.602/0.056.
    Independent check: the replies' own min, max and mean (computed here with re)."""
    import re
    import statistics

    text = (GOLDEN / "ping" / "pkb-ping.out").read_text()
    replies = [float(t) for t in re.findall(r"time=([\d.]+) ms", text)]
    got = {s.metric: s.value for s in REGISTRY["ping"].parse(text, None).samples}
    assert got["rtt_min"] == 0.280 == min(replies)
    assert got["rtt_max"] == 0.602 == max(replies)
    assert abs(statistics.fmean(replies) - got["rtt_avg"]) < 0.001
    assert got["packet_loss"] == 0.0


def test_perfkit_fio_five_different_jobs_yield_per_job_samples():
    """PerfKit Benchmarker's fio 2.1.4 output runs five different jobs one after another;
    the old parser summed their read IOPS (253 + 317 + 323 = 893), a number of no job. The
    expected per-job values are the `iops` fields of each job entry, read here with json."""
    import json

    text = (GOLDEN / "fio" / "pkb-fio-2.1.4_five_jobs.json").read_text()
    doc = json.loads(text)
    expected = {(j["jobname"], f"{d}_iops"): float(j[d]["iops"])
                for j in doc["jobs"] for d in ("read", "write") if j[d]["io_bytes"] > 0}
    got = {(s.metadata["job"], s.metric): s.value
           for s in REGISTRY["fio"].parse(text, None).samples if s.metric.endswith("_iops")}
    assert got == expected
    assert got[("sequential_read", "read_iops")] == 253.0
    assert 893.0 not in got.values()


def test_identical_fio_jobs_are_still_aggregated():
    """numjobs clones without group reporting (same name, same options) are one job."""
    import json

    doc = json.loads((GOLDEN / "fio" / "pkb-fio-2.1.4_five_jobs.json").read_text())
    clone = doc["jobs"][1]
    doc["jobs"] = [clone, json.loads(json.dumps(clone))]
    samples = REGISTRY["fio"].parse(json.dumps(doc), None).samples
    iops = [s for s in samples if s.metric == "read_iops"]
    assert [s.value for s in iops] == [2 * float(clone["read"]["iops"])]
    assert "job" not in iops[0].metadata and iops[0].metadata["job_entries"] == 2
