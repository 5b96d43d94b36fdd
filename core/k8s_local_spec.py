"""`kubernetes:` on a local site: a simulated cluster (the fake API server, scripted).

The local provisioner starts stacks.k8s_fake.fake_api for it and writes a kubeconfig; the k8s
workloads then run against it exactly as against a real cluster. The script says how the
cluster behaves, in seconds: a shipped one by name, changed field by field with
`overrides`, or read from `script_file` (a YAML mapping of the same fields). Figures
from it describe the script, never a cloud: reports label them "simulated".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, field_validator, model_validator

from core.strict_numbers import NoBoolNumbers

# The fields of stacks.k8s_fake.fake_cluster.ClusterScript (a test keeps the two equal).
SCRIPT_FIELDS: dict[str, str] = {
    "initial_nodes": "nodes at the start",
    "node_cpu_m": "allocatable millicores per node",
    "replicaset_delay": "Deployment scaled -> pods created, s",
    "scheduler_delay": "pod created (or node Ready) -> bound, s",
    "init_delay": "bound -> Initialized, s",
    "pull_delay": "Initialized -> containers started (image pull), s",
    "ready_delay": "containers started -> Ready, s",
    "autoscaler_delay": "first unschedulable pod -> new nodes created, s",
    "node_boot_delay": "node created -> Ready, s",
    "max_nodes": "the cluster autoscaler's node limit",
    "never_ready_nodes": "of the added nodes, how many never become Ready",
    "scale_down_delay": "an added node empty this long is removed, s",
    "service_time_ms": "one request's time in a replica, ms",
    "replica_concurrency": "requests one replica serves at once",
    "queue_limit": "requests waiting per replica before it answers 503",
    "hpa_delay": "the HPA reads the request rate this late, s",
    "hpa_period": "the HPA evaluates every this many s",
}

_FAST = {"initial_nodes": 1, "node_cpu_m": 1000, "replicaset_delay": 0, "scheduler_delay": 1,
         "init_delay": 0, "pull_delay": 1, "ready_delay": 0, "autoscaler_delay": 1,
         "node_boot_delay": 3, "max_nodes": 6, "never_ready_nodes": 0, "scale_down_delay": 2,
         "service_time_ms": 40, "replica_concurrency": 1, "queue_limit": 20, "hpa_delay": 1,
         "hpa_period": 1}
# Shipped scripts (seconds). `fast` reacts within seconds; `slow-hpa` reads its metric 15 s
# late; `slow-nodes` takes 5 s to ask for nodes that boot in 15 s; `stuck-node` adds a node
# that never becomes Ready. The node boot of a real cloud is tens of seconds to minutes.
SHIPPED: dict[str, dict[str, float]] = {
    "fast": _FAST,
    "slow-hpa": _FAST | {"hpa_delay": 15},
    "slow-nodes": _FAST | {"autoscaler_delay": 5, "node_boot_delay": 15},
    "stuck-node": _FAST | {"never_ready_nodes": 1},
}
_MAX = {"service_time_ms": 10_000, "node_cpu_m": 1_000_000, "queue_limit": 10_000}


def _check_fields(values: dict[str, Any], where: str) -> dict[str, float]:
    problems = []
    for key, value in values.items():
        if key not in SCRIPT_FIELDS:
            problems.append(f"{where}.{key}: unknown script field; expected one of "
                            f"{', '.join(SCRIPT_FIELDS)}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not 0 <= value <= _MAX.get(key, 3600):
            problems.append(f"{where}.{key}: expected a number from 0 to "
                            f"{_MAX.get(key, 3600)}, got {value!r}")
        elif key != "service_time_ms" and value != int(value):
            problems.append(f"{where}.{key}: expected whole seconds (or a count), got {value}")
    if problems:
        raise ValueError("; ".join(problems))
    return {k: v for k, v in values.items()}


class LocalClusterSpec(NoBoolNumbers):
    """A simulated Kubernetes cluster on this machine (docs/kubernetes.md)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    script: Literal["fast", "slow-hpa", "slow-nodes", "stuck-node"] = Field(
        "fast", description="a shipped cluster script")
    script_file: str | None = Field(
        None, description="a YAML mapping of script fields, read over the shipped script")
    overrides: dict[str, float] = Field(default_factory=dict,
                                        description="script fields changed one by one")
    time_scale: float = Field(1.0, ge=1.0, le=500.0, description="the script runs this many "
                              "times faster than real time (API stamps stay in script time)")

    @field_validator("overrides", mode="before")
    @classmethod
    def _known(cls, v: Any) -> Any:  # before coercion: true must not become 1.0
        return _check_fields(v, "overrides") if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _file(self) -> LocalClusterSpec:
        if self.script_file is not None:
            self.read_file()
        fields = self.resolved()
        if fields["replica_concurrency"] < 1 or fields["initial_nodes"] < 1:
            raise ValueError("replica_concurrency and initial_nodes must be at least 1")
        return self

    def read_file(self) -> dict[str, float]:
        path = Path(str(self.script_file)).expanduser()
        try:
            data = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise ValueError(f"script_file {path}: cannot be read ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            raise ValueError(f"script_file {path}: not YAML ({str(exc).splitlines()[0]})") \
                from None
        if not isinstance(data, dict):
            raise ValueError(f"script_file {path}: expected a mapping of script fields")
        return _check_fields(data, f"script_file {path}")

    def resolved(self) -> dict[str, float]:
        """The script's fields: shipped, then the file, then the overrides."""
        out = dict(SHIPPED[self.script])
        if self.script_file is not None:
            out.update(self.read_file())
        out.update(self.overrides)
        return out
