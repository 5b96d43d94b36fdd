"""The application's part of cloud sites: catalog-resolved shapes, and the offline preview.

`stacks` may not read the price catalog, so sizes (`size: {family, vcpus}`) become
instance types here, before a campaign reaches a provisioner; `bakeoff plan` runs each
site's program under Pulumi mocks (stacks/cloud/preview.py) with placeholder secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import BakeoffError
from core.scenario import Campaign, CloudSite

PLACEHOLDER_KEY = "ssh-ed25519 AAAA-generated-per-campaign bakeoff"
PLACEHOLDER_CIDR = "203.0.113.0/32"  # TEST-NET-3: stands for "your address, detected at run"


def resolve_campaign(campaign: Campaign) -> Campaign:
    """A copy where every cloud site names its instance type (sizes resolved by the catalog)."""
    from scoring.equivalents import site_compute_row

    sites = []
    for site in campaign.sites:
        if isinstance(site, CloudSite) and site.instance_type is None:
            row = site_compute_row(site)
            site = site.model_copy(update={"instance_type": row.instance_type, "size": None})
        sites.append(site)
    return campaign.model_copy(update={"sites": sites})


def plan_spec(site: CloudSite, campaign: Campaign):
    """The site's spec with placeholders where a run generates secrets or detects things."""
    from stacks.cloud.cloudinit import PLAN_CONSTRAINTS, tools_cloud_init
    from stacks.cloud.resolve import build_spec
    from stacks.cloud.spec import HostKey

    key = HostKey(private_openssh="<generated per host at run time>",
                  public_openssh="ssh-ed25519 AAAA-generated-per-host bakeoff-host")
    spec = build_spec(site, campaign, f"{campaign.name}-<started-at>",
                      cidr=site.ssh_cidr or PLACEHOLDER_CIDR, ssh_public_key=PLACEHOLDER_KEY,
                      host_keys={}, db_password="<generated per campaign>")
    keys = {role: key for role in spec.roles}
    init = {role: tools_cloud_init(spec.resource_name(role), PLAN_CONSTRAINTS)
            for role in spec.roles}
    from dataclasses import replace

    return replace(spec, host_keys=keys, cloud_init=init,
                   expires_at=f"<start + {campaign.ttl_minutes} min>")


def preview_sites(campaign: Campaign) -> list[dict[str, Any]]:
    """The `bakeoff plan --json` entries: one per cloud site, resources sorted by type, name."""
    from bakeoff.campaign_cost import CampaignCost, campaign_costs
    from bakeoff.plan_functions import function_cost
    from stacks.cloud.preview import preview_program

    resolved = resolve_campaign(campaign)
    costs = campaign_costs(resolved)
    out = []
    for site in resolved.sites:
        if not isinstance(site, CloudSite):
            continue
        cost = costs.get(site.name)
        entry: dict[str, Any] = {
            "site": site.name, "provider": site.provider, "region": site.region,
            "estimated_campaign_usd": cost.usd if isinstance(cost, CampaignCost) else None,
            "resources": []}
        if not isinstance(cost, CampaignCost):
            entry["cost_error"] = cost
        entry.update(function_cost(resolved, site))  # serverless: per-request cost
        try:
            preview = preview_program(plan_spec(site, resolved))
        except ModuleNotFoundError as e:
            entry["error"] = f"program not available: {e}"
        except BakeoffError as e:
            entry["error"] = str(e)
        else:
            entry["resources"] = sorted(
                ({"type": r.type, "name": r.name, "properties": _plain(r.properties)}
                 for r in preview.resources), key=lambda r: (r["type"], r["name"]))
            entry.update(_rules(site, resolved, preview.resources))
        out.append(entry)
    return out


def _rules(site: CloudSite, campaign: Campaign, resources: list) -> dict[str, Any]:
    """The provider rules (stacks/cloud/rules.py) over the site as a run declares it: the
    plan's placeholders replaced by values of the run's format (campaign id, expiry,
    generated password), so the rules judge what `up` would send."""
    from stacks.cloud import rules
    from stacks.cloud.preview import preview_program
    from stacks.cloud.resolve import sample_spec

    spec = sample_spec(site, campaign)
    found = rules.violations(spec, preview_program(spec).resources)
    out: dict[str, Any] = {"requires": rules.required_services(site.provider, resources),
                           "rule_violations": [
                               {"resource": v.resource, "type": v.type, "property": v.property,
                                "problem": v.problem, "rule": v.rule, "source": v.source}
                               for v in found]}
    if found:
        out["error"] = str(rules.ProviderRulesError(site.name, site.provider, found))
    return out


def _plain(value: Any) -> Any:
    """JSON-safe copy (Pulumi hands floats for integers and may hand secrets wrapped)."""
    if isinstance(value, dict):
        from stacks.cloud.rules import SECRET_SIG

        if SECRET_SIG in value and "value" in value:  # a Pulumi secret, shown as such
            return {"secret": _plain(value["value"])}
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if type(value).__module__ == "pulumi.asset" and getattr(value, "path", None):
        return {type(value).__name__: Path(value.path).name}  # a package: its file name
    return str(value)
