"""Parsers across tool versions and output layouts (issue 7, item 2).

Every fixture here is real output of another version than Debian 12's (built from the
release tag or unpacked from a Debian package, see tests/golden/*/README.md), except the
pgbench 13 document, which is hand-built from the documented format. Expected numbers
are copied by hand from the files, and unit conversions are checked against a second
field of the same output (bandwidth = IOPS x block size), so a wrong unit fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.samples import ParsedOutput
from bench.workloads import REGISTRY
from core.errors import ParseError

GOLDEN = Path(__file__).parent / "golden"


def parse(workload: str, case: str) -> ParsedOutput:
    return REGISTRY[workload].parse((GOLDEN / workload / case).read_text(), None)


def values(out: ParsedOutput) -> dict[str, float]:
    return {s.metric: s.value for s in out.samples}


# --------------------------------------------------------------------------- sysbench

def test_padded_rate_from_the_issue_parses():
    """The exact line that failed the quickstart on a busy machine (issue 7)."""
    text = (GOLDEN / "sysbench-memory" / "t2_read_1m.txt").read_text().replace(
        "Total operations: 102400 (69280.10 per second)",
        "Total operations: 9345 ( 9330.67 per second)")
    assert values(REGISTRY["sysbench-memory"].parse(text, None))[
        "operations_per_second"] == 9330.67


@pytest.mark.parametrize(("case", "mib_s", "ops_s", "version"), [
    ("sysbench-1.0.20_t1_write_4m.txt", 4261.22, 1065.31, "1.0.20"),
    ("sysbench-1.0.20_t2_read_16m.txt", 4358.66, 272.42, "1.0.20"),
    ("sysbench-1.0.20_t1_write_1k_rnd.txt", 289.21, 296150.59, "1.0.20"),
    ("sysbench-1.1.0_t1_write_4m.txt", 3351.13, 837.78, "1.1.0"),
    ("sysbench-1.1.0_t2_read_16m.txt", 2729.03, 170.56, "1.1.0"),
    ("sysbench-1.1.0_t1_write_1k_rnd.txt", 170.16, 174238.98, "1.1.0"),
])
def test_sysbench_memory_real_output_of_both_versions(case, mib_s, ops_s, version):
    """Unmodified 4M/16M-block output (padded rates) and sysbench 1.1's layout parse."""
    out = parse("sysbench-memory", case)
    assert values(out) == {"throughput": mib_s, "operations_per_second": ops_s}
    assert out.samples[0].metadata["sysbench_version"] == version
    assert out.samples[0].metadata["total_time_s"] > 1.0


@pytest.mark.parametrize(("case", "eps", "total", "p95"), [
    ("sysbench-1.0.20_t2.txt", 681.12, 1.0154, 27.66),
    ("sysbench-1.1.0_t2.txt", 706.27, 1.0322, 32.53),  # `time elapsed:` instead
])
def test_sysbench_cpu_both_versions(case, eps, total, p95):
    got = values(parse("sysbench-cpu", case))
    assert got["events_per_second"] == eps
    assert got["total_time"] == total
    assert got["latency_p95"] == p95


# --------------------------------------------------------------------------- fio

@pytest.mark.parametrize(("case", "direction", "iops", "kib_s", "p50_ms", "p99_ms"), [
    # fio 2.21: clat in microseconds, bw in KiB/s, no bw_bytes
    ("fio-2.21_randread_libaio.json", "read", 13185.814186, 52743, 0.282, 6.432),
    ("fio-2.21_randrw_psync_2jobs.json", "read", 5923.153693, 23692, 0.068, 3.984),
    ("fio-2.21_randrw_psync_2jobs.json", "write", 2504.491018, 10017, 0.073, 4.576),
    ("fio-2.21_seqwrite_libaio_1m.json", "write", 2136.363636, 2187636, 1.624, 6.752),
    # fio 3.1: clat_ns in nanoseconds, still no bw_bytes
    ("fio-3.1_randread_libaio.json", "read", 20874.562719, 83498, 0.280576, 5.799936),
    ("fio-3.1_randrw_psync_2jobs.json", "write", 4643.678161, 18574, 0.077312, 2.088960),
    ("fio-3.1_seqwrite_libaio_1m.json", "write", 1596.605092, 1634923, 1.384448, 10.420224),
])
def test_fio_older_versions_convert_units(case, direction, iops, kib_s, p50_ms, p99_ms):
    got = values(parse("fio", case))
    d = direction
    assert got[f"{d}_iops"] == pytest.approx(iops)
    assert got[f"{d}_bandwidth"] == pytest.approx(kib_s / 1024)
    assert got[f"{d}_clat_p50"] == pytest.approx(p50_ms)
    assert got[f"{d}_clat_p99"] == pytest.approx(p99_ms)


