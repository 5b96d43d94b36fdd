"""One test per parser defect the review found (issue 7); each failed before the fix.

Before: a traceback (KeyError, TypeError, AttributeError, ValueError from float('1.2.3'),
binascii/zlib/HDR errors) or accepted garbage (negative IOPS, 1e308, a negative count,
a rate over a zero duration). After: a ParseError naming the tool.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench import hdr
from bench.workloads import REGISTRY
from core.errors import ParseError

GOLDEN = Path(__file__).parent / "golden"


def golden(workload: str, case: str) -> str:
    return (GOLDEN / workload / case).read_text()


def edited(workload: str, case: str, edit: Callable[[dict[str, Any]], None]) -> str:
    doc = json.loads(golden(workload, case))
    edit(doc)
    return json.dumps(doc)


def refused(workload: str, text: str, match: str) -> None:
    with pytest.raises(ParseError, match=match) as info:
        REGISTRY[workload].parse(text, None)
    assert str(info.value).startswith(f"{info.value.tool}: cannot parse output")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    return edit


def _endpoint(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        first = sorted(doc["locust"]["endpoints"])[0]
        if value is KeyError:
            del doc["locust"]["endpoints"][first][key]
        else:
            doc["locust"]["endpoints"][first][key] = value
    return edit


# --------------------------------------------------------------------------- text numbers

@pytest.mark.parametrize(("workload", "case", "old", "new", "match"), [
    ("sysbench-cpu", "t1.txt", "events per second:  3196.08", "events per second:  3.196.08",
     r"sysbench.*'3\.196\.08' is not a number"),
    ("sysbench-memory", "t2_read_1m.txt", "(69280.10 MiB/sec)", "(69.280.10 MiB/sec)",
     r"sysbench.*is not a number"),
    ("stream", "stream1.txt", "5743.90 MB read/sec", "57.43.90 MB read/sec",
     r"stress-ng.*is not a number"),
    ("ping", "c20_i005_verbose.txt", "rtt min/avg/max/mdev = 0.012",
     "rtt min/avg/max/mdev = 0.0.12", r"ping.*is not a number"),
    ("ping", "c20_i005_verbose.txt", "rtt min/avg/max/mdev = 0.012/0.032/0.049",
     "rtt min/avg/max/mdev = 0.112/0.032/0.049", r"ping.*out of order"),
    ("sysbench-cpu", "t1.txt", "total time:                          1.0003s",
     "total time:                          0.0000s", r"sysbench.*total time is 0"),
])
def test_malformed_numbers_in_text_output(workload, case, old, new, match):
    text = golden(workload, case)
    assert old in text
    refused(workload, text.replace(old, new, 1), match)


# --------------------------------------------------------------------------- JSON documents

@pytest.mark.parametrize(("workload", "case", "edit", "match"), [
    # accepted garbage before
    ("fio", "randread_psync.json", _set("jobs/0/read/iops", -25424.5),
     r"fio: .*read_iops = -25424.5 IOPS: cannot be negative"),
    # (since issue 19 the cross-checks name these first: the rate against its own counts)
    ("fio", "randread_psync.json", _set("jobs/0/read/bw_bytes", 1e308),
     r"fio: .*bw_bytes 1e\+308 B/s, but bw 101698 KiB/s"),
    ("iperf3", "p1.json", _set("end/sum_received/bits_per_second", 1e308),
     r"iperf3: .*sum_received.bits_per_second 1e\+308, but 1\.81967e\+09 bytes"),
    ("iperf3", "p1.json", _set("end/sum_received/seconds", 0),
     r"iperf3: .*seconds is 0"),
    ("db-query", "pgbench.json", _set("log/failed", -1),
     r"pgbench: .*'failed' must be a non-negative whole number"),
    ("http-load", "checkout.json", _set("locust/window_s", 0),
     r"locust: .*window_s is 0"),
    # tracebacks before
    ("fio", "randread_psync.json", _set("jobs/0/read/clat_ns/percentile", None),
     r"fio: .*no percentile table"),
    ("fio", "randread_psync.json", _set("jobs/0/read", []),
     r"fio: .*not an object"),
    ("fio", "randread_psync.json", _set("jobs/0/error", "x"),
     r"fio: .*'error' is not a number"),
    ("iperf3", "p1.json", _set("start", []),
     r"iperf3: .*not an object"),
    ("iperf3", "p1.json", _set("end/sum_sent/retransmits", "4"),
     r"iperf3: .*'retransmits' is not a number"),
    ("db-query", "pgbench.json", _set("log", ["not", "an", "object"]),
     r"pgbench: .*'log' is not an object"),
    ("db-query", "pgbench.json", _set("log/transactions", "1700"),
     r"pgbench: .*'transactions' is not a number"),
    ("db-query", "pgbench.json", _set("pgbench_stdout", 17),
     r"pgbench: .*'pgbench_stdout' is not a string"),
    ("http-load", "checkout.json", _endpoint("failures", KeyError),
     r"locust: .*no 'failures'"),
    ("http-load", "checkout.json", _endpoint("requests", None),
     r"locust: .*'requests' is not a number"),
    ("http-load", "checkout.json", _endpoint("hdr", "!!!not base64!!!"),
     r"locust: .*hdr: not base64"),
    ("http-load", "checkout.json", _set("locust/cpu_samples", {"1": [None]}),
     r"locust: .*is not a number"),
    ("http-load", "constant_rate_behind.json", _set("locust/rate", None),
     r"locust: .*'rate' is not an object"),
    ("http-load", "checkout.json", _set("locust", "nothing"),
     r"locust: .*'locust' is not an object"),
])
def test_hostile_json_fields(workload, case, edit, match):
    refused(workload, edited(workload, case, edit), match)


def test_nan_and_infinity_in_json_are_refused():
    text = golden("fio", "randread_psync.json").replace('"iops" : 25424.575425', '"iops" : NaN')
    assert "NaN" in text
    refused("fio", text, r"fio: .*(non-finite|truncated or invalid)")
    text = golden("iperf3", "p1.json").replace('"bits_per_second":	14554891721.515621',
                                               '"bits_per_second":	Infinity')
    assert "Infinity" in text
    refused("iperf3", text, r"iperf3: .*(non-finite|truncated or invalid)")


def test_damaged_http_server_metrics_drop_only_the_server_samples():
    text = edited("http-load", "checkout.json",
                  _set("server_metrics/after", "poc_db_query_duration_seconds_bucket{le=\"x"))
    out = REGISTRY["http-load"].parse(text, None)
    assert not any(s.metric.startswith("server_") for s in out.samples)
    everything = next(s for s in out.samples if s.metric == "requests"
                      and s.metadata["endpoint"] == "all")
    assert "server metrics dropped" in everything.metadata["server_metrics"]


# --------------------------------------------------------------------------- HDR decoding

def _blob(encoded: str) -> tuple[bytes, bytes]:
    raw = base64.b64decode(encoded)
    return raw[:8], zlib.decompress(raw[8:])


def _reencode(header: bytes, payload: bytes) -> str:
    body = zlib.compress(payload)
    return base64.b64encode(header[:4] + len(body).to_bytes(4, "big") + body).decode()


def _histogram() -> str:
    h = hdr.new_histogram()
    for us in (100, 200, 5000):
        hdr.record_us(h, us)
    return hdr.encode(h)


@pytest.mark.parametrize("damage", [
    lambda e: e[:-8],  # cut short: length field disagrees
    lambda e: e[:20] + "$$$$" + e[24:],  # not base64
    lambda e: e[:12] + ("A" if e[12] != "A" else "B") + e[13:],  # zlib stream damaged
    lambda e: "",  # empty
    lambda e: "é" * 10,  # not ASCII
])
def test_damaged_histograms_raise_one_error_type(damage):
    with pytest.raises(hdr.HdrDecodeError):
        hdr.decode(damage(_histogram()))


def test_foreign_settings_and_inflation_bombs_are_refused():
    header, payload = _blob(_histogram())
    # significant figures live at byte 12..15 of the payload header (big-endian)
    foreign = payload[:12] + (5).to_bytes(4, "big") + payload[16:]
    with pytest.raises(hdr.HdrDecodeError, match="significant figures"):
        hdr.decode(_reencode(header, foreign))
    with pytest.raises(hdr.HdrDecodeError, match="out of range"):
        hdr.decode(_reencode(header, payload + bytes(hdr.MAX_PAYLOAD_BYTES)))


def test_every_workload_parse_goes_through_the_plausibility_gate():
    for name, workload in REGISTRY.items():
        assert getattr(workload.parse, "__checked_tool__", None) == workload.tool, name
