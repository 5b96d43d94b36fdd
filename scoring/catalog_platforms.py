"""Row model for managed-platform prices (scoring/data/pricing/platforms.csv): Kubernetes
control planes and serverless, with the free allowance each provider grants per month, so the
managed-platform workloads can be priced like the VMs (docs/pricing.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scoring.catalog_rows import ConfidentPriceRow, Provider

PlatformService = Literal["eks", "aks", "gke", "lambda", "azure_functions", "cloud_run"]
PlatformItem = Literal["cluster_hour", "requests", "gb_second", "vcpu_second", "gib_second",
                       "vcpu_hour", "gib_hour",  # GKE Autopilot Pod requests
                       "baseline_gb_second"]  # Flex Consumption always-ready instances


class PlatformRow(ConfidentPriceRow):
    """A managed-platform unit price (Kubernetes control plane, serverless), with the free
    allowance the provider grants per month, for the managed-platform workloads to price."""

    provider: Provider
    region: str = Field(min_length=2)
    service: PlatformService
    plan: str = Field(min_length=2)  # standard-support | free | x86_64 | consumption | ...
    item: PlatformItem
    unit: str = Field(min_length=1)  # what one usd_per_unit buys: cluster-hour, request, GB-s
    usd_per_unit: float = Field(ge=0, description="0 only for a free plan")
    free_units_per_month: float | None = Field(None, ge=0)
    free_scope: str | None = None  # whom the allowance is per: account, billing account ...
    as_published: str = Field(min_length=3)
    source_url: str = Field(pattern=r"^https?://")
    notes: str | None = None

    @model_validator(mode="after")
    def _free_is_said(self) -> PlatformRow:
        if self.usd_per_unit == 0 and "free" not in self.as_published.lower():
            raise ValueError("usd_per_unit is 0 but as_published does not say 'free'")
        if self.free_units_per_month and not self.free_scope:
            raise ValueError("a free allowance needs free_scope (per account, per billing "
                             "account, per subscription)")
        return self
