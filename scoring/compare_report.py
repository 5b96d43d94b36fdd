"""A comparison as a terminal table, Markdown, and a self-contained HTML page with a chart."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.table import Table

from bench.frames import hdr_percentile, median_label
from bench.results import atomic_write
from scoring.compare import Comparison, MetricChange
from scoring.display import fmt_value

_STYLE = {"better": "green", "worse": "red", "changed": "cyan", "no change": "dim",
          "noise unknown": "yellow"}
NARROW = 100  # below this many columns the interval and n columns are left out


def _fmt(x: float | None, spec: str = "") -> str:
    """Money with `spec`; measured values with 4 significant digits and thousands grouped
    (33,760, never 3.376e+04)."""
    if x is None:
        return "—"
    return format(x, spec) if spec else fmt_value(x)


def signed(x: float) -> str:
    return ("+" if x > 0 else "") + fmt_value(x)


def _ci(m: MetricChange) -> str:
    return "—" if m.ci is None else f"{signed(m.ci[0])} … {signed(m.ci[1])}"


def metric_name(m: MetricChange) -> str:
    """workload.metric [endpoint=..., query=...]: the identity keys keep rows apart."""
    return f"{m.workload}.{m.metric}" + (f" [{m.detail}]" if m.detail else "")


def statistic(m: MetricChange) -> str:
    """The statistic a row compares. compare reads samples only, so a latency percentile of
    an HDR workload is the median of the repetitions' own percentiles, never the exact HDR
    merge show, score and report use when histograms exist; every surface says so."""
    return median_label(m.workload, m.metric)


def statistic_notes(c: Comparison) -> list[str]:
    """One note naming the HDR latency percentiles compared without the exact merge."""
    names = sorted({f"{m.workload}.{m.metric}" for m in c.metrics
                    if hdr_percentile(m.workload, m.metric) is not None})
    if not names:
        return []
    return [f"{', '.join(names)}: compared as the median of the repetitions' own "
            "percentiles, not the exact HDR merge of their histograms (compare reads "
            "samples.parquet only; show and report use the merge where histograms exist)"]


def add_statistic_notes(c: Comparison) -> Comparison:
    """Add `statistic_notes` to the comparison's warnings once (every renderer calls it)."""
    c.warnings.extend(n for n in statistic_notes(c) if n not in c.warnings)
    return c


def metric_rows(c: Comparison, all_rows: bool = False) -> list[MetricChange]:
    """Changes beyond the noise first; `all_rows` adds the unchanged ones."""
    order = {"worse": 0, "better": 1, "changed": 2, "noise unknown": 3, "no change": 4}
    rows = c.metrics if all_rows else [m for m in c.metrics if m.verdict != "no change"]
    return sorted(rows, key=lambda m: (order[m.verdict], m.site, m.workload, m.metric))


