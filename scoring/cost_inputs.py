"""Ask the cost side (scoring.tco, scoring.sla, the catalog) once per scoring run.

A price the scored criteria need and cannot get is an error, never a silent $0. A price only
the report's cost section wants is shown as unavailable with the reason instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core.errors import BakeoffError
from core.scenario import Campaign
from scoring.quantities import SLA_UNIT, CostInputs, Quantity, Status

CostFn = Callable[[Campaign], dict[str, Any]]
CLOUDS = ("aws", "azure", "gcp")
COST_CRITERIA = {"tco", "price_performance"}


def _default_costs(campaign: Campaign) -> dict[str, Any]:
    from scoring.tco import estimate_campaign

    return estimate_campaign(campaign)


def _default_sla(campaign: Campaign, site: Any) -> Any:
    from scoring.sla import sla_risk

    return sla_risk(campaign, site)


def _costs(campaign: Campaign, needed: Iterable[str], cost_fn: CostFn | None,
           inputs: CostInputs) -> None:
    required = bool(COST_CRITERIA & set(needed))
    try:
        inputs.costs = dict((cost_fn or _default_costs)(campaign))
    except BakeoffError as e:
        if required:
            raise
        inputs.cost_error = str(e)


def _sla(campaign: Campaign, sla_fn: Callable[..., Any] | None, inputs: CostInputs) -> None:
    for site in campaign.sites:
        if site.provider not in CLOUDS:
            inputs.sla[site.name] = _sla_absent("na", f"a {site.provider} site has no "
                                                      "published SLA")
            continue
        risk = (sla_fn or _default_sla)(campaign, site)
        if risk is None:
            inputs.sla[site.name] = _sla_absent("na", "no SLA in the catalog for this site")
        elif risk.uncovered:
            # A part with no SLA must not look perfect: the cell is scored as missing (1).
            inputs.sla[site.name] = _sla_absent("missing", "no published SLA covers: "
                                                + ", ".join(map(str, risk.uncovered)))
        else:
            availability = float(risk.availability_pct)
            source = str(getattr(risk, "source", ""))
            parts = " x ".join(f"{c.service}/{c.tier} {c.availability_pct:g}%"
                               for c in getattr(risk, "components", []))
            inputs.sla[site.name] = Quantity(availability, SLA_UNIT, [availability],
                                             note=f"{availability:g}% published SLA"
                                                  + (f" ({parts})" if parts else ""),
                                             sources=[source] if source else [], noisy=False)


def _sla_absent(status: Status, note: str) -> Quantity:
    return Quantity(None, SLA_UNIT, status=status, note=note, noisy=False)


def _compliance(campaign: Campaign, inputs: CostInputs) -> None:
    """Levels per provider and region (scoring.compliance); with `requires`, the count of
    requirements met, and 0 (scored worst) for a site that fails any of them."""
    from scoring.compliance import REQUIREMENTS, check

    total = len(campaign.requires) or len(REQUIREMENTS)
    for site in campaign.sites:
        if site.provider not in CLOUDS:
            inputs.compliance[site.name] = (None, total, f"a {site.provider} site has no "
                                                         "provider attestations", [])
            continue
        res = check(site.provider, site.region, list(campaign.requires))
        inputs.compliance[site.name] = (res.value, res.total, res.note, res.sources)


def gather_cost_inputs(campaign: Campaign, needed: set[str], *, cost_fn: CostFn | None = None,
                       sla_fn: Callable[..., Any] | None = None,
                       want_costs: bool = True) -> CostInputs:
    """Costs (always when wanted, for the report), SLA and compliance (when scored)."""
    inputs = CostInputs()
    if want_costs or COST_CRITERIA & needed:
        _costs(campaign, needed, cost_fn, inputs)
    if "sla" in needed:
        _sla(campaign, sla_fn, inputs)
    if "compliance" in needed:
        _compliance(campaign, inputs)
    return inputs
