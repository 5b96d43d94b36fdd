"""The static provider: bring your own machines, reached over SSH.

Nothing is created except one scratch directory per host role (`mktemp -d` under /tmp),
which `down` removes; the machines themselves are yours before and after the campaign.
Hosts are reached with key-based SSH only and checked against known_hosts (see
docs/static.md). The Environment has the same shape as the local one: `client` and
`server` in the site's two zones, and `loadgen` on the client machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.environment import Environment, Host
from core.errors import BakeoffError, PrerequisiteError
from core.scenario import Campaign, StaticSite
from stacks.contract import Capabilities, PlannedResource
from stacks.executors.ssh import SshExecutor, SshTarget, require_asyncssh
from stacks.payload import install_payload

DATABASE_REASON = ("a static site uses hosts you bring; point http-load at your own service "
                   "with params.target_url")
KNOWN_HOSTS_ENV = "BAKEOFF_SSH_KNOWN_HOSTS"
SCRATCH_PREFIX = "/tmp/bakeoff-"

# One round trip for the facts that go into every sample row.
_FACTS = (
    'printf "vcpus=%s\\n" "$(nproc)"; printf "kernel=%s\\n" "$(uname -r)"; '
    'printf "arch=%s\\n" "$(uname -m)"; printf "hostname=%s\\n" "$(uname -n)"; '
    'm=$(sed -n "s/^model name[[:space:]]*:[[:space:]]*//p" /proc/cpuinfo | head -n 1); '
    'printf "cpu_model=%s\\n" "${m:-unknown}"; '
    'printf "memory_kib=%s\\n" "$(sed -n "s/^MemTotal:[[:space:]]*\\([0-9]*\\).*/\\1/p" '
    '/proc/meminfo)"; '
    # Python-driven workloads (http-load, db-query) need an interpreter with their
    # libraries (bakeoff's own code is shipped, stacks/payload.py): prefer the one behind
    # a `bakeoff` on PATH, else python3.
    'b=$(command -v bakeoff 2>/dev/null); p=; '
    '[ -n "$b" ] && p=$(head -n 1 "$b" | sed -n "s/^#![[:space:]]*//p"); p=${p:-python3}; '
    'r=$("$p" -c "import os, bench.poc.launcher as m; '
    'print(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(m.__file__)))))" '
    '2>/dev/null); printf "python=%s\\nbakeoff_root=%s\\n" "$p" "$r"')


@dataclass
class _Teardown:
    """What `down` must undo: scratch directories (per executor) and open connections."""

    executors: list[SshExecutor] = field(default_factory=list)
    scratch: list[tuple[SshExecutor, str]] = field(default_factory=list)


def _targets(site: StaticSite) -> dict[str, SshTarget]:
    out = {}
    for role in ("client", "server"):
        text = getattr(site, role)
        try:
            out[role] = SshTarget.parse(text)
        except ValueError as e:
            raise PrerequisiteError(f"site '{site.name}': {role}: {e}") from None
    return out


class StaticProvisioner:
    """Provisioner for `provider: static` sites (hosts you already have)."""

    name = "static"
    capabilities = Capabilities(
        zones=True, managed_database=False, spot=False,
        unsupported={"managed_database": DATABASE_REASON,
                     "spot": "static hosts are yours; there is no spot market",
                     "commitments": "a static site is priced by its stated hourly_usd"})

    def __init__(self, known_hosts: str | Path | None = None,
                 insecure_accept_host_key: bool = False) -> None:
        """`known_hosts` defaults to $BAKEOFF_SSH_KNOWN_HOSTS, else ~/.ssh/known_hosts."""
        self.known_hosts = known_hosts or os.environ.get(KNOWN_HOSTS_ENV) or None
        self.insecure_accept_host_key = insecure_accept_host_key
        self._teardown: dict[str, _Teardown] = {}

    def check(self, site: StaticSite) -> None:
        """Offline checks: SSH support installed, addresses well-formed, key present."""
        require_asyncssh()
        if site.database is not None:
            raise PrerequisiteError(f"site '{site.name}': database is not supported: "
                                    f"{DATABASE_REASON}")
        _targets(site)
        if site.ssh_key and not Path(site.ssh_key).expanduser().is_file():
            raise PrerequisiteError(f"site '{site.name}': ssh_key {site.ssh_key} does not "
                                    "exist")

    def plan(self, site: StaticSite, campaign: Campaign) -> list[PlannedResource]:
        targets = _targets(site)
        res = [PlannedResource("ssh-host", f"{site.name}-{role}", f"{t} (yours, not created)")
               for role, t in targets.items()]
        res.append(PlannedResource("scratch-dir", site.name,
                                   f"{SCRATCH_PREFIX}{site.name}-* on each host, removed at "
                                   "teardown"))
        return res

    def _executor(self, site: StaticSite, target: SshTarget) -> SshExecutor:
        known = getattr(site, "known_hosts", None) or self.known_hosts
        return SshExecutor(target, key=site.ssh_key, known_hosts=known,
                           insecure_accept_host_key=self.insecure_accept_host_key)

    def up(self, site: StaticSite, campaign: Campaign, campaign_id: str = "adhoc",
           index: int = 0) -> Environment:
        self.check(site)
        targets = _targets(site)
        td = _Teardown()
        self._teardown[site.name] = td
        try:
            execs, facts = {}, {}
            for role, target in targets.items():
                execs[role] = self._executor(site, target)
                td.executors.append(execs[role])
                facts[role] = _host_facts(site, role, execs[role])
            execs["loadgen"], facts["loadgen"] = execs["client"], dict(facts["client"])
            hosts = {}
            for role, zone in (("client", site.zones[0]), ("server", site.zones[1]),
                               ("loadgen", site.zones[0])):
                scratch = _mkscratch(site, role, execs[role])
                td.scratch.append((execs[role], scratch))
                facts[role]["scratch_dir"] = scratch
                # http-load and db-query run this controller's own code there, whatever
                # version of bakeoff (if any) the host has installed
                facts[role]["bakeoff_root"] = install_payload(
                    execs[role], scratch, f"site '{site.name}', {role} host")
                address = targets["server" if role == "server" else "client"].host
                hosts[role] = Host(role, zone, address, execs[role], facts[role])
            return Environment(
                site=site.name, provider="static", region=site.region, instance_type="static",
                hosts=hosts, network="ssh",
                notes={"ssh": {role: str(t) for role, t in targets.items()},
                       "price": {"hourly_usd": site.hourly_usd, "label": "stated"},
                       "campaign_id": campaign_id, "index": index})
        except BaseException:
            self._undo(td)
            self._teardown.pop(site.name, None)
            raise

    def down(self, env: Environment) -> None:
        """Remove scratch directories and close connections; a dead host is recorded in
        env.notes["teardown_errors"], never raised (there is nothing else to undo)."""
        td = self._teardown.pop(env.site, None)
        if td is not None:
            errors = self._undo(td)
            if errors:
                env.notes["teardown_errors"] = errors

    @staticmethod
    def _undo(td: _Teardown) -> list[str]:
        errors = []
        for ex, path in td.scratch:
            try:
                res = ex.run(("rm", "-rf", "--", path), timeout=60)
                if not res.ok:
                    errors.append(f"{ex.target}: rm -rf {path}: {res.stderr.strip()[:200]}")
            except (BakeoffError, OSError) as e:
                errors.append(f"{ex.target}: could not remove {path}: {e}")
        for ex in td.executors:
            try:
                ex.close()
            except (BakeoffError, OSError) as e:
                errors.append(f"{ex.target}: close: {e}")
        return errors

    def leftovers(self, campaign_id: str | None = None) -> list[str]:
        """Always empty: a static site creates no machines, and its only artefacts (scratch
        directories) are removed by `down`; a crash may leave /tmp/bakeoff-* on your hosts,
        which bakeoff cannot list without connecting, so check those by hand."""
        return []


def _host_facts(site: StaticSite, role: str, ex: SshExecutor) -> dict[str, object]:
    try:
        res = ex.run(("sh", "-c", _FACTS), timeout=60)
    except PrerequisiteError as e:
        raise PrerequisiteError(f"site '{site.name}', {role} host: {e}") from None
    if not res.ok:
        raise PrerequisiteError(f"site '{site.name}', {role} host {ex.target}: could not read "
                                f"host facts: {res.stderr.strip()[:300]}")
    raw = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    try:
        vcpus = int(raw["vcpus"])
    except (KeyError, ValueError):
        raise PrerequisiteError(f"site '{site.name}', {role} host {ex.target}: `nproc` gave "
                                f"{raw.get('vcpus')!r}; is coreutils installed?") from None
    facts: dict[str, object] = {"vcpus": vcpus, "cpu_model": raw.get("cpu_model", "unknown"),
                                "kernel": raw.get("kernel", "unknown"),
                                "arch": raw.get("arch", ""), "hostname": raw.get("hostname", ""),
                                "ssh_target": str(ex.target)}
    facts["python"] = raw.get("python") or "python3"
    facts["bakeoff_installed"] = bool(raw.get("bakeoff_root"))  # informational: the code
    # that runs there is shipped by `up` (stacks/payload.py)
    if raw.get("memory_kib", "").isdigit():
        facts["memory_gib"] = round(int(raw["memory_kib"]) / 2**20, 1)
    return facts


def _mkscratch(site: StaticSite, role: str, ex: SshExecutor) -> str:
    res = ex.run(("mktemp", "-d", f"{SCRATCH_PREFIX}{site.name}-{role}-XXXXXX"), timeout=30)
    path = res.stdout.strip()
    if not res.ok or not path.startswith(SCRATCH_PREFIX):
        raise PrerequisiteError(f"site '{site.name}', {role} host {ex.target}: mktemp -d "
                                f"failed: {res.stderr.strip()[:300]}")
    return path
