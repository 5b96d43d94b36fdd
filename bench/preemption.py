"""Spot sites: telling a preempted host from a failed measurement.

When a unit fails on a spot site (`Environment.notes["spot"]`), bakeoff asks which hosts
the provider reclaimed. The provisioner may hand its own control-plane probe in
`notes["preemption_probe"]` (a callable returning the preempted host names); otherwise a
spot host that no longer runs a trivial command counts as reclaimed: every program deletes
spot VMs on eviction (AWS terminate, Azure eviction policy Delete, GCP termination action
DELETE), so an unreachable spot host is a preempted one. The instance metadata services
(which announce an eviction some seconds ahead) are not asked: from a test's loopback
"VM" that request would leave the machine.

The runner (bench/runner.py) does the asking: a preempted unit stays `failed` in the
manifest with `reason: preempted` (kept, excluded from scoring like any failed unit); the
site's later units fail at once with the same reason instead of waiting on a gone host;
the count per site is a finding, because interruptions are part of what spot costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.manifest_reads import PREEMPTED as PREEMPTED
from bench.manifest_reads import preemptions_by_site as preemptions_by_site
from bench.manifest_reads import site_preempted as site_preempted
from core.environment import Environment

PROBE_TIMEOUT_S = 20
# Set in Environment.notes once a host of the site was reclaimed: later units fail at once.
PREEMPTED_NOTE = "preempted_hosts"


def preempted_hosts(env: Environment) -> list[str]:
    """Names of the site's hosts the provider reclaimed; [] for on-demand sites."""
    if not env.notes.get("spot"):
        return []
    probe: Callable[[], Any] | None = env.notes.get("preemption_probe")
    if callable(probe):
        return sorted(probe())
    out, asked = [], set()
    for name, host in env.hosts.items():
        if id(host.executor) in asked:  # an alias of a host already asked (loadgen = client
            continue                    # when a site has no load-generator VM): one machine
        asked.add(id(host.executor))
        try:
            res = host.executor.run(["true"], timeout=PROBE_TIMEOUT_S)
        except Exception:  # the host is gone: a spot VM deleted on eviction
            out.append(name)
            continue
        if res.timed_out:
            out.append(name)
    return sorted(out)


def preempted_message(hosts: list[str], error: str = "") -> str:
    why = f" ({error})" if error else ""
    return f"{PREEMPTED}: the provider reclaimed spot host(s) {', '.join(hosts)}{why}"
