"""What a campaign's teardown could not remove, and the one command that removes it.

A destroy that fails must not end in a quiet "complete": the manifest gets `left_behind`
(`items`, `command`), the run prints both and exits `ExitCode.LEFT_BEHIND` (13). Cloud
stacks are named by their provisioner (from its journal); what the sweep of this machine
could not remove comes from `bench.leftovers`.
"""

from __future__ import annotations

import shlex
from typing import Any


def down_command(campaign_id: str) -> str:
    """Destroys every journaled stack of a dead campaign and sweeps this machine."""
    return shlex.join(["bakeoff", "down", campaign_id])


def gc_command(campaign_id: str) -> str:
    """Sweeps this machine only (processes, namespaces, temp dirs...)."""
    return shlex.join(["bakeoff", "gc", "--delete", "--campaign", campaign_id])


def left_behind(campaign_id: str, provisioners: dict[str, Any],
                local_remaining: list[str]) -> dict[str, Any] | None:
    """None when nothing is left; else the items and the command that removes them."""
    items: list[str] = []
    seen: set[int] = set()
    for p in provisioners.values():
        if id(p) in seen or not hasattr(p, "leftovers"):
            continue
        seen.add(id(p))
        try:
            items.extend(p.leftovers(campaign_id))
        except Exception as e:  # a journal that cannot be read is itself a reason to look
            items.append(f"{getattr(p, 'name', type(p).__name__)} leftovers unknown: {e}")
    cloud = bool(items)
    items.extend(f"on this machine: {x}" for x in local_remaining)
    if not items:
        return None
    return {"items": items,
            "command": down_command(campaign_id) if cloud else gc_command(campaign_id)}


class JournalOnly:
    """A site known only from its provider's journal (nothing was provisioned this run)."""

    def __init__(self, provider: str):
        self.provider = provider


def journaled_sites(provisioners: dict[str, Any], provider_of: dict[str, str],
                    campaign_id: str, envs: dict[str, Any]) -> dict[str, JournalOnly]:
    """Sites not provisioned this run whose provisioner's journal says a stack may still
    hold resources (a resume after a kill during teardown; an up whose destroy failed)."""
    out: dict[str, JournalOnly] = {}
    for name, p in provisioners.items():
        state = getattr(p, "state", None)
        if name in envs or state is None or not hasattr(p, "down_site"):
            continue
        if name in state(campaign_id).live_sites():
            out[name] = JournalOnly(provider_of[name])
    return out
