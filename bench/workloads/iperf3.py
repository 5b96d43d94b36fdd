"""iperf3: TCP throughput from the client host to the server host (other zone).

The server (`iperf3 -s -1`) serves exactly one test and exits, so nothing lingers if the
runner's stop is missed. Throughput is what the receiver got (`end.sum_received`),
which is the goodput that arrived, not what the sender pushed into its socket buffer.
Retransmits come from the sender's TCP stack (`end.sum_sent.retransmits`); when the
sender's kernel does not report them the metric is omitted rather than reported as 0,
because 0 would claim a clean path that was never observed.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from bench.samples import ParsedOutput, Sample
from bench.workloads._text import require_text
from bench.workloads.base import Plan, Step, WorkloadParams
from core.errors import ParseError

TOOL = "iperf3"


class Params(WorkloadParams):
    port: int = Field(5201, ge=1024, le=65535)
    time_s: int = Field(10, gt=0, le=3600)
    streams: int = Field(1, ge=1, le=128, description="parallel TCP streams (-P)")
    reverse: bool = Field(False, description="server sends, client receives (-R)")
    omit_s: int = Field(0, ge=0, le=60, description="leading seconds excluded (-O)")


def _document(text: str) -> dict[str, Any]:
    start = text.find("{")
    if start < 0:
        first = text.strip().splitlines()[0]
        raise ParseError(TOOL, f"no JSON document in the output (was -J given?); first line: "
                               f"{first[:200]!r}")
    try:
        doc, _ = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise ParseError(TOOL, f"the JSON document is truncated or invalid ({exc})") from exc
    if not isinstance(doc, dict):
        raise ParseError(TOOL, "the JSON document is not an object")
    return doc


class Iperf3:
    name = "iperf3"
    tool = TOOL
    Params = Params

    def plan(self, params: Params, env: Any) -> Plan:
        server = env.server.address
        port = str(params.port)
        server_step = Step("server", ("iperf3", "-s", "-1", "-p", port, "-B", server),
                           background=True, ready_port=params.port,
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

    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        doc = _document(require_text(TOOL, output))
        if doc.get("error"):
            raise ParseError(TOOL, f"iperf3 reported an error: {doc['error']}")
        test = doc.get("start", {}).get("test_start", {})
        if test.get("protocol", "TCP") != "TCP":
            raise ParseError(TOOL, f"only TCP tests are understood, got {test.get('protocol')}")
        end = doc.get("end")
        received = end.get("sum_received") if isinstance(end, dict) else None
        if not isinstance(received, dict) or "bits_per_second" not in received:
            raise ParseError(TOOL, "no end.sum_received.bits_per_second (test cut short?)")
        sent = end.get("sum_sent", {})
        meta: dict[str, Any] = {
            "streams": test.get("num_streams"),
            "reverse": bool(test.get("reverse", 0)),
            "omit_s": test.get("omit"),
            "seconds": received.get("seconds"),
            "sender_gbit_per_s": round(float(sent.get("bits_per_second", 0.0)) / 1e9, 6),
        }
        retransmits = sent.get("retransmits")
        if retransmits is None:
            meta["retransmits"] = "not reported by the sender's kernel; metric omitted"
        samples = [Sample("throughput", float(received["bits_per_second"]) / 1e9, "Gbit/s",
                          meta)]
        if retransmits is not None:
            samples.append(Sample("retransmits", int(retransmits), "count", meta))
        return ParsedOutput(samples)

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("iperf3", "--version")


WORKLOAD = Iperf3()
