"""`bakeoff gc` and `bakeoff doctor`: leftovers and preflight for cloud accounts.

Providers plug in through two tables: `INVENTORIES` (a factory of a
`stacks.cloud.gc_common.Inventory`) and `CHECKERS` (a function of the campaign's site specs
returning `Check`s). Azure and GCP are here; another provider adds one entry to each.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.errors import BakeoffError, PrerequisiteError

out = Console()

# Under the state directory, one folder per journaled campaign (the lifecycle writes them).
STATE_ENV = "BAKEOFF_STATE_DIR"


def state_campaigns_dir() -> Path:
    if os.environ.get(STATE_ENV):
        root = Path(os.environ[STATE_ENV]).expanduser()
    else:
        xdg = os.environ.get("XDG_STATE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".local" / "state") / "bakeoff"
    return root / "campaigns"


def known_campaigns(journal_dir: Path | None = None) -> set[str]:
    """Campaign ids with a journal entry on this machine."""
    d = journal_dir or state_campaigns_dir()
    return {p.name for p in d.iterdir() if p.is_dir()} if d.is_dir() else set()


def live_campaigns() -> set[str]:
    """Ids of the campaigns whose owner holds its claim on this machine right now: gc
    keeps their resources whatever their tags say."""
    from bench.lock import is_live
    from stacks.tracking import state_root

    root = state_root()
    return {d.name for d in root.iterdir() if d.is_dir() and is_live(d)} \
        if root.is_dir() else set()


def _azure_inventory(opts: dict[str, Any]) -> Any:
    from stacks.cloud.doctor_azgcp import azure_subscription
    from stacks.cloud.gc_azure import AzureInventory

    sub = opts.get("subscription") or azure_subscription()
    if not sub:
        raise PrerequisiteError("azure: no subscription; pass --subscription or export "
                                "AZURE_SUBSCRIPTION_ID")
    credential = None
    if "azure" not in opts.get("named", {"azure"}):  # no managed-identity (IMDS) probe
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(exclude_managed_identity_credential=True)
    return AzureInventory(sub, credential=credential)


def _gcp_inventory(opts: dict[str, Any]) -> Any:
    from stacks.cloud.gc_gcp import GcpInventory

    project = opts.get("project") or os.environ.get("GOOGLE_CLOUD_PROJECT")
    if not project:
        import google.auth

        project = google.auth.default()[1]
    if not project:
        raise PrerequisiteError("gcp: no project; pass --project or export "
                                "GOOGLE_CLOUD_PROJECT")
    return GcpInventory(project)


def _aws_regions() -> list[str]:
    from stacks.cloud.gc_aws import default_regions

    return default_regions()


def _aws_inventory(opts: dict[str, Any]) -> Any:
    from stacks.cloud.gc_aws import AwsInventory, default_regions

    regions = opts.get("regions") or default_regions()
    if not regions:
        raise PrerequisiteError("aws: no region; pass --region (repeatable) or export "
                                "AWS_REGION")
    return AwsInventory(regions)


INVENTORIES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "aws": _aws_inventory, "azure": _azure_inventory, "gcp": _gcp_inventory}


def journaled_providers(journal_dir: Path | None = None) -> set[str]:
    """The clouds that campaigns journaled on this machine used."""
    d = journal_dir or state_campaigns_dir()
    found: set[str] = set()
    for path in sorted(d.glob("*/journal.json")) if d.is_dir() else []:
        try:
            sites = json.loads(path.read_text()).get("sites", {})
        except (OSError, ValueError, AttributeError):
            continue  # a damaged journal names no provider; `-p` still sweeps it
        found |= {e.get("provider") for e in sites.values() if isinstance(e, dict)}
    return found & set(INVENTORIES)


def default_providers(regions: list[str] | None = None, subscription: str | None = None,
                      project: str | None = None, journal: Path | None = None) -> list[str]:
    """The clouds swept without --provider: those a journaled campaign used, and those
    configured here (an AWS region, an Azure subscription, a GCP project). A machine
    that never ran a cloud campaign sweeps none, and needs no cloud credentials."""
    from stacks.cloud.doctor_azgcp import azure_subscription

    configured = {"aws": bool(regions or _aws_regions()),
                  "azure": bool(subscription or azure_subscription()),
                  "gcp": bool(project or os.environ.get("GOOGLE_CLOUD_PROJECT"))}
    used = journaled_providers(journal)
    return [p for p in INVENTORIES if configured[p] or p in used]


def parse_age(text: str) -> timedelta:
    """'90m', '2h', '1d' -> timedelta."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", text)
    if not m:
        raise BakeoffError(f"--older-than: expected a number and m, h or d (e.g. 2h), "
                           f"got {text!r}")
    n, unit = float(m.group(1)), m.group(2)
    return timedelta(minutes=n) if unit == "m" else (
        timedelta(hours=n) if unit == "h" else timedelta(days=n))


