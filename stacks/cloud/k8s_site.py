"""A cluster site's life beside its stack: the kubeconfig, the notes, and what Kubernetes
created in the cloud.

`cluster_notes` writes the stack's kubeconfig (a Pulumi secret output) to a 0600 file in
the campaign's STATE directory (never in results) and returns `env.notes["kubernetes"]`,
the only thing k8s workloads build their API client from.

`release_cloud_objects` runs before the stack is destroyed: Services of type
LoadBalancer and PersistentVolumeClaims make the cloud create load balancers and disks
that are NOT in the Pulumi stack (Kubernetes' cloud controller owns them), and a cluster
deleted under them leaves them behind, billed, and often blocks the VPC's deletion. So
they are deleted through the API server first, and their disappearance (with the
PersistentVolumes they were bound to) is awaited, bounded; what is still there is an
error naming each object and the kubectl commands that remove it (the exit-13 path of
`run` and `bakeoff down`, as for a VM site whose destroy failed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import BakeoffError
from stacks.cloud.k8s_karpenter_release import release_nodepools

KUBECONFIG = "kubeconfig"
SERVICE = {"aws": "EKS", "azure": "AKS", "gcp": "GKE"}
RELEASE_TIMEOUT_S = 900.0  # cloud load balancers take minutes to go
POLL_S = 5.0
REQUEST_TIMEOUT_S = 15
SKIP_ENV = "BAKEOFF_K8S_SKIP_RELEASE"  # the API server is gone for good: destroy anyway


# The credential plugin each kubeconfig calls (stacks/cloud/k8s_{aws,gcp}.py; AKS issues a
# client certificate), and how to get it.
AUTH_PLUGIN = {"aws": ("aws", "install the AWS CLI v2 (it provides `aws eks get-token`)"),
               "gcp": ("gke-gcloud-auth-plugin",
                       "gcloud components install gke-gcloud-auth-plugin")}


def cluster_problems(site: Any) -> list[str]:
    """What a cluster site needs on the controller before `up`: without the kubernetes
    client or the credential plugin, the release before destroy could not run, and the
    cluster could not be torn down cleanly."""
    import importlib.util
    import shutil

    if getattr(site, "kubernetes", None) is None:
        return []
    out = []
    if importlib.util.find_spec("kubernetes") is None:
        out.append("the kubernetes client is not installed: pip install 'cloud-bakeoff[k8s]'")
    if site.provider == "aws" and importlib.util.find_spec("pulumi_kubernetes") is None:
        # the EKS program installs the cluster autoscaler with it (k8s_autoscaler_aws.py)
        out.append("pulumi-kubernetes is not installed (the EKS program installs the cluster "
                   "autoscaler or Karpenter with it): pip install -e '.[aws]'")
    plugin = AUTH_PLUGIN.get(site.provider)
    if plugin and shutil.which(plugin[0]) is None:
        out.append(f"the kubeconfig's credential plugin `{plugin[0]}` is not on PATH: "
                   f"{plugin[1]}")
    return out


def kubeconfig_path(state: Any, site: str) -> Path:
    return state.site_dir(site) / KUBECONFIG


def cluster_notes(state: Any, site: str, outputs: dict[str, Any]) -> dict[str, Any]:
    """{} for a VM site; else {"kubernetes": {...}} with the kubeconfig written 0600."""
    from stacks.cloud.k8s_common import OUTPUT
    from stacks.cloud.state import _write_private

    out = outputs.get(OUTPUT)
    if not out:
        return {}
    if not isinstance(out, dict) or not out.get("kubeconfig"):
        raise BakeoffError(f"site '{site}': stack output {OUTPUT} lacks a kubeconfig: "
                           f"{sorted(out) if isinstance(out, dict) else type(out).__name__}")
    path = kubeconfig_path(state, site)
    _write_private(path, str(out["kubeconfig"]))
    facts = {k: v for k, v in out.items() if k != "kubeconfig"}
    label = (f"{SERVICE.get(str(out.get('provider')), out.get('provider'))} "
             f"{out.get('cluster')} ({out.get('autoscaler')})")
    return {"kubernetes": {**facts, "kubeconfig": str(path.resolve()), "label": label}}


def release_cloud_objects(state: Any, site: str, say: Callable[[str], None],
                          timeout_s: float | None = None, poll_s: float | None = None
                          ) -> list[str]:
    """Delete the cluster's LoadBalancer Services and PersistentVolumeClaims and wait until
    they (and their PersistentVolumes) are gone. A site without a kubeconfig (a VM site,
    or a cluster whose `up` never got that far) has nothing to release. Returns what was
    deleted; raises BakeoffError naming what is left and how to remove it."""
    timeout_s = RELEASE_TIMEOUT_S if timeout_s is None else timeout_s
    poll_s = POLL_S if poll_s is None else poll_s
    path = kubeconfig_path(state, site)
    if not path.exists() or os.environ.get(SKIP_ENV):
        return []
    try:
        from kubernetes import client, config
    except ModuleNotFoundError:
        raise BakeoffError(_message(site, path, "the kubernetes client is not installed "
                                    "(pip install 'cloud-bakeoff[k8s]')", [], [], [])) from None
    lbs: list[tuple[str, str]] = []
    pvcs: list[tuple[str, str]] = []
    try:
        api = client.CoreV1Api(config.new_client_from_config(config_file=str(path)))
        lbs, pvcs, _ = _left(api)
        for ns, name in lbs:
            _delete(api.delete_namespaced_service, ns, name)
        for ns, name in pvcs:
            _delete(api.delete_namespaced_persistent_volume_claim, ns, name)
    except Exception as e:  # unreachable, refused, malformed: say so, never a traceback
        raise BakeoffError(_message(site, path, f"the cluster's API server could not be "
                                    f"asked ({type(e).__name__}: {str(e)[:300]})", lbs, pvcs,
                                    [])) from None
    deleted = [f"service {ns}/{n}" for ns, n in lbs] + [f"pvc {ns}/{n}" for ns, n in pvcs]
    if deleted:
        say(f"deleting what Kubernetes created in the cloud: {', '.join(deleted)}")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            left = _left(api)
        except Exception as e:
            raise BakeoffError(_message(site, path, f"listing failed ({type(e).__name__}: "
                                        f"{str(e)[:300]})", lbs, pvcs, [])) from None
        if not any(left):  # then the instances Karpenter launched (k8s_karpenter_release)
            return deleted + release_nodepools(api.api_client, site, path, say, timeout_s, poll_s)
        if time.monotonic() >= deadline:
            raise BakeoffError(_message(site, path, f"still there after {timeout_s:.0f} s",
                                        *left))
        time.sleep(poll_s)


def _left(api: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """(LoadBalancer services, PVCs, PersistentVolumes with a Delete reclaim policy)."""
    t = REQUEST_TIMEOUT_S
    lbs = [(s.metadata.namespace, s.metadata.name)
           for s in api.list_service_for_all_namespaces(_request_timeout=t).items
           if s.spec is not None and s.spec.type == "LoadBalancer"]
    pvcs = [(c.metadata.namespace, c.metadata.name) for c in
            api.list_persistent_volume_claim_for_all_namespaces(_request_timeout=t).items]
    pvs = [v.metadata.name for v in api.list_persistent_volume(_request_timeout=t).items
           if v.spec is None or v.spec.persistent_volume_reclaim_policy in (None, "Delete")]
    return lbs, pvcs, pvs


def _delete(fn: Callable[..., Any], ns: str, name: str) -> None:
    from kubernetes.client.exceptions import ApiException

    try:  # raw response: a DELETE answers with the object or a Status, either is fine
        fn(name, ns, _request_timeout=REQUEST_TIMEOUT_S, _preload_content=False).release_conn()
    except ApiException as e:
        if e.status != 404:  # already gone is what we want
            raise


def _message(site: str, path: Path, why: str, lbs: list[tuple[str, str]],
             pvcs: list[tuple[str, str]], pvs: list[str]) -> str:
    kc = f"kubectl --kubeconfig {path}"
    cmds = ([f"{kc} delete service -n {ns} {n}" for ns, n in lbs]
            + [f"{kc} delete pvc -n {ns} {n}" for ns, n in pvcs]
            + [f"{kc} delete pv {n}" for n in pvs])
    left = ([f"Service {ns}/{n} (LoadBalancer)" for ns, n in lbs]
            + [f"PersistentVolumeClaim {ns}/{n}" for ns, n in pvcs]
            + [f"PersistentVolume {n}" for n in pvs])
    return (f"site '{site}': the cluster is NOT destroyed yet: what Kubernetes created in the "
            f"cloud must go first, and {why}"
            + (f"; left: {', '.join(left)}" if left else "")
            + (f". Remove it with: {'; '.join(cmds)}" if cmds else
               f". Check the cluster with: {kc} get services,pvc,pv -A")
            + f". Then run the teardown again (if the API server is gone for good, set "
            f"{SKIP_ENV}=1 and delete its load balancers and disks in the console)")
