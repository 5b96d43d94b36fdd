"""The provisioner contract: plan, up (an Environment, see core.environment), down.

Like SkyPilot's clouds, provisioners are small, stateless classes behind one protocol.
They declare what they can do; anything unsupported is reported with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.environment import Environment
    from core.scenario import Campaign, Site


@dataclass(frozen=True)
class PlannedResource:
    kind: str
    name: str
    detail: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; `unsupported` maps a feature to the reason it is not."""

    zones: bool = True
    managed_database: bool = False
    spot: bool = False
    unsupported: dict[str, str] = field(default_factory=dict)


class Provisioner(Protocol):
    """plan → up → down, plus leftovers for garbage collection by campaign tag."""

    name: str
    capabilities: Capabilities

    def check(self, site: Site) -> None:
        """Raise PrerequisiteError naming what is missing (CLI, credentials, root)."""

    def plan(self, site: Site, campaign: Campaign) -> list[PlannedResource]: ...

    def up(self, site: Site, campaign: Campaign, campaign_id: str = "adhoc",
           index: int = 0) -> Environment: ...

    def down(self, env: Environment) -> None: ...

    def leftovers(self, campaign_id: str) -> list[str]: ...