def render_table(c: Comparison, console: Console, violations: list[str],
                 all_rows: bool = False) -> None:
    console.print(f"[bold]{c.base_id}[/bold] → [bold]{c.new_id}[/bold]")
    for w in add_statistic_notes(c).warnings:
        console.print(f"[yellow]note:[/yellow] {w}")
    wide = console.width >= NARROW
    table = Table(title="measurements (difference of medians"
                  + (", 95% bootstrap interval)" if wide else "; intervals: --format json)"))
    cols = ("site", "metric", "base", "new", "change", "interval", "n", "verdict") if wide \
        else ("site", "metric", "base → new", "change", "verdict")
    for col in cols:
        table.add_column(col, overflow="fold", no_wrap=col == "site")
    for m in metric_rows(c, all_rows):
        rel = "" if m.relative is None else f" ({m.relative:+.1%})"
        verdict = f"[{_STYLE[m.verdict]}]{m.verdict}[/]" + (" (busy host)" if m.busy else "")
        if wide:
            table.add_row(m.site, metric_name(m), f"{fmt_value(m.base)} {m.unit}",
                          fmt_value(m.new), f"{signed(m.change)}{rel}", _ci(m),
                          f"{m.n_base}/{m.n_new}", verdict)
        else:  # names break between workload, metric and endpoint, never inside a word
            name = f"{m.workload}\n{m.metric}" + (f"\n[{m.detail}]" if m.detail else "")
            table.add_row(m.site, name, f"{fmt_value(m.base)} → {fmt_value(m.new)} {m.unit}",
                          f"{signed(m.change)}{rel}", verdict)
    unchanged = sum(1 for m in c.metrics if m.verdict == "no change")
    if table.row_count:
        console.print(table)
    console.print(f"{unchanged} of {len(c.metrics)} metric(s) unchanged within the noise")
    if c.prices:
        prices = Table(title="prices (monthly USD per component)")
        for col in ("site", "component", "base", "new", "change"):
            prices.add_column(col, overflow="fold")
        for p in c.prices:
            prices.add_row(p.site, p.component, _fmt(p.base_usd, ",.2f"),
                           _fmt(p.new_usd, ",.2f"),
                           "—" if p.relative is None else f"{p.relative:+.1%}")
        console.print(prices)
    for site, (b, n) in c.totals.items():
        rb, rn = c.ranks[site]
        console.print(f"{site}: total {_fmt(b, '.1f')} → {_fmt(n, '.1f')}, "
                      f"rank {rb or '—'} → {rn or '—'}")
    console.print(f"winner: {c.winner_text}"
                  + (" [red](changed)[/red]" if c.winner_changed else ""), markup=True)
    for f in c.requirement_flips:
        console.print(f"requirement {f['requirement']} on {f['site']}: {f['base']} → {f['new']}")
    for v in violations:
        console.print(f"[red]fail-on[/red] {v}")


def _chart(c: Comparison) -> str | None:
    """Relative change of every metric outside the noise, with its interval: base64 PNG."""
    rows = [m for m in metric_rows(c) if m.relative is not None and m.ci is not None
            and m.verdict in ("better", "worse", "changed")]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.2))
    labels = [f"{m.site} {metric_name(m)}" for m in rows]
    values = [100 * m.relative for m in rows]
    errors = [[100 * (m.change - m.ci[0]) / abs(m.base) for m in rows],
              [100 * (m.ci[1] - m.change) / abs(m.base) for m in rows]]
    colors = ["#2e7d32" if m.verdict == "better" else "#c62828" if m.verdict == "worse"
              else "#00838f" for m in rows]
    ax.barh(labels, values, xerr=errors, color=colors)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("change of the median, % of baseline (bars: 95% interval)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _templates() -> Environment:
    return Environment(loader=PackageLoader("scoring", "templates"),
                       autoescape=select_autoescape(["html", "html.j2"]), trim_blocks=True,
                       lstrip_blocks=True)


def render_markdown(c: Comparison, violations: list[str]) -> str:
    env = _templates()
    env.autoescape = False
    return env.get_template("compare.md.j2").render(
        c=add_statistic_notes(c), rows=metric_rows(c), violations=violations, fmt=_fmt, ci=_ci,
        signed=signed)


def render_html(c: Comparison, violations: list[str]) -> str:
    return _templates().get_template("compare.html.j2").render(
        c=add_statistic_notes(c), rows=metric_rows(c), violations=violations, fmt=_fmt,
        ci=_ci, chart=_chart(c), signed=signed)


def write_drift_report(c: Comparison, violations: list[str], out: Path) -> dict[str, Path]:
    """drift.json, drift.md and drift.html in `out` (each written atomically)."""
    paths = {"json": out / "drift.json", "md": out / "drift.md", "html": out / "drift.html"}
    add_statistic_notes(c)
    atomic_write(paths["json"], json.dumps(dict(c.to_json(), violations=violations),
                                           indent=2, default=str))
    atomic_write(paths["md"], render_markdown(c, violations))
    atomic_write(paths["html"], render_html(c, violations))
    return paths
