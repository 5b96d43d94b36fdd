"""What `bakeoff doctor` checks the same way on every cloud, and the metadata switches.

A `Check` is ok, failed (a missing prerequisite: doctor exits 3) or unknown (the API
could not be read: shown, never passed off as ok). The Pulumi CLI and the operator CIDR
are checked for every provider; quotas compare what the campaign's sites would start, on
demand and spot, with what the account allows.

Instance metadata (169.254.169.254): every cloud SDK's credential chain may probe it when
nothing else is configured. `no_metadata_probes` switches those probes off for the clouds
the user did not name (scenario or `--provider`), so doctor and gc on a machine that is
not a cloud VM connect to nothing there.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from stacks.cloud.spec import CloudSiteSpec
from stacks.cloud.workspace import MIN_PULUMI_CLI, pulumi_cli_version

METADATA_SWITCHES = {
    "aws": {"AWS_EC2_METADATA_DISABLED": "true"},  # botocore's IMDS credential provider
    "gcp": {"NO_GCE_CHECK": "true"},  # google-auth's GCE detection (read at import)
}  # Azure: DefaultAzureCredential(exclude_managed_identity_credential=True), by the caller


@dataclass(frozen=True)
class Check:
    provider: str
    name: str
    ok: bool
    detail: str
    fix: str = ""
    unknown: bool = False  # could not be read: neither ok nor a missing prerequisite


def unknown(provider: str, name: str, detail: str, fix: str = "") -> Check:
    return Check(provider, name, True, detail, fix, unknown=True)


def missing_modules(modules: Iterable[str]) -> list[str]:
    out = []
    for m in modules:
        try:
            found = importlib.util.find_spec(m) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(m)
    return out


def check_pulumi_cli(provider: str = "pulumi") -> Check:
    version = pulumi_cli_version()
    want = ".".join(map(str, MIN_PULUMI_CLI))
    if version is None:
        return Check(provider, "Pulumi CLI", False, "not on PATH",
                     "curl -fsSL https://get.pulumi.com | sh, then open a new shell")
    got = ".".join(map(str, version))
    if version < MIN_PULUMI_CLI:
        return Check(provider, "Pulumi CLI", False, f"{got} (need >= {want})",
                     "pulumi self-update")
    return Check(provider, "Pulumi CLI", True, got)


def check_cidr(provider: str, sites: list[CloudSiteSpec],
               detect: Callable[[], str | None]) -> Check:
    """The address SSH will be opened to: the sites' ssh_cidr, the env, or detected."""
    from stacks.cloud.resolve import CIDR_ENV

    if os.environ.get(CIDR_ENV):
        return Check(provider, "operator CIDR", True,
                     f"{os.environ[CIDR_ENV]} (from {CIDR_ENV})")
    ip = detect()
    if ip:
        return Check(provider, "operator CIDR", True,
                     f"{ip}/32 (detected); SSH opens to it only")
    return Check(provider, "operator CIDR", False,
                 "could not detect this machine's public address",
                 f"set ssh_cidr on the site or export {CIDR_ENV}=<your address>/32")


def vcpus_needed(sites: Iterable[CloudSiteSpec], spot: bool | None = None
                 ) -> dict[str, dict[str, int]]:
    """region -> instance type -> number of VMs (only spot or on-demand sites if asked)."""
    need: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in sites:
        if spot is not None and bool(s.spot) != spot:
            continue
        need[s.region][s.instance_type] += 2
        if s.loadgen_count:
            need[s.region][s.loadgen_instance_type] += s.loadgen_count
    return need


def quota_check(provider: str, region: str, metric: str, need: int,
                usage_limit: tuple[float, float] | None, fix: str) -> Check:
    name = f"quota {region} {metric}"
    if usage_limit is None:
        return unknown(provider, name, f"needs {need} vCPUs; the quota was not reported")
    used, limit = usage_limit
    free = limit - used
    ok = free >= need
    return Check(provider, name, ok, f"needs {need} vCPUs, {free:g} free of {limit:g}",
                 "" if ok else fix)


def first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


def no_metadata_probes(providers: Iterable[str]) -> None:
    """Switch off the instance-metadata probes of these clouds' SDKs in this process."""
    for p in providers:
        for key, value in METADATA_SWITCHES.get(p, {}).items():
            os.environ.setdefault(key, value)
        if p == "gcp" and "google.auth.compute_engine._metadata" in sys.modules:
            sys.modules["google.auth.compute_engine._metadata"]._NO_GCE_CHECK = True


def render_checks(console: Any, checks: list[Check]) -> None:
    """The checks in the terminal's width: a table of what was found (wrapped between
    words, never cut), then each fix on lines of its own, a command never broken."""
    from core.tables import print_table_or_blocks, print_wrapped

    def status(c: Check) -> str:
        return "unknown" if c.unknown else "ok" if c.ok else "FAILED"

    print_table_or_blocks(console, "bakeoff doctor", ("check", "status", "detail"),
                          [[f"{c.provider} {c.name}", status(c), c.detail] for c in checks])
    for c in checks:
        if c.fix and (not c.ok or c.unknown):
            print_wrapped(console, f"fix for {c.provider} {c.name}: {c.fix}", subsequent="  ")