def gc(provider: list[str] = typer.Option(None, "--provider", "-p",
                                          help="aws, azure, gcp (repeatable); default: "
                                          "those your campaigns used or you configured"),
       older_than: str = typer.Option("0m", "--older-than",
                                      help="spare anything younger (e.g. 2h)"),
       delete: bool = typer.Option(False, "--delete", help="delete; default is a dry run"),
       subscription: str | None = typer.Option(None, help="Azure subscription id"),
       project: str | None = typer.Option(None, help="GCP project id"),
       region: list[str] = typer.Option(None, "--region", help="AWS region(s) to sweep; "
                                        "default: AWS_REGION"),
       journal: Path | None = typer.Option(None, help="campaigns journal folder "
                                                      "(default: the state directory)"),
       provider_named: list[str] | None = None,
       ) -> None:
    """List (and with --delete remove) bakeoff leftovers: expired, or of unknown campaigns.

    Resources without the bakeoff tags are never touched. `provider_named`: the clouds
    the user named (the others are swept without instance-metadata probes)."""
    from stacks.cloud.gc_common import collect

    if provider_named is None:
        provider_named = list(provider or [])

    age = parse_age(older_than)
    wanted = provider or default_providers(region, subscription, project, journal)
    if not wanted:
        out.print("clouds: none swept (no campaign here used one, none is configured; "
                  "`--provider aws|azure|gcp` sweeps one anyway)")
        return
    unknown = sorted(set(wanted) - set(INVENTORIES))
    if unknown:
        raise BakeoffError(f"--provider: expected one of {', '.join(INVENTORIES)}, "
                           f"got {', '.join(unknown)}")
    known = known_campaigns(journal)
    live = live_campaigns()
    opts = {"subscription": subscription, "project": project, "regions": region,
            "named": set(provider_named or ())}
    from stacks.cloud.doctor_common import no_metadata_probes

    no_metadata_probes(set(wanted) - opts["named"])  # swept by default: no IMDS probes
    failures = 0
    for name in wanted:
        try:
            report = collect(INVENTORIES[name](opts), known_campaigns=known, older_than=age,
                             delete=delete, live_campaigns=live)
        except BakeoffError as e:
            out.print(f"[yellow]{name}: skipped[/yellow]: {escape(str(e))}")
            failures += 1
            continue
        except Exception as e:  # SDK missing, credentials refused: say it and go on
            out.print(f"[yellow]{name}: skipped[/yellow]: {type(e).__name__}: "
                      f"{escape(str(e).splitlines()[0] if str(e) else '')}")
            failures += 1
            continue
        failures += len(report.errors) + len(report.unlisted)
        _print_report(report)
        for why in report.unlisted:
            out.print(f"[yellow]{name}: not looked for[/yellow]: {escape(why)}; grant the "
                      "list permission to sweep these too")
    if failures:
        raise typer.Exit(1)


def _print_report(report: Any) -> None:
    table = Table(title=f"{report.provider} leftovers" + (" (dry run)" if report.dry_run
                                                           else ""))
    for col in ("kind", "name", "location", "campaign", "action", "reason"):
        table.add_column(col)
    errors = {id(item): why for item, why in report.errors}
    for v in report.verdicts:
        action = v.action if report.dry_run or v.action == "keep" else (
            "[red]error[/red]" if id(v.item) in errors else "deleted")
        table.add_row(v.item.kind, v.item.name, v.item.location, v.item.campaign or "",
                      action, escape(errors.get(id(v.item), v.reason)))
    out.print(table)
    n = len(report.to_delete)
    if report.dry_run:
        out.print(f"{report.provider}: {n} to delete; nothing deleted (dry run: add --delete)")
    else:
        out.print(f"{report.provider}: deleted {len(report.deleted)} of {n}, "
                  f"{len(report.errors)} error(s)")