@pytest.mark.parametrize(("case", "block_kib"), [
    ("fio-2.21_randread_libaio.json", 4), ("fio-2.21_seqwrite_libaio_1m.json", 1024),
    ("fio-3.1_randread_libaio.json", 4), ("fio-3.1_seqwrite_libaio_1m.json", 1024),
    ("randread_psync.json", 4), ("seqread_libaio_1m.json", 1024),
])
def test_fio_bandwidth_unit_agrees_with_iops_times_block_size(case, block_kib):
    """An independent check of the KiB/s vs B/s conversion in every version."""
    got = values(parse("fio", case))
    d = "read" if "read_iops" in got else "write"
    assert got[f"{d}_bandwidth"] == pytest.approx(got[f"{d}_iops"] * block_kib / 1024,
                                                  rel=2e-3)


def test_fio_version_recorded():
    assert parse("fio", "fio-2.21_randread_libaio.json").samples[0].metadata[
        "fio_version"] == "2.21"


def test_fio_3_document_with_microsecond_clat_only_is_refused():
    """A 3.x document must carry clat_ns; a bare `clat` would be read 1000x off."""
    text = (GOLDEN / "fio" / "fio-2.21_randread_libaio.json").read_text().replace(
        '"fio-2.21"', '"fio-3.33"')
    with pytest.raises(ParseError, match=r"fio.*'clat' without 'clat_ns'"):
        REGISTRY["fio"].parse(text, None)


@pytest.mark.parametrize("case", ["fio-2.21_error_no_libaio.txt", "fio-3.1_error_no_libaio.txt"])
def test_fio_engine_error_is_refused(case):
    with pytest.raises(ParseError, match=r"fio.*engine libaio not loadable"):
        parse("fio", case)


# --------------------------------------------------------------------------- iperf3

@pytest.mark.parametrize(("case", "bps", "retrans", "streams", "version"), [
    ("iperf-3.1.3_p1.json", 2998675000.0, 4, 1, "iperf 3.1.3"),
    ("iperf-3.1.3_p2_reverse.json", 5382068000.0, 3, 2, "iperf 3.1.3"),
    ("iperf-3.21_p1.json", 1575405572.27089, 16, 1, "iperf 3.21+"),
    ("iperf-3.21_p2_reverse.json", 1826409804.5705233, 30, 2, "iperf 3.21+"),
])
def test_iperf3_oldest_and_newest(case, bps, retrans, streams, version):
    out = parse("iperf3", case)
    assert values(out) == pytest.approx({"throughput": bps / 1e9, "retransmits": retrans})
    meta = out.samples[0].metadata
    assert (meta["streams"], meta["iperf3_version"]) == (streams, version)


def test_iperf3_3_1_error():
    with pytest.raises(ParseError, match=r"iperf3.*unable to connect to server"):
        parse("iperf3", "iperf-3.1.3_error_refused.json")


# --------------------------------------------------------------------------- ping

@pytest.mark.parametrize(("case", "loss", "rtt", "p99"), [
    ("busybox-1.35.0_c20_i005.txt", 0.0, (0.042, 0.061, 0.072), 0.072),
    ("busybox-1.35.0_loss_partial.txt", 50.0, (0.056, 0.185, 0.661), 0.661),
    ("busybox-1.35.0_q_s1000.txt", 0.0, (0.057, 0.067, 0.078), None),
])
def test_busybox_ping(case, loss, rtt, p99):
    out = parse("ping", case)
    expected = {"packet_loss": loss, **dict(zip(("rtt_min", "rtt_avg", "rtt_max"), rtt,
                                                strict=True))}
    if p99 is not None:
        expected["rtt_p99"] = p99
    assert values(out) == expected  # no rtt_mdev: busybox does not print one
    assert "omitted" in out.samples[1].metadata["rtt_mdev"]


def test_busybox_total_loss_and_unreachable():
    assert values(parse("ping", "busybox-1.35.0_loss100.txt")) == {"packet_loss": 100.0}
    with pytest.raises(ParseError, match=r"ping.*packets transmitted"):
        parse("ping", "busybox-1.35.0_unreachable.txt")


# --------------------------------------------------------------------------- pgbench

def test_pgbench_13_tps_line():
    got = values(parse("db-query", "pgbench-13_handbuilt.json"))
    assert got["tps"] == 857.885252  # the "excluding connections establishing" figure


def test_every_parser_golden_folder_has_a_readme_naming_each_fixture():
    for folder in (GOLDEN / name for name in sorted(REGISTRY)):
        readme = (folder / "README.md").read_text()
        for fixture in folder.iterdir():
            if fixture.name != "README.md":
                assert fixture.name in readme, f"{fixture} is not listed in its README"
        assert "captured" in readme


# --------------------------------------------------------------------------- stress-ng

def test_stress_ng_0_22_format_hand_built_from_its_source():
    out = parse("stream", "stress-ng-0.22.00_stream2_handbuilt.txt")
    got = values(out)
    assert got["read_bandwidth"] == pytest.approx((5009.60 + 5079.38) * 1.048576)
    assert got["write_bandwidth"] == pytest.approx((3339.73 + 3386.26) * 1.048576)
    assert out.samples[0].metadata["cache_size_kib"] == 32768  # "using cache size of"


def test_stress_ng_0_22_too_short_message():
    with pytest.raises(ParseError, match=r"stress-ng.*too short.*time_s >= 6"):
        parse("stream", "stress-ng-0.22.00_too_short_handbuilt.txt")
