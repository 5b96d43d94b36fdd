"""`kubernetes:` on a cloud site: the site is a managed cluster (EKS, AKS, GKE).

The node shape is the site's own `instance_type` or `size` (the same compute
equivalents as VM sites, so three clouds run like-for-like nodes); this block says only
what is particular to a cluster. Attached to `CloudSite` with one field line
(core/site_models.py); the programs are stacks/cloud/k8s_{aws,azure,gcp}.py and the
documentation docs/kubernetes.md ("Cluster sites").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, model_validator

from core.strict_numbers import NoBoolNumbers

# Which autoscaler each provider offers. cluster-autoscaler: EKS (installed into the
# cluster, IRSA role declared), AKS and GKE Standard (managed, the node pool's min/max);
# karpenter: EKS only (https://karpenter.sh/docs/getting-started/); autopilot: GKE only
# (https://cloud.google.com/kubernetes-engine/docs/concepts/autopilot-overview).
AUTOSCALER_PROVIDERS = {"cluster-autoscaler": ("aws", "azure", "gcp"),
                        "karpenter": ("aws",), "autopilot": ("gcp",)}
SERVICE_NAME = {"aws": "EKS", "azure": "AKS", "gcp": "GKE"}
MAX_NODES = 100  # a bake-off cluster; larger asks are typos (and cost)


class KubernetesSpec(NoBoolNumbers):
    """A managed cluster in the site's region, nodes in its two zones, private nodes with
    egress; load generators stay VMs beside it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    version: str = Field("1.31", pattern=r"^1\.\d{1,2}$",
                         description="Kubernetes minor version, e.g. 1.31 (each provider "
                         "supports a window of minors; the provider picks the patch)")
    min_nodes: int = Field(1, ge=1, le=MAX_NODES, description="nodes the pool keeps")
    max_nodes: int = Field(4, ge=1, le=MAX_NODES,
                           description="the autoscaler's ceiling (the plan prices up to it)")
    autoscaler: Literal["cluster-autoscaler", "karpenter", "autopilot"] = Field(
        "cluster-autoscaler", description="cluster-autoscaler (every provider), karpenter "
        "(EKS only), autopilot (GKE only)")

    @model_validator(mode="after")
    def _bounds(self) -> KubernetesSpec:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"min_nodes {self.min_nodes} exceeds max_nodes {self.max_nodes}")
        return self


def _provider_offers(spec: KubernetesSpec | None, info: ValidationInfo) -> KubernetesSpec | None:
    """The autoscaler must be one the site's provider runs (the provider is validated
    before this field, so it is in `info.data`)."""
    provider = info.data.get("provider")
    if spec is None or provider is None:
        return spec
    allowed = AUTOSCALER_PROVIDERS[spec.autoscaler]
    if provider not in allowed:
        offered = [a for a, ps in AUTOSCALER_PROVIDERS.items() if provider in ps]
        raise ValueError(
            f"kubernetes.autoscaler: {spec.autoscaler} runs only on "
            f"{', '.join(SERVICE_NAME[p] for p in allowed)}; {SERVICE_NAME[provider]} "
            f"(provider {provider}) offers {', '.join(offered)}")
    return spec


ClusterField = Annotated[KubernetesSpec | None, AfterValidator(_provider_offers)]
