"""`bakeoff gc`, `bakeoff verify`, `bakeoff assemble`: leftovers and results-folder health."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from bench.campaigns import results_option
from core.errors import BakeoffError
from core.exit_codes import ExitCode

out = Console()
RESULTS_OPTION = results_option()  # --results, else $BAKEOFF_RESULTS, else ./results


def gc(delete: bool = typer.Option(False, "--delete", help="remove what is found; default "
                                                         "is a dry run"),
       campaign: str | None = typer.Option(None, "--campaign",
                                           help="only this campaign (on this machine)"),
       provider: list[str] = typer.Option(
           None, "--provider", "-p", help="local, aws, azure, gcp (repeatable); default: local "
           "and the clouds your campaigns used or you configured (a region, subscription "
           "or project); local only with --campaign"),
       untracked: bool = typer.Option(
           False, "--untracked", help="also remove `bko-` namespaces no campaign state "
           "accounts for (left by older bakeoff versions); make sure none is in use"),
       older_than: str = typer.Option("0m", "--older-than",
                                      help="clouds: spare anything younger (e.g. 2h)"),
       subscription: str | None = typer.Option(None, help="Azure subscription id"),
       project: str | None = typer.Option(None, help="GCP project id"),
       region: list[str] = typer.Option(None, "--region", help="AWS region(s) to sweep; "
                                        "default: AWS_REGION"),
       journal: Path | None = typer.Option(None, help="clouds: campaigns journal folder "
                                                      "(default: the state directory)"),
       ) -> None:
    """List (and with --delete remove) what dead campaigns left, here and in the clouds.

    On this machine: processes, temp dirs, network namespaces, veths, PostgreSQL clusters
    and their shared memory, found from each campaign's state; a campaign whose owner is
    alive is never touched. In the clouds: resources carrying bakeoff tags that are
    expired or belong to no known campaign.

    Example: bakeoff gc --delete --provider local
    """
    from bakeoff import cli_cloud

    cli_cloud.parse_age(older_than)  # a bad value is an error even with no cloud to sweep
    wanted = list(provider or (["local"] if campaign else [
        "local", *cli_cloud.default_providers(region, subscription, project, journal)]))
    unknown = sorted(set(wanted) - {"local", *cli_cloud.INVENTORIES})
    if unknown:
        raise BakeoffError(f"--provider: expected one of local, "
                           f"{', '.join(cli_cloud.INVENTORIES)}, got {', '.join(unknown)}")
    if "local" in wanted:
        _gc_local(delete, campaign, untracked)
    clouds = [p for p in wanted if p != "local"]
    if not provider and not campaign and not clouds:
        out.print("clouds: none swept (no campaign here used one, none is configured; "
                  "`--provider aws|azure|gcp` sweeps one anyway)")
    if clouds:
        cli_cloud.gc(provider=clouds, older_than=older_than, delete=delete,
                     subscription=subscription, project=project, region=region,
                     journal=journal, provider_named=list(provider or []))


def _gc_local(delete: bool, campaign: str | None, untracked: bool) -> None:
    from bench import leftovers

    states = leftovers.campaign_states(campaign)
    found_any = False
    for st in states:
        if st.live:
            out.print(f"live: campaign {st.campaign_id} (pid {st.owner.get('pid')}); "
                      "not touched")
            continue
        if not st.leftovers:
            if delete:
                leftovers.collect_dead(st)  # drops the empty state, finalises the manifest
            continue
        found_any = True
        for item in st.leftovers:
            out.print(f"{'removing' if delete else 'leftover'}: {st.campaign_id}: "
                      f"{escape(str(item))}")
        if delete:
            problems = leftovers.collect_dead(st)
            for p in problems:
                out.print(f"[red]not removed:[/red] {escape(p)}")
            if problems:
                raise typer.Exit(int(ExitCode.ERROR))
    known = {st.campaign_id for st in leftovers.campaign_states()}
    orphans = [] if campaign else leftovers.untracked_namespaces(known)
    for ns in orphans:
        found_any = True
        if delete and untracked:
            from stacks.netns import delete_namespace

            delete_namespace(ns)
            out.print(f"removed: untracked network namespace {ns}")
        else:
            out.print(f"untracked: network namespace {ns} (no campaign state; --delete "
                      "--untracked removes it)")
    if not found_any:
        out.print("this machine: no leftovers")


def verify(campaign: str = typer.Argument(..., help="campaign id, folder, or 'latest'"),
           results: Path = RESULTS_OPTION) -> None:
    """Check a results folder against its manifest: journals, raw outputs, checksums, tables.

    Example: bakeoff verify latest
    """
    from bench.results import read_manifest, resolve_campaign_dir
    from bench.verify import verify_campaign

    folder = resolve_campaign_dir(campaign, results)
    problems = verify_campaign(folder)
    of = read_manifest(folder).get("rescore_of") if not problems else None
    if of:  # a re-score measures nothing: what was checked is the campaign it re-scored
        out.print(f"[green]ok[/green] {folder}: a re-score of {of}; it holds no measurements "
                  f"(its scenario is readable). {of}, which measured them: every ok unit "
                  "has its journal and raw output with matching checksums; the tables match "
                  "the journals", soft_wrap=False)
        return
    if not problems:
        out.print(f"[green]ok[/green] {folder}: every ok unit has its journal and raw output "
                  "with matching checksums; the tables match the journals")
        return
    for p in problems:
        out.print(f"[red]DAMAGED[/red] {escape(str(p))}")
    raise typer.Exit(int(ExitCode.DAMAGED))


def assemble(campaign: str = typer.Argument(..., help="campaign id, folder, or 'latest'"),
             results: Path = RESULTS_OPTION) -> None:
    """Rebuild samples.parquet and histograms.parquet from the unit journals (explicit repair).

    Example: bakeoff assemble latest
    """
    from bench.results import ResultStore, resolve_campaign_dir

    folder = resolve_campaign_dir(campaign, results)
    samples, hists = ResultStore(folder.parent, folder.name).assemble()
    out.print(f"assembled {len(samples)} sample row(s), {len(hists)} histogram(s) in {folder}")


def register(app: typer.Typer) -> None:
    app.command()(gc)
    app.command()(verify)
    app.command()(assemble)
