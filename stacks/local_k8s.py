"""The local simulated cluster: the fake API server (stacks.k8s_fake.fake_api) for a local site.

Started by the local provisioner when a local site has `kubernetes:`; it replays the
site's cluster script and serves on 127.0.0.1. A kubeconfig pointing at it is written
0600 under the campaign's state directory (never under results), and
env.notes["kubernetes"] says where, as a cloud cluster site does; the k8s workloads
build their client from that alone (bench.k8s.client). Its figures describe the
script, not a cloud: the label says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from core.k8s_local_spec import LocalClusterSpec
from stacks import tracking

LABEL = "simulated cluster (scripted), not a cloud figure"


def kubeconfig_text(server: str, cluster: str) -> str:
    """A kubeconfig for a server that needs no credentials (the fake accepts any token)."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": cluster, "cluster": {"server": server}}],
        "users": [{"name": "bakeoff", "user": {"token": "simulated"}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "bakeoff"}}],
        "current-context": cluster}, sort_keys=False)


def write_private(path: Path, text: str) -> None:
    """Create `path` 0600 (its folder 0700) before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


class LocalClusterSite:
    """`start` returns what goes into env.notes["kubernetes"]; `stop` ends the server."""

    def __init__(self, site: str, spec: LocalClusterSpec, campaign_id: str) -> None:
        self.site = site
        self.spec = spec
        self.campaign_id = campaign_id
        self.server: Any = None
        self.kubeconfig: Path | None = None

    def start(self) -> dict[str, Any]:
        from stacks.k8s_fake.fake_api import FakeApiServer
        from stacks.k8s_fake.fake_cluster import ClusterScript

        fields = self.spec.resolved()
        script = ClusterScript(**{k: (v if k == "service_time_ms" else int(v))
                                  for k, v in fields.items()})
        self.server = FakeApiServer(script, scale=self.spec.time_scale).__enter__()
        cluster = f"simulated-{self.site}"
        self.kubeconfig = tracking.state_root() / self.campaign_id / f"kubeconfig-{self.site}"
        write_private(self.kubeconfig, kubeconfig_text(self.server.url, cluster))
        return {"kubeconfig": str(self.kubeconfig), "provider": "simulated",
                "cluster": cluster, "autoscaler": "scripted cluster autoscaler + HPA",
                "label": LABEL, "script": self.spec.script,
                "script_fields": fields, "time_scale": self.spec.time_scale,
                "min_nodes": int(fields["initial_nodes"]), "max_nodes": int(fields["max_nodes"]),
                "server": self.server.url}

    def stop(self) -> None:
        """Stop the server (its services, replicas and HPA) and remove the kubeconfig."""
        try:
            if self.server is not None:
                self.server.__exit__(None, None, None)
        finally:
            self.server = None
            if self.kubeconfig is not None:
                self.kubeconfig.unlink(missing_ok=True)
