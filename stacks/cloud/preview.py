"""Run a cloud program under Pulumi mocks, in this process, and record what it declares.

`pulumi.runtime.set_mocks` replaces the engine and the provider plugins: the real program
runs, every resource registration and data-source call reaches `RecordingMocks`, and no
CLI, plugin or credential is involved. `bakeoff plan` and the program tests use this.
Computed attributes (ids, addresses) get recognisable placeholder values.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from stacks.cloud.spec import CloudSiteSpec, program_of

# Computed attributes a program reads from resources it declared, with placeholder values.
_COMPUTED = {
    "privateIp": "10.42.{n}.10", "publicIp": "198.51.100.{n}", "address": "db.{name}.internal",
    "port": 5432, "keyName": "{name}", "arn": "arn:preview:{name}", "name": "{name}",
    "fqdn": "{name}.preview", "ipAddress": "198.51.100.{n}",
}
# Computed attributes of cluster resources (stacks/cloud/k8s_*.py), by type token.
_CLUSTER_CA = "LS0tLS1CRUdJTi1wcmV2aWV3LWNhLS0tLS0="  # base64 '-----BEGIN-preview-ca-----'
_TYPED: dict[str, dict[str, Any]] = {
    "aws:eks/cluster:Cluster": {
        "endpoint": "https://preview.eks.amazonaws.com",
        "certificateAuthority": {"data": _CLUSTER_CA},
        "identities": [{"oidcs": [{"issuer": "https://oidc.eks.preview/id/PREVIEW"}]}]},
    "gcp:container/cluster:Cluster": {
        "endpoint": "203.0.113.10", "masterAuth": {"clusterCaCertificate": _CLUSTER_CA}},
}
_lock = threading.Lock()  # the Pulumi runtime keeps global state: one program at a time


@dataclass(frozen=True)
class DeclaredResource:
    type: str  # Pulumi type token, e.g. aws:ec2/instance:Instance
    name: str
    properties: dict[str, Any]  # inputs as Pulumi names them (camelCase)


@dataclass(frozen=True)
class Preview:
    resources: list[DeclaredResource]
    outputs: dict[str, Any]


def _mocks_class() -> type:
    import pulumi

    class RecordingMocks(pulumi.runtime.Mocks):
        def __init__(self) -> None:
            self.resources: list[DeclaredResource] = []
            self.calls: list[tuple[str, dict]] = []

        def new_resource(self, args: Any) -> tuple[str, dict]:
            n = len(self.resources) + 1
            self.resources.append(DeclaredResource(args.typ, args.name, dict(args.inputs)))
            state = {**_TYPED.get(args.typ, {}), **dict(args.inputs)}
            for key, value in _COMPUTED.items():
                if key not in state:
                    state[key] = (value.format(n=n, name=args.name)
                                  if isinstance(value, str) else value)
            return f"{args.name}-id", state

        def call(self, args: Any) -> tuple[dict, list]:
            self.calls.append((args.token, dict(args.args)))
            if args.token.endswith("getAmi:getAmi"):
                arch = "arm64" if "arm64" in str(args.args) else "x86_64"
                return {"id": f"ami-preview-{arch}", "architecture": arch,
                        "name": "ubuntu-noble-24.04 (looked up at run time)"}, []
            if args.token.endswith("listManagedClusterUserCredentials"):
                import base64

                value = base64.b64encode(b"<kubeconfig issued by AKS at run time>").decode()
                return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}, []
            return {"id": f"{args.token}-preview"}, []

    return RecordingMocks


def preview_program(spec: CloudSiteSpec, program: Any | None = None) -> Preview:
    """Declare `spec`'s site under mocks; the resources in declaration order and the
    stack outputs. Raises what the program raises."""
    import pulumi
    from pulumi.runtime import mocks as pmocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    program = program or program_of(spec)
    with _lock:
        try:  # the provisioner checks sites from their own threads, which have no loop
            asyncio.get_event_loop()
        except RuntimeError:
            asyncio.set_event_loop(asyncio.new_event_loop())
        recorder = _mocks_class()()
        pmocks.SETTINGS.rpc_manager.clear()
        pmocks.SETTINGS.outputs.clear()
        pulumi.runtime.set_mocks(recorder, project="bakeoff",
                                 stack=f"{spec.campaign_id}-{spec.site}", preview=False)
        root = pulumi.runtime.get_root_resource()
        _sync_await(run_pulumi_func(lambda: program(spec)))
        outputs = {}
        for key, value in dict(getattr(root, "outputs", {}) or {}).items():
            outputs[key] = _sync_await(pulumi.Output.from_input(value).future())
        return Preview(list(recorder.resources), outputs)
