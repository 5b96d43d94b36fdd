"""The Kubernetes API client of a cluster site, built only from env.notes["kubernetes"].

Every cluster site (the local simulated one, EKS, AKS, GKE) puts the path of a
kubeconfig (0600, under the campaign's state) into env.notes["kubernetes"]["kubeconfig"];
the k8s workloads connect with that and nothing else, never ~/.kube/config or the
environment, so a campaign cannot measure a cluster the scenario did not name.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from core.environment import Environment
from core.errors import BakeoffError


def cluster_notes(env: Environment, workload: str) -> dict[str, Any]:
    """The site's cluster notes, or a clear error saying what the site lacks."""
    notes = env.notes.get("kubernetes")
    if not isinstance(notes, dict) or not notes.get("kubeconfig"):
        raise BakeoffError(f"{workload} on site {env.site!r} needs a Kubernetes cluster site: "
                           "add `kubernetes: {}` to a local site (a simulated cluster) or "
                           "use a cloud site with `kubernetes:`")
    return notes


def api_client(notes: dict[str, Any], workload: str) -> Any:
    """A kubernetes.client.ApiClient for the notes' kubeconfig."""
    try:
        from kubernetes import config
    except ImportError:
        raise BakeoffError(f"{workload}: the kubernetes Python client is not installed "
                           "(pip install -e '.[k8s]')") from None
    path = Path(notes["kubeconfig"])
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise BakeoffError(f"{workload}: kubeconfig {path} cannot be read ({exc.strerror})") \
            from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BakeoffError(f"{workload}: kubeconfig {path} is readable by others "
                           f"(mode {stat.S_IMODE(mode):o}); expected 0600")
    try:
        return config.new_client_from_config(config_file=str(path))
    except (config.ConfigException, ValueError, OSError) as exc:
        raise BakeoffError(f"{workload}: kubeconfig {path}: {exc}") from None
