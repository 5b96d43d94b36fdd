"""Golden-file tests: real output of the real tools (captured on this machine) -> samples.

Expected numbers are copied by hand from the golden files, so a parser that reads the
wrong field, the wrong line or the wrong unit fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.samples import ParsedOutput
from bench.workloads import REGISTRY
from core.errors import ParseError

GOLDEN = Path(__file__).parent / "golden"
MIB = 1024 * 1024


def golden(workload: str, case: str) -> str:
    return (GOLDEN / workload / case).read_text()


def parse(workload: str, case: str) -> ParsedOutput:
    return REGISTRY[workload].parse(golden(workload, case), None)


def values(out: ParsedOutput) -> dict[str, float]:
    return {s.metric: s.value for s in out.samples}


def units(out: ParsedOutput) -> dict[str, str]:
    return {s.metric: s.unit for s in out.samples}


# --------------------------------------------------------------------------- sysbench-memory

@pytest.mark.parametrize(("case", "mib_s", "ops_s", "threads", "block", "oper"), [
    ("t1_write_1k.txt", 5040.89, 5161868.34, 1, "1KiB", "write"),
    ("t2_read_1m.txt", 69280.10, 69280.10, 2, "1024KiB", "read"),
    ("t2_write_4k.txt", 8798.10, 2252313.56, 2, "4KiB", "write"),
    ("t2_read_rnd_unlimited.txt", 2411.68, 2469561.97, 2, "1KiB", "read"),
    ("t1_read_total_limited.txt", 37987.33, 37987.33, 1, "1024KiB", "read"),
])
def test_sysbench_memory_golden(case, mib_s, ops_s, threads, block, oper):
    out = parse("sysbench-memory", case)
    assert values(out) == {"throughput": mib_s, "operations_per_second": ops_s}
    assert units(out) == {"throughput": "MiB/s", "operations_per_second": "ops/s"}
    meta = out.samples[0].metadata
    assert (meta["threads"], meta["block_size"], meta["operation"]) == (threads, block, oper)


def test_sysbench_memory_fatal_names_the_reason():
    with pytest.raises(ParseError, match=r"sysbench.*FATAL: Invalid value for memory-oper"):
        parse("sysbench-memory", "fatal_bad_oper.txt")


def test_sysbench_memory_rejects_cpu_output():
    text = "sysbench 1.0.20\nNumber of threads: 1\nevents per second:  1000.0\n"
    with pytest.raises(ParseError, match=r"sysbench.*not the output of `sysbench memory"):
        REGISTRY["sysbench-memory"].parse(text, None)


# --------------------------------------------------------------------------- stream

@pytest.mark.parametrize(("case", "read_mib", "write_mib", "instances"), [
    ("stream1.txt", 5743.90, 3829.27, 1),
    ("stream2.txt", 5009.60 + 5079.38, 3339.73 + 3386.26, 2),
    ("stream2_l3_4m.txt", 8624.76 + 7963.53, 5749.84 + 5309.02, 2),
])
def test_stream_golden_sums_instances_and_converts_to_decimal_mb(case, read_mib, write_mib,
                                                                 instances):
    out = parse("stream", case)
    got = values(out)
    assert set(got) == {"read_bandwidth", "write_bandwidth"}
    assert got["read_bandwidth"] == pytest.approx(read_mib * 1.048576)
    assert got["write_bandwidth"] == pytest.approx(write_mib * 1.048576)
    assert units(out) == {"read_bandwidth": "MB/s", "write_bandwidth": "MB/s"}
    meta = out.samples[0].metadata
    assert meta["instances"] == instances
    assert meta["stress_ng_read_mib_per_s"] == pytest.approx(read_mib)


def test_stream_reports_cache_size_used():
    assert parse("stream", "stream2_l3_4m.txt").samples[0].metadata["cache_size_kib"] == 4096
    assert parse("stream", "stream1.txt").samples[0].metadata["cache_size_kib"] == 32768


def test_stream_too_short_run_is_an_error():
    with pytest.raises(ParseError, match=r"stress-ng.*too short.*time_s >= 6"):
        parse("stream", "too_short.txt")


def test_stream_bad_option_output():
    with pytest.raises(ParseError, match=r"stress-ng.*dispatching hogs"):
        parse("stream", "bad_option.txt")


def test_stream_missing_instance_is_an_error():
    lines = [ln for ln in golden("stream", "stream2.txt").splitlines()
             if "(instance 1)" not in ln]
    with pytest.raises(ParseError, match=r"stress-ng.*1 of 2 stream instances"):
        REGISTRY["stream"].parse("\n".join(lines), None)


def test_stream_truncated_before_completion_is_an_error():
    text = golden("stream", "stream1.txt")
    cut = text[: text.index("stress-ng: metrc:")]
    with pytest.raises(ParseError, match=r"stress-ng.*successful run completed"):
        REGISTRY["stream"].parse(cut, None)


def test_stream_failure_line_is_an_error():
    text = golden("stream", "stream1.txt").replace(
        "successful run completed", "unsuccessful run completed")
    with pytest.raises(ParseError, match=r"stress-ng.*run failed"):
        REGISTRY["stream"].parse(text, None)


# --------------------------------------------------------------------------- fio

@pytest.mark.parametrize(("case", "direction", "iops", "bw_bytes", "p50_ns", "p99_ns"), [
    ("randread_psync.json", "read", 25424.575425, 104139060, 36096, 75264),
    ("randread_psync_note.json", "read", 24930.06993, 408454265, 78336, 120320),
    ("randwrite_libaio.json", "write", 62953.046953, 257855680, 168960, 468992),
    ("seqread_libaio_1m.json", "read", 657.057654, 688974886, 6258688, 7110656),
])
def test_fio_golden_single_direction(case, direction, iops, bw_bytes, p50_ns, p99_ns):
    out = parse("fio", case)
    d = direction
    assert values(out) == pytest.approx({
        f"{d}_iops": iops, f"{d}_bandwidth": bw_bytes / MIB,
        f"{d}_clat_p50": p50_ns / 1e6, f"{d}_clat_p99": p99_ns / 1e6})
    assert units(out) == {f"{d}_iops": "IOPS", f"{d}_bandwidth": "MiB/s",
                          f"{d}_clat_p50": "ms", f"{d}_clat_p99": "ms"}


def test_fio_golden_randrw_io_uring_two_jobs_group_reported():
    out = parse("fio", "randrw_iouring_2jobs.json")
    assert values(out) == pytest.approx({
        "read_iops": 53000.998004, "read_bandwidth": 217092087 / MIB,
        "read_clat_p50": 0.142336, "read_clat_p99": 0.423936,
        "write_iops": 22730.538922, "write_bandwidth": 93104287 / MIB,
        "write_clat_p50": 0.168960, "write_clat_p99": 0.610304})
    meta = out.samples[0].metadata
    assert meta["ioengine"] == "io_uring" and meta["numjobs"] == "2"
    assert meta["clat_combined"] == "fio-group-report"


def test_fio_golden_jobs_without_group_reporting_are_summed():
    out = parse("fio", "randwrite_2jobs_no_group.json")
    got = values(out)
    assert got["write_iops"] == pytest.approx(26215.820312 + 26363.28125)
    assert got["write_bandwidth"] == pytest.approx((107380000 + 107984000) / MIB)
    assert got["write_clat_p99"] == pytest.approx(0.197632)
    assert "read_iops" not in got
    meta = out.samples[0].metadata
    assert meta["job_entries"] == 2 and meta["clat_combined"] == "max-over-jobs"


def test_fio_note_before_json_is_kept_as_metadata():
    assert golden("fio", "randread_psync_note.json").startswith("note:")
    meta = parse("fio", "randread_psync_note.json").samples[0].metadata
    assert any("queue depth will be capped at 1" in n for n in meta["notes"])


def test_fio_job_error_in_json():
    with pytest.raises(ParseError, match=r"fio.*'bakeoff' failed with error 2 \(No such file"):
        parse("fio", "error_job.json")


def test_fio_error_line_without_json():
    with pytest.raises(ParseError, match=r"fio.*no JSON document.*func=lstat"):
        parse("fio", "error_nodir.txt")


def test_fio_truncated_json():
    text = golden("fio", "randread_psync.json")
    with pytest.raises(ParseError, match=r"fio.*truncated or invalid"):
        REGISTRY["fio"].parse(text[: len(text) // 2], None)


# --------------------------------------------------------------------------- iperf3

@pytest.mark.parametrize(("case", "bps", "retrans", "streams", "reverse"), [
    ("p1.json", 14554891721.515621, 1, 1, False),
    ("p4.json", 8958743256.13445, 20, 4, False),
    ("p1_reverse.json", 22848902695.627216, 0, 1, True),
    ("p4_reverse.json", 17348505743.49473, 0, 4, True),
    ("p2_omit.json", 20341384734.315323, 0, 2, False),
])
def test_iperf3_golden(case, bps, retrans, streams, reverse):
    out = parse("iperf3", case)
    assert values(out) == pytest.approx({"throughput": bps / 1e9, "retransmits": retrans})
    assert units(out) == {"throughput": "Gbit/s", "retransmits": "count"}
    meta = out.samples[0].metadata
    assert (meta["streams"], meta["reverse"]) == (streams, reverse)


def test_iperf3_uses_receiver_not_sender_sum():
    out = parse("iperf3", "p1.json")
    # sum_sent says 14.605 Gbit/s; the receiver got 14.555 Gbit/s
    assert values(out)["throughput"] == pytest.approx(14.554891721515621)
    assert out.samples[0].metadata["sender_gbit_per_s"] == pytest.approx(14.605408, abs=1e-6)


def test_iperf3_missing_retransmits_omits_the_metric():
    text = golden("iperf3", "p1.json").replace('"retransmits":', '"retransmits_gone":')
    out = REGISTRY["iperf3"].parse(text, None)
    assert {s.metric for s in out.samples} == {"throughput"}
    assert "omitted" in out.samples[0].metadata["retransmits"]


def test_iperf3_error_key_is_raised():
    with pytest.raises(ParseError, match=r"iperf3.*unable to connect to server: Connection"):
        parse("iperf3", "error_refused.json")


def test_iperf3_truncated_json():
    text = golden("iperf3", "p4.json")
    with pytest.raises(ParseError, match=r"iperf3.*truncated or invalid"):
        REGISTRY["iperf3"].parse(text[: int(len(text) * 0.9)], None)


# --------------------------------------------------------------------------- ping

@pytest.mark.parametrize(("case", "rtt", "loss", "p99"), [
    ("c10_i001_quiet.txt", (0.009, 0.019, 0.053, 0.012), 0.0, None),
    ("c5_i02_quiet.txt", (0.013, 0.041, 0.052, 0.014), 0.0, None),
    ("c20_i005_verbose.txt", (0.012, 0.032, 0.049, 0.010), 0.0, 0.049),
    ("c10_i002_s1000_n.txt", (0.038, 0.046, 0.056, 0.006), 0.0, 0.056),
    ("loss_partial_verbose.txt", (0.042, 0.052, 0.107, 0.019), 55.0, 0.107),
])
def test_ping_golden(case, rtt, loss, p99):
    out = parse("ping", case)
    expected = dict(zip(("rtt_min", "rtt_avg", "rtt_max", "rtt_mdev"), rtt, strict=True))
    expected["packet_loss"] = loss
    if p99 is not None:
        expected["rtt_p99"] = p99
    assert values(out) == expected
    assert units(out)["packet_loss"] == "%"
    assert all(u == "ms" for m, u in units(out).items() if m.startswith("rtt"))


def test_ping_p99_is_nearest_rank_of_replies():
    out = parse("ping", "loss_partial_verbose.txt")
    p99 = next(s for s in out.samples if s.metric == "rtt_p99")
    assert p99.metadata["replies"] == 9  # "20 packets transmitted, 9 received"


def test_ping_total_loss_is_a_measurement():
    out = parse("ping", "loss100.txt")
    assert values(out) == {"packet_loss": 100.0}
    assert out.samples[0].metadata == {"transmitted": 3, "received": 0}


def test_ping_unreachable_with_errors_is_total_loss():
    out = parse("ping", "unreachable_errors.txt")  # "0 received, +6 errors, 100% packet loss"
    assert values(out) == {"packet_loss": 100.0}
    assert out.samples[0].metadata == {"transmitted": 6, "received": 0}


def test_ping_replies_without_summary_is_truncated():
    text = golden("ping", "c20_i005_verbose.txt")
    cut = text[: text.index("rtt min")]
    with pytest.raises(ParseError, match=r"ping.*no 'rtt min/avg/max/mdev' line"):
        REGISTRY["ping"].parse(cut, None)


# --------------------------------------------------------------------------- all parsers

WORKLOADS = {"sysbench-memory": "sysbench", "stream": "stress-ng", "fio": "fio",
             "iperf3": "iperf3", "ping": "ping"}
GOOD_CASE = {"sysbench-memory": "t1_write_1k.txt", "stream": "stream1.txt",
             "fio": "randread_psync.json", "iperf3": "p1.json",
             "ping": "c20_i005_verbose.txt"}


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("bad", [
    "",
    "   \n\n",
    "FATAL: something went badly wrong\n",
    "error: cannot allocate memory\n",
    "Lorem ipsum dolor sit amet\nconsectetur adipiscing elit\n",
    "{\"not\": \"what we expected\"",
])
def test_bad_output_raises_parse_error_naming_the_tool(workload, bad):
    with pytest.raises(ParseError) as info:
        REGISTRY[workload].parse(bad, None)
    assert info.value.tool == WORKLOADS[workload]
    assert str(info.value).startswith(f"{WORKLOADS[workload]}: cannot parse output")


@pytest.mark.parametrize("workload", WORKLOADS)
def test_truncated_output_raises_parse_error(workload):
    text = golden(workload, GOOD_CASE[workload])
    with pytest.raises(ParseError) as info:
        REGISTRY[workload].parse(text[: len(text) // 3], None)
    assert info.value.tool == WORKLOADS[workload]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_fatal_line_in_otherwise_good_output(workload):
    text = golden(workload, GOOD_CASE[workload])
    with pytest.raises(ParseError, match=r"FATAL: out of memory"):
        REGISTRY[workload].parse("FATAL: out of memory\n" + text, None)
