"""`bakeoff down CAMPAIGN`: remove everything a dead campaign left, now, from its journal.

A campaign killed outright (SIGKILL, power loss) leaves paid stacks that its tags keep for
hours. `down` destroys every stack its cloud journal lists as possibly holding resources
(`stacks.cloud.state`), without waiting for the tags to expire and without the scenario,
and sweeps what it left on this machine (`bench.leftovers`). It first takes the
campaign's claim (`bench.lock`): a campaign whose owner is alive is refused (exit 7) and
untouched, and no `--resume` can start while `down` runs. A stack still locked by a live
update (a worker stopping after its controller died) is waited for, never cancelled under
it (`CloudProvisioner.down_site`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import leftovers
from bench.lock import Busy, CampaignClaim, describe_owner, is_live, read_owner
from core.errors import BakeoffError
from stacks.cloud.state import CampaignState


@dataclass
class DownReport:
    campaign_id: str
    destroyed: list[str] = field(default_factory=list)  # sites
    removed_here: list[str] = field(default_factory=list)  # local leftovers
    problems: list[str] = field(default_factory=list)


def down_campaign(campaign_id: str, provisioner_for: Callable[[str], Any],
                  state_root: Path | None = None,
                  say: Callable[[str], None] = lambda _m: None) -> DownReport:
    """Destroy every live journaled stack and sweep this machine; refuse a live campaign."""
    journal = CampaignState(campaign_id, state_root)
    claim = CampaignClaim(campaign_id)
    if not journal.journal_path.exists() and not claim.dir.is_dir():
        raise BakeoffError(f"no campaign {campaign_id!r} on this machine: no cloud journal "
                           f"({journal.journal_path}) and no state ({claim.dir})")
    if is_live(claim.dir):
        raise Busy(f"campaign {campaign_id} is running "
                   f"({describe_owner(read_owner(claim.dir))}); `bakeoff down` removes only "
                   "a dead campaign's resources. Stop it (Ctrl-C, or kill PID): it tears "
                   "itself down")
    owner = read_owner(claim.dir)
    claim.dir.mkdir(parents=True, exist_ok=True)
    if not claim.try_acquire_dead():
        raise Busy(f"campaign {campaign_id} came alive again; not touched")
    report = DownReport(campaign_id)
    remaining: list[str] = []
    try:
        found = leftovers.campaign_leftovers(campaign_id, claim.dir)
        report.removed_here = [str(x) for x in found]
        for item in found:
            say(f"removing on this machine: {item}")
        report.problems += leftovers.remove(found)
        remaining = [str(x) for x in leftovers.campaign_leftovers(campaign_id, claim.dir)]
        report.problems += [f"still on this machine: {x}" for x in remaining]
        sites = journal.journal()["sites"]
        for site in journal.live_sites():
            entry = sites[site]
            say(f"destroying {entry.get('stack', site)} ({entry.get('provider')}, "
                f"status {entry.get('status')})")
            try:
                provisioner_for(entry["provider"]).down_site(campaign_id, site)
            except Exception as e:  # every site gets its attempt
                report.problems.append(f"site {site}: {type(e).__name__}: {e}")
            else:
                report.destroyed.append(site)
        leftovers.finalize_manifest(owner.get("results_dir"),
                                    "owner process died (killed); resources removed by "
                                    "bakeoff down")
    finally:
        claim.release(remove=not report.problems)
    return report
