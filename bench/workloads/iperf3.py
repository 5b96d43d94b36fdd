"""iperf3: TCP throughput from the client host to the server host (other zone).

The server (`iperf3 -s -1`) serves exactly one test and exits, so nothing lingers if the
runner's stop is missed. Throughput is what the receiver got (`end.sum_received`),
which is the goodput that arrived, not what the sender pushed into its socket buffer.
Retransmits come from the sender's TCP stack (`end.sum_sent.retransmits`); when the
sender's kernel does not report them the metric is omitted rather than reported as 0,
because 0 would claim a clean path that was never observed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from bench.poc.launcher import free_port
from bench.samples import ParsedOutput, Sample
from bench.workloads import _json as J
from bench.workloads._checks import checked_parse
from bench.workloads._cross_checks import check_iperf3
from bench.workloads._iperf3_checks import check_duration, check_intervals, check_streams
from bench.workloads._text import require_text
from bench.workloads.base import Plan, Step, WorkloadParams
from core.errors import ParseError

TOOL = "iperf3"


class Params(WorkloadParams):
    port: int | None = Field(None, ge=1024, le=65535,
                             description="server port; default: a free port chosen per run")
    time_s: int = Field(10, gt=0, le=3600, description="transfer time, seconds")
    streams: int = Field(1, ge=1, le=128, description="parallel TCP streams (-P)")
    reverse: bool = Field(False, description="server sends, client receives (-R)")
    omit_s: int = Field(0, ge=0, le=60, description="leading seconds excluded (-O)")


def _document(text: str) -> dict[str, Any]:
    start = text.find("{")
    if start < 0:
        first = text.strip().splitlines()[0]
        raise ParseError(TOOL, f"no JSON document in the output (was -J given?); first line: "
                               f"{first[:200]!r}")
    doc = J.first_document(TOOL, text, start)
    if not isinstance(doc, dict):
        raise ParseError(TOOL, "the JSON document is not an object")
    return doc


class Iperf3:
    name = "iperf3"
    tool = TOOL
    metrics: ClassVar[dict[str, str]] = {"throughput": "Gbit/s", "retransmits": "count"}
    Params = Params

    def plan(self, params: Params, env: Any) -> Plan:
        server = env.server.address
        # never a fixed port: two campaigns (or a stray server) on one address collide
        chosen = params.port or free_port(env.server)
        port = str(chosen)
        server_step = Step("server", ("iperf3", "-s", "-1", "-p", port, "-B", server),
                           background=True, ready_port=chosen,
                           timeout_s=params.time_s + params.omit_s + 120)
        argv: tuple[str, ...] = ("iperf3", "-c", server, "-p", port, "-J",
                                 "-t", str(params.time_s), "-P", str(params.streams),
                                 "--connect-timeout", "5000")
        if params.omit_s:
            argv += ("-O", str(params.omit_s))
        if params.reverse:
            argv += ("-R",)
        client_step = Step("client", argv, timeout_s=params.time_s + params.omit_s + 60)
        return Plan((server_step, client_step), raw_suffix="json")

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        doc = _document(require_text(TOOL, output))
        if doc.get("error"):
            raise ParseError(TOOL, f"iperf3 reported an error: {str(doc['error'])[:300]}")
        test = J.obj(TOOL, doc, "start.test_start", {})
        protocol = J.text(TOOL, test, "protocol", "TCP")
        if protocol != "TCP":
            raise ParseError(TOOL, f"only TCP tests are understood, got {protocol[:40]!r}")
        received = J.obj(TOOL, doc, "end.sum_received")
        bits_per_second = J.num(TOOL, received, "bits_per_second")
        seconds = J.num(TOOL, received, "seconds", None)
        if seconds is not None and seconds <= 0:
            raise ParseError(TOOL, f"end.sum_received.seconds is {seconds:g}: a rate over no "
                                   "time is not a measurement")
        sent = J.obj(TOOL, doc, "end.sum_sent", {})
        meta: dict[str, Any] = {
            "streams": J.count(TOOL, test, "num_streams", None),
            "reverse": bool(J.num(TOOL, test, "reverse", 0)),
            "omit_s": J.num(TOOL, test, "omit", None),
            "seconds": seconds,
            "sender_gbit_per_s": round(J.num(TOOL, sent, "bits_per_second", 0.0) / 1e9, 6),
        }
        version = J.text(TOOL, doc, "start.version", "")
        if version:
            meta["iperf3_version"] = version[:60]
        retransmits = J.count(TOOL, sent, "retransmits", None)
        check_iperf3(sent, doc.get("intervals"), retransmits)
        check_duration(doc)
        check_streams(doc)
        check_intervals(doc)
        if retransmits is None:
            meta["retransmits"] = "not reported by the sender's kernel; metric omitted"
        samples = [Sample("throughput", bits_per_second / 1e9, "Gbit/s", meta)]
        if retransmits is not None:
            samples.append(Sample("retransmits", retransmits, "count", meta))
        return ParsedOutput(samples)

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("iperf3", "--version")


WORKLOAD = Iperf3()
