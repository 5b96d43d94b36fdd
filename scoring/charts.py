"""matplotlib charts for the report, returned as PNG bytes (Agg backend, no display needed).

Every chart is drawn from the same numbers as the tables beside it, so a reader can check
one against the other.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
           "#8C8C8C", "#CCB974", "#64B5CD")


@dataclass
class Chart:
    """One PNG with the words that describe it (used as alt text and caption)."""

    key: str
    title: str
    alt: str
    png: bytes


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def distribution(key: str, title: str, unit: str,
                 values: Mapping[str, Sequence[float]]) -> Chart:
    """Per-repetition values per site: a box plot with every repetition drawn as a dot."""
    sites = list(values)
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    data = [np.asarray(values[s], dtype=float) for s in sites]
    ax.boxplot(data, orientation="horizontal", widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # jitter only, so the dots do not overlap
    for i, d in enumerate(data, start=1):
        ax.scatter(d, i + rng.uniform(-0.12, 0.12, d.size), s=18, zorder=3,
                   color=PALETTE[(i - 1) % len(PALETTE)])
    ax.set_yticks(range(1, len(sites) + 1), sites)
    ax.set_xlabel(unit)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    counts = ", ".join(f"{s}: {len(values[s])} repetitions" for s in sites)
    return Chart(key, title, f"Distribution of {title} ({unit}) per site; {counts}", _png(fig))


def cost_breakdown(components: Mapping[str, Mapping[str, float]]) -> Chart:
    """Monthly USD per site, stacked by cost component."""
    sites = list(components)
    names: list[str] = []
    for parts in components.values():
        names += [n for n in parts if n not in names]
    fig, ax = plt.subplots(figsize=(6.4, 0.7 * len(sites) + 1.4))
    left = np.zeros(len(sites))
    for k, name in enumerate(names):
        vals = np.array([components[s].get(name, 0.0) for s in sites])
        ax.barh(sites, vals, left=left, label=name, color=PALETTE[k % len(PALETTE)])
        left += vals
    for i, total in enumerate(left):
        ax.text(total, i, f" ${total:,.2f}", va="center", fontsize=8)
    ax.set_xlabel("USD per month")
    ax.set_title("Monthly cost by component", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_xlim(0, max(left.max(), 1e-9) * 1.25)
    return Chart("cost", "Monthly cost by component",
                 "Stacked bars of monthly cost in USD per site by component: "
                 + ", ".join(f"{s} ${t:,.2f}" for s, t in zip(sites, left, strict=True)),
                 _png(fig))


def weighted_scores(sites: Sequence[str], labels: Sequence[str], weights: Sequence[float],
                    scores: np.ndarray, totals: Mapping[str, float],
                    total_ci: Mapping[str, tuple[float, float]] | None = None) -> Chart:
    """Weight × score per criterion stacked per site, the total and its 95% interval.

    Where a site has not-applicable cells its segments are scaled by the same factor as its
    total (full weight ÷ applicable weight), so each bar ends at the total shown.
    """
    fig, ax = plt.subplots(figsize=(6.4, 0.7 * len(sites) + 1.6))
    left = np.zeros(len(sites))
    w = np.asarray(weights, dtype=float)
    applicable = ~np.isnan(np.asarray(scores, dtype=float))
    w_app = (applicable * w[:, None]).sum(axis=0)
    factor = np.where(w_app > 0, w.sum() / np.where(w_app > 0, w_app, 1.0), 0.0)
    for i, label in enumerate(labels):
        vals = np.nan_to_num(np.asarray(scores[i], dtype=float)) * weights[i] * factor
        ax.barh(sites, vals, left=left, label=f"{label} (w{weights[i]:g})",
                color=PALETTE[i % len(PALETTE)])
        left += vals
    for j, s in enumerate(sites):
        ax.text(max(left[j], totals[s]), j, f" {totals[s]:.1f}", va="center", fontsize=8)
        if total_ci and s in total_ci:
            lo, hi = total_ci[s]
            err = [[max(totals[s] - lo, 0.0)], [max(hi - totals[s], 0.0)]]
            ax.errorbar(totals[s], j, xerr=err, fmt="none",
                        ecolor="black", capsize=4)
    ax.set_xlabel("weighted score (Σ weight × score; n/a cells rescaled)")
    ax.set_title("Weighted scores", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3)
    ax.set_xlim(0, max(left.max(), max(totals.values(), default=0)) * 1.2 + 1e-9)
    return Chart("weighted", "Weighted scores",
                 "Stacked weighted scores per site: "
                 + ", ".join(f"{s} {totals[s]:.1f}" for s in sites), _png(fig))


def win_shares(shares: Mapping[str, float], draws: int) -> Chart:
    """Share of Monte-Carlo weight draws each site wins."""
    sites = list(shares)
    fig, ax = plt.subplots(figsize=(6.4, 0.6 * len(sites) + 1.2))
    vals = [shares[s] * 100 for s in sites]
    ax.barh(sites, vals, color=[PALETTE[i % len(PALETTE)] for i in range(len(sites))])
    for i, v in enumerate(vals):
        ax.text(v, i, f" {v:.1f}%", va="center", fontsize=8)
    ax.set_xlim(0, 115)
    ax.set_xlabel(f"% of {draws} weight draws won")
    ax.set_title("Monte-Carlo weights: who wins", fontsize=10)
    return Chart("mc", "Monte-Carlo win shares",
                 "Share of Monte-Carlo weight draws won per site: "
                 + ", ".join(f"{s} {shares[s] * 100:.1f}%" for s in sites), _png(fig))


def over_time(site: str, rows: Sequence[Mapping[str, Any]]) -> Chart:
    """http-load over time at one site: p50/p99 per interval (top) and the achieved rate
    with the intended rate (constant-rate) or the active and intended users (closed model,
    right axis) below, each repetition a line; intervals left out of the statistics
    (warm-up, saturated load generator) are shaded."""
    reps = sorted({int(r["repetition"]) for r in rows})
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 4.2), sharex=True)
    left_out = 0
    users_ax = None
    for i, rep in enumerate(reps):
        mine = sorted((r for r in rows if int(r["repetition"]) == rep),
                      key=lambda r: float(r["offset_s"]))
        x = [float(r["offset_s"]) for r in mine]
        color = PALETTE[i % len(PALETTE)]
        for key, style in (("p99", "-"), ("p50", ":")):
            top.plot(x, [r[key] if r[key] is not None else np.nan for r in mine], style,
                     color=color, label=f"{key} rep {rep}")
        bottom.plot(x, [float(r["rps"] or 0) for r in mine], "-", color=color,
                    label=f"achieved req/s rep {rep}")
        if any(r.get("intended_rps") is not None for r in mine):
            bottom.plot(x, [float(r.get("intended_rps") or 0) for r in mine], "--",
                        color=color, label=f"intended req/s rep {rep}")
        elif any(r.get("intended_users") is not None for r in mine):  # closed model
            users_ax = users_ax or bottom.twinx()
            users_ax.plot(x, [float(r.get("users") or 0) for r in mine], "-.", color=color,
                          alpha=0.6, label=f"users rep {rep}")
            users_ax.plot(x, [float(r.get("intended_users") or 0) for r in mine], ":",
                          color=color, alpha=0.6, label=f"intended users rep {rep}")
            users_ax.set_ylabel("users")
            users_ax.legend(fontsize=6, loc="lower right")
        for r in mine:
            if r.get("excluded"):
                left_out += 1
                size = float(r.get("interval_s") or 1)
                for ax in (top, bottom):
                    ax.axvspan(float(r["offset_s"]), float(r["offset_s"]) + size,
                               color="#bbbbbb", alpha=0.3, lw=0)
    top.set_ylabel("latency ms")
    top.set_title(f"http-load over time at {site} (shaded: left out)", fontsize=10)
    bottom.set_ylabel("req/s")
    bottom.set_xlabel("seconds since the start")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="upper right")
    title = f"Latency and rate over time at {site}"
    peak = max((float(r["p99"]) for r in rows if r["p99"] is not None), default=0.0)
    return Chart(f"time-{site}", title,
                 f"{title}: {len(reps)} repetition(s), {len(rows)} intervals, highest "
                 f"interval p99 {peak:.1f} ms, {left_out} interval(s) left out", _png(fig))
