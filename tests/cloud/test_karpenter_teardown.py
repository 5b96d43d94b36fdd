"""Teardown of an EKS site with Karpenter (stacks/cloud/k8s_karpenter_release.py): before
the stack is destroyed its NodePools are deleted and bakeoff waits until no NodeClaim (one
per instance Karpenter launched) is left; what stays is an error naming each instance and
the commands, and the stack is not destroyed (the exit-13 path). Against a fake API
server (tests/k8s_release_fake.py plus Karpenter's two resources); no live cluster."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from core.errors import BakeoffError
from stacks.cloud.k8s_site import kubeconfig_path, release_cloud_objects
from stacks.cloud.state import CampaignState
from tests.k8s_release_fake import ReleaseApi

KP = "/apis/karpenter.sh/v1/"


class KarpenterApi(ReleaseApi):
    """ReleaseApi plus cluster-scoped NodePools and NodeClaims: deleting a NodePool makes
    its NodeClaims go after `linger` NodeClaim lists (Karpenter draining and terminating
    the instances), except those named in `stuck`."""

    def __init__(self, pools: dict[str, list[str]], linger: int = 2,
                 stuck: tuple[str, ...] = (), services: list | None = None):
        super().__init__(services or [], [], linger=linger, stuck=stuck)
        self.pools = dict(pools)
        self.claims = {c: p for p, cs in pools.items() for c in cs}
        self.going: dict[str, int] = {}

    def _claim_list(self) -> list[dict[str, Any]]:
        for claim in list(self.going):
            if claim in self.stuck:
                continue
            self.going[claim] -= 1
            if self.going[claim] <= 0:
                del self.going[claim]
                self.claims.pop(claim, None)
        return [{"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
                 "metadata": {"name": c, "labels": {"karpenter.sh/nodepool": p}},
                 "status": {"providerID": f"aws:///us-east-1a/i-{c}"}}
                for c, p in sorted(self.claims.items())]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api, base = self, super()._handler()

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if not path.startswith(KP):
                    return super().do_GET()
                with api.lock:
                    api.calls.append(f"GET {path}")
                    if path == KP + "nodepools":
                        items = [{"apiVersion": "karpenter.sh/v1", "kind": "NodePool",
                                  "metadata": {"name": p}} for p in sorted(api.pools)]
                    elif path == KP + "nodeclaims":
                        items = api._claim_list()
                    else:
                        return self._send(404, {"kind": "Status", "code": 404})
                self._send(200, {"apiVersion": "karpenter.sh/v1", "kind": "List",
                                 "metadata": {"resourceVersion": "1"}, "items": items})

            def do_DELETE(self) -> None:
                path = self.path.split("?")[0]
                m = re.fullmatch(KP + r"nodepools/([^/]+)", path)
                if not path.startswith(KP):
                    return super().do_DELETE()
                with api.lock:
                    api.calls.append(f"DELETE {path}")
                    if not m or m.group(1) not in api.pools:
                        return self._send(404, {"kind": "Status", "code": 404})
                    pool = m.group(1)
                    del api.pools[pool]
                    for claim, owner in api.claims.items():
                        if owner == pool:
                            api.going.setdefault(claim, api.linger)
                self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})

        return Handler


def _state(tmp_path, api: ReleaseApi, campaign: str = "camp-k") -> CampaignState:
    state = CampaignState(campaign, tmp_path)
    path = kubeconfig_path(state, "eks")
    path.parent.mkdir(parents=True)
    api.kubeconfig(path)
    return state


def test_nodepools_are_deleted_and_their_instances_awaited(tmp_path):
    with KarpenterApi({"bko-nodes": ["a1", "a2"]}, linger=3,
                      services=[("default", "web", "LoadBalancer")]) as api:
        state = _state(tmp_path, api)
        said: list[str] = []
        deleted = release_cloud_objects(state, "eks", said.append, timeout_s=30, poll_s=0.02)
        assert deleted == ["service default/web", "nodepool bko-nodes"]
        assert not api.claims and not api.pools
        # the load balancer first, then the NodePool; the claims were listed until gone
        calls = api.calls
        assert calls.index("DELETE /api/v1/namespaces/default/services/web") < \
            calls.index(f"DELETE {KP}nodepools/bko-nodes")
        assert calls.count(f"GET {KP}nodeclaims") >= 3
        assert any("2 NodeClaim(s)" in s for s in said)


def test_instances_that_stay_name_the_instance_and_the_commands(tmp_path):
    with KarpenterApi({"bko-nodes": ["a1", "a2"]}, stuck=("a2",)) as api:
        state = _state(tmp_path, api)
        with pytest.raises(BakeoffError) as e:
            release_cloud_objects(state, "eks", lambda _: None, timeout_s=0.4, poll_s=0.02)
    msg = str(e.value)
    assert "NOT destroyed" in msg and "NodeClaim a2 (instance i-a2)" in msg
    assert "a1" not in msg  # it did go
    kc = f"kubectl --kubeconfig {kubeconfig_path(state, 'eks')}"
    assert f"{kc} delete nodepools --all" in msg
    assert "aws ec2 terminate-instances --instance-ids i-a2" in msg


def test_a_cluster_without_karpenter_is_left_alone(tmp_path):
    with ReleaseApi([], []) as api:  # no karpenter.sh API: 404
        state = _state(tmp_path, api)
        assert release_cloud_objects(state, "eks", lambda _: None, timeout_s=1,
                                     poll_s=0.02) == []
        assert f"GET {KP}nodepools" in api.calls  # asked, answered 404
        assert not any(c.startswith("DELETE") for c in api.calls)


def test_down_site_does_not_destroy_while_karpenter_instances_stay(tmp_path, monkeypatch):
    import stacks.cloud.k8s_site as site_mod
    from stacks.cloud.provisioner import CloudProvisioner

    monkeypatch.setattr(site_mod, "POLL_S", 0.02)
    monkeypatch.setattr(site_mod, "RELEASE_TIMEOUT_S", 0.3)
    order: list[tuple[str, str]] = []

    class Workspace:
        backend_url = "file:///nowhere"

        def destroy(self, stack, passphrase, say):
            order.append(("destroy", stack))

    with KarpenterApi({"bko-nodes": ["n1"]}, stuck=("n1",)) as api:
        state = _state(tmp_path, api, "camp-s")
        state.record("eks", provider="aws", stack="camp-s--eks", status="up")
        prov = CloudProvisioner("aws", workspace=Workspace(), state_root=tmp_path)
        with pytest.raises(BakeoffError, match="NodeClaim n1"):
            prov.down_site("camp-s", "eks")
        assert order == []  # not destroyed under Karpenter's instances
        assert state.site_entry("eks")["status"] == "destroy-failed"
        assert kubeconfig_path(state, "eks").exists()  # kept for the next attempt
    with KarpenterApi({"bko-nodes": ["n1"]}, linger=1) as api:
        state = _state(tmp_path, api, "camp-t")
        state.record("eks", provider="aws", stack="camp-t--eks", status="up")
        prov = CloudProvisioner("aws", workspace=Workspace(), state_root=tmp_path)
        prov.down_site("camp-t", "eks")
        assert order == [("destroy", "camp-t--eks")]
        assert not api.claims


def test_the_fake_speaks_what_the_real_client_reads(tmp_path):
    """The shapes: the official client's CustomObjectsApi lists and deletes against it."""
    from kubernetes import client, config

    with KarpenterApi({"p": ["c"]}, linger=1) as api:
        path = api.kubeconfig(tmp_path / "kc")
        co = client.CustomObjectsApi(config.new_client_from_config(config_file=str(path)))
        body = co.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")
        assert json.loads(json.dumps(body))["items"][0]["status"]["providerID"] == \
            "aws:///us-east-1a/i-c"
        co.delete_cluster_custom_object("karpenter.sh", "v1", "nodepools", "p")
        assert co.list_cluster_custom_object("karpenter.sh", "v1", "nodepools")["items"] == []
