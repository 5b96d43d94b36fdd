"""The `bakeoff` command line. Every user-facing failure is a message and an exit code."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperOption

from bakeoff import (
    cli_analysis,
    cli_cloud,
    cli_cost,
    cli_decide,
    cli_load,
    cli_reliability,
    cli_user,
    crash,
)
from bench.campaigns import RESULTS_ENV
from core.errors import BakeoffError
from core.scenario import CloudSite

_type_label = TyperOption.display_type_rich


def _flag_without_type(self: TyperOption, ctx: Any) -> str | None:
    """A flag takes no value, so help shows `--quiet`, not `--quiet <bool>` (Typer 0.29 would)."""
    return None if self.is_flag else _type_label(self, ctx)


TyperOption.display_type_rich = _flag_without_type  # type: ignore[method-assign]

app = typer.Typer(
    name="bakeoff", no_args_is_help=True, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Provision equivalent environments, benchmark them, price them, and decide.")
out = Console()
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"bakeoff {version('cloud-bakeoff')}")
        raise typer.Exit()


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug",
                                     help="print the traceback of an internal error "
                                          "(also BAKEOFF_DEBUG=1)"),
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """Provision equivalent environments, benchmark them, price them, and decide."""
    crash.set_debug(debug)
    crash.note_campaign_dir(None)  # each command says again where its results are


@app.command()
def plan(scenario: Path = typer.Argument(..., help="scenario YAML"),
         as_json: bool = typer.Option(False, "--json", help="same as --format json"),
         fmt: str = typer.Option("table", "--format", help="table | json | csv")) -> None:
    """Show what a run would provision and execute, how long and what it costs; runs nothing.

    The scenario is checked first, exactly as by `validate`. Cloud programs run under Pulumi
    mocks: no CLI, account or credentials are needed.

    Example: bakeoff plan scenarios/quickstart.yaml
    """
    from bakeoff.checks import preflight
    from bakeoff.plan import plan_json, plan_records, render_plan
    from core.tables import check_format, emit_records

    check_format(fmt, command="plan")
    campaign = preflight(scenario)
    if as_json or fmt == "json":
        typer.echo(json.dumps(plan_json(campaign), indent=2, sort_keys=False))
        return
    if fmt == "csv":  # the sites table; json holds the cloud previews
        emit_records(plan_records(campaign), "csv")
        return
    render_plan(campaign, out)


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="scenario YAML"),
    results: str = typer.Option("results", "--results", envvar=RESULTS_ENV,
                                help="results root: a folder, or an fsspec URL (s3://, gs://, "
                                     "az://, file://) the finished campaign is uploaded to "
                                     "(default ./results, or $BAKEOFF_RESULTS)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress display (for cron)"),
    resume: str | None = typer.Option(None, "--resume", help="campaign id to resume"),
    no_score: bool = typer.Option(False, "--no-score", help="skip scoring and the report"),
    no_wait: bool = typer.Option(False, "--no-wait", help="refuse (exit 7) instead of waiting "
                                 "while another local campaign runs on this machine"),
    allow_changes: bool = typer.Option(False, "--allow-changes", help="resume with scenario "
                                       "changes that touch no measured unit"),
    no_fail: bool = typer.Option(False, "--no-fail-on-requirements",
                                 help="exit 0 even when a requirement fails or is not measured"),
    canary: bool = typer.Option(False, "--canary", help="only prove the cloud sites: each at "
                                "its cheapest, up, SSH, cloud-init, ping, destroyed "
                                "(docs/clouds.md)"),
) -> None:
    """Run a campaign: provision, benchmark, tear down, store results, score, report.

    Ends with a pass/fail summary of the requirements. Exit codes: 0 complete, 5 partial
    (some units failed), 6 nothing measured, 9 a requirement failed, 10 a requirement could
    not be measured, 13 teardown incomplete (the command that removes what is left is
    printed), 130 interrupted, 2 invalid input, 3 prerequisite missing, 7 busy
    (docs/cli.md, docs/reliability.md).

    Example: bakeoff run scenarios/quickstart.yaml --results /data/bakeoff
    """
    from bakeoff.checks import preflight
    from bench.signals import sigterm_as_interrupt
    from bench.storage import is_url, staged_upload
    from core.exit_codes import ExitCode

    campaign = preflight(scenario)
    if canary:
        from bakeoff.canary import canary_campaign, describe

        if resume:
            raise BakeoffError("--canary starts a new short campaign; it does not resume one")
        campaign, no_score = canary_campaign(campaign), True
        err.print("canary: " + "; ".join(describe(campaign)), highlight=False)
    if resume and is_url(results):
        raise BakeoffError("--resume needs the campaign's local folder: run with a local "
                           "--results folder to resume, then upload it")
    # SIGTERM is Ctrl-C for the whole run, scoring included
    with sigterm_as_interrupt(), staged_upload(results) as root:
        folder, status, code = _run_into(campaign, scenario, root, results, quiet, resume,
                                         no_score, not no_wait, allow_changes, not no_fail)
    out.print(f"results: {results.rstrip('/')}/{folder.name}" if is_url(results)
              else f"results: {folder}")
    if _say_left_behind(folder):  # paid resources still up: before any measured outcome
        raise typer.Exit(int(ExitCode.LEFT_BEHIND))
    if code:  # the requirement verdict is what a CI job acts on
        raise typer.Exit(code)
    if canary and status == "complete":
        err.print("[green]canary passed[/green]: every cloud site came up, answered SSH, "
                  "finished cloud-init, pinged, and was destroyed")
    if status == "partial":
        err.print("[yellow]partial[/yellow]: some units failed; scored on what was measured")
        raise typer.Exit(int(ExitCode.PARTIAL))


def _run_into(campaign, scenario: Path, root: Path, results: str, quiet: bool,
              resume: str | None, no_score: bool, wait: bool, allow_changes: bool,
              fail: bool) -> tuple[Path, str, int]:
    """Run into `root`: the folder, the campaign status and the requirement exit code."""
    from bakeoff.show import render_summary
    from bench.campaigns import discard_if_nothing_measured
    from bench.orchestrator import Orchestrator
    from core.exit_codes import ExitCode

    spend = 0.0
    if any(isinstance(s, CloudSite) for s in campaign.sites):
        from bakeoff.campaign_cost import CampaignCost, campaign_costs, check_budget, check_ttl
        from bakeoff.cloudsites import resolve_campaign

        campaign = resolve_campaign(campaign)
        total = check_budget(campaign)  # refuses a campaign over budget_usd
        check_ttl(campaign)  # ... or one its VMs' power-off at the TTL would cut short
        costs = campaign_costs(campaign)
        spend = sum(c.hourly_usd for c in costs.values() if isinstance(c, CampaignCost))
        budget = (f" of budget_usd ${campaign.budget_usd:,.2f}"
                  if campaign.budget_usd is not None else "")
        spot = ("; spot sites at the catalog's spot rate, which varies"
                if any(isinstance(s, CloudSite) and s.spot for s in campaign.sites) else "")
        err.print(f"estimated cost of the cloud sites for this campaign: ${total:,.2f}{budget} "
                  f"(${spend:,.2f}/h{spot}; see `bakeoff plan`)")
        for name, cost in costs.items():
            if isinstance(cost, str):  # only without budget_usd: check_budget refuses it
                err.print(f"[yellow]site {name} is not in that estimate:[/yellow] "
                          f"{escape(cost)}", highlight=False)
    from bakeoff.endpoint_check import first_repetition_check

    orchestrator = Orchestrator(campaign, root, quiet=quiet, spend_usd_per_hour=spend,
                                unit_check=first_repetition_check)
    try:
        folder = orchestrator.run(campaign_id=resume, resume=resume is not None,
                                  wait=wait, allow_changes=allow_changes)
    except KeyboardInterrupt:
        cid = orchestrator.campaign_id
        started = bool(cid) and (root / cid / "manifest.json").is_file()
        stopped = ("some of what was started is still there (below). " if started
                   and _say_left_behind(root / cid) else "everything started was stopped. ")
        err.print("[yellow]interrupted[/yellow]; " + stopped + (
            "Resume with:" if started
            else "The campaign had not started: nothing to resume."), highlight=False)
        if started:  # on a line of its own, never wrapped, so a paste runs all of it
            err.print(resume_command(scenario, results, cid), soft_wrap=True,
                      highlight=False, markup=False)
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        hint = "; teardown ran. Fix that, then resume with:" if orchestrator.campaign_id else ""
        err.print(f"[red]error:[/red] {escape(e.strerror or str(e))}{escape(where)}{hint}")
        if orchestrator.campaign_id:
            err.print(resume_command(scenario, results, orchestrator.campaign_id),
                      soft_wrap=True, highlight=False, markup=False)
        raise typer.Exit(int(ExitCode.ERROR)) from None
    except BakeoffError:
        folder = root / orchestrator.campaign_id
        if orchestrator.campaign_id:
            _say_left_behind(folder)
        if resume is None and orchestrator.campaign_id and discard_if_nothing_measured(folder):
            err.print(f"nothing was measured; the empty campaign folder {folder} was removed",
                      highlight=False)
        raise
    except Exception:
        if orchestrator.campaign_id:
            crash.note_campaign_dir(root / orchestrator.campaign_id)
        raise
    crash.note_campaign_dir(folder)
    status = _manifest_status(folder)
    if status == "nothing-measured":
        err.print(f"[red]nothing measured[/red]: every unit failed (see `bakeoff show "
                  f"{folder}`); not scored. results: {folder}")
        raise typer.Exit(int(ExitCode.LEFT_BEHIND if _say_left_behind(folder)
                             else ExitCode.NOTHING_MEASURED))
    code = 0
    try:
        if not quiet:
            render_summary(folder, out)
        if not no_score:
            code = _score_and_report(folder, quiet, fail)
    except KeyboardInterrupt:
        err.print(f"[yellow]interrupted while scoring[/yellow]; the measured campaign in "
                  f"{folder} is intact ({status}). Score it again with `bakeoff score "
                  f"{folder}` (and `bakeoff report {folder}` for the report).")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    return folder, status, code


def resume_command(scenario: Path, results: str | Path, campaign_id: str) -> str:
    """The command that resumes this campaign, runnable as printed (quoted for a shell)."""
    import shlex

    from bench.campaigns import is_default_root

    words = ["bakeoff", "run", str(scenario), "--resume", campaign_id]
    if not is_default_root(results):
        words += ["--results", str(results)]
    return shlex.join(words)


def _say_left_behind(folder: Path) -> bool:
    """Print what teardown left and the command that removes it; True when anything is."""
    from bench.results import read_manifest

    try:
        behind = read_manifest(folder).get("left_behind")
    except Exception:  # no manifest (or a damaged one): nothing recorded to report
        return False
    if not behind:
        return False
    # soft_wrap: names and the command stay on one line each, copyable as printed
    err.print("[red]teardown incomplete[/red]: still there: "
              + escape("; ".join(behind.get("items", []))), highlight=False, soft_wrap=True)
    err.print(f"remove it with: {escape(behind.get('command', ''))}", highlight=False,
              soft_wrap=True)
    return True


def _manifest_status(folder: Path) -> str:
    from bench.results import read_manifest

    return str(read_manifest(folder).get("status"))


def _score_and_report(folder: Path, quiet: bool, fail: bool = True) -> int:
    """Score and report; print the requirement summary; the requirement exit code."""
    from scoring import requirements_gate
    from scoring.decide import score_campaign_dir
    from scoring.summary import summary_lines

    result = score_campaign_dir(folder)
    if not quiet:
        for line in summary_lines(result):
            out.print(line)
    return requirements_gate.report(result.requirements, out, fail)


@app.command()
def parse(workload: str = typer.Argument(..., help="workload name, e.g. fio"),
          file: Path = typer.Argument(..., help="raw tool output ('-' for stdin)")) -> None:
    """Parse raw tool output into samples, printed as JSON lines.

    Exit codes: 0 samples printed; 65 the output was refused (a ParseError naming the
    tool and why); 1 unknown workload or missing file; 70 an internal error (a bug).

    Example: bakeoff parse fio results/<id>/raw/small/fio/0.json
    """
    from bench.workloads import REGISTRY

    if workload not in REGISTRY:
        raise BakeoffError(f"unknown workload {workload!r}; expected one of "
                           f"{', '.join(REGISTRY)}")
    if str(file) == "-":
        text = sys.stdin.read()
    elif not file.is_file():
        raise BakeoffError(f"{file}: file not found")
    else:
        text = file.read_text(errors="replace")
    wl = REGISTRY[workload]
    parsed = wl.parse(text, wl.Params())
    for sample in parsed.samples:
        line = sample.to_json()
        if not parsed.valid:
            line["valid"] = False
            line["invalid_reason"] = parsed.invalid_reason
        typer.echo(json.dumps(line, sort_keys=True))


# The deciding commands (prices, tco, score, report) live with the scoring package.
cli_cost.register(app)
cli_decide.register(app)
cli_analysis.register(app)
cli_cloud.register(app)
cli_reliability.register(app)  # gc, verify, assemble
cli_user.register(app)  # init, validate, list, show
cli_load.register(app)  # calibrate


def _reflow_help(typer_app: typer.Typer) -> None:
    """Every command's help as core.tables.reflow_help lays it out (terminal-wide prose)."""
    from core.tables import reflow_help

    for info in typer_app.registered_commands:
        doc = info.help or (info.callback.__doc__ if info.callback else None)
        if doc:
            info.help = reflow_help(doc)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


_reflow_help(app)


INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE: a bug in bakeoff, not in the input


def main() -> None:
    try:
        app()
    except SystemExit as e:
        if e.code == 130:  # torn down and said so: a late signal must not turn 130 into a kill
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise
    except BakeoffError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False)
        sys.exit(e.exit_code)
    except OSError as e:  # unwritable folder, full disk: a message, not a traceback
        where = f" ({e.filename})" if e.filename else ""
        err.print(f"[red]error:[/red] {escape(e.strerror or str(e))}{escape(where)}",
                  highlight=False)
        sys.exit(1)
    except Exception as e:  # a bug: one line and a file, never a traceback on screen
        if crash.debug_enabled():
            raise
        path = crash.save_traceback(e)
        where = (f"; details in {path}" if path else "")
        err.print(f"[red]internal error:[/red] {escape(type(e).__name__)}: "
                  f"{escape(str(e))[:300]}{escape(where)} (rerun with --debug or "
                  "BAKEOFF_DEBUG=1 to see the traceback)", highlight=False)
        sys.exit(INTERNAL_ERROR_EXIT)


if __name__ == "__main__":
    main()
