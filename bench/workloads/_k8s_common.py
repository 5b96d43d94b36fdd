"""What the two k8s workloads share: the client version, a fresh scale-down, raw samples."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from pydantic import AfterValidator

from bench.samples import Sample
from bench.workloads import _json as J
from core.errors import ParseError

CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")


def _cpu_request(v: str) -> str:
    if not CPU.match(v) or v in ("0", "0m"):
        raise ValueError(f"expected millicores like 500m or cores like 1, got {v!r}")
    return v


# A pod's CPU request as both workloads take it: millicores (500m) or cores (1, 0.5), not 0.
CpuRequest = Annotated[str, AfterValidator(_cpu_request)]

TOOL = "kubernetes"


def client_version() -> str:
    try:
        import kubernetes
    except ImportError:
        return "not installed"
    return f"kubernetes-client {kubernetes.__version__}"


def wait_scaled_down(core: Any, notes: dict[str, Any], label: str,
                     timeout_s: float) -> str:
    """Wait until the cluster is back at its minimum nodes and no pod of `label` is left
    (a repetition measures a fresh scale-up); '' when it is, else why not."""
    min_nodes = notes.get("min_nodes")
    deadline = time.monotonic() + timeout_s
    while True:
        nodes = len(core.list_node(_request_timeout=30).items)
        pods = len(core.list_namespaced_pod("default", label_selector=label,
                                            _request_timeout=30).items)
        if pods == 0 and (min_nodes is None or nodes <= int(min_nodes)):
            return ""
        if time.monotonic() > deadline:
            return (f"the cluster did not scale down within {timeout_s:g} s ({nodes} nodes, "
                    f"minimum {min_nodes}; {pods} pods of {label} left): a repetition needs a "
                    "fresh scale-down")
        time.sleep(0.5)


def samples_from(doc: dict[str, Any], key: str = "samples") -> list[Sample]:
    """Samples as the raw output stores them ({metric, value, unit, metadata})."""
    out = []
    for i, row in enumerate(J.array(TOOL, doc, key)):
        if not isinstance(row, dict):
            raise ParseError(TOOL, f"{key}[{i}] is not an object")
        meta = J.obj(TOOL, row, "metadata", {})
        out.append(Sample(J.text(TOOL, row, "metric"), J.num(TOOL, row, "value"),
                          J.text(TOOL, row, "unit"), meta))
    return out
