"""The commands a new user meets first: `init`, `validate`, `list` and `show`.

`validate` runs every check that does not need a measurement (bakeoff.checks) and reports
all problems at once; `list` and `show` read the results root that every command shares
(`--results`, else $BAKEOFF_RESULTS, else ./results).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from bench.campaigns import list_campaigns, results_option

out = Console()
STARTER = Path(__file__).with_name("starter.yaml")


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def validate(
    scenario: Path = typer.Argument(..., help="scenario YAML"),
    weights: Path | None = typer.Option(None, "--weights",
                                        help="also check this weights file against the scenario"),
    metrics: bool = typer.Option(False, "--metrics",
                                 help="list the metrics the scenario's workloads produce"),
) -> None:
    """Check a scenario (and a weights file): every problem at once, before anything runs.

    Each problem names the file, the path inside it and what was expected.

    Example: bakeoff validate scenarios/quickstart.yaml --weights cost-first.yaml
    """
    from bakeoff.checks import preflight, produced_metrics

    campaign = preflight(scenario, weights)
    out.print(f"[green]ok[/green] {scenario}: campaign '{campaign.name}', "
              f"{len(campaign.sites)} site(s), {len(campaign.workloads)} workload(s), "
              f"{campaign.repetitions} repetition(s), {len(campaign.requirements)} "
              f"requirement(s), {len(campaign.criteria)} criteria", highlight=False)
    if weights is not None:
        out.print(f"[green]ok[/green] {weights}", highlight=False)
    if metrics:
        for name, unit in produced_metrics(campaign).items():
            out.print(f"  {name} [{unit}]", highlight=False, markup=False)


def init(
    path: Path = typer.Argument(Path("scenario.yaml"), help="where to write the scenario"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
) -> None:
    """Write a commented starter scenario (two local sites, two workloads, a requirement).

    Example: bakeoff init my-bakeoff.yaml && bakeoff validate my-bakeoff.yaml
    """
    from core.errors import BakeoffError

    if path.exists() and not force:
        raise BakeoffError(f"{path}: already exists (give another path, or --force to "
                           "overwrite it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STARTER.read_text())
    out.print(f"wrote {path}; next: bakeoff validate {path}", highlight=False)


def list_cmd(
    results: Path = results_option(),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv"),
) -> None:
    """The campaigns in the results root: id, scenario, started, status, sites, units.

    Example: BAKEOFF_RESULTS=/data/bakeoff bakeoff list
    """
    rows = list_campaigns(results)
    if fmt is Format.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if fmt is Format.csv:
        import csv
        import sys

        w = csv.DictWriter(sys.stdout, fieldnames=["id", "scenario", "started", "status",
                                                   "sites", "units_ok", "units_total"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "sites": " ".join(r["sites"])})
        return
    if not rows:
        out.print(f"no campaigns in {results}/", highlight=False)
        return
    from core.tables import print_fitted

    # the id begins with the scenario and its start time: those go first at 80 columns
    print_fitted(out, ("id", "scenario", "started", "status", "sites", "units ok"),
                 [(r["id"], r["scenario"], r["started"], r["status"], ", ".join(r["sites"]),
                   f"{r['units_ok']}/{r['units_total']}") for r in rows],
                 drop=("started", "scenario", "sites"), title=f"campaigns in {results}/",
                 title_justify="left")


def show(
    campaign: str = typer.Argument("latest", help="campaign id, folder, or 'latest'"),
    results: Path = results_option(),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv"),
) -> None:
    """Every metric per site, with the statistics the report uses.

    Median and 95% bootstrap interval over repetitions; latency percentiles of the merged
    HDR histograms; one row per endpoint or query.

    Example: bakeoff show latest --format csv > summary.csv
    """
    from bakeoff.show import show_campaign

    show_campaign(campaign, results, fmt.value, out)


def register(app: typer.Typer) -> None:
    """Add `init`, `validate`, `list` and `show` to the bakeoff app."""
    app.command("init")(init)
    app.command("validate")(validate)
    app.command("list")(list_cmd)
    app.command("show")(show)