def doctor(scenario: Path | None = typer.Argument(None, help="scenario YAML (for quotas)"),
           provider: list[str] = typer.Option(None, "--provider", "-p",
                                              help="aws, azure, gcp (repeatable)"),
           fmt: str = typer.Option("table", "--format", help="table | json | csv"),
           canary: bool = typer.Option(False, "--canary", help="then, if every check "
                                       "passed, run the scenario's canary (`run --canary`)")
           ) -> None:
    """Check what a cloud run needs, the same way on each cloud: Pulumi CLI, SDK extras,
    credentials and identity, subscription/project as the provider reads it, APIs and
    registrations, operator CIDR, on-demand and spot quotas.

    Only the clouds the scenario or --provider names are asked (nothing else is
    contacted, the instance metadata address included). Exit 3 when a prerequisite is
    missing; "unknown" (a quota the API would not show) does not fail.

    Example: bakeoff doctor scenarios/poc-web-db.yaml -p aws
    """
    from core.exit_codes import ExitCode
    from stacks.cloud.doctor_aws import check_aws
    from stacks.cloud.doctor_azgcp import CHECKERS as AZGCP

    CHECKERS = {"aws": check_aws, **AZGCP}

    specs = _site_specs(scenario) if scenario else []
    wanted = provider or sorted({s.provider for s in specs} & set(CHECKERS))
    if not wanted:
        raise BakeoffError("doctor: name the clouds to check: a scenario with cloud sites, "
                           "or --provider aws|azure|gcp (repeatable)")
    unknown = sorted(set(wanted) - set(CHECKERS))
    if unknown:
        raise BakeoffError(f"--provider: expected one of {', '.join(CHECKERS)}, "
                           f"got {', '.join(unknown)}")
    from core.tables import check_format, emit_records

    check_format(fmt, command="doctor")
    checks = [c for name in wanted for c in CHECKERS[name]([s for s in specs
                                                            if s.provider == name])]
    failed = sum(not c.ok for c in checks)
    records = [{"provider": c.provider, "check": c.name, "ok": c.ok, "unknown": c.unknown,
                "detail": c.detail, "fix": c.fix} for c in checks]
    if fmt == "table":
        from stacks.cloud.doctor_common import render_checks

        render_checks(out, checks)
    else:
        emit_records(records, fmt)
    if failed and fmt == "table":
        out.print(f"{failed} problem(s): fix them before `bakeoff run`"
                  + ("; the canary was not started" if canary else ""))
    if failed:
        raise typer.Exit(int(ExitCode.PREREQUISITE))
    if canary:
        if scenario is None:
            raise BakeoffError("--canary needs the scenario whose cloud sites to try out")
        from bakeoff.cli import run
        from bench.campaigns import RESULTS_ENV

        run(scenario=scenario, results=os.environ.get(RESULTS_ENV) or "results", quiet=False,
            resume=None, no_score=True, no_wait=False, allow_changes=False, no_fail=True,
            canary=True)


def _site_specs(scenario: Path) -> list[Any]:
    """The campaign's cloud sites as specs (placeholders for what a run generates)."""
    from bakeoff.cloudsites import plan_spec, resolve_campaign
    from bench.scenarios import load_campaign_file
    from core.scenario import CloudSite

    campaign = resolve_campaign(load_campaign_file(scenario))
    return [plan_spec(s, campaign) for s in campaign.sites if isinstance(s, CloudSite)]


def down(campaign: str = typer.Argument(..., help="campaign id (as printed by `run`)")
         ) -> None:
    """Destroy every cloud stack of a dead campaign now, and what it left on this machine.

    Reads the campaign's journal (no scenario needed) and does not wait for tags to
    expire. A campaign whose owner is alive is refused (exit 7); whatever could not be
    removed is listed (exit 13: run it again).

    Example: bakeoff down cloudy-20261127T160000Z-a1b2c3
    """
    from bakeoff.down import down_campaign
    from core.exit_codes import ExitCode
    from stacks.registry import provisioner_for

    report = down_campaign(campaign, provisioner_for, say=lambda m: out.print(escape(m)))
    out.print(f"campaign {campaign}: {len(report.destroyed)} stack(s) destroyed, "
              f"{len(report.removed_here)} leftover(s) removed on this machine")
    if report.problems:
        for p in report.problems:
            out.print(f"[red]not removed:[/red] {escape(p)}")
        out.print(f"run `bakeoff down {campaign}` again once the cause is fixed")
        raise typer.Exit(int(ExitCode.LEFT_BEHIND))


def register(app: typer.Typer) -> None:
    """Add `doctor` and `down` to the bakeoff app. `gc` (this machine and the clouds in one
    command) is composed in bakeoff/cli_reliability.py, which calls `gc` here for the
    clouds."""
    app.command("doctor")(doctor)
    app.command("down")(down)
