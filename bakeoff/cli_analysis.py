"""`bakeoff sql`, `compare` and `reevaluate`: campaigns over time, read-only except drift/."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from core.errors import BakeoffError

RESULTS_HELP = "results root: a folder or an fsspec URL (s3://, gs://, az://, file://)"


def results_root_option() -> str:
    return typer.Option(os.environ.get("BAKEOFF_RESULTS", "results"), "--results",
                        help=RESULTS_HELP)


def _fail_on_option() -> list[str]:
    return typer.Option([], "--fail-on", help="exit 1 when crossed: winner-changed, "
                        "requirement-failed, cost:+5%, p99:+10% (repeat or comma-separate)")


def register(app: typer.Typer) -> None:
    """Add the analysis commands to the bakeoff app."""

    @app.command("sql")
    def sql_cmd(
        statement: str = typer.Argument(..., help="one SQL statement (DuckDB dialect)"),
        results: str = results_root_option(),
        fmt: str = typer.Option("table", "--format", help="table | csv | json"),
    ) -> None:
        """Query every campaign under a results root with SQL.

        Views: samples, histograms, campaigns, latency, scores, costs.

        Example: bakeoff sql "SELECT metric, unit, count(*) FROM samples GROUP BY ALL"
        """
        from bench.sql import query

        _check_format(fmt)
        frame = query(statement, results)
        if fmt == "csv":
            typer.echo(frame.to_csv(index=False), nl=False)
        elif fmt == "json":
            typer.echo(frame.to_json(orient="records", date_format="iso"))
        elif fmt == "table":
            from core.tables import print_fitted
            from scoring.display import fmt_value

            def cell(v: object) -> str:
                return fmt_value(v) if isinstance(v, float) else str(v)

            print_fitted(Console(), [str(c) for c in frame.columns],
                         [[cell(v) for v in row] for row in frame.itertuples(index=False)],
                         whole=("campaign_id", "id"))
        else:
            raise BakeoffError(f"--format {fmt!r}: expected table, csv or json")

    @app.command("compare")
    def compare_cmd(
        base: str = typer.Argument(..., help="baseline campaign: id, folder or 'latest'"),
        new: str = typer.Argument(..., help="new campaign: id, folder or 'latest'"),
        results: str = results_root_option(),
        fail_on: list[str] = _fail_on_option(),
        min_change: float = typer.Option(5.0, "--min-change",
                                         help="smallest change in % that counts"),
        out: Path | None = typer.Option(None, "--out", help="write drift.{md,html,json} here"),
        show_all: bool = typer.Option(False, "--all", help="also list unchanged metrics"),
        fmt: str = _format_option(),
        quiet: bool = _quiet_option(),
    ) -> None:
        """Tell real change from noise between two campaigns: metrics, prices, decision.

        BASE and NEW are ids from `bakeoff list` (a unique prefix will do), folders, or
        'latest'. Example: bakeoff compare BASE_ID latest --fail-on p99:+10%
        """
        from bench.storage import materialize
        from scoring.compare import compare
        from scoring.compare_report import add_statistic_notes, write_drift_report
        from scoring.drift_rules import parse_rules, resolve_rules, violations

        _check_format(fmt)
        rules = parse_rules(fail_on)
        root = materialize(results)
        comparison = compare(base, new, root, min_change=min_change / 100.0)
        rules, notes = resolve_rules(rules, comparison.available)
        comparison.warnings[:0] = notes
        add_statistic_notes(comparison)  # which statistic an HDR percentile is compared by
        found = violations(comparison, rules)
        paths = write_drift_report(comparison, found, out) if out is not None else {}
        _print_comparison(comparison, found, paths, fmt, quiet, show_all)
        if found:
            raise typer.Exit(1)

    @app.command("reevaluate")
    def reevaluate_cmd(
        scenario: Path = typer.Argument(..., help="scenario YAML"),
        baseline: str = typer.Option(..., "--baseline", help="campaign to compare with"),
        results: str = results_root_option(),
        rescore_only: bool = typer.Option(False, "--rescore-only",
                                          help="re-score the baseline's measurements with "
                                               "today's prices and weights; measure nothing"),
        fail_on: list[str] = _fail_on_option(),
        min_change: float = typer.Option(5.0, "--min-change",
                                         help="smallest change in % that counts"),
        no_refresh: bool = typer.Option(False, "--no-refresh",
                                        help="keep the price snapshot in use; do not ask "
                                             "the providers' price APIs"),
        fmt: str = _format_option(),
        quiet: bool = _quiet_option(),
    ) -> None:
        """Re-run (or re-score) a scenario, compare with a baseline, write a drift report.

        Exit 0: nothing crossed; 1: a --fail-on rule crossed. For cron and CI schedules
        (docs/scheduling.md).

        Example: bakeoff reevaluate my.yaml --baseline latest --fail-on winner-changed
        """
        from bakeoff.reevaluate import reevaluate
        from bench.scenarios import load_campaign_file
        from bench.storage import is_url
        from scoring.drift_rules import parse_rules

        _check_format(fmt)
        if is_url(results):
            raise BakeoffError("reevaluate works on a local results folder; sync the remote "
                               "root first (e.g. with your object store's CLI)")
        rules = parse_rules(fail_on)
        outcome = reevaluate(load_campaign_file(scenario), baseline, Path(results), rules,
                             rescore_only=rescore_only, min_change=min_change / 100.0,
                             refresh=not no_refresh, quiet=quiet or fmt != "table")
        _print_comparison(outcome.comparison, outcome.violations, outcome.report, fmt, quiet)
        raise typer.Exit(outcome.exit_code)


def _format_option() -> str:
    return typer.Option("table", "--format", help="table | json | csv")


def _quiet_option() -> bool:
    return typer.Option(False, "--quiet", "-q",
                        help="print only crossed --fail-on rules and the drift report paths "
                             "(for cron and CI)")


def _check_format(fmt: str) -> None:
    from core.tables import check_format

    check_format(fmt)


def _print_comparison(comparison, found: list[str], paths: dict, fmt: str, quiet: bool,
                      show_all: bool = False) -> None:
    """One output call for compare and reevaluate: table (or only the verdict lines with
    --quiet), JSON (the drift report's content) or CSV (one row per metric)."""
    import json

    from scoring.compare_report import metric_rows, render_table, statistic

    if fmt == "json":
        doc = dict(comparison.to_json(), violations=found,
                   drift_report={k: str(v) for k, v in paths.items()})
        typer.echo(json.dumps(doc, indent=2, default=str))
        return
    if fmt == "csv":
        import pandas as pd

        rows = [{"site": m.site, "workload": m.workload, "metric": m.metric,
                 "detail": m.detail, "unit": m.unit, "base": m.base, "new": m.new,
                 "change": m.change, "relative": m.relative,
                 "ci_low": None if m.ci is None else m.ci[0],
                 "ci_high": None if m.ci is None else m.ci[1], "verdict": m.verdict,
                 "busy": m.busy, "statistic": statistic(m)}
                for m in metric_rows(comparison, all_rows=True)]
        typer.echo(pd.DataFrame(rows).to_csv(index=False), nl=False)
        return
    if quiet:
        for v in found:
            typer.echo(f"fail-on {v}")
    else:
        render_table(comparison, Console(), found, show_all)
    for kind, path in paths.items():
        typer.echo(f"drift {kind}: {path}")
