"""`bakeoff score` and `bakeoff report`: re-score stored results, re-render the report.

`score` prints the matrix (criteria × sites, weights, totals, requirements in the same site
columns) and then three plain lines that are stable for scripts and tests:

    weights: TCO 5, CPU 4, inter-AZ latency 3, SLA 4, compliance 5
    provider-a: 8, 7, 9, 8, 9 -> 172
    provider-b: 6, 9, 8, 8, 7 -> 157

followed by the decision. Scores and totals print without decimals when they are whole.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bench.campaigns import results_option
from scoring.display import distinct_digits, fmt, fmt_value
from scoring.result import ScoreResult
from scoring.summary import decision, lead_lines

RESULTS_OPTION = results_option()
STATUS_STYLE = {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]",
                "not measured": "[yellow]not measured[/yellow]"}


def matrix_table(result: ScoreResult) -> Table:
    """The matrix as a rich table; requirement rows share the site columns."""
    m = result.matrix
    title = f"Decision matrix: {result.campaign.name} (weights 1-5, scores 1-10)"
    table = Table(title=title, title_justify="left")
    table.add_column("criterion")
    table.add_column("weight", justify="right")
    for site in m.sites:
        table.add_column(f"{site}\n[red]DISQUALIFIED[/red]" if site in m.disqualified else site,
                         justify="right")
    for spec in m.criteria:
        row = []
        for site in m.sites:
            c = m.cell(spec.name, site)
            text = "n/a" if c.score is None else fmt(c.score)
            if c.status == "ok" and c.value is not None:
                text += f" ({fmt_value(c.value)} {spec.unit})"
            if c.status == "missing":
                text += " (no data)"
            if c.noise == "unknown":
                text += " (noise unknown)"
            if c.tied_with and c.status == "ok":
                text += " ≈"
            row.append(text)
        table.add_row(spec.label, str(spec.weight), *row)
    table.add_section()
    digits = distinct_digits(m.totals.values())
    table.add_row("[bold]total[/bold]", "", *[f"[bold]{fmt(m.totals[s], digits)}[/bold]"
                                              for s in m.sites])
    reqs = {}
    for r in result.requirements:
        reqs.setdefault(r.requirement, {})[r.site] = r
    if reqs:
        table.add_section()
        for name, per_site in reqs.items():
            cells = []
            for site in m.sites:
                r = per_site.get(site)
                if r is None:
                    cells.append("")
                    continue
                val = "" if r.value is None else f" {fmt_value(r.value)}"
                mark = " (marginal)" if r.marginal else ""
                cells.append(f"{STATUS_STYLE[r.status]}{val}{mark}")
            table.add_row(f"requirement: {name}", "", *cells)
    return table


def plain_lines(result: ScoreResult) -> list[str]:
    """The stable plain-text form of the matrix (see the module docstring). Scores show one
    decimal; totals (from the unrounded scores) as many as keep different totals apart."""
    m = result.matrix
    lines = ["weights: " + ", ".join(f"{c.label} {c.weight}" for c in m.criteria)]
    if result.dropped:
        lines.append("weight 0 (left out): " + ", ".join(c.label for c in result.dropped))
    digits = distinct_digits(m.totals.values())
    for site in m.sites:
        scores = ", ".join(fmt(m.cell(c.name, site).score) for c in m.criteria)
        out = (f" (DISQUALIFIED: fails {'; '.join(m.disqualified[site])})"
               if site in m.disqualified else "")
        lines.append(f"{site}: {scores} -> {fmt(m.totals[site], digits)}{out}")
    return lines


def print_result(result: ScoreResult, console: Console) -> None:
    console.print(matrix_table(result))
    for note in result.matrix.notes:
        console.print(f"note: {note}", highlight=False)
    for line in plain_lines(result):
        console.print(line, highlight=False, markup=False)
    d = decision(result)
    console.print(d["headline"], highlight=False, markup=False)
    for reason in d["reasons"]:
        console.print(f"  - {reason}", highlight=False, markup=False)
    if d.get("leader"):
        for line in lead_lines(result.matrix, d["leader"]):
            console.print(f"  lead by criterion: {line}", highlight=False, markup=False)
    if d["uncertainty"]:
        console.print(d["uncertainty"], highlight=False, markup=False)
    if result.written:
        for key in ("report_html", "report_md", "scores_json"):
            if key in result.written:
                console.print(f"{key.replace('_', ' ')}: {result.written[key]}",
                              highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add `score` and `report` to the bakeoff app."""

    @app.command("score")
    def score_cmd(
        campaign: str = typer.Argument("latest",
                                       help="campaign id, folder, or 'latest' (ignored with "
                                            "--scenario)"),
        scenario: Path | None = typer.Option(None, "--scenario",
                                             help="score a scenario alone (manual criteria, "
                                                  "prices), without results"),
        weights: Path | None = typer.Option(None, "--weights",
                                            help="YAML mapping criterion name → weight 0-5 "
                                                 "(0 leaves a criterion out)"),
        out: Path | None = typer.Option(None, "--out",
                                        help="write scores/ and report/ into this folder "
                                             "instead of the campaign's, e.g. one folder per "
                                             "weighting"),
        results: Path = RESULTS_OPTION,
        no_fail: bool = typer.Option(False, "--no-fail-on-requirements",
                                     help="exit 0 even when a requirement fails or is not "
                                          "measured"),
        fmt: str = typer.Option("table", "--format",
                                help="table | json (scores.json) | csv (matrix.csv)"),
    ) -> None:
        """Score stored results (or a scenario) and print the decision matrix.

        Ends with a pass/fail summary of the requirements; exits 9 when one failed and 10
        when one could not be measured (scored with --scenario, measured requirements are
        not measured and do not set the exit code, but a failed compliance `requires:`
        exits 9). A site failing a hard requirement is marked DISQUALIFIED and cannot win.

        Example: bakeoff score latest --weights cost-first.yaml --out results/cost-first
        """
        from bench.scenarios import load_campaign_file
        from core.tables import check_format
        from scoring.decide import score_campaign_dir, score_scenario, write_outputs

        check_format(fmt, command="score")

        console = Console()  # the terminal's width: tables fold to fit (80 columns too)
        if scenario is not None:
            result = score_scenario(load_campaign_file(scenario), weights, source=str(scenario))
            if out is not None:
                write_outputs(result, out)
        else:
            result = score_campaign_dir(campaign, weights, results_root=results, out=out)
        from scoring import requirements_gate

        if fmt == "table":
            print_result(result, console)
        else:  # the same documents score writes, on stdout; the exit code is unchanged
            from scoring.summary import matrix_csv, result_json

            typer.echo(json.dumps(result_json(result), indent=2, default=str) if fmt == "json"
                       else matrix_csv(result), nl=fmt == "json")
            console = Console(file=io.StringIO())  # the requirement summary: exit code only
        # a scenario alone measures nothing, but a hard requirement it fails (compliance)
        # still fails the gate
        failed = any(r.status == "fail" for r in result.requirements)
        code = requirements_gate.report(result.requirements, console,
                                        fail=not no_fail and (scenario is None or failed))
        if code:
            raise typer.Exit(code)

    @app.command("report")
    def report_cmd(
        campaign: str = typer.Argument("latest", help="campaign id, folder, or 'latest'"),
        results: Path = RESULTS_OPTION,
    ) -> None:
        """Re-render report/ (HTML, Markdown, CSV, charts) from the stored results.

        Example: bakeoff report latest --results /data/bakeoff
        """
        from scoring.decide import rerender

        result = rerender(campaign, results)
        console = Console()
        for key in ("report_html", "report_md", "report_csv"):
            console.print(f"{key.replace('_', ' ')}: {result.written[key]}", highlight=False,
                          markup=False)
