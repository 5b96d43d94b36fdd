"""What every provider's garbage collector shares: one verdict rule, dry run by default.

A provider supplies an `Inventory`: it lists the resources that carry bakeoff tags (in the
order they must be deleted) and deletes one. `collect` judges each with the same rules on
every cloud:

- a resource without both `bakeoff-campaign` and `bakeoff-expires-at` is never touched;
- one of a campaign whose owner is alive on this machine is kept, expired or not (the
  campaign tears itself down);
- one whose expiry has passed is deleted;
- one whose campaign has no journal entry is deleted once it is older than `older_than`
  (and at least `UNKNOWN_MIN_AGE`, so a campaign starting elsewhere right now is safe);
  when its age is unknown it waits for its expiry;
- everything else is kept, with the reason.

Nothing is deleted unless `delete=True`. A deletion that fails is reported and the others
go on. Campaign ids are compared as the provider stores them: an inventory may define
`campaign_key(id)` (GCP labels lowercase the id, whose stamp holds `T` and `Z`), applied
to the resource's tag and to every id of the journal and of the live campaigns alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from stacks.cloud.spec import TAG_CAMPAIGN, TAG_EXPIRES

UNKNOWN_MIN_AGE = timedelta(hours=1)
# ISO 8601 and its GCP label form ('2026-11-27t16-00-00-00-00'): always written in UTC.
_STAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[tT ](\d{2})[:-](\d{2})[:-](\d{2})")


@dataclass(frozen=True)
class Leftover:
    """One bakeoff resource found in a cloud account."""

    provider: str
    kind: str  # resource-group | instance | disk | firewall | network | sql-instance ...
    id: str  # what the inventory needs to delete it
    name: str
    tags: Mapping[str, str]
    location: str = ""
    created_at: datetime | None = None

    @property
    def campaign(self) -> str | None:
        return self.tags.get(TAG_CAMPAIGN)


@dataclass(frozen=True)
class Verdict:
    item: Leftover
    action: Literal["delete", "keep"]
    reason: str


@dataclass
class GcReport:
    provider: str
    dry_run: bool
    verdicts: list[Verdict] = field(default_factory=list)
    deleted: list[Leftover] = field(default_factory=list)
    errors: list[tuple[Leftover, str]] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)  # kinds not looked at, with why

    @property
    def to_delete(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.action == "delete"]


class Inventory(Protocol):
    """One provider's view of an account: bakeoff-tagged resources, in deletion order."""

    provider: str

    def leftovers(self) -> Iterable[Leftover]: ...

    def delete(self, item: Leftover) -> None: ...


def parse_expiry(value: str) -> datetime | None:
    """'2026-11-27T16:00:00+00:00' or its GCP label form -> aware UTC datetime."""
    m = _STAMP.match(value.strip())
    if not m:
        return None
    try:
        return datetime(*map(int, m.groups()), tzinfo=UTC)
    except ValueError:
        return None


def _same(campaign_id: str) -> str:
    return campaign_id


def judge(item: Leftover, now: datetime, known_campaigns: set[str] | None,
          older_than: timedelta = timedelta(0), live_campaigns: Iterable[str] = (),
          key: Callable[[str], str] = _same) -> Verdict:
    """The one rule every provider applies (see the module docstring). `key` maps an id
    to the provider's stored form; it is applied to both sides of every comparison."""
    campaign, raw_expiry = item.tags.get(TAG_CAMPAIGN), item.tags.get(TAG_EXPIRES)
    if not campaign or not raw_expiry:
        return Verdict(item, "keep", "not a bakeoff resource (bakeoff tags missing)")
    if key(campaign) in {key(c) for c in live_campaigns}:
        return Verdict(item, "keep", f"campaign {campaign} is running here (owner alive)")
    if known_campaigns is not None:
        known_campaigns = {key(c) for c in known_campaigns}
        campaign = key(campaign)
    expiry = parse_expiry(raw_expiry)
    age = now - item.created_at if item.created_at else None
    if age is not None and age < older_than:
        return Verdict(item, "keep", f"younger than {older_than}")
    if expiry is not None and expiry <= now:
        return Verdict(item, "delete", f"expired at {expiry:%Y-%m-%d %H:%M} UTC")
    if known_campaigns is not None and campaign not in known_campaigns:
        if age is not None and age >= max(older_than, UNKNOWN_MIN_AGE):
            return Verdict(item, "delete", f"campaign {campaign} has no journal entry")
        return Verdict(item, "keep", f"campaign {campaign} has no journal entry, but it is "
                       "recent or of unknown age: kept until its expiry")
    if expiry is None:
        return Verdict(item, "keep", f"expiry {raw_expiry!r} unreadable")
    return Verdict(item, "keep", f"live until {expiry:%Y-%m-%d %H:%M} UTC")


def clock() -> datetime:
    """Now, in UTC; the one place gc reads the time (tests with recorded tags pin it)."""
    return datetime.now(UTC)


def collect(inventory: Inventory, *, now: datetime | None = None,
            known_campaigns: set[str] | None = None, older_than: timedelta = timedelta(0),
            delete: bool = False, live_campaigns: Iterable[str] = ()) -> GcReport:
    """Judge every leftover; delete the condemned ones only when `delete` is set."""
    now = now or clock()
    report = GcReport(inventory.provider, dry_run=not delete)
    key = getattr(inventory, "campaign_key", _same)
    live = list(live_campaigns)
    for item in inventory.leftovers():
        verdict = judge(item, now, known_campaigns, older_than, live, key)
        report.verdicts.append(verdict)
        if verdict.action != "delete" or not delete:
            continue
        try:
            inventory.delete(item)
        except Exception as e:  # one failure must not stop the rest of the sweep
            report.errors.append((item, f"{type(e).__name__}: {e}"))
        else:
            report.deleted.append(item)
    report.unlisted = list(getattr(inventory, "unlisted", []))
    return report


def tags_from_description(text: str | None) -> dict[str, str]:
    """Tags kept in a description (GCP networks and firewalls take no labels)."""
    out: dict[str, str] = {}
    for part in (text or "").split():
        key, sep, value = part.partition("=")
        if sep and key:
            out[key] = value
    return out


def tags_as_description(tags: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in tags.items())
