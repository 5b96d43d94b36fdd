"""Spot sites: telling a preempted host from a failed measurement.

When a unit fails on a spot site (`Environment.notes["spot"]`), each host is asked whether
the provider reclaimed it. The provisioner may hand its own control-plane probe in
`notes["preemption_probe"]` (a callable returning the preempted host names); otherwise the
host's instance metadata service is asked from the host itself, and a spot host that no
longer answers at all counts as reclaimed (spot VMs of this harness are deleted on
eviction, so an unreachable spot host is a preempted one).

A preempted unit stays `failed` in the manifest with `reason: preempted` (kept, excluded
from scoring like any failed unit); the site's later units are not attempted; the count
per site is a finding, because interruptions are part of what spot costs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from core.environment import Environment

PREEMPTED = "preempted"
PROBE_TIMEOUT_S = 20

# The cloud's own word, asked on the host: GCP answers TRUE once preempted; Azure lists a
# Preempt scheduled event before evicting; AWS serves spot/instance-action (404 until then).
METADATA_PROBE = {
    "gcp": "curl -sf -m 5 -H 'Metadata-Flavor: Google' "
           "http://metadata.google.internal/computeMetadata/v1/instance/preempted",
    "azure": "curl -sf -m 5 -H Metadata:true "
             "'http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01'",
    "aws": "t=$(curl -sf -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "
           "http://169.254.169.254/latest/api/token) && curl -sf -m 5 -H "
           "\"X-aws-ec2-metadata-token: $t\" "
           "http://169.254.169.254/latest/meta-data/spot/instance-action",
}


def _says_preempted(provider: str, rc: int, stdout: str) -> bool:
    if provider == "gcp":
        return stdout.strip().upper() == "TRUE"
    if provider == "azure":
        return '"Preempt"' in stdout.replace(" ", "")
    if provider == "aws":
        return rc == 0 and '"action"' in stdout
    return False


def preempted_hosts(env: Environment) -> list[str]:
    """Names of the site's hosts the provider reclaimed; [] for on-demand sites."""
    if not env.notes.get("spot"):
        return []
    probe: Callable[[], Any] | None = env.notes.get("preemption_probe")
    if callable(probe):
        return sorted(probe())
    command = METADATA_PROBE.get(env.provider)
    out = []
    for name, host in env.hosts.items():
        try:
            res = host.executor.run(["sh", "-c", command or "true"], timeout=PROBE_TIMEOUT_S)
        except Exception:  # the host is gone: a spot VM deleted on eviction
            out.append(name)
            continue
        if command and _says_preempted(env.provider, res.rc, res.stdout):
            out.append(name)
    return sorted(out)


def classify_failure(status: dict[str, Any], env: Environment) -> dict[str, Any]:
    """A failed unit's manifest entry, marked `reason: preempted` when that is what it was."""
    if status.get("status") != "failed":
        return status
    hosts = preempted_hosts(env)
    if hosts:
        status = {**status, "reason": PREEMPTED, "preempted_hosts": hosts,
                  "error": f"{PREEMPTED}: the provider reclaimed spot host(s) "
                           f"{', '.join(hosts)} ({status.get('error', '')})"}
    return status


def skipped_after_preemption(site: str) -> dict[str, Any]:
    """The entry of a unit not attempted because its site was already reclaimed."""
    return {"status": "failed", "reason": PREEMPTED,
            "error": f"{PREEMPTED}: site {site} lost a spot host earlier in the campaign"}


def site_preempted(manifest: dict[str, Any], site: str) -> bool:
    return any(u.get("reason") == PREEMPTED and key.split("/", 1)[0] == site
               for key, u in (manifest.get("units") or {}).items())


def preemptions_by_site(manifest: dict[str, Any]) -> dict[str, int]:
    """Units lost to spot interruptions, per site: a finding reported beside the scores."""
    return dict(Counter(key.split("/", 1)[0]
                        for key, u in (manifest.get("units") or {}).items()
                        if isinstance(u, dict) and u.get("reason") == PREEMPTED))
