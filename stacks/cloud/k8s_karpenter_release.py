"""Before an EKS site with Karpenter is destroyed: its NodePools go, and bakeoff waits until
every NodeClaim (one per instance Karpenter launched) is gone.

The instances Karpenter launches are not in the Pulumi stack. Deleting a NodePool makes
Karpenter drain and terminate its nodes; a NodeClaim keeps its finalizer until its
instance is terminated, so "no NodeClaim left" means "no Karpenter instance left". If the
stack were destroyed first, the controller would go with it and the instances would stay,
billed (`bakeoff gc` would still find them by the campaign's tags, which the EC2NodeClass
puts on them). Called by k8s_site.release_cloud_objects after LoadBalancer Services and
PVCs; a cluster without Karpenter's CRDs (404) has nothing to release here. What is still
there after the timeout is an error naming each NodeClaim, its instance and the commands
that remove it (the exit-13 path, as for load balancers). Tested against a fake API
server only (tests/cloud/test_karpenter_teardown.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import BakeoffError

GROUP = "karpenter.sh"
VERSION = "v1"
REQUEST_TIMEOUT_S = 15


def _names(co: Any, plural: str) -> list[tuple[str, str]]:
    """(name, provider id) of every object of `plural`; [] when the CRD is not served."""
    from kubernetes.client.exceptions import ApiException

    try:
        body = co.list_cluster_custom_object(GROUP, VERSION, plural,
                                             _request_timeout=REQUEST_TIMEOUT_S)
    except ApiException as e:
        if e.status == 404:  # Karpenter is not installed on this cluster
            return []
        raise
    return [(str(o["metadata"]["name"]), str((o.get("status") or {}).get("providerID") or ""))
            for o in body.get("items", [])]


def release_nodepools(api_client: Any, site: str, kubeconfig: Path, say: Callable[[str], None],
                      timeout_s: float, poll_s: float) -> list[str]:
    """Delete every NodePool, wait until no NodeClaim is left; what was deleted."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    co = client.CustomObjectsApi(api_client)
    claims: list[tuple[str, str]] = []
    try:
        pools = [n for n, _ in _names(co, "nodepools")]
        claims = _names(co, "nodeclaims")
        for name in pools:
            try:
                co.delete_cluster_custom_object(GROUP, VERSION, "nodepools", name,
                                                _request_timeout=REQUEST_TIMEOUT_S)
            except ApiException as e:
                if e.status != 404:
                    raise
    except Exception as e:
        raise BakeoffError(_message(site, kubeconfig, f"Karpenter's NodePools could not be "
                                    f"deleted ({type(e).__name__}: {str(e)[:300]})",
                                    claims)) from None
    if not pools and not claims:
        return []
    say(f"deleting Karpenter NodePools ({', '.join(pools) or 'none'}) and waiting for "
        f"{len(claims)} NodeClaim(s) and their instances to go")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            claims = _names(co, "nodeclaims")
        except Exception as e:
            raise BakeoffError(_message(site, kubeconfig, f"listing NodeClaims failed "
                                        f"({type(e).__name__}: {str(e)[:300]})",
                                        claims)) from None
        if not claims:
            return [f"nodepool {n}" for n in pools]
        if time.monotonic() >= deadline:
            raise BakeoffError(_message(site, kubeconfig,
                                        f"still there after {timeout_s:.0f} s", claims))
        time.sleep(poll_s)


def _instance(provider_id: str) -> str:
    """aws:///us-east-1a/i-0abc -> i-0abc ('' when Karpenter has not launched it yet)."""
    return provider_id.rsplit("/", 1)[-1] if provider_id.startswith("aws://") else ""


def _message(site: str, path: Path, why: str, claims: list[tuple[str, str]]) -> str:
    kc = f"kubectl --kubeconfig {path}"
    ids = [i for i in (_instance(p) for _, p in claims) if i]
    left = [f"NodeClaim {n}" + (f" (instance {_instance(p)})" if _instance(p) else "")
            for n, p in claims]
    cmds = [f"{kc} delete nodepools --all", f"{kc} get nodeclaims"]
    if ids:
        cmds.append(f"aws ec2 terminate-instances --instance-ids {' '.join(ids)}")
    return (f"site '{site}': the cluster is NOT destroyed yet: the instances Karpenter "
            f"launched must go first, and {why}"
            + (f"; left: {', '.join(left)}" if left else "")
            + f". Remove them with: {'; '.join(cmds)}. Then run the teardown again "
            "(`bakeoff gc` also finds them by the campaign's tags)")
